"""The drawing pad in a real terminal: tmux feeds the app SGR mouse reports, as a terminal would.

What works: the app turns on mouse reporting itself (modes 1000/1003/1006), so
the bytes of an SGR report (``ESC [ < button ; column ; row M``, ``m`` for the
release, button 32 for a move with the left button held) written into the
pane with ``tmux send-keys -l`` (or as hex with ``send-keys -H``) reach it as
mouse events. tmux's own ``mouse`` option is not needed, and is left off
here: it only decides whether tmux handles a real mouse on an attached client.

The test runs its own tmux server (``-L``, no config file) and stops only it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system.tmux_session import Pane, pane

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ROOT = Path(__file__).resolve().parents[2]

APP = """
import sys
sys.path.insert(0, {root!r})
from nntui.engine.config import TrainConfig
from nntui.tui.screens.draw import DrawScreen
from tests.fakedata import expected_data
from tests.pilot import Host, trained_session

data = expected_data(500, 100, 100, seed=0)
session = trained_session(data, TrainConfig(epochs=1, seed=1, train_size=500))
Host(lambda: DrawScreen(session)).run()
"""


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Pane]:
    script = tmp_path / "draw_app.py"
    script.write_text(APP.format(root=str(ROOT)))
    env = {"NNTUI_RUNS": str(tmp_path / "runs")}
    with pane(tmp_path, [sys.executable, str(script)], env, size=(80, 24)) as p:
        yield p


def pad_rows(text: str) -> list[str]:
    """The 14 rows of the pad's 28 columns (inside its border) on the captured screen."""
    lines = text.splitlines()
    return [line[1:29] for line in lines[1:15]]


def sgr(button: int, column: int, row: int, release: bool = False) -> str:
    """An SGR mouse report; column and row count from 1, as the terminal sends them."""
    return f"\x1b[<{button};{column};{row}{'m' if release else 'M'}"


def test_mouse_reports_draw_on_the_pad(tmux: Pane) -> None:
    tmux.wait_for(lambda s: "Nothing drawn yet" in s)
    assert all(not row.strip() for row in pad_rows(tmux.screen()))

    # A stroke across the pad's content row 4 (screen row 6), columns 6 to 20.
    # The pad's content starts at screen column 2, row 2 (1-based), inside its border.
    tmux.keys(sgr(0, 2 + 5, 2 + 4), literal=True)
    for column in range(2 + 6, 2 + 21):
        tmux.keys(sgr(32, column, 2 + 4), literal=True)
    tmux.keys(sgr(0, 2 + 20, 2 + 4, release=True), literal=True)

    def whole_stroke(screen: str) -> bool:  # ink in every column, no gaps
        rows = pad_rows(screen)
        return "It's a" in screen and all("▀" in rows[3][x] + rows[5][x] for x in range(5, 21))

    # Wait for the whole stroke, not just its end: the app may still be reading the
    # reports, and the screen may be captured between two of them.
    text = tmux.wait_for(whole_stroke)
    rows = pad_rows(text)
    # The stroke's edges are half blocks (ink above or below); its core, a full cell of
    # ink, is drawn as a space on a white background, so look at the soft rows around it.
    inked = [i for i, row in enumerate(rows) if "▀" in row]
    assert inked and min(inked) >= 3 and max(inked) <= 5, rows
    assert all(not rows[i].strip() for i in range(14) if i not in (3, 4, 5)), rows

    # The keys: c clears; u brings the stroke back.
    tmux.keys("c")
    tmux.wait_for(lambda s: "Nothing drawn yet" in s)
    tmux.keys("u")
    tmux.wait_for(lambda s: "It's a" in s)


def test_hex_mouse_reports_work_too(tmux: Pane) -> None:
    tmux.wait_for(lambda s: "Nothing drawn yet" in s)
    press, release = sgr(0, 12, 9), sgr(0, 12, 9, release=True)
    for report in (press, release):
        tmux.keys("-H", *(f"{b:02x}" for b in report.encode()))
    text = tmux.wait_for(lambda s: "It's a" in s)
    rows = pad_rows(text)
    # A dot at content cell (10, 7): its soft edge shows in the rows just above and below.
    assert any("▀" in rows[i] for i in (6, 7, 8)), rows
