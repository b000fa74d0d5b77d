"""Every key press counts: `.` and `e` pressed faster than a step trains are queued, not dropped.

The issue's row: 100 presses of `.` 4 ms apart trained 12 mini-batches (at 50 ms apart,
all 100). Here the real dashboard runs in tmux on 500 training images (mini-batches of
10, so 50 a epoch): 100 presses must train exactly two epochs, and no more.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nntui.store.runs import RunStore
from tests.fakedata import write_book_pickle
from tests.system.tmux_session import TMUX, nntui_command, pane

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it)")


def _epochs(runs: Path) -> int:
    kept = RunStore(runs).list()
    return kept[0].epochs_done if kept else 0


def _wait_epochs(runs: Path, n: int, timeout: float = 90.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _epochs(runs) < n:
        time.sleep(0.1)
    return _epochs(runs)


@pytest.mark.parametrize(("key", "presses", "epochs"), [(".", 100, 2), ("e", 3, 3)])
def test_fast_step_presses_are_all_taken(tmp_path, key, presses, epochs):
    data = write_book_pickle(tmp_path / "mnist.pkl.gz", 500, 100, 100)
    runs = tmp_path / "runs"
    with pane(
        tmp_path, [*nntui_command(), "--data", str(data)], env={"NNTUI_RUNS": str(runs)}
    ) as p:
        p.wait_for(r"Ready: press s to start")
        p.keys(key)  # starts the run, paused, and takes the first step
        p.wait_for(r"Paused")
        for _ in range(presses - 1):
            p.keys(key)
            time.sleep(0.004)
        assert _wait_epochs(runs, epochs) == epochs
        time.sleep(2)  # nothing more is trained once the presses are used up
        assert _epochs(runs) == epochs
        p.keys("q")
        assert p.exit_code() == 0
    (kept,) = RunStore(runs).list()
    assert kept.epochs_done == epochs
