"""Smoke test: the real ``nntui`` in a real terminal (tmux), trained from the keyboard."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.fakedata import write_book_pickle

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it)")


def nntui_command() -> list[str]:
    """The ``nntui`` console script next to this Python, else the one on PATH, else the module."""
    script = Path(sys.executable).with_name("nntui")
    if script.exists():
        return [str(script)]
    if found := shutil.which("nntui"):
        return [found]
    return [sys.executable, "-m", "nntui.tui"]


# A server of our own (-L), so that other tmux sessions on the machine change nothing here.
SOCKET = f"nntui-test-{uuid.uuid4().hex[:8]}"


def tmux(*args: str) -> str:
    assert TMUX is not None
    run = subprocess.run([TMUX, "-L", SOCKET, *args], capture_output=True, text=True, check=True)
    return run.stdout


def wait_for_screen(session: str, pattern: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if re.search(pattern, screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} did not appear; the screen was:\n{screen}")


def test_nntui_trains_in_a_real_terminal(tmp_path: Path) -> None:
    data = write_book_pickle(tmp_path / "mnist.pkl.gz", 500, 100, 100)
    session = "nntui"
    env = {"NNTUI_DATA": str(data), "TERM": "xterm-256color"}
    # The app must see the pane's size, not COLUMNS/LINES inherited from the test process.
    command = " ".join(
        [
            "env -u COLUMNS -u LINES",
            *(f"{k}={shlex.quote(v)}" for k, v in env.items()),
            *map(shlex.quote, nntui_command()),
        ]
    )
    # `; sleep` keeps the pane open after a crash, so its traceback can be captured.
    tmux("new", "-d", "-s", session, "-x", "120", "-y", "40", f"{command}; sleep 30")
    try:
        wait_for_screen(session, r"Ready: press s to start")
        tmux("send-keys", "-t", session, "s")
        screen = wait_for_screen(session, r"Done: \d+ epochs, best")
        epochs = re.findall(r"Epoch (\d+): (\d+) / 100\b", screen)
        assert epochs, screen
        assert all(0 <= int(n) <= 100 for _, n in epochs)
        # The gallery: digits with their labels and the network's guesses after the last epoch.
        assert re.search(r"Digits, after epoch \d+", screen), screen
        guesses = re.findall(r"(\d)→(\d) [✓✗]", screen)
        assert len(guesses) >= 8, screen
        braille = sum(1 for ch in screen if 0x2801 <= ord(ch) <= 0x28FF)
        assert braille > 50, screen  # the digits are drawn

        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while "Done: " in tmux("capture-pane", "-p", "-t", session):
            assert time.monotonic() < deadline, "nntui did not quit on q"
            time.sleep(0.2)
    finally:
        subprocess.run([TMUX, "-L", SOCKET, "kill-server"], capture_output=True)
