"""nntui: watch the network of Nielsen's *Neural Networks and Deep Learning* learn, live."""

__version__ = "0.1.0"
