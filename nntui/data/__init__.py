"""MNIST: the loaders, the downloader, where the data lives, and digits read from images."""
