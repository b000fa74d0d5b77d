"""The messages the training worker posts: one per engine event, named like it.

`nntui.tui.worker.run_training` wraps each of the engine's events
(`nntui.engine.events`) in the `Training` message of the same name, posts it to
the main screen and never touches a widget; the screen handles it on the UI
thread (``on_training_epoch_done`` and so on). Only `Training.BatchProgress`
arrives often, so only it overrides `can_replace`: a newer one supersedes one
still waiting in the queue. Every other message is delivered, in order.

Widgets keep their own messages, nested in the widget class that sends them
(`HyperParams.Changed`, `DataPanel.Loaded`, `DrawPad.Changed`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from nntui.engine import events
from nntui.engine.snapshot import NetworkSnapshot


class Training:
    """Namespace of the training worker's messages."""

    @dataclass
    class Started(Message, bubble=False):
        """The trainer began its run."""

        event: events.TrainingStarted

    @dataclass
    class BatchProgress(Message, bubble=False):
        """Progress within an epoch, at most a few dozen times a second.

        ``costs`` holds every (images done, mean cost so far) point of this epoch,
        not only the newest, so the cost chart loses nothing when one message
        replaces another in the queue.
        """

        event: events.BatchProgress
        costs: tuple[tuple[int, float], ...]

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Training.BatchProgress)

    @dataclass
    class EpochDone(Message, bubble=False):
        """An epoch ended and was evaluated: the book's ``Epoch j: n / 10000``.

        ``snapshot`` is the network as that epoch left it. The message may reach
        the screen after the trainer has published a later one (epoch ends wait
        for the next batch of messages), and views must not run ahead of the log.
        """

        event: events.EpochDone
        snapshot: NetworkSnapshot | None = None

    @dataclass
    class SettingChanged(Message, bubble=False):
        """eta or the mini-batch size changed mid-run, from the next mini-batch on."""

        event: events.SettingChanged

    @dataclass
    class Paused(Message, bubble=False):
        event: events.Paused

    @dataclass
    class Resumed(Message, bubble=False):
        event: events.Resumed

    @dataclass
    class Finished(Message, bubble=False):
        """The run completed its epochs, was stopped, or diverged."""

        event: events.TrainingFinished

    @dataclass
    class Note(Message, bubble=False):
        """A line for the log from the training worker: say, the run could not be kept."""

        text: str
