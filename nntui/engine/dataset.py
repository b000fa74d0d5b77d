"""The in-memory shape of MNIST that every loader returns and every consumer reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """One part of MNIST.

    images: float32, shape (n, 784), pixel intensities in [0, 1], rows are 28x28 images
            in row-major order (as in the book's `mnist.pkl.gz`).
    labels: int64, shape (n,), the digit 0..9 each image shows.
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class MnistData:
    """The book's split: 50,000 training, 10,000 validation and 10,000 test images."""

    training: Split
    validation: Split
    test: Split

    def split(self, name: str) -> Split:
        """Return the split called "training", "validation" or "test"."""
        return {"training": self.training, "validation": self.validation, "test": self.test}[name]
