"""The chapter's support vector machine baseline: scikit-learn's SVC on raw pixels.

Chapter 1 quotes 9,435 of 10,000 test images right for ``svm.SVC()`` with its
default settings, trained on the 50,000 training images. scikit-learn's
default kernel width was then ``gamma='auto'`` (1 / 784 here); since 0.22 it is
``gamma='scale'`` (1 / (784 * pixel variance)), which scores higher. Both can
be fitted; ``'auto'`` is the book's.

scikit-learn is an optional extra (``pip install 'nntui[svm]'``): it is imported
only inside the functions that need it, so the rest of nntui never loads it.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nntui.engine.dataset import Split

# What the book reports for SVC() with scikit-learn's defaults of 2015 on the test set.
BOOK_SVM_CORRECT = 9435
BOOK_GAMMA = "auto"
GAMMAS = ("auto", "scale")
INSTALL_HINT = "pip install 'nntui[svm]'"


def svm_available() -> bool:
    """True when scikit-learn can be imported (without importing it)."""
    return importlib.util.find_spec("sklearn") is not None


@dataclass(frozen=True)
class SvmResult:
    """One fitted SVC scored on an evaluation split."""

    gamma: str  # "auto" (the book's) or "scale" (today's default)
    correct: int
    total: int
    train_size: int
    seconds: float  # fit and predict together
    sklearn_version: str

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        """Plain types only, for the JSON cache."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SvmResult:
        """The inverse of `to_json`; raises KeyError/TypeError/ValueError on a bad record."""
        return cls(
            gamma=str(data["gamma"]),
            correct=int(data["correct"]),
            total=int(data["total"]),
            train_size=int(data["train_size"]),
            seconds=float(data["seconds"]),
            sklearn_version=str(data["sklearn_version"]),
        )


def fit_and_score(training: Split, evaluation: Split, gamma: str = BOOK_GAMMA) -> SvmResult:
    """Fit ``SVC(gamma=gamma)`` on `training` and count the right answers on `evaluation`.

    This is the book's ``mnist_svm.py``: every other setting is scikit-learn's
    default (RBF kernel, C = 1). On the full data it takes 10-20 minutes on
    one core; callers run it in a separate process so it can be interrupted.
    """
    if gamma not in GAMMAS:
        raise ValueError(f"gamma must be one of {GAMMAS}, got {gamma!r}")
    import sklearn
    from sklearn.svm import SVC

    start = time.perf_counter()
    clf = SVC(gamma=gamma)
    # float64 as the book's pickle gave numpy of its day; SVC converts anyway.
    clf.fit(np.asarray(training.images, dtype=np.float64), training.labels)
    predictions = clf.predict(np.asarray(evaluation.images, dtype=np.float64))
    correct = int(np.count_nonzero(predictions == evaluation.labels))
    return SvmResult(
        gamma=gamma,
        correct=correct,
        total=len(evaluation),
        train_size=len(training),
        seconds=time.perf_counter() - start,
        sklearn_version=sklearn.__version__,
    )
