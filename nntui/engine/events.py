"""What the training loop tells the world: small frozen records of plain values.

`nntui.engine.training.Trainer.run` yields these; the CLI turns them into a progress
bar and the book's ``Epoch j: n / 10000`` lines, the dashboard posts them as
messages. Arrays in them are copies, so a consumer on another thread can keep
them while training goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from nntui.engine.config import TrainConfig
from nntui.engine.layers import LayerStats


@dataclass(frozen=True)
class TrainingStarted:
    """Training is about to begin (or resume)."""

    config: TrainConfig
    seed: int
    train_size: int
    eval_size: int
    first_epoch: int  # 1 for a fresh run, k + 1 when resuming after epoch k


@dataclass(frozen=True)
class BatchProgress:
    """Progress within an epoch, sent every few mini-batches (never every one: too slow)."""

    epoch: int
    epochs: int
    images_done: int  # training images used so far this epoch
    images_total: int  # training images in one epoch
    running_cost: float  # mean quadratic cost C_x over this epoch's mini-batches so far
    images_per_second: float
    epoch_elapsed: float  # seconds since this epoch started (pauses excluded)
    elapsed: float  # seconds since training started (pauses excluded)


@dataclass(frozen=True)
class EpochDone:
    """An epoch finished and the network was evaluated: one line of the book's output."""

    epoch: int
    epochs: int
    correct: int  # the book's n in "Epoch j: n / 10000"
    total: int
    train_cost: float  # mean cost C_x over the epoch's mini-batches
    eta: float  # eta and m at the end of the epoch (they can change mid-run)
    mini_batch_size: int
    train_seconds: float
    eval_seconds: float
    elapsed: float
    predictions: np.ndarray = field(repr=False)  # (total,) predicted digit per evaluation image
    # Right answers on a fixed sample of the training images (`Trainer.train_sample`),
    # to set against `correct` for over- and under-fitting; None when not measured.
    train_correct: int | None = None
    train_total: int = 0
    layers: tuple[LayerStats, ...] = ()  # one per layer of weights, hidden first

    @property
    def accuracy(self) -> float:
        """Fraction of the evaluation set classified correctly, 0..1."""
        return self.correct / self.total if self.total else 0.0

    @property
    def train_accuracy(self) -> float | None:
        """Fraction of the training sample classified correctly, or None if not measured."""
        if self.train_correct is None or not self.train_total:
            return None
        return self.train_correct / self.train_total

    def book_line(self) -> str:
        """The line the book's ``SGD`` prints after each epoch."""
        return f"Epoch {self.epoch}: {self.correct} / {self.total}"


@dataclass(frozen=True)
class SettingChanged:
    """eta, the mini-batch size or the number of epochs changed mid-run.

    eta and the mini-batch size apply from the next mini-batch; ``epochs`` (the
    run's number of epochs, counted from its first) moves the run's last epoch.
    """

    epoch: int
    images_done: int
    name: Literal["eta", "mini_batch_size", "epochs"]
    old: float
    new: float


@dataclass(frozen=True)
class Paused:
    epoch: int
    images_done: int


@dataclass(frozen=True)
class Resumed:
    epoch: int
    images_done: int


FinishStatus = Literal["completed", "stopped", "diverged", "failed"]


@dataclass(frozen=True)
class TrainingFinished:
    """The run ended: all epochs done, stopped by the user, or diverged."""

    status: FinishStatus
    epochs_done: int
    best_correct: int
    total: int
    elapsed: float
    message: str


TrainingEvent = (
    TrainingStarted
    | BatchProgress
    | EpochDone
    | SettingChanged
    | Paused
    | Resumed
    | TrainingFinished
)
