"""How ``nntui train`` and ``nntui sweep`` stop: Ctrl-C, SIGTERM, SIGHUP or any other signal
that would end the process (SIGQUIT, SIGUSR1, ...: `nntui.engine.signals`) end the work in order.

The first signal asks the work to stop after its current mini-batch (each run keeps what it
learned); Ctrl-C a second time aborts at once. After a hang-up nothing more is written, since
the terminal is gone and a write would fail (EIO) or block.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from types import FrameType

from nntui.cli.console import Output
from nntui.engine.signals import TERMINATING_SIGNALS

# Each of these stops the work in order; the exit code then says which (`EXIT_SIGNAL`).
STOP_SIGNALS = frozenset(TERMINATING_SIGNALS)


class StopState:
    """Which signal stopped the work, if any."""

    signum: int | None = None


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], object], output: Output, note: str) -> Iterator[StopState]:
    """While the block runs, the stop signals call ``stop`` and say ``note`` on stderr.

    Ctrl-C a second time raises KeyboardInterrupt. The previous handlers come back after.
    """
    state = StopState()

    def handler(signum: int, frame: FrameType | None) -> None:
        if state.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        state.signum = signum
        stop()
        if signum == signal.SIGHUP:
            output.hang_up()
        else:
            output.note(note)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield state
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
