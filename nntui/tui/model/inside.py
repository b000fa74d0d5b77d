"""The NumPy side of the "look inside" screens: session or saved model in, plain values out.

A `Subject` is the network a look-inside screen shows: the dashboard's live
one (`LiveSubject`, which follows the `Session` as it trains) or one loaded
from a run (`SavedSubject`). Screens ask it for plain tuples and Rich `Text`
drawings, so widgets never see an array. Everything here computes from the
subject's `NetworkSnapshot`: for the live network that is the trainer's latest
published copy (`Trainer.snapshot`), read without a lock, so no view ever
waits for a mini-batch or an evaluation.

Screens poll `Subject.version()` a few times a second and redraw when it
changes (an epoch ended, the network was reset), so the app has nothing to
forward to them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from rich.text import Text

from nntui.data.digits import INK, center_and_scale
from nntui.engine.analysis import cell_indices, confusion_matrix, misclassified, per_digit_accuracy
from nntui.engine.config import format_sizes
from nntui.engine.dataset import MnistData, Split
from nntui.engine.layers import layer_activations
from nntui.engine.network import Network
from nntui.engine.snapshot import NetworkSnapshot
from nntui.render.digit_art import half_blocks
from nntui.tui.model.session import Session

Pixels = tuple[float, ...]  # 784 intensities in [0, 1], row by row


class Subject(Protocol):
    """What the look-inside screens need to know about a network."""

    @property
    def title(self) -> str:
        """Which network this is, for screen titles: ``live network, epoch 3``."""
        ...

    @property
    def eval_set(self) -> Split | None:
        """The evaluation images and labels, or None without data."""
        ...

    def version(self) -> object:
        """Anything that changes when the network or its latest evaluation does."""
        ...

    def snapshot(self) -> NetworkSnapshot | None:
        """The network to compute from, or None without one."""
        ...

    def predictions(self) -> np.ndarray | None:
        """The predicted digit (n_eval,) of each evaluation image at the latest epoch."""
        ...


class LiveSubject:
    """The dashboard's network, followed while it trains."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def title(self) -> str:
        s = self.session
        if s.network is None:
            return "no network yet"
        when = f"after epoch {s.epochs_done}" if s.epochs_done else "untrained"
        return f"live network {format_sizes(s.network.sizes, '-')}, {when}"

    @property
    def eval_set(self) -> Split:
        return self.session.data.split(self.session.eval_on)

    def version(self) -> object:
        s = self.session
        return (s.snapshot, s.epochs_done, s.eval_on)

    def snapshot(self) -> NetworkSnapshot | None:
        return self.session.snapshot

    def predictions(self) -> np.ndarray | None:
        s = self.session
        if s.history and len(s.history[-1].predictions) == len(self.eval_set):
            return s.history[-1].predictions
        # An untrained network has no EpochDone yet: evaluate it now (milliseconds).
        snapshot = self.snapshot()
        return None if snapshot is None else snapshot.predict(self.eval_set.images)


class SavedSubject:
    """A network loaded from a model file or a run; it never changes."""

    def __init__(
        self, network: Network, name: str, data: MnistData | None, eval_on: str = "test"
    ) -> None:
        self.network = network
        self._snapshot = NetworkSnapshot.of(network, 0)
        self.name = name
        self.data = data
        self.eval_on = eval_on
        self._predictions: np.ndarray | None = None

    @property
    def title(self) -> str:
        return f"saved {format_sizes(self.network.sizes, '-')} from {self.name}"

    @property
    def eval_set(self) -> Split | None:
        return None if self.data is None else self.data.split(self.eval_on)

    def version(self) -> object:
        return 0

    def snapshot(self) -> NetworkSnapshot | None:
        return self._snapshot

    def predictions(self) -> np.ndarray | None:
        split = self.eval_set
        if split is None:
            return None
        if self._predictions is None:
            self._predictions = self._snapshot.predict(split.images)
        return self._predictions


def as_subject(source: Session | Subject) -> Subject:
    """A `Subject` for a session (followed live) or one already made."""
    return LiveSubject(source) if isinstance(source, Session) else source


# --- drawing pad ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Guess:
    """The network's answer for a drawing."""

    seen: Text  # the drawing centred and scaled as MNIST's digits are, as half blocks
    activations: tuple[float, ...] | None  # the 10 outputs, or None for a blank pad
    hidden: tuple[tuple[float, ...], ...] = ()  # each hidden layer's activations


