"""The engine: the book's network, the training loop and its events. NumPy only, no terminal."""
