"""Once the dashboard has ended, so does its process, whatever thread is left behind.

Each case runs in a child process with a thread that never ends (as Textual's input
thread, restarted on a dead terminal, once did at 100% of a core): the child must
still exit, with the dashboard's exit code, a grace period later.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# A non-daemon thread that would hold the interpreter at exit for ever.
STUCK_THREAD = (
    "import threading, time\n"
    "threading.Thread(target=lambda: time.sleep(10**6), name='stuck').start()\n"
)


def run_child(body: str) -> int:
    code = (
        f"import nntui.tui.app as tui_app\ntui_app.STOP_GRACE_SECONDS = 0.5\n{STUCK_THREAD}{body}"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the process outlived its dashboard")
    return done.returncode


def test_the_process_ends_after_the_dashboard_even_with_a_thread_left_running() -> None:
    body = (
        "tui_app.NntuiApp.run = lambda self: None  # the dashboard opened and was quit\n"
        "tui_app.run_dashboard()\n"
    )
    assert run_child(body) == 0


def test_a_hang_up_while_already_quitting_still_ends_the_process() -> None:
    body = (
        "import signal\n"
        "app = tui_app.NntuiApp(handle_signals=True)\n"
        "app.exiting = True  # `q` was pressed; then the terminal closed\n"
        "app._stop_signal(signal.SIGHUP)\n"
    )
    assert run_child(body) == 128 + 1
