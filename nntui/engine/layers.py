"""Inside the layers: what each layer of sigmoid neurons is doing, epoch by epoch.

Chapter 3 explains why the network of Chapter 1 sometimes learns slowly: with
weights drawn from N(0, 1) and the quadratic cost, many neurons start
*saturated* (sigma(z) close to 0 or 1), where sigma'(z) is tiny, so their
gradients and their learning all but stop. These numbers make that visible:

* stuck neurons: the share of a layer's neurons whose output is below 0.01 or
  above 0.99 on at least 99% of the evaluation images (they answer the same
  whatever the digit);
* saturated activations: the share of all (neuron, image) outputs below 0.01
  or above 0.99;
* gradient size: the root mean square of dC/dw (the mini-batch's mean
  gradient) over mini-batches sampled during the epoch;
* weight norm: the Frobenius norm of the layer's weight matrix.

A stuck *output* neuron is the worst case: its digit is never predicted, and
the run's accuracy is capped near 90% (one digit lost) or 80% (two).
``stuck_output_hint`` says so in one sentence.

Pure NumPy; layer 1 is the first hidden layer, the last layer is the output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nntui.engine.network import sigmoid

SATURATED_LOW = 0.01
SATURATED_HIGH = 0.99
# A neuron is stuck when it is saturated on at least this share of the images.
STUCK_SHARE = 0.99
DIGITS = 10


@dataclass(frozen=True)
class LayerStats:
    """One layer's numbers after an epoch (see the module docstring)."""

    layer: int  # 1 = first hidden layer; len(sizes) - 1 = output layer
    neurons: int
    stuck: float  # share of neurons stuck, 0..1
    saturated: float  # share of activations saturated, 0..1
    grad_rms: float  # RMS of dC/dw over the sampled mini-batches; NaN if none was sampled
    weight_norm: float  # Frobenius norm of the weights into this layer

    def to_record(self, prefix: str) -> dict[str, float | None]:
        """Flat, rounded values for a metrics file, keys starting with `prefix`."""
        return {
            f"{prefix}stuck": round(self.stuck, 6),
            f"{prefix}saturated": round(self.saturated, 6),
            f"{prefix}grad_rms": None
            if math.isnan(self.grad_rms)
            else float(f"{self.grad_rms:.6g}"),
            f"{prefix}weight_norm": round(self.weight_norm, 4),
        }


def layer_activations(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], images: np.ndarray
) -> list[np.ndarray]:
    """Every layer's activations for `images` (n, 784): a list of (n, size) arrays.

    The last array is the output layer, so ``argmax(axis=1)`` of it gives the
    predictions: one forward pass serves both.
    """
    a = np.asarray(images).T
    out = []
    with np.errstate(over="ignore", invalid="ignore"):
        for w, b in zip(weights, biases, strict=True):
            a = sigmoid(w @ a + b)
            out.append(a.T)
    return out


def saturation(activations: np.ndarray) -> tuple[float, float]:
    """(stuck share of neurons, saturated share of activations) for one layer's (n, size)."""
    a = np.asarray(activations)
    if a.size == 0:
        return 0.0, 0.0
    saturated = (a < SATURATED_LOW) | (a > SATURATED_HIGH)  # (n, size)
    per_neuron = saturated.mean(axis=0)  # (size,) share of images each neuron is saturated on
    return float(np.mean(per_neuron >= STUCK_SHARE)), float(saturated.mean())


def layer_stats(
    weights: Sequence[np.ndarray],
    activations: Sequence[np.ndarray],
    grad_rms: Sequence[float] | None = None,
) -> tuple[LayerStats, ...]:
    """The `LayerStats` of every layer from its weights and its (n, size) activations."""
    rms = list(grad_rms) if grad_rms is not None else [math.nan] * len(weights)
    stats = []
    for i, (w, a) in enumerate(zip(weights, activations, strict=True)):
        stuck, saturated = saturation(a)
        stats.append(
            LayerStats(
                layer=i + 1,
                neurons=int(w.shape[0]),
                stuck=stuck,
                saturated=saturated,
                grad_rms=float(rms[i]),
                weight_norm=float(np.linalg.norm(w.astype(np.float64, copy=False))),
            )
        )
    return tuple(stats)


