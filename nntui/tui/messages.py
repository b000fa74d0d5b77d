"""Every message of the dashboard, in one place.

Messages from the worker threads (`nntui.tui.worker`) wrap the training
engine's events and the downloader's progress; they are posted to the main
screen and handled on the UI thread. Only `RunProgress` and `DataProgress`
arrive often, so only they override `can_replace`: a newer one supersedes one
still waiting in the queue. Every other message is delivered, in order.

Messages from widgets to the screen (`ParamsChanged`, `LiveSetting`) carry
plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from nntui.data.download import Progress
from nntui.engine.config import TrainConfig
from nntui.engine.events import (
    BatchProgress,
    EpochDone,
    Paused,
    Resumed,
    SamplesPredicted,
    SettingChanged,
    TrainingFinished,
    TrainingStarted,
)

# --- from the data-loading worker ------------------------------------------------------


@dataclass
class DataProgress(Message, bubble=False):
    """The downloader tried a source, received bytes, failed over or saved a file."""

    progress: Progress

    def can_replace(self, message: Message) -> bool:
        # Byte counts of the same file supersede each other; "trying" or "failed" do not.
        return (
            isinstance(message, DataProgress)
            and message.progress.status == self.progress.status == "downloading"
            and message.progress.file == self.progress.file
        )


# --- from the training worker: one per engine event ----------------------------------------


@dataclass
class RunStarted(Message, bubble=False):
    """The trainer began its run."""

    event: TrainingStarted


@dataclass
class RunProgress(Message, bubble=False):
    """Progress within an epoch, at most a few dozen times a second.

    ``costs`` holds every (images done, mean cost so far) point of this epoch,
    not only the newest, so the cost chart loses nothing when one `RunProgress`
    replaces another in the queue.
    """

    event: BatchProgress
    costs: tuple[tuple[int, float], ...]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgress)


@dataclass
class EpochFinished(Message, bubble=False):
    """An epoch ended and was evaluated: the book's ``Epoch j: n / 10000``."""

    event: EpochDone


@dataclass
class SamplesReady(Message, bubble=False):
    """The gallery's digits were predicted (epoch 0: by the untrained network)."""

    event: SamplesPredicted


@dataclass
class SettingApplied(Message, bubble=False):
    """eta or the mini-batch size changed mid-run, from the next mini-batch on."""

    event: SettingChanged


@dataclass
class RunPaused(Message, bubble=False):
    event: Paused


@dataclass
class RunResumed(Message, bubble=False):
    event: Resumed


@dataclass
class RunFinished(Message, bubble=False):
    """The run completed its epochs, was stopped, or diverged."""

    event: TrainingFinished


@dataclass
class RunNote(Message, bubble=False):
    """A line for the log from the training worker: say, the run could not be kept."""

    text: str


# --- from widgets ------------------------------------------------------------------------


@dataclass
class ParamsChanged(Message):
    """The hyperparameter panel was edited.

    ``config`` is the run those values describe, or None while any is invalid;
    ``error`` is then the first reason, as shown next to its input.
    """

    config: TrainConfig | None
    error: str | None


@dataclass
class LiveSetting(Message):
    """A valid new eta or mini-batch size was entered (Enter or leaving the field)."""

    name: str  # "eta" or "mini_batch_size", as `Trainer` names them
    value: float
