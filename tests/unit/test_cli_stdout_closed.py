"""A closed stdout under Rich: reported to nntui's `Output`, not an exit of Rich's own."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import pytest

from nntui.cli.console import stdout_console


@contextlib.contextmanager
def closed_stdout() -> Iterator[None]:
    """sys.stdout as a pipe whose reader is gone (``| head -1`` once head has quit).

    Set in the test's body: pytest's capture puts its own sys.stdout back after setup.
    """
    read, write = os.pipe()
    os.close(read)
    pipe = os.fdopen(write, "w")
    before, sys.stdout = sys.stdout, pipe
    try:
        yield
    finally:
        sys.stdout = before
        with contextlib.suppress(BrokenPipeError):
            pipe.close()


def test_a_sweeps_console_raises_broken_pipe_for_output_to_answer():
    # `nntui sweep` prints its summary through this inside `Output.on_stdout`, which turns
    # EPIPE into a warning and exit 0: a reader that stopped reading is no failure.
    with closed_stdout():
        out = stdout_console(report_closed=True)
        with pytest.raises(BrokenPipeError):
            out.print("summary")


def test_richs_own_console_would_exit_1_without_a_word():
    # Why the sweep needs the one above: this is what ended a sweep as a failure when the
    # reader let go only after the last epoch line (seen in a test on a loaded machine).
    with closed_stdout(), pytest.raises(SystemExit) as exc:
        stdout_console().print("summary")
    assert exc.value.code == 1
