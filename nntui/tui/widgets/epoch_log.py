"""The run's log: the book's ``Epoch j: n / 10000`` lines, and what happened around them.

Lines are appended, never redrawn. They are written at once, or in batches at
most `FLUSH_INTERVAL` apart: with a small training set epochs can end hundreds
of times a second. A write of a `RichLog` asks to lay out the whole screen
again (UI-thread time taken from the trainer through the GIL; measured in
benchmarks/README.md); the log has a fixed height, so only its scrollbar
needs that and `EpochLog` updates just the scrollbar.
"""

from __future__ import annotations

import time
from typing import Any, Self

from rich.text import Text
from textual.events import Resize
from textual.geometry import Region
from textual.timer import Timer
from textual.widgets import RichLog

FLUSH_INTERVAL = 0.1  # seconds


class EpochLog(RichLog):
    """An append-only log. With ``show_timings`` off (snapshot tests) durations are left out."""

    def __init__(self, *, show_timings: bool = True, **kwargs: Any) -> None:
        super().__init__(
            max_lines=2_000, min_width=1, wrap=True, markup=False, highlight=False, **kwargs
        )
        self.show_timings = show_timings
        self.lines_written: list[str] = []  # plain text of every line, for tests and copying
        self._pending: list[Text] = []
        self._flush_timer: Timer | None = None
        self._writing = False
        self._last_flush = -float("inf")

    def on_mount(self) -> None:
        self.border_title = "Log"

    def on_resize(self, event: Resize) -> None:
        # Lines are scrolled into view as they are written; keep the last in view when the
        # log shrinks later (the status above it taking a second line, say).
        if self.auto_scroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def add(self, text: str | Text, style: str = "") -> None:
        line = text if isinstance(text, Text) else Text(text, style=style)
        self.lines_written.append(line.plain)
        self._pending.append(line)
        wait = FLUSH_INTERVAL - (time.monotonic() - self._last_flush)
        if wait <= 0:
            self.flush()  # in the frame of whatever brought the line: an epoch, say
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(wait, self.flush)

    def epoch(self, book_line: str, seconds: float) -> None:
        """One epoch: the book's line and (when timings show) how long the epoch took."""
        line = Text(book_line)
        if self.show_timings:
            line.append(f"  {seconds:.2f}s", style="dim")
        self.add(line)

    def flush(self) -> None:
        """Write the lines added since the last flush."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        if self._pending:
            self._last_flush = time.monotonic()
            self._writing = True
            try:
                # Scrolled to the end at once, not after a refresh: one frame, not two.
                self.write(Text("\n").join(self._pending), scroll_end=False)
                if self.auto_scroll:
                    self.scroll_end(animate=False, immediate=True, x_axis=False)
            finally:
                self._writing = False
            self._pending.clear()

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        if layout and self._writing and not self.styles.auto_dimensions:
            # New lines change the virtual size, not the log's size on the screen: update the
            # scrollbar, as scrolling does. Showing it for the first time still lays out again.
            layout = False
            self._scroll_update(self.virtual_size)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
