"""The dashboard's sweep screen: axes checked as typed, following a sweep from the store,
sorting, a snapshot, and (slow) a real sweep started from the screen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from nntui.engine.dataset import MnistData
from nntui.store.runs import RunStore
from nntui.sweep.events import RunEnded, RunEpoch, RunStarted, SweepStarted
from nntui.sweep.grid import Axes, build_runs
from nntui.sweep.manifest import (
    Manifest,
    load_manifest,
    missing_runs,
    save_manifest,
    stored_runs,
    sweep_ids,
)
from nntui.sweep.recorder import SweepRecorder
from nntui.tui.screens.sweep import SweepScreen, dashboard_workers
from nntui.tui.widgets.sweep_chart import SweepChart, band
from tests.conftest import Dashboard
from tests.pilot import Host, wait_for


@asynccontextmanager
async def on_sweep_screen(
    data: MnistData | None, store: RunStore, **kwargs: Any
) -> AsyncIterator[tuple[Host, Pilot, SweepScreen]]:
    """The sweep screen over an empty dashboard, at 120x40: (the app, its pilot, the screen)."""
    app = Host(lambda: SweepScreen(data, store, **kwargs))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        yield app, pilot, screen


def fake_sweep(store: RunStore, sweep: str = "sw-20261201-120000", completed: int = 4) -> None:
    """Three configurations over two seeds, fixed numbers, as if a sweep had run: the first
    ``completed`` runs completed, the others were stopped after two of their four epochs."""
    runs = build_runs(Axes(eta="1,3", hidden="30,0", seeds=2, epochs=4, train_size=500))[:6]
    save_manifest(store, Manifest(sweep, "", tuple(runs)))
    recorder = SweepRecorder(sweep, store, print)
    recorder.handle(SweepStarted(sweep, tuple(runs), 2, "x"))
    for spec in runs:
        done = 4 if spec.index < completed else 2
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
        if spec.index < completed:
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
    async with on_sweep_screen(tiny_data, RunStore(tmp_path), workers=1) as (_app, pilot, screen):
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
    async with on_sweep_screen(None, store) as (_app, pilot, screen):
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
    async with on_sweep_screen(tiny_data, store, workers=1) as (_app, pilot, screen):
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


def notifications(app: Host) -> list[str]:
    return [n.message for n in app._notifications]


async def test_continue_says_when_there_is_nothing_to_continue(tiny_data: MnistData, tmp_path):
    store = RunStore(tmp_path)
    async with on_sweep_screen(tiny_data, store, workers=1) as (app, pilot, screen):
        await pilot.press("c")  # an empty store
        assert notifications(app) == ["No sweep in the runs store has runs left to continue."]
        fake_sweep(store, completed=6)
        await pilot.press("f", "c")  # a sweep whose every run completed
        assert notifications(app)[-1] == (
            "Sweep sw-20261201-120000: every run has finished; nothing to continue."
        )
        assert screen.sweep is None and screen.following == "sw-20261201-120000"
        assert len(store.list()) == 6


async def test_runs_larger_than_the_data_are_refused_before_any_worker_starts(
    tiny_data: MnistData, tmp_path
):
    store = RunStore(tmp_path)
    async with on_sweep_screen(tiny_data, store, workers=1) as (app, pilot, screen):
        await pilot.press("ctrl+s")  # the default train size, 10,000, of 500 images
        assert notifications(app) == [
            "training-set size 10,000 is more than the 500 training images in the data"
        ]
        assert screen.sweep is None and store.list() == [] and sweep_ids(store) == []


@pytest.mark.slow
async def test_continue_runs_only_the_missing_runs_of_a_stopped_sweep(
    tiny_data: MnistData, tmp_path
):
    store = RunStore(tmp_path)
    fake_sweep(store, "sw-20261130-090000", completed=6)  # an older sweep, complete
    fake_sweep(store)  # four runs completed, two stopped halfway
    manifest = load_manifest(store, "sw-20261201-120000")
    before = {
        r.name: r.history
        for r in stored_runs(store, "sw-20261201-120000")
        if r.status == "completed"
    }
    async with on_sweep_screen(tiny_data, store, workers=1) as (_app, pilot, screen):
        await pilot.press("c")  # nothing on screen: the newest sweep with runs left
        assert screen.sweep_id == "sw-20261201-120000" and screen.sweep is not None
        await wait_for(pilot, lambda: screen.state.finished is not None, timeout=120)
        await pilot.pause(0.3)  # the last redraw
        # Only the two stopped runs ran again, with their own configs and seeds.
        assert [r.spec.config for r in screen.state.runs] == [s.config for s in manifest.runs[4:]]
        assert [r.status for r in screen.state.runs] == ["completed", "completed"]
        # The table shows the whole sweep, and the store has it complete, without duplicates.
        assert screen.query_one(DataTable).row_count == 6
        assert len(screen.query_one(SweepChart).groups) == 3
        assert "6/6 runs ended" in str(screen.query_one("#sweep-status", Static).render())
    after = stored_runs(store, "sw-20261201-120000")
    assert len(after) == 6 and {r.status for r in after} == {"completed"}
    assert all(r.epochs_done == 4 for r in after)
    # The four completed runs were left alone.
    assert {r.name: r.history for r in after if r.name in before} == before
    assert missing_runs(manifest, after) == []
    assert len(stored_runs(store, "sw-20261130-090000")) == 6


async def test_capital_s_on_the_dashboard_opens_the_sweep_screen(
    tiny_data: MnistData, dashboard: Dashboard
):
    from nntui.tui.screens.help import HelpScreen
    from nntui.tui.screens.main import MainScreen
    from tests.pilot import SHORT

    async with dashboard(config=SHORT) as (app, pilot):
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

        help_text = app.screen.query_one(Markdown).source
        assert "`S` **Sweep**" in help_text and "continues an interrupted sweep" in help_text


async def test_the_sweep_screen_shows_its_keys_at_80_columns_and_s_opens_it_while_paused(
    dashboard: Dashboard,
):
    from nntui.tui.screens.main import MainScreen
    from nntui.tui.widgets.key_bar import KeyBar
    from tests.pilot import LONG

    async with dashboard(config=LONG, deterministic=True, size=(80, 24)) as (app, pilot):
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.state == "ready")
        await pilot.press("space", "space")  # running, then paused: `S` is not in the footer
        await wait_for(pilot, lambda: main.state == "paused")
        await pilot.press("S")  # but still opens the sweeps
        await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen))
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        labels = {k.description for k in bar.keys}
        assert {"Back", "Start sweep", "Stop sweep", "Follow newest", "Continue", "Sort"} <= labels
        assert bar.region.x + bar.keys[-1].end <= 80
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main)
        await pilot.press("x")
        await wait_for(pilot, lambda: main.state == "finished")
