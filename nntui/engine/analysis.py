"""What the network gets right and wrong, and the chapter's baselines to compare it with.

Pure NumPy on the arrays the engine already has: the evaluation labels and
``EpochDone.predictions``. The dashboard's confusion matrix, per-digit accuracy
and misclassified gallery, and ``nntui eval``, all read from here.

    cm = confusion_matrix(split.labels, event.predictions)   # (10, 10)
    per_digit_accuracy(cm)                                   # (10,)
    misclassified(split.labels, event.predictions)           # indices into the split
"""

from __future__ import annotations

import numpy as np

from nntui.engine.dataset import Split

DIGITS = 10
# Guessing a digit at random is right one time in ten (the book's starting point).
RANDOM_GUESS = 1 / DIGITS
# Percent: the best epoch the book reports for Network([784, 30, 10]), 9542 / 10000.
BOOK_ACCURACY = 95.42
# What the book reports for its average-darkness classifier on the 10,000 test images.
BOOK_DARKNESS_CORRECT = 2225


def _checked(labels: np.ndarray, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    if labels.ndim != 1 or labels.shape != predictions.shape:
        raise ValueError(
            f"labels and predictions must be 1-D of one length, got {labels.shape} "
            f"and {predictions.shape}"
        )
    for name, a in (("labels", labels), ("predictions", predictions)):
        if a.size and (a.min() < 0 or a.max() >= DIGITS):
            raise ValueError(f"{name} must be digits 0..9, got values from {a.min()} to {a.max()}")
    return labels.astype(np.int64), predictions.astype(np.int64)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Count each (true digit, predicted digit) pair: an int64 array (10, 10).

    Row ``i`` is the images that show digit ``i``; column ``j`` is what the
    network said. The diagonal holds the correct answers, so its sum is the
    book's ``n`` in ``Epoch j: n / 10000``.
    """
    labels, predictions = _checked(labels, predictions)
    # One bincount over the flat index i * 10 + j fills the whole matrix at once.
    counts = np.bincount(labels * DIGITS + predictions, minlength=DIGITS * DIGITS)
    return counts.reshape(DIGITS, DIGITS)


def per_digit_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Fraction of each digit's images classified correctly, float64 (10,).

    ``confusion`` is what `confusion_matrix` returns. A digit with no images
    in the evaluation set gets NaN (there is no accuracy to report).
    """
    confusion = np.asarray(confusion)
    totals = confusion.sum(axis=1)  # (10,) images per true digit
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diagonal(confusion) / totals, np.nan)


def misclassified(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Indices (ascending, int64) of the images the network gets wrong."""
    labels, predictions = _checked(labels, predictions)
    return np.flatnonzero(labels != predictions)


def cell_indices(
    labels: np.ndarray, predictions: np.ndarray, true: int, predicted: int
) -> np.ndarray:
    """Indices (ascending, int64) of the images in one cell of the confusion matrix."""
    labels, predictions = _checked(labels, predictions)
    return np.flatnonzero((labels == true) & (predictions == predicted))


def darkness(images: np.ndarray) -> np.ndarray:
    """Total darkness of each image (n, 784): the sum of its pixels, float64 (n,)."""
    return np.asarray(np.asarray(images).sum(axis=1, dtype=np.float64))


def average_darkness(training: Split) -> np.ndarray:
    """The mean total darkness of each digit's training images, float64 (10,).

    This is the "training" of the book's baseline (``mnist_average_darkness.py``).
    A digit without training images gets NaN and is never guessed.
    """
    d = darkness(training.images)
    labels = training.labels.astype(np.int64)
    sums = np.bincount(labels, weights=d, minlength=DIGITS)
    counts = np.bincount(labels, minlength=DIGITS)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def darkness_predict(images: np.ndarray, averages: np.ndarray) -> np.ndarray:
    """Guess, for each image (n, 784), the digit whose average darkness is nearest: (n,).

    Ties go to the smaller digit, as the book's ``min`` over its dictionary did.
    """
    distance = np.abs(darkness(images)[:, None] - np.asarray(averages)[None, :])  # (n, 10)
    distance = np.where(np.isnan(distance), np.inf, distance)
    return np.asarray(np.argmin(distance, axis=1))


def darkness_baseline(training: Split, evaluation: Split) -> int:
    """How many images of ``evaluation`` the average-darkness classifier gets right.

    The book's first baseline in Chapter 1: learn each digit's average darkness
    on ``training``, then classify by the nearest one. On the book's data it gets
    2,225 of the 10,000 test images right (`BOOK_DARKNESS_CORRECT`).
    """
    guesses = darkness_predict(evaluation.images, average_darkness(training))
    return int(np.count_nonzero(guesses == evaluation.labels))
