"""The dashboard as a browser tab's process, started by ``nntui serve`` (textual-serve).

There, stdin and stdout are pipes to the server, not a terminal: Textual's web
driver reads keys from stdin and writes the screen on stdout in textual-serve's
framing (a type byte, a length, a payload), so one stray byte written to stdout
by anything else, a library's print or a child process, breaks the protocol.
And no terminal can hang up to tell the dashboard that its server is gone.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

# What textual-serve puts in TEXTUAL_DRIVER for each process it starts.
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"
CHECK_INTERVAL = 1.0  # seconds between two looks at the server


def served() -> bool:
    """True in a process that textual-serve started to draw in a browser tab."""
    return os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER


def keep_stdout_for_the_driver() -> None:
    """Leave the protocol's pipe to Textual's web driver alone, and point fd 1 at stderr.

    Call it before the app is built: the driver writes to ``sys.__stdout__``'s
    descriptor, so that becomes a private copy of the pipe (not inherited by
    child processes), while fd 1, which ``print``, C libraries and children
    write to, becomes stderr, which the server only collects.
    """
    if sys.__stdout__ is None:
        return
    sys.__stdout__.flush()
    private = os.dup(1)  # non-inheritable, unlike fd 1
    os.dup2(2, 1)
    # The web driver looks up sys.__stdout__.fileno() when it is built. (setattr: typeshed
    # calls the name final, but it is an ordinary attribute of the sys module.)
    setattr(sys, "__stdout__", os.fdopen(private, "w", encoding="utf-8"))  # noqa: B010


def watch_server(gone: Callable[[], object], interval: float = CHECK_INTERVAL) -> threading.Event:
    """Call ``gone()`` once, from a daemon thread, when the server that started us has died.

    With its server gone (killed with SIGKILL, say) the dashboard would train on
    with nobody watching: Textual's input thread merely ends at the pipe's end.
    The server is our parent (the shell is replaced by ``exec``), so a new parent
    (init, or a subreaper) means it died. Set the returned event to stop watching.
    """
    parent = os.getppid()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(interval):
            if os.getppid() != parent:
                if not stop.is_set():
                    gone()
                return

    threading.Thread(target=watch, name="nntui-server-watch", daemon=True).start()
    return stop
