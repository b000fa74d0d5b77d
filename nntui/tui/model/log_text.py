"""The lines the dashboard's log shows, as plain functions of plain values.

Each returns ``(text, style)`` for `nntui.tui.widgets.epoch_log.EpochLog.add`.
"""

from __future__ import annotations

from collections.abc import Sequence

from nntui.engine.config import format_sizes
from nntui.engine.events import Paused, SettingChanged, TrainingFinished, TrainingStarted

LogLine = tuple[str, str]  # text, Rich style

SETTING_NAMES = {"eta": "eta", "mini_batch_size": "mini-batch size", "epochs": "epochs"}


def count(n: int, noun: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def data_size(available: int) -> LogLine:
    """The data has fewer training images than the inputs asked for: all of them are used."""
    return f"The data has {available:,} training images", ""


def new_network(sizes: Sequence[int], seed: int | None) -> LogLine:
    return f"New network {format_sizes(sizes)}, seed {seed}", "bold cyan"


def loaded(what: str, sizes: Sequence[int], epochs_done: int) -> LogLine:
    return (
        f"Loaded {what}: {format_sizes(sizes)}, {count(epochs_done, 'epoch')} trained; "
        "s trains it further",
        "bold cyan",
    )


def started(event: TrainingStarted) -> LogLine:
    c = event.config
    verb = "Continuing" if event.first_epoch > 1 else "Training"
    return (
        f"{verb}: eta {c.eta:g}, mini-batch {c.mini_batch_size}, {count(c.epochs, 'epoch')}, "
        f"{event.train_size:,} images, {c.eval_on} set",
        "cyan",
    )


def setting_changed(event: SettingChanged) -> LogLine:
    return (
        f"{SETTING_NAMES[event.name]} {event.old:g} → {event.new:g} from image "
        f"{event.images_done:,} of epoch {event.epoch}",
        "yellow",
    )


def paused(event: Paused) -> LogLine:
    return f"Paused in epoch {event.epoch} at image {event.images_done:,}", "dim"


RESUMED: LogLine = ("Resumed", "dim")


def finished(event: TrainingFinished) -> LogLine:
    if event.status == "completed":
        return (
            f"Done: {count(event.epochs_done, 'epoch')}, best {event.best_correct} / {event.total}",
            "bold green",
        )
    if event.status == "stopped":
        return f"Stopped after epoch {event.epochs_done}", "yellow"
    return f"Diverged: {event.message}", "bold red"


def failed(error: BaseException | None) -> LogLine:
    return f"Training failed: {error!r}", "bold red"
