"""The dashboard and the terminal: killed or hung up, it leaves the terminal usable;
without an interactive terminal it refuses in one line instead of drawing blind."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from tests.fakedata import write_book_pickle
from tests.system.procs import dashboard_on_pipes, gone_within
from tests.system.tmux_session import TMUX, nntui_command, pane

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it)")

REFUSAL = "nntui: error: the dashboard needs an interactive terminal"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_book_pickle(tmp_path_factory.mktemp("data") / "mnist.pkl.gz", 500, 100, 100)


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_killed_dashboard_restores_the_terminal(tmp_path, data, signum, code):
    with pane(tmp_path, [*nntui_command(), "--data", str(data)]) as p:
        p.wait_for(r"Ready: press s to start")
        p.keys("s")  # training, so a worker thread is running too
        time.sleep(0.5)
        assert p.flag("alternate_on") == "1" and p.flag("mouse_any_flag") == "1"
        os.kill(p.child_pid(), signum)
        assert p.exit_code() == code
        assert p.flag("alternate_on") == "0"  # back on the shell's screen
        assert p.flag("mouse_any_flag") == "0"  # clicks no longer go to a dead app
        assert p.flag("cursor_flag") == "1"  # the cursor is shown
        assert "Traceback" not in p.screen()


# Every other catchable signal whose default action ends a process (Python itself ignores
# SIGPIPE and SIGXFSZ): the terminal restored, the run kept, the signal named by the code.
OTHER_SIGNALS = [
    getattr(signal, name)
    for name in ("SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGPROF",
                 "SIGXCPU", "SIGIO", "SIGPWR", "SIGSTKFLT")
    if hasattr(signal, name)
] + ([signal.SIGRTMIN] if hasattr(signal, "SIGRTMIN") else [])  # fmt: skip


@pytest.mark.parametrize("signum", OTHER_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_any_terminating_signal_restores_the_terminal_and_keeps_the_run(tmp_path, data, signum):
    from nntui.store.runs import RunStore

    runs = tmp_path / "runs"
    with pane(
        tmp_path, [*nntui_command(), "--data", str(data)], env={"NNTUI_RUNS": str(runs)}
    ) as p:
        p.wait_for(r"Ready: press s to start")
        # Slowed to 30 mini-batches a second, the 30 epochs take far longer than the signal
        # takes to arrive: the run is still going when it does, on any machine.
        for speed in ("1000", "300", "100", "30"):
            p.keys("-")
            p.wait_for(rf"Speed: {speed} mini-batches/s")
        p.keys("s")
        p.wait_for(r"Epoch 1: \d+ / ")  # the log's line: the kept run has an epoch in it
        assert p.flag("alternate_on") == "1" and p.flag("mouse_any_flag") == "1"
        os.kill(p.child_pid(), signum)
        assert p.exit_code() == 128 + signum
        assert p.flag("alternate_on") == "0"
        assert p.flag("mouse_any_flag") == "0"
        assert p.flag("cursor_flag") == "1"
        assert "Traceback" not in p.screen()
    (kept,) = RunStore(runs).list()
    assert kept.status == "stopped" and kept.epochs_done >= 1


@pytest.mark.parametrize("redirect", ["</dev/null", "| cat", "2>/dev/null"])
def test_a_dashboard_without_a_terminal_refuses_in_one_line(tmp_path, data, redirect):
    with pane(tmp_path, [*nntui_command(), "--data", str(data)], redirect=redirect) as p:
        assert p.exit_code(timeout=20) == 2
        assert p.flag("alternate_on") == "0"
        if "2>" not in redirect:
            screen = p.screen()
            assert REFUSAL in screen and "nntui train" in screen


def test_a_dashboard_with_no_terminal_at_all_refuses(data):
    proc = dashboard_on_pipes(data, new_session=True)  # no controlling terminal
    assert proc.returncode == 2
    assert proc.stderr.startswith(REFUSAL) and len(proc.stderr.splitlines()) == 1
    assert proc.stdout == ""


@pytest.mark.parametrize("keys", [["s"], ["s", "p"], ["s", "space", "S"]])
def test_a_dashboard_whose_terminal_is_closed_never_lingers(tmp_path, data, keys):
    """Closing the terminal (here: the whole tmux server) ends the process, whatever it shows."""
    with pane(tmp_path, [*nntui_command(), "--data", str(data)]) as p:
        p.wait_for(r"Ready: press s to start")
        for key in keys:
            p.keys(key)
            time.sleep(0.3)
        pid = p.child_pid()
        p.tmux("kill-server")
        gone = gone_within(pid, 30)  # the grace period is 5 s; generous for slow machines
        if not gone:
            os.kill(pid, signal.SIGKILL)  # leave nothing behind, then fail
        assert gone, "the dashboard outlived its terminal"


def test_a_dashboard_whose_terminal_goes_without_a_hang_up_ends(data):
    """No SIGHUP comes (the terminal is not its controlling one, as under a parent that
    ignores hang-ups and stays): it notices the terminal is gone and ends with 129, as on
    a hang-up, instead of lingering with Textual's input thread spinning on it."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    # Buffered output, as usual: at exit Python flushes it into the dead terminal.
    unset = ("COLUMNS", "LINES", "PYTHONUNBUFFERED")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    proc = subprocess.Popen(
        [*nntui_command(), "--data", str(data)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color"},
        start_new_session=True,  # a session without a controlling terminal: no SIGHUP
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 60

        def read(until: bytes | None, seconds: float) -> None:
            nonlocal seen
            end = time.monotonic() + seconds
            while time.monotonic() < min(end, deadline) and (until is None or until not in seen):
                if select.select([master], [], [], 0.1)[0]:
                    seen += os.read(master, 1 << 16)

        read(b"Ready:", 60)
        assert b"Ready:" in seen
        os.write(master, b"s")  # training, so the worker thread runs too
        read(None, 1.0)  # drawing goes on meanwhile: the output must be read
        os.close(master)
        master = -1
        try:
            code = proc.wait(timeout=30)  # 1 s to notice, then the 5 s grace at most
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("the dashboard outlived its terminal")
        assert code == 129
    finally:
        if master >= 0:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
