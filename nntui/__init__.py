"""nntui: watch the network from Chapter 1 of *Neural Networks and Deep Learning* learn, in your terminal."""

__version__ = "0.1.0"
