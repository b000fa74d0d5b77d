"""The terminal watch: it reports a terminal that hung up, once, and only then."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from nntui.tui.terminal_watch import silence_dead_terminal, terminal_alive, watch_terminal


def test_a_terminal_is_alive_until_its_other_end_closes() -> None:
    master, slave = os.openpty()
    try:
        assert terminal_alive(slave)
        os.close(master)
        assert not terminal_alive(slave)
    finally:
        os.close(slave)


def test_a_pipe_or_a_closed_descriptor_is_no_terminal() -> None:
    read, write = os.pipe()
    assert not terminal_alive(read)
    os.close(read)
    os.close(write)
    assert not terminal_alive(read)


def test_the_watch_calls_once_when_the_terminal_is_gone() -> None:
    master, slave = os.openpty()
    calls: list[str] = []
    called = threading.Event()

    def gone() -> None:
        calls.append(threading.current_thread().name)
        called.set()

    watch_terminal(slave, gone, interval=0.01)
    try:
        assert not called.wait(0.2)  # a live terminal: nothing to report
        os.close(master)
        assert called.wait(10)
        time.sleep(0.1)  # it would have looked again ten times by now
        assert calls == ["nntui-terminal-watch"]
    finally:
        os.close(slave)


def test_a_stopped_watch_reports_nothing() -> None:
    master, slave = os.openpty()
    called = threading.Event()
    stop = watch_terminal(slave, called.set, interval=0.01)
    stop.set()
    os.close(master)
    try:
        assert not called.wait(0.3)
    finally:
        os.close(slave)


def test_a_dead_terminal_is_silenced_and_a_live_one_kept() -> None:
    live_master, live = os.openpty()
    dead_master, dead = os.openpty()
    os.close(dead_master)
    try:
        assert silence_dead_terminal((live, dead)) is True
        assert terminal_alive(live)  # untouched
        assert os.write(dead, b"lost") == 4  # /dev/null now, not EIO
        assert silence_dead_terminal((live,)) is False
    finally:
        for fd in (live_master, live, dead):
            os.close(fd)


@pytest.mark.parametrize(("silence", "expected"), [(True, 129), (False, 120)])
def test_the_exit_code_survives_a_dead_terminal(silence: bool, expected: int) -> None:
    """Python's last flush of stdout fails on a hung-up terminal and turns any code into 120."""
    master, slave = os.openpty()
    code = (
        "import sys\n"
        "from nntui.tui.terminal_watch import silence_dead_terminal\n"
        "sys.stdin.readline()\n"  # the test closes the terminal
        "sys.stdout.write('still buffered')\n"
        f"{'silence_dead_terminal()' if silence else ''}\n"
        "sys.exit(129)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as usual
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    os.close(master)  # hung up
    assert child.stdin is not None
    child.stdin.write(b"go\n")
    child.stdin.close()
    assert child.wait(timeout=60) == expected
    assert child.stderr is not None
    errors = child.stderr.read().decode()
    child.stderr.close()
    assert ("Exception ignored" in errors) is not silence  # the failed flush, said on stderr
