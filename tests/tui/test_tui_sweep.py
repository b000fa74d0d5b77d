"""The dashboard's sweep screen: axes checked as typed, following a sweep from the store,
sorting, a snapshot, and (slow) a real sweep started from the screen."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static

from nntui.engine.dataset import MnistData
from nntui.store.runs import RunStore
from nntui.sweep.events import RunEnded, RunEpoch, RunStarted, SweepStarted
from nntui.sweep.grid import Axes, build_runs
from nntui.sweep.manifest import Manifest, save_manifest
from nntui.sweep.recorder import SweepRecorder
from nntui.tui.screens.sweep import SweepScreen, dashboard_workers
from nntui.tui.widgets.sweep_chart import SweepChart, band
from tests.pilot import Host, wait_for


def fake_sweep(store: RunStore, sweep: str = "sw-20261201-120000") -> None:
    """Three configurations over two seeds, fixed numbers, as if a sweep had run."""
    runs = build_runs(Axes(eta="1,3", hidden="30,0", seeds=2, epochs=4, train_size=500))[:6]
    save_manifest(store, Manifest(sweep, "", tuple(runs)))
    recorder = SweepRecorder(sweep, store, print)
    recorder.handle(SweepStarted(sweep, tuple(runs), 2, "x"))
    for spec in runs:
        done = 4 if spec.index < 4 else 2
        recorder.handle(RunStarted(spec.index, "w", 1, None))
        for epoch in range(1, done + 1):
            correct = 50 + 10 * epoch + 3 * spec.index - 2 * spec.seed
            recorder.handle(
                RunEpoch(
                    spec.index,
                    {
                        "epoch": epoch,
                        "correct": correct,
                        "total": 100,
                        "accuracy": correct / 100,
                        "train_cost": 0.1,
                        "eta": spec.config.eta,
                        "mini_batch_size": 10,
                        "train_seconds": 0.25,
                        "eval_seconds": 0.05,
                    },
                )
            )
        if spec.index < 4:
            recorder.handle(RunEnded(spec.index, "completed", "done"))
        else:
            recorder.handle(RunEnded(spec.index, "stopped", "stopped by the user"))


def table_column(screen: SweepScreen, column: int) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def test_band_is_min_median_max_over_seeds():
    epochs, lo, mid, hi = band([(0.5, 0.6, 0.7), (0.4, 0.8)])
    assert epochs == [1, 2, 3]
    assert lo == [40.0, 60.0, 70.0] and hi == [50.0, 80.0, 70.0]
    assert mid == [45.0, 70.0, 70.0]
    assert band([]) == ([], [], [], [])


def test_the_dashboard_keeps_a_core():
    import os

    assert dashboard_workers() == max(1, (os.cpu_count() or 1) - 1)


async def test_axes_are_checked_as_they_are_typed(tiny_data: MnistData, tmp_path):
    app = Host(lambda: SweepScreen(tiny_data, RunStore(tmp_path), workers=1))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        check = screen.query_one("#sweep-check", Static)
        assert "✓ 2 runs" in str(check.render())
        eta = screen.query_one("#sweep-eta", Input)
        eta.value = "3,,x"
        await pilot.pause()
        assert "✗" in str(check.render()) and "empty item" in str(check.render())
        assert eta.has_class("-invalid") and screen.runs is None
        eta.value = "0.5,3"
        screen.query_one("#sweep-hidden", Input).value = "30-"
        await pilot.pause()
        assert "a dash joins" in str(check.render())
        assert screen.query_one("#sweep-hidden", Input).has_class("-invalid")
        assert not eta.has_class("-invalid")
        screen.query_one("#sweep-hidden", Input).value = "30,100-30,0"
        await pilot.pause()
        assert "✓ 12 runs" in str(check.render())
        assert screen.runs is not None and len(screen.runs) == 12
        await pilot.press("ctrl+x")  # nothing running: nothing happens


async def test_following_a_sweep_and_sorting_the_table(tmp_path):
    store = RunStore(tmp_path)
    fake_sweep(store)
    app = Host(lambda: SweepScreen(None, store))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        await pilot.press("f")
        await pilot.pause()
        assert screen.following == "sw-20261201-120000"
        assert screen.query_one(DataTable).row_count == 6
        best = table_column(screen, 4)
        assert best == sorted(best, reverse=True)  # best first
        assert len(screen.query_one(SweepChart).groups) == 3
        await pilot.press("o")  # the next column: time
        assert screen.sort_column == "time"
        await pilot.press("o")  # status
        assert screen.sort_column == "status"
        statuses = table_column(screen, 6)
        assert statuses == sorted(statuses) and "stopped" in statuses
        assert "6 runs ended" in str(screen.query_one("#sweep-status", Static).render())


class TestSnapshot:
    def test_following_a_sweep(self, snap_compare, tmp_path) -> None:
        store = RunStore(tmp_path)
        fake_sweep(store)
        assert snap_compare(
            Host(lambda: SweepScreen(None, store, follow="sw-20261201-120000", workers=1)),
            terminal_size=(120, 40),
        )


@pytest.mark.slow
async def test_a_sweep_started_from_the_screen_runs_on_a_local_cluster(
    tiny_data: MnistData, tmp_path
):
    store = RunStore(tmp_path)
    app = Host(lambda: SweepScreen(tiny_data, store, workers=1))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        for name, value in (("eta", "1,3"), ("epochs", "2"), ("seeds", "1"), ("train", "300")):
            screen.query_one(f"#sweep-{name}", Input).value = value
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.state.finished is not None, timeout=120)
        assert [r.status for r in screen.state.runs] == ["completed", "completed"]
        assert screen.query_one(DataTable).row_count == 2
        stored = store.list()
        assert len(stored) == 2 and {r.status for r in stored} == {"completed"}
        assert stored[0].sweep == screen.state.sweep


async def test_capital_s_on_the_dashboard_opens_the_sweep_screen(tiny_data: MnistData):
    from nntui.tui.app import NntuiApp
    from nntui.tui.screens.help import HelpScreen
    from nntui.tui.screens.main import MainScreen
    from tests.pilot import SHORT

    app = NntuiApp(data=tiny_data, config=SHORT)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen))
        screen = app.screen
        assert isinstance(screen, SweepScreen) and screen.data is tiny_data
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        from textual.widgets import Markdown

        assert "`S` **Sweep**" in app.screen.query_one(Markdown).source
