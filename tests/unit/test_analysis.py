"""Confusion matrix, per-digit accuracy, misclassified digits and the average-darkness baseline."""

from __future__ import annotations

import numpy as np
import pytest

from nntui.engine.analysis import (
    BOOK_DARKNESS_CORRECT,
    RANDOM_GUESS,
    average_darkness,
    cell_indices,
    confusion_matrix,
    darkness_baseline,
    darkness_predict,
    misclassified,
    per_digit_accuracy,
)
from nntui.engine.dataset import Split

LABELS = np.array([0, 0, 1, 2, 2, 2])
PREDICTIONS = np.array([0, 1, 1, 2, 0, 2])


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(LABELS, PREDICTIONS)
    expected = np.zeros((10, 10), int)
    expected[0, 0] = 1  # a 0 read as 0
    expected[0, 1] = 1  # a 0 read as 1
    expected[1, 1] = 1
    expected[2, 2] = 2
    expected[2, 0] = 1  # a 2 read as 0
    assert cm.shape == (10, 10) and np.issubdtype(cm.dtype, np.integer)
    np.testing.assert_array_equal(cm, expected)
    assert np.trace(cm) == 4 and cm.sum() == 6


def test_per_digit_accuracy_is_nan_for_absent_digits():
    acc = per_digit_accuracy(confusion_matrix(LABELS, PREDICTIONS))
    np.testing.assert_allclose(acc[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(acc[3:]).all()


def test_misclassified_and_cells():
    np.testing.assert_array_equal(misclassified(LABELS, PREDICTIONS), [1, 4])
    np.testing.assert_array_equal(cell_indices(LABELS, PREDICTIONS, 2, 0), [4])
    np.testing.assert_array_equal(cell_indices(LABELS, PREDICTIONS, 2, 2), [3, 5])
    assert cell_indices(LABELS, PREDICTIONS, 9, 9).size == 0


def test_agrees_with_a_loop_on_random_predictions():
    rng = np.random.default_rng(3)
    labels, predictions = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    cm = confusion_matrix(labels, predictions)
    expected = np.zeros((10, 10), int)
    for t, p in zip(labels, predictions, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(cm, expected)
    assert len(misclassified(labels, predictions)) == 500 - np.trace(cm)


@pytest.mark.parametrize(
    ("labels", "predictions"),
    [([0, 1], [0]), ([0, 10], [0, 1]), ([-1], [0]), ([[0]], [[0]])],
)
def test_bad_inputs_raise(labels, predictions):
    with pytest.raises(ValueError):
        confusion_matrix(np.array(labels), np.array(predictions))


def _split(darknesses: list[float], labels: list[int]) -> Split:
    """Images whose pixels sum exactly to the given darknesses: 2d pixels of 0.5 each."""
    images = np.zeros((len(labels), 784), np.float32)
    for image, d in zip(images, darknesses, strict=True):
        image[: round(2 * d)] = 0.5
    return Split(images, np.array(labels, np.int64))


def test_darkness_baseline_by_hand():
    # Averages: digit 0 (100 + 120) / 2 = 110, digit 1 20, digit 2 (60 + 70) / 2 = 65.
    training = _split([100, 20, 60, 120, 70], [0, 1, 2, 0, 2])
    averages = average_darkness(training)
    np.testing.assert_allclose(averages[:3], [110, 20, 65], rtol=1e-5)
    assert np.isnan(averages[3:]).all()  # never seen, never guessed
    # 100 -> 0 (right), 40 -> 1 (right), 50 -> 2 (right), 90 -> 0 (wrong: a 2),
    # 42.5 is as near 20 as 65: the tie goes to the smaller digit, 1 (wrong: a 2).
    evaluation = _split([100, 40, 50, 90, 42.5], [0, 1, 2, 2, 2])
    np.testing.assert_array_equal(darkness_predict(evaluation.images, averages), [0, 1, 2, 0, 1])
    assert darkness_baseline(training, evaluation) == 3


def test_random_guess():
    assert RANDOM_GUESS == 0.1


@pytest.mark.realdata
def test_darkness_baseline_is_the_books_2225_on_the_real_test_set(real_mnist):
    mnist = real_mnist
    assert darkness_baseline(mnist.training, mnist.test) == BOOK_DARKNESS_CORRECT == 2225