class GradientMeter:
    """Accumulates the size of the weight gradients over sampled mini-batches of an epoch.

    Reading every mini-batch's gradient would cost a pass over all the weights
    per step; one in `every` is plenty to see the trend, at well under 1% of
    an epoch's time (``benchmarks/layer_stats.py``).
    """

    def __init__(self, layers: int, every: int = 50) -> None:
        self.every = max(1, every)
        self._sums = np.zeros(layers)
        self._count = 0
        self._batches = 0

    def due(self) -> bool:
        """Count a mini-batch; True if it is to be sampled (the first, then one in `every`)."""
        due = self._batches % self.every == 0
        self._batches += 1
        return due

    def seen(self, batches: int) -> None:
        """Set how many mini-batches of the epoch were counted, for a caller counting them itself.

        A stack of networks in step (`nntui.engine.stacked`) knows when every
        network's meter is due without asking each one every mini-batch.
        """
        self._batches = batches

    def add(self, updates: Sequence[np.ndarray], eta: float) -> None:
        """Record one mini-batch from its weight updates (eta/m) sum_x dC_x/dw.

        Divided by eta they are the mean gradient dC/dw of the mini-batch.
        """
        for i, u in enumerate(updates):
            flat = u.reshape(-1)
            self._sums[i] += float(np.dot(flat, flat)) / (flat.size * eta * eta)
        self._count += 1

    def rms(self) -> list[float]:
        """Per layer, the root mean square gradient over the samples so far (NaN if none)."""
        if self._count == 0:
            return [math.nan] * len(self._sums)
        return [math.sqrt(s / self._count) for s in self._sums]

    def reset(self) -> None:
        """Start a new epoch."""
        self._sums[:] = 0.0
        self._count = 0
        self._batches = 0


def never_predicted(predictions: np.ndarray, labels: np.ndarray) -> list[int]:
    """The digits that appear in `labels` but that the network never predicts, ascending."""
    shown = np.bincount(np.asarray(labels, dtype=np.int64), minlength=DIGITS)
    guessed = np.bincount(np.asarray(predictions, dtype=np.int64), minlength=DIGITS)
    return [d for d in range(DIGITS) if shown[d] > 0 and guessed[d] == 0]


# A digit whose images are recognised less often than this is held back by its
# output neuron: in good runs every digit is above 80% (benchmarks/README.md).
RECALL_FLOOR = 0.2


def held_back_digits(predictions: np.ndarray, labels: np.ndarray) -> list[int]:
    """The digits the network (almost) never gets right: recall below `RECALL_FLOOR`, ascending.

    A stuck output neuron is sometimes still the largest of ten small outputs,
    so "never predicted" is too strict: its digit is predicted a handful of
    times, nearly always wrongly.
    """
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    shown = np.bincount(labels, minlength=DIGITS)
    right = np.bincount(labels[labels == predictions], minlength=DIGITS)
    return held_back_from_counts(right.tolist(), shown.tolist())


def held_back_from_counts(right: Sequence[int], shown: Sequence[int]) -> list[int]:
    """`held_back_digits` from per-digit counts of right answers and of images."""
    return [d for d in range(len(shown)) if shown[d] > 0 and right[d] < RECALL_FLOOR * shown[d]]


# Before this epoch a good run may still not predict a digit: the output
# neurons are sorting themselves out (see benchmarks/README.md, stuck outputs).
HINT_FROM_EPOCH = 5


def _listed(digits: Sequence[int], word: str) -> str:
    items = [str(d) for d in digits]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} {items[-1]}"


def stuck_output_hint(digits: Sequence[int], epoch: int) -> str | None:
    """One plain sentence when a digit is never predicted from `HINT_FROM_EPOCH` on, else None.

    `digits` is what `held_back_digits` returned for the epoch's evaluation.
    """
    if not digits or epoch < HINT_FROM_EPOCH:
        return None
    names, alternatives = _listed(digits, "and"), _listed(digits, "or")
    plural = len(digits) > 1
    return (
        f"Output neuron{'s' if plural else ''} {names} {'are' if plural else 'is'} stuck: the "
        f"network almost never answers {alternatives}, which holds the accuracy back. Try another "
        "seed; Chapter 3's cross-entropy cost and smaller initial weights are the book's cure."
    )
