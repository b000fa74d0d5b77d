"""One redraw throttle for the dashboard's heavy panels: the two charts and the gallery.

A redraw of one of them costs the UI thread about 10 ms on a slow 2-core
machine, all of it taken from the trainer through the GIL, so each is redrawn
at most every `REDRAW_INTERVAL` seconds. While a run goes on (`hold`), a due
redraw waits for its turn: the screen draws the panel that has waited longest,
one per progress message (`redraw_longest_waiting`), because the three drawn in
one frame kept a key pressed meanwhile waiting 30 ms or more. A timer draws a
panel whose turn does not come.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from textual.timer import Timer
from textual.widget import Widget

# seconds: at most one redraw a second while training. When epochs end three times a
# second, a redraw per epoch cost the trainer 3%.
REDRAW_INTERVAL = 1.0
# seconds to wait past the interval for a request to redraw with, longer than the time
# between two progress messages (worker.PROGRESS_INTERVAL), which bring the redraw along
REDRAW_GRACE = 0.3
# seconds past the interval a held redraw waits for its turn before its timer draws it
HOLD_GRACE = 1.0


class RedrawThrottle(Widget):
    """A panel whose `request_redraw` redraws it at most every `redraw_interval` seconds.

    Subclasses say what a redraw is in `redraw`.
    """

    @property
    def redraw_interval(self) -> float:
        """Seconds between two redraws at the most."""
        return REDRAW_INTERVAL

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Set while training: a due redraw waits for `redraw_if_due` instead of happening.
        self.hold = False
        self.waiting_since: float | None = None  # when the redraw put off now was asked for
        self._last_redraw = -float("inf")
        self._pending: Timer | None = None

    def request_redraw(self, *, now: bool = False) -> None:
        """Redraw soon; with ``now`` (a mark, a run started or finished) without waiting.

        A request that comes too early, or while `hold` is set, is kept for
        `redraw_if_due`, which while training comes with a progress message: the
        panel is then drawn in the same frame as the rest of the screen, not in a
        frame of its own. A timer draws it if none comes.
        """
        wait = self.redraw_interval - (time.monotonic() - self._last_redraw)
        if now or (wait <= 0 and not self.hold):
            self._redraw_now()
            return
        if self.waiting_since is None:
            self.waiting_since = time.monotonic()
        if self._pending is None:
            grace = HOLD_GRACE if self.hold else REDRAW_GRACE
            self._pending = self.set_timer(max(wait, 0.0) + grace, self._redraw_now)

    def redraw_if_due(self) -> bool:
        """Do a redraw put off earlier if its time has come, in this frame; True if it did."""
        due = time.monotonic() - self._last_redraw >= self.redraw_interval
        if self._pending is not None and due:
            self._redraw_now()
            return True
        return False

    def cancel_redraw(self) -> None:
        """Forget a redraw put off: the caller draws now."""
        self.waiting_since = None
        if self._pending is not None:
            self._pending.stop()
            self._pending = None

    def _redraw_now(self) -> None:
        self.cancel_redraw()
        self._last_redraw = time.monotonic()
        self.redraw()

    def redraw(self) -> None:
        """Draw the panel anew from what it holds now."""
        raise NotImplementedError


def redraw_longest_waiting(panels: Iterable[RedrawThrottle]) -> None:
    """Draw, in this frame, the one panel that has waited longest and is due."""
    waiting = [p for p in panels if p.waiting_since is not None]
    for panel in sorted(waiting, key=lambda p: p.waiting_since or 0.0):
        if panel.redraw_if_due():
            return
