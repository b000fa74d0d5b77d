"""Smoke test: the real ``nntui`` in a real terminal (tmux), trained from the keyboard."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fakedata import write_book_pickle
from tests.system.tmux_session import TMUX, nntui_command, pane

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it)")


def test_nntui_trains_in_a_real_terminal(tmp_path: Path) -> None:
    data = write_book_pickle(tmp_path / "mnist.pkl.gz", 500, 100, 100)
    env = {"NNTUI_DATA": str(data)}
    with pane(tmp_path, nntui_command(), env) as p:
        p.wait_for(r"Ready: press s to start")
        p.keys("s")
        screen = p.wait_for(r"Done: \d+ epochs, best")
        epochs = re.findall(r"Epoch (\d+): (\d+) / 100\b", screen)
        assert epochs, screen
        assert all(0 <= int(n) <= 100 for _, n in epochs)
        # The gallery: digits with their labels and the network's guesses after the last epoch.
        assert re.search(r"Digits, after epoch \d+", screen), screen
        guesses = re.findall(r"(\d)→(\d) [✓✗]", screen)
        assert len(guesses) >= 8, screen
        braille = sum(1 for ch in screen if 0x2801 <= ord(ch) <= 0x28FF)
        assert braille > 50, screen  # the digits are drawn

        p.keys("q")
        assert p.exit_code(timeout=10) == 0, "nntui did not quit on q"
