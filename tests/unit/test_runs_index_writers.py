"""Every writer keeps the runs index in step: `nntui train`, a sweep's client, the dashboard.

The rows are read as the writers left them (straight from SQLite, no reader's repair
first) and compared with what the folders say.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from nntui.cli import app
from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.store.index import FILE
from nntui.store.runs import RunStore, read_run
from nntui.sweep.events import RunEnded, RunEpoch, RunStarted, SweepStarted
from nntui.sweep.grid import RunSpec
from nntui.sweep.recorder import SweepRecorder
from nntui.tui.app import NntuiApp
from tests.pilot import SHORT, main_screen, wait_for

runner = CliRunner()


def rows_as_written(root: Path) -> dict[str, tuple]:
    with sqlite3.connect(root / FILE) as conn:
        return {
            name: (status, epochs, best, last, sweep, seed)
            for name, status, epochs, best, last, sweep, seed in conn.execute(
                "SELECT name, status, epochs_done, best_accuracy, last_accuracy, sweep, seed "
                "FROM runs"
            )
        }


def folders(root: Path) -> dict[str, tuple]:
    found = {}
    for path in root.iterdir():
        if path.is_dir() and not path.name.startswith("."):
            r = read_run(path)
            found[r.name] = (
                r.status,
                r.epochs_done,
                r.best_accuracy,
                r.last_accuracy,
                r.sweep,
                r.seed,
            )
    return found


def test_nntui_train_writes_its_row(tiny_data_file):
    root = Path(os.environ["NNTUI_RUNS"])
    for seed in ("1", "2"):
        args = ["train", "--data", str(tiny_data_file), "--train-size", "500", "--epochs", "2"]
        result = runner.invoke(app, [*args, "--seed", seed])
        assert result.exit_code == 0, result.output
    written = rows_as_written(root)
    assert len(written) == 2 and written == folders(root)
    assert {v[0] for v in written.values()} == {"completed"}


def test_a_sweeps_client_writes_every_run_including_retried_and_failed_ones(tmp_path):
    store = RunStore(tmp_path / "runs")
    config = TrainConfig(sizes=(784, 5, 10), epochs=2, eta=3.0, mini_batch_size=10, seed=0)
    specs = tuple(RunSpec(i, config.with_changes(seed=i)) for i in range(4))
    recorder = SweepRecorder("sw-20261207-120000", store, warn=print)
    recorder.handle(SweepStarted("sw-20261207-120000", specs, 2, "tcp://127.0.0.1:1"))
    rng = np.random.default_rng(0)
    weights = (rng.standard_normal((5, 784)), rng.standard_normal((10, 5)))
    biases = (rng.standard_normal((5, 1)), rng.standard_normal((10, 1)))

    def epoch(i: int, e: int, correct: int) -> RunEpoch:
        return RunEpoch(i, {"epoch": e, "correct": correct, "total": 100, "accuracy": 0.5})

    recorder.handle(RunStarted(0, "w1", 1, None))
    recorder.handle(epoch(0, 1, 70))
    recorder.handle(epoch(0, 2, 80))
    recorder.handle(RunEnded(0, "completed", "", weights, biases))
    recorder.handle(RunStarted(1, "w1", 1, None))
    recorder.handle(epoch(1, 1, 60))
    recorder.handle(RunStarted(1, "w2", 2, None))  # its worker died: the record starts again
    recorder.handle(epoch(1, 1, 55))
    recorder.handle(RunEnded(1, "completed", "", weights, biases))
    recorder.handle(RunStarted(2, "w2", 1, None))
    recorder.handle(RunEnded(2, "failed", "worker lost"))
    recorder.handle(RunStarted(3, "w1", 1, None))
    recorder.handle(epoch(3, 1, 20))
    written_midway = rows_as_written(store.root)
    assert written_midway == folders(store.root)  # a run still going is in step too
    recorder.close()  # the client goes away: run 3 is kept as stopped
    written = rows_as_written(store.root)
    assert written == folders(store.root)
    by_seed = {v[5]: v for v in written.values()}
    assert by_seed[1][1] == 1 and by_seed[1][2] == 0.55  # the retried run's second attempt
    assert by_seed[2][0] == "failed" and by_seed[3][0] == "stopped"


async def test_the_dashboard_writes_its_row(tiny_data: MnistData) -> None:
    root = Path(os.environ["NNTUI_RUNS"])
    dashboard = NntuiApp(data=tiny_data, config=SHORT, deterministic=True)
    async with dashboard.run_test(size=(120, 40)) as pilot:
        screen = main_screen(dashboard)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        written = rows_as_written(root)
        assert len(written) == 1 and written == folders(root)
        (row,) = written.values()
        assert row[0] == "completed" and row[1] == SHORT.epochs
