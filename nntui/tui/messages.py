"""Every message a background thread posts to the dashboard: the one bridge from threads to screens.

* `Training`: `nntui.tui.worker.run_training` wraps each of the engine's events
  (`nntui.engine.events`) in the message of the same name, posts it to the main
  screen and never touches a widget; the screen handles it on the UI thread
  (``on_training_epoch_done`` and so on). Messages that change what the network
  looks like carry the trainer's `NetworkSnapshot` of that moment, so views show
  the network the message speaks of, never a later one.
* `Data`: finding, downloading and loading MNIST (`nntui.tui.fetch.load_data`).
* `Baselines`: the chapter's baselines and the SVM's cached result (`nntui.tui.fetch`).
* `Sweep`: a sweep's events, from the sweep screen's thread worker.

Only the frequent ones (`Training.BatchProgress`, `Data.Progress` of one file) override
`can_replace`: a newer one supersedes one still waiting in the queue. Every other message is
delivered, in order.

What a person does in a widget stays a message nested in that widget's class
(`HyperParams.Changed`, `DataPanel.Retry`, `DrawPad.Changed`), as Textual's guide recommends.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from nntui.data import download
from nntui.engine import events
from nntui.engine.dataset import MnistData
from nntui.engine.snapshot import NetworkSnapshot
from nntui.sweep.events import SweepEvent


class Training:
    """Namespace of the training worker's messages."""

    @dataclass
    class Started(Message, bubble=False):
        """The trainer began its run."""

        event: events.TrainingStarted

    @dataclass
    class BatchProgress(Message, bubble=False):
        """Progress within an epoch, at most every `nntui.tui.worker.PROGRESS_INTERVAL` seconds.

        ``costs`` holds every (images done, mean cost so far) point of this epoch,
        not only the newest, so the cost chart loses nothing when one message
        replaces another in the queue.
        """

        event: events.BatchProgress
        costs: tuple[tuple[int, float], ...]
        snapshot: NetworkSnapshot | None = None  # new at each mini-batch when stepping or slowed

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Training.BatchProgress)

    @dataclass
    class EpochDone(Message, bubble=False):
        """An epoch ended and was evaluated: the book's ``Epoch j: n / 10000``.

        ``snapshot`` is the network as that epoch left it. The message may reach
        the screen after the trainer has published a later one (epoch ends wait
        for the next batch of messages): views show this one, so they never run
        ahead of the log.
        """

        event: events.EpochDone
        snapshot: NetworkSnapshot | None = None

    @dataclass
    class SettingChanged(Message, bubble=False):
        """eta, the mini-batch size or the number of epochs changed mid-run (`Trainer.set_live`)."""

        event: events.SettingChanged

    @dataclass
    class Paused(Message, bubble=False):
        """The run paused: asked to, or at the end of a step. ``snapshot``: the network now."""

        event: events.Paused
        snapshot: NetworkSnapshot | None = None

    @dataclass
    class Resumed(Message, bubble=False):
        event: events.Resumed

    @dataclass
    class Finished(Message, bubble=False):
        """The run completed its epochs, was stopped, or diverged."""

        event: events.TrainingFinished
        snapshot: NetworkSnapshot | None = None

    @dataclass
    class Note(Message, bubble=False):
        """A line for the log from the training worker: say, the run could not be kept."""

        text: str


class Data:
    """Namespace of the data loader's messages (`nntui.tui.fetch.load_data`)."""

    @dataclass
    class Progress(Message, bubble=False):
        """The downloader tried a source, got bytes, or failed over."""

        progress: download.Progress

        def can_replace(self, message: Message) -> bool:
            # Byte counts of the same file supersede each other; "trying" or "failed" do not.
            return (
                isinstance(message, Data.Progress)
                and message.progress.status == self.progress.status == "downloading"
                and message.progress.file == self.progress.file
            )

    @dataclass
    class Loaded(Message, bubble=False):
        """The data is in memory."""

        data: MnistData

    @dataclass
    class Failed(Message, bubble=False):
        """Loading gave up; ``message`` says why."""

        message: str


class Baselines:
    """Namespace of the baselines' messages (`nntui.tui.fetch`)."""

    @dataclass
    class Computed(Message, bubble=False):
        """The chapter's simple classifiers on ``key``'s evaluation set, as fractions right."""

        key: object  # the session they were computed for: a later one ignores them
        baselines: dict[str, float]

    @dataclass
    class SvmFound(Message, bubble=False):
        """The SVM's cached result for this data: ``correct`` of the 10,000 test images."""

        correct: int


class Sweep:
    """Namespace of the sweep screen's thread worker's messages."""

    @dataclass
    class Event(Message, bubble=False):
        """One event of the running sweep (`nntui.sweep.events`)."""

        event: SweepEvent

    @dataclass
    class Failed(Message, bubble=False):
        """The sweep could not run (no cluster): one line to show."""

        text: str
