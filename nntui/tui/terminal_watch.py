"""Noticing that the dashboard's terminal is gone, whether or not a hang-up signal came.

A closed terminal normally sends SIGHUP, and the app quits on it as on ``q``.
But the signal can miss the dashboard (its terminal is not the controlling one,
or a parent ignores hang-ups and stays), and then nothing ends it: Textual's
input thread spins at a full core on the dead terminal, and once writes fail
its output thread ends, the frame queue fills and the UI thread blocks on it
for good. Seen: a dashboard left running at 60% of a core after its tmux
server was killed.

So a daemon thread asks the terminal for its settings once a second
(``tcgetattr``, which fails with EIO once a terminal is hung up) and reports
when it is gone. Once the app has ended, `silence_dead_terminal` points the
standard streams of a hung-up terminal at /dev/null, so that the process still
exits with the app's code.
"""

from __future__ import annotations

import os
import termios
import threading
from collections.abc import Callable

CHECK_INTERVAL = 1.0  # seconds between two looks at the terminal


def terminal_alive(fd: int) -> bool:
    """True while ``fd`` is a terminal that has not hung up."""
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError, ValueError):
        return False
    return True


def watch_terminal(
    fd: int, gone: Callable[[], object], interval: float = CHECK_INTERVAL
) -> threading.Event:
    """Call ``gone()`` once, from a daemon thread, when terminal ``fd`` is gone.

    Set the returned event to stop watching. ``gone`` must not wait for the UI
    thread: that thread may be the one blocked on the dead terminal.
    """
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(interval):
            if not terminal_alive(fd):
                if not stop.is_set():  # a terminal closed after the watch was stopped is fine
                    gone()
                return

    threading.Thread(target=watch, name="nntui-terminal-watch", daemon=True).start()
    return stop


def silence_dead_terminal(fds: tuple[int, ...] = (1, 2)) -> bool:
    """Point each of ``fds`` whose terminal has hung up at /dev/null; True if any had.

    Python flushes stdout and stderr as it exits, and a flush that fails (EIO on
    a hung-up terminal) makes it exit with 120, whatever code the app chose (129
    for a hang-up). Whatever is still to be written has nowhere to go anyway.
    """
    dead = [fd for fd in fds if not terminal_alive(fd)]
    if dead:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            for fd in dead:
                os.dup2(null, fd)
        finally:
            os.close(null)
    return bool(dead)
