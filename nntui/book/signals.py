"""Signals sent to a learner's Python while ``net.SGD(..., watch=True)`` has the dashboard open.

In the dashboard's raw mode the Ctrl-C key is a key (it quits, like ``q``), but
``kill -INT``, ``kill`` (SIGTERM) and a hang-up (SIGHUP) still arrive as signals.
Left to themselves they would end the process with the terminal still in the
dashboard's modes (SIGTERM, SIGHUP) or cancel Textual's loop half-way (SIGINT).
So while the dashboard is open each of them is held: it closes the dashboard the
way ``q`` does, the training thread stops after its mini-batch, the terminal and
the shell's handlers come back, the book's lines are printed, and only then is
the signal delivered again, to whatever the shell had: a KeyboardInterrupt for
SIGINT (as Python raises in any long call), the end of the process for SIGTERM
and SIGHUP (as in a plain Python shell), the learner's own handler if they set
one. A signal the shell ignores stays ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# A signal that ends the process ends it in this many seconds even if the dashboard
# cannot close in order (a terminal that is gone, a mini-batch that takes minutes).
END_GRACE_SECONDS = 5.0
# What the dashboard turned on, turned off: main screen, cursor shown, mouse reports off.
_RESET_TERMINAL = (
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[?25h\x1b[?1049l"
)


class HeldSignals:
    """Catch `HELD_SIGNALS` while the dashboard is open, and deliver the first one after."""

    def __init__(self, close: Callable[[], object]) -> None:
        self._close = close  # thread-safe: asks the dashboard to close as `q` does
        self.signum: int | None = None
        self._previous: dict[int, Callable[[int, FrameType | None], Any] | int] = {}
        self._watchdog: threading.Timer | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[HeldSignals]:
        """Within the block the signals close the dashboard; their handlers come back after."""
        self._modes = _terminal_modes()
        for signum in HELD_SIGNALS:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN or previous is None:
                continue  # ignored by the shell (or set outside Python): not ours to change
            self._previous[signum] = previous
            signal.signal(signum, self._caught)
        try:
            yield self
        finally:
            for held, previous in self._previous.items():
                signal.signal(held, previous)
            if self._watchdog is not None:
                self._watchdog.cancel()

    def deliver(self) -> None:
        """Raise the held signal again, now that the shell's own handler is back."""
        if self.signum is not None:
            signum, self.signum = self.signum, None
            signal.raise_signal(signum)

    def _caught(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            return  # already closing; the first signal is the one delivered
        self.signum = signum
        if self._previous.get(signum) is signal.SIG_DFL:  # SIGTERM, SIGHUP: the process ends
            self._watchdog = threading.Timer(END_GRACE_SECONDS, self._end_now, args=(signum,))
            self._watchdog.daemon = True
            self._watchdog.start()
        self._close()

    def _end_now(self, signum: int) -> None:
        """The orderly close took too long: reset the terminal by hand, end as the signal would."""
        with contextlib.suppress(Exception):  # best effort: the terminal may be gone
            if self._modes is not None:
                import termios

                termios.tcsetattr(sys.__stdin__.fileno(), termios.TCSANOW, self._modes)  # type: ignore[union-attr]
            os.write(sys.__stdout__.fileno(), _RESET_TERMINAL.encode())  # type: ignore[union-attr]
        os._exit(128 + signum)


def _terminal_modes() -> list[Any] | None:
    try:
        import termios

        return termios.tcgetattr(sys.__stdin__.fileno())  # type: ignore[union-attr]
    except Exception:  # not a terminal, no termios: nothing to put back by hand
        return None
