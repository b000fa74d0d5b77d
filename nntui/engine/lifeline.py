"""A child process that dies with its parent, however the parent ends (``kill -9`` included).

The parent keeps the write end of a pipe and never writes to it; the child keeps
only the read end. When the parent dies, the kernel closes its write end, and
the child's read end reports the end of the pipe. Linux can turn that into a
signal: with ``O_ASYNC`` and ``F_SETSIG`` the kernel sends the child SIGKILL the
moment the last writer goes, even while the child sits in C code holding the
GIL (an SVM fit does for half an hour). ``PR_SET_PDEATHSIG`` is not used: it
fires when the *thread* that forked exits, not the process. Elsewhere a thread
that reads the pipe ends the child instead, when Python lets it run.

    line = Lifeline()
    pid = os.fork()
    if pid == 0:
        line.hold()       # in the child, first thing
        ...
    line.release()        # in the parent, once the child is started
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import threading

# fcntl's F_SETSIG (Linux): which signal the kernel sends for an O_ASYNC file.
_F_SETSIG = getattr(fcntl, "F_SETSIG", 10)
EXIT_ORPHANED = 128 + signal.SIGKILL  # what the fallback thread exits with, as if killed


class Lifeline:
    """A pipe between a parent and the children it forks; see the module's docstring."""

    def __init__(self) -> None:
        # Not inherited across exec: only forked children, which call `hold`, have it.
        self.read_fd, self.write_fd = os.pipe()

    def hold(self) -> None:
        """In the forked child: die when the parent does. Call before any long work."""
        with contextlib.suppress(OSError):
            os.close(self.write_fd)  # our copy would keep the pipe open for ever
        tie_to_parent(self.read_fd)

    def release(self) -> None:
        """In the parent, once every child is started: drop the read end it does not need."""
        with contextlib.suppress(OSError):
            os.close(self.read_fd)

    def close(self) -> None:
        """In the parent: cut the line, so every child holding it dies now."""
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def tie_to_parent(read_fd: int) -> None:
    """End this process when the pipe whose read end is `read_fd` loses its last writer."""
    armed = False
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(read_fd, fcntl.F_SETOWN, os.getpid())
        fcntl.fcntl(read_fd, _F_SETSIG, signal.SIGKILL)
        flags = fcntl.fcntl(read_fd, fcntl.F_GETFL)
        fcntl.fcntl(read_fd, fcntl.F_SETFL, flags | os.O_ASYNC | os.O_NONBLOCK)
        armed = True
    # The parent may have died before the signal was armed: then the pipe has ended already.
    if _ended(read_fd):
        os._exit(EXIT_ORPHANED)
    if not armed:
        thread = threading.Thread(target=_watch, args=(read_fd,), daemon=True, name="lifeline")
        thread.start()


def _ended(read_fd: int) -> bool:
    readable, _, _ = select.select([read_fd], [], [], 0)
    if not readable:
        return False
    try:
        return os.read(read_fd, 1) == b""
    except BlockingIOError:
        return False


def _watch(read_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.set_blocking(read_fd, True)
        while os.read(read_fd, 1):
            pass
    os._exit(EXIT_ORPHANED)
