"""Where the run is: epoch k/N, a bar for the current epoch, speed, elapsed time and ETA."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from nntui.engine.events import BatchProgress
from nntui.render.formats import clock


def speed_limit_text(batches_per_second: float | None) -> str:
    """``Speed: full  (+/- slower)`` or ``Speed: 10 mini-batches/s  (+/-)``."""
    if batches_per_second is None:
        return "Speed: full  [dim](- slows down)[/]"
    return f"Speed: {batches_per_second:g} mini-batches/s  [dim](+/-)[/]"


def remaining_seconds(p: BatchProgress, last_epoch_seconds: float | None) -> float | None:
    """Seconds left in the run: the rest of this epoch, then the others at the last one's pace.

    Before an epoch has ended, an epoch is taken to last as long as its images at
    the current speed. None while the speed is unknown.
    """
    if p.images_per_second <= 0:
        return None
    this_epoch = (p.images_total - p.images_done) / p.images_per_second
    per_epoch = last_epoch_seconds or p.images_total / p.images_per_second
    return this_epoch + (p.epochs - p.epoch) * per_epoch


class EpochProgress(Vertical):
    """Progress of the run. With ``show_timings`` off (snapshot tests) no clocks or speeds show."""

    def __init__(self, *, show_timings: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_timings = show_timings
        self.last_epoch_seconds: float | None = None  # the ETA's pace, once an epoch has ended
        self._shown: BatchProgress | None = None  # the progress on screen, if a run's

    def compose(self) -> ComposeResult:
        yield Static("Epoch -", id="epoch-line")
        yield ProgressBar(total=1, show_eta=False, id="bar")
        yield Static("", id="speed-line")
        yield Static(speed_limit_text(None), id="limit-line")

    def on_mount(self) -> None:
        self.border_title = "Progress"
        self.query_one("#speed-line").display = self.show_timings

    def show_batch(self, p: BatchProgress) -> None:
        """Show where the run is, with the ETA from `remaining_seconds` (``-`` if unknown)."""
        self._shown = p
        self.query_one("#epoch-line", Static).update(
            f"Epoch {p.epoch}/{p.epochs}  {p.images_done:,}/{p.images_total:,} images", layout=False
        )
        self.query_one(ProgressBar).update(total=p.images_total, progress=p.images_done)
        if self.show_timings:
            left = clock(remaining_seconds(p, self.last_epoch_seconds))
            self.query_one("#speed-line", Static).update(
                f"{p.images_per_second:,.0f} img/s  {clock(p.elapsed)}  ETA {left}", layout=False
            )

    def show_last_epoch(self, epochs: int) -> None:
        """The run now ends after epoch ``epochs``: its k/N and ETA, without new progress.

        A paused run changes its number of epochs without training a mini-batch.
        """
        if self._shown is not None:
            self.show_batch(replace(self._shown, epochs=epochs))

    def show_speed_limit(self, batches_per_second: float | None) -> None:
        """Show the speed limit set with ``+``/``-`` (None: full speed)."""
        self.query_one("#limit-line", Static).update(speed_limit_text(batches_per_second))

    def show_idle(self, text: str) -> None:
        """No run in progress: say so, and empty the bar."""
        self._shown = None
        self.query_one("#epoch-line", Static).update(text)
        self.query_one(ProgressBar).update(total=1, progress=0)
        self.query_one("#speed-line", Static).update("")
