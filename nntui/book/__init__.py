"""The chapter's own session: ``import network``, ``import mnist_loader``, ``net.SGD(...)``.

`nntui.book.network` and `nntui.book.mnist_loader` have the API and data
formats of the book's two modules, in Python 3 and on nntui's engine;
`nntui.book.shell` is the ``nntui book`` console where the chapter's lines
work as typed. ``from nntui import network, mnist_loader`` reaches them too.
"""
