"""The signals nntui catches to stop its work in order, and the exit code each one gives.

kill (SIGTERM), a closed terminal or SSH session (SIGHUP), Ctrl-C (SIGINT), and every
other signal whose default action would end the process (SIGQUIT from ctrl+\\, a stray
SIGUSR1, a CPU limit's SIGXCPU, a real-time signal...) should stop training after the
current mini-batch, keep the run and write what was asked, then exit with 128 + the
signal's number, as the shell reports a process the signal ended. Python already
ignores SIGPIPE and SIGXFSZ; SIGKILL and SIGSTOP cannot be caught; the faults (SIGSEGV,
SIGBUS...) are not for a program to answer. The dashboard and the CLI share this list.
"""

from __future__ import annotations

import signal

_NAMES = (
    "SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM",
    "SIGPROF", "SIGXCPU", "SIGIO", "SIGPWR", "SIGSTKFLT",
)  # fmt: skip

TERMINATING_SIGNALS: tuple[int, ...] = tuple(
    dict.fromkeys(getattr(signal, name) for name in _NAMES if hasattr(signal, name))
) + tuple(range(signal.SIGRTMIN, signal.SIGRTMAX + 1) if hasattr(signal, "SIGRTMIN") else ())


def exit_code(signum: int) -> int:
    """The exit code of a process stopped by ``signum``: 128 + its number."""
    return 128 + int(signum)
