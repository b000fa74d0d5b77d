"""The book's ``mnist_loader.py``: MNIST in the formats ``network.Network`` reads.

::

    >>> import mnist_loader
    >>> training_data, validation_data, test_data = mnist_loader.load_data_wrapper()

Unlike the Python 2 original, the three results are lists: they can be
sliced (``training_data[:1000]``), have a ``len()``, and can be trained on
again and again. The data is found the way the rest of nntui finds it: the
``path`` given, then ``$NNTUI_DATA``, then nntui's data directory, and
otherwise it is downloaded there (with its progress on stderr).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from nntui.data import datastore
from nntui.data.download import Progress
from nntui.engine.config import OUTPUTS
from nntui.engine.dataset import MnistData

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]

Images = np.ndarray  # (n, 784) float32, one image per row, pixels in [0, 1]
Labels = np.ndarray  # (n,) int64, the digit each image shows


def load_data(
    path: str | Path | None = None,
) -> tuple[tuple[Images, Labels], tuple[Images, Labels], tuple[Images, Labels]]:
    """Return MNIST as ``(training_data, validation_data, test_data)``.

    Each is an ``(images, labels)`` tuple: 50,000 training images and 10,000
    each for validation and test, as in the book's ``mnist.pkl.gz``. The images
    are float32 rows of 784 pixels; the arrays are read-only views of the data.
    """
    data = _load(path)
    return tuple((s.images, s.labels) for s in (data.training, data.validation, data.test))  # type: ignore[return-value]


def load_data_wrapper(
    path: str | Path | None = None,
) -> tuple[
    list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, int]], list[tuple[np.ndarray, int]]
]:
    """Return ``(training_data, validation_data, test_data)`` as lists of pairs.

    ``training_data`` holds 50,000 ``(x, y)``: x a (784, 1) column of the image
    and y its desired output, ``vectorized_result(label)``. ``validation_data``
    and ``test_data`` hold 10,000 ``(x, label)`` with an int label: the formats
    the book's ``SGD`` and ``evaluate`` expect.
    """
    training, validation, test = load_data(path)
    n_in = training[0].shape[1]
    # The columns are views of the image rows, as the book's np.reshape gives.
    training_data = [
        (x.reshape(n_in, 1), vectorized_result(int(j)))
        for x, j in zip(training[0], training[1], strict=True)
    ]
    validation_data = _with_labels(*validation)
    test_data = _with_labels(*test)
    return training_data, validation_data, test_data


def vectorized_result(j: int) -> np.ndarray:
    """A (10, 1) column with 1.0 at digit ``j`` and 0.0 elsewhere: the desired output for j."""
    if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= j < OUTPUTS:
        raise ValueError(f"vectorized_result takes a digit from 0 to 9, got {j!r}")
    e = np.zeros((OUTPUTS, 1))
    e[j] = 1.0
    return e


def _with_labels(images: Images, labels: Labels) -> list[tuple[np.ndarray, int]]:
    n_in = images.shape[1]
    return [(x.reshape(n_in, 1), int(j)) for x, j in zip(images, labels, strict=True)]


def _load(path: str | Path | None) -> MnistData:
    return datastore.load_data(path, on_progress=_ProgressLine(), on_notice=_note)


class _ProgressLine:
    """A download's progress on stderr: one updated line on a terminal, else only the steps."""

    def __init__(self) -> None:
        self.open = False  # a "downloading" line without its newline yet

    def __call__(self, progress: Progress) -> None:
        err = sys.stderr
        if err is None:
            return
        if progress.status == "downloading":
            if err.isatty():
                size = f"{progress.done / 1e6:.1f} MB" + (
                    f" of {progress.total / 1e6:.1f} MB" if progress.total else ""
                )
                print(f"\rdownloading {progress.file or 'MNIST'}: {size}", end="", file=err)
                err.flush()
                self.open = True
            return
        if progress.message:
            start = "\n" if self.open else ""
            self.open = False
            print(f"{start}mnist_loader: {progress.message}", file=err, flush=True)


def _note(text: str) -> None:
    if sys.stderr is not None:
        print(f"mnist_loader: note: {' '.join(text.split())}", file=sys.stderr, flush=True)
