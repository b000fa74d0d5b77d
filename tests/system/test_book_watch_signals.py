"""Signals sent from outside to a Python sitting in ``net.SGD(..., watch=True)`` on a real terminal.

Each closes the dashboard and restores the terminal first; then it does what it does
to any Python shell: SIGINT raises KeyboardInterrupt out of the call (net trained so
far, the shell's handlers as before), SIGTERM and SIGHUP end the process, a handler
the learner set is called, an ignored signal stays ignored.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.fakedata import write_book_pickle
from tests.system.tmux_session import TMUX, pane

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it)")

SESSION = """\
import signal, sys
from nntui import mnist_loader, network
SETUP
training_data, _, test_data = mnist_loader.load_data_wrapper(sys.argv[1])
net = network.Network([784, 30, 10])
w0 = net.weights[0].copy()
before = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]
try:
    net.SGD(training_data, 10_000, 10, 3.0, test_data=test_data, watch=True)
    print("RETURNED")
except KeyboardInterrupt:
    print("KEYBOARDINTERRUPT")
after = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]
print("HANDLERS", "same" if after == before else "changed")
print("TRAINED", bool((net.weights[0] != w0).any()))
"""
DASHBOARD_UP = r"Epoch \d+: \d+ / \d+ +\d"  # a line of the dashboard's log, with its timing


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_book_pickle(tmp_path_factory.mktemp("data") / "mnist.pkl.gz", 1000, 200, 200)


def _session(tmp_path: Path, setup: str = "") -> Path:
    script = tmp_path / "session.py"
    script.write_text(SESSION.replace("SETUP", setup))
    return script


def _assert_terminal_restored(p) -> None:
    assert p.flag("alternate_on") == "0"  # back on the shell's screen
    assert p.flag("mouse_any_flag") == "0"
    assert p.flag("cursor_flag") == "1"


def _open_dashboard(p) -> int:
    p.wait_for(DASHBOARD_UP, timeout=60)
    assert p.flag("alternate_on") == "1" and p.flag("mouse_any_flag") == "1"
    return p.child_pid()


def test_sigint_closes_the_dashboard_and_raises_keyboardinterrupt_in_the_same_python(
    tmp_path, data
):
    with pane(tmp_path, [sys.executable, str(_session(tmp_path)), str(data)]) as p:
        os.kill(_open_dashboard(p), signal.SIGINT)
        assert p.exit_code(timeout=60) == 0  # the script went on after the call
        screen = p.screen()
        _assert_terminal_restored(p)
        assert "KEYBOARDINTERRUPT" in screen and "RETURNED" not in screen
        assert "HANDLERS same" in screen and "TRAINED True" in screen
        assert "Epoch 0: " in screen  # the book's lines of the epochs trained, then the error


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_restore_the_terminal_then_end_python_as_they_would(
    tmp_path, data, signum
):
    with pane(tmp_path, [sys.executable, str(_session(tmp_path)), str(data)]) as p:
        os.kill(_open_dashboard(p), signum)
        assert p.exit_code(timeout=60) == 128 + signum
        _assert_terminal_restored(p)
        screen = p.screen()
        assert "Epoch 0: " in screen and "Traceback" not in screen
        assert "RETURNED" not in screen  # ended, as a plain Python shell would


def test_a_handler_the_learner_set_is_called_after_the_dashboard_closes(tmp_path, data):
    setup = "signal.signal(signal.SIGTERM, lambda n, f: print('LEARNER HANDLER', n))"
    with pane(tmp_path, [sys.executable, str(_session(tmp_path, setup)), str(data)]) as p:
        os.kill(_open_dashboard(p), signal.SIGTERM)
        assert p.exit_code(timeout=60) == 0
        _assert_terminal_restored(p)
        screen = p.screen()
        assert f"LEARNER HANDLER {int(signal.SIGTERM)}" in screen
        assert "RETURNED" in screen and "HANDLERS same" in screen


def test_an_ignored_signal_stays_ignored(tmp_path, data):
    setup = "signal.signal(signal.SIGTERM, signal.SIG_IGN)"
    with pane(tmp_path, [sys.executable, str(_session(tmp_path, setup)), str(data)]) as p:
        os.kill(_open_dashboard(p), signal.SIGTERM)
        time.sleep(2)
        assert p.flag("alternate_on") == "1"  # still training in the dashboard
        p.keys("q")
        assert p.exit_code(timeout=60) == 0
        _assert_terminal_restored(p)
        assert "RETURNED" in p.screen() and "HANDLERS same" in p.screen()