def guess_drawing(subject: Subject, pixels: Pixels) -> Guess:
    """Centre and scale the drawing like MNIST, then feed it forward."""
    image = center_and_scale(np.asarray(pixels, np.float32).reshape(28, 28), INK)  # (28, 28)
    if not image.any():
        return Guess(half_blocks(image), None)
    snapshot = subject.snapshot()
    if snapshot is None:
        return Guess(half_blocks(image), None)
    layers = layer_values(subject, image)
    assert layers is not None
    return Guess(half_blocks(image), layers[-1], layers[:-1])


# --- confusion matrix ---------------------------------------------------------------------


@dataclass(frozen=True)
class Confusion:
    counts: tuple[tuple[int, ...], ...]  # [true][predicted]
    accuracy: tuple[float | None, ...]  # per true digit, None for a digit with no images
    correct: int
    total: int


def confusion(subject: Subject) -> Confusion | None:
    split, predictions = subject.eval_set, subject.predictions()
    if split is None or predictions is None:
        return None
    cm = confusion_matrix(split.labels, predictions)  # (10, 10)
    acc = per_digit_accuracy(cm)  # (10,)
    return Confusion(
        counts=tuple(tuple(int(c) for c in row) for row in cm),
        accuracy=tuple(None if math.isnan(a) else float(a) for a in acc),
        correct=int(np.trace(cm)),
        total=int(cm.sum()),
    )


def cell(subject: Subject, true: int, predicted: int) -> tuple[int, ...]:
    """Indices into the evaluation set of the images in one cell of the confusion matrix."""
    split, predictions = subject.eval_set, subject.predictions()
    if split is None or predictions is None:
        return ()
    return tuple(int(i) for i in cell_indices(split.labels, predictions, true, predicted))


def wrong(subject: Subject) -> tuple[int, ...]:
    """Indices into the evaluation set of the images the network gets wrong."""
    split, predictions = subject.eval_set, subject.predictions()
    if split is None or predictions is None:
        return ()
    return tuple(int(i) for i in misclassified(split.labels, predictions))


# --- one evaluation digit -----------------------------------------------------------------


@dataclass(frozen=True)
class DigitSample:
    """One evaluation image and a network's opinion of it: a gallery card, a strip's digit."""

    index: int  # position in the evaluation set
    label: int
    prediction: int
    activations: tuple[float, ...]  # the 10 output activations
    image: np.ndarray = field(repr=False, compare=False)  # (28, 28) in [0, 1], for drawing

    @property
    def correct(self) -> bool:
        return self.prediction == self.label

    def picture_key(self) -> bytes:
        """The image's pixels as bytes: the same picture gives the same key, whatever its index."""
        return self.image.tobytes()


def digit_samples(subject: Subject, indices: Sequence[int]) -> tuple[DigitSample, ...]:
    """The evaluation images at ``indices`` with what the network says about them now."""
    split, snapshot = subject.eval_set, subject.snapshot()
    if split is None or snapshot is None or not len(indices):
        return ()
    idx = np.asarray(indices, np.intp)
    images = split.images[idx]  # (n, 784)
    outputs = snapshot.outputs(images)  # (n, 10)
    return tuple(
        DigitSample(
            index=int(i),
            label=int(split.labels[i]),
            prediction=int(np.argmax(out)),
            activations=tuple(float(a) for a in out),
            image=image.reshape(28, 28),
        )
        for i, image, out in zip(idx.tolist(), images, outputs, strict=True)
    )


# --- every layer for one image -----------------------------------------------------------


def layer_values(subject: Subject, image: np.ndarray) -> tuple[tuple[float, ...], ...] | None:
    """Every layer's activations for one image (784 pixels): hidden layers, then the outputs."""
    snapshot = subject.snapshot()
    if snapshot is None:
        return None
    layers = layer_activations(
        snapshot.weights, snapshot.biases, np.asarray(image, np.float32).reshape(1, 784)
    )
    return tuple(tuple(float(v) for v in a[0]) for a in layers)


def digit_layers(subject: Subject, index: int) -> tuple[tuple[float, ...], ...] | None:
    """`layer_values` for the evaluation image at ``index``."""
    split = subject.eval_set
    if split is None:
        return None
    return layer_values(subject, split.images[index])


# --- hidden neurons -----------------------------------------------------------------------


def neuron_weights(subject: Subject) -> tuple[Pixels, ...]:
    """Each hidden neuron's 784 input weights, as plain tuples."""
    snapshot = subject.snapshot()
    if snapshot is None:
        return ()
    w = snapshot.weights[0]  # (n_hidden, 784)
    w = np.nan_to_num(w.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return tuple(tuple(row) for row in w.tolist())
