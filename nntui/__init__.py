"""nntui: watch the network of Nielsen's *Neural Networks and Deep Learning* learn, live."""

from typing import Any

__version__ = "0.1.0"

# The book's two modules, `from nntui import network, mnist_loader`: imported when first
# asked for, so that starting the CLI does not load NumPy for them.
_BOOK_MODULES = ("network", "mnist_loader")


def __getattr__(name: str) -> Any:
    if name in _BOOK_MODULES:
        import importlib

        module = importlib.import_module(f"nntui.book.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'nntui' has no attribute {name!r}")
