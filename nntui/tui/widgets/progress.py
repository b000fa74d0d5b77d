"""Where the run is: epoch k/N, a bar for the current epoch, speed, elapsed time and ETA."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static


def clock(seconds: float) -> str:
    """``75.2`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"``."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def speed_limit_text(batches_per_second: float | None) -> str:
    """``Speed: full  (+/- slower)`` or ``Speed: 10 mini-batches/s  (+/-)``."""
    if batches_per_second is None:
        return "Speed: full  [dim](- slows down)[/]"
    return f"Speed: {batches_per_second:g} mini-batches/s  [dim](+/-)[/]"


class EpochProgress(Vertical):
    """Progress of the run. With ``show_timings`` off (snapshot tests) no clocks or speeds show."""

    def __init__(self, *, show_timings: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_timings = show_timings

    def compose(self) -> ComposeResult:
        yield Static("Epoch -", id="epoch-line")
        yield ProgressBar(total=1, show_eta=False, id="bar")
        yield Static("", id="speed-line")
        yield Static(speed_limit_text(None), id="limit-line")

    def on_mount(self) -> None:
        self.border_title = "Progress"
        self.query_one("#speed-line").display = self.show_timings

    def show_progress(
        self,
        *,
        epoch: int,
        epochs: int,
        images_done: int,
        images_total: int,
        images_per_second: float,
        elapsed: float,
        remaining: float | None,
    ) -> None:
        """Show the position in the run; ``remaining`` is the ETA in seconds, None if unknown."""
        self.query_one("#epoch-line", Static).update(
            f"Epoch {epoch}/{epochs}  {images_done:,}/{images_total:,} images", layout=False
        )
        self.query_one(ProgressBar).update(total=images_total, progress=images_done)
        if self.show_timings:
            eta = clock(remaining) if remaining is not None else "-"
            self.query_one("#speed-line", Static).update(
                f"{images_per_second:,.0f} img/s  {clock(elapsed)}  ETA {eta}", layout=False
            )

    def show_speed_limit(self, batches_per_second: float | None) -> None:
        """Show the speed limit set with ``+``/``-`` (None: full speed)."""
        self.query_one("#limit-line", Static).update(speed_limit_text(batches_per_second))

    def show_idle(self, text: str) -> None:
        """No run in progress: say so, and empty the bar."""
        self.query_one("#epoch-line", Static).update(text)
        self.query_one(ProgressBar).update(total=1, progress=0)
        self.query_one("#speed-line", Static).update("")
