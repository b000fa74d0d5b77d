"""The runs screen (`R`) on a big store: a page at a time, epochs read only when drawn."""

from __future__ import annotations

import pytest
from textual.widgets import SelectionList

from nntui.engine.config import TrainConfig
from nntui.store.runs import RunStore
from nntui.tui.screens import runs as runs_screen
from nntui.tui.screens.runs import RunsChart, RunsScreen
from tests.pilot import Host

CONFIG = TrainConfig(sizes=(784, 5, 10), epochs=3, eta=3.0, mini_batch_size=10, seed=1)
PAGE = 10


def fill(store: RunStore, n: int) -> list[str]:
    names = []
    for i in range(n):
        run = store.create(CONFIG.with_changes(eta=0.25 * (i + 1)), seed=i)
        for epoch in (1, 2):
            correct = 50 + i + epoch
            run.record_epoch({"epoch": epoch, "correct": correct, "total": 100})
        run.finish("completed")
        names.append(run.name)
    return names


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_screen, "PAGE", PAGE)
    monkeypatch.setattr(runs_screen, "AHEAD", 3)


async def test_rows_come_a_page_at_a_time_as_one_scrolls(tmp_path, small_pages) -> None:
    store = RunStore(tmp_path / "runs")
    names = fill(store, 3 * PAGE + 4)
    newest_first = names[::-1]
    app = Host(lambda: RunsScreen(store))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        runs = screen.query_one(SelectionList)
        assert screen.loaded == PAGE and screen.total == len(names)
        assert runs.border_title == f"Runs {PAGE} of {len(names)}"
        assert [runs.get_option_at_index(i).value for i in range(PAGE)] == newest_first[:PAGE]
        # Nothing is drawn yet: no run's epochs were read.
        assert all(info.loaded is None for info in screen.runs.values())

        await pilot.press("end")  # the last row loaded: close to the end, so one more page
        await pilot.pause()
        assert screen.loaded == 2 * PAGE
        for _ in range(10):
            await pilot.press("end")
            await pilot.pause()
        assert screen.loaded == len(names) and runs.option_count == len(names)
        listed = [runs.get_option_at_index(i).value for i in range(runs.option_count)]
        assert listed == newest_first  # in order, none twice, none missed
        assert runs.border_title == "Runs"

        await pilot.press("space", "up", "space")  # the two oldest runs on the chart
        await pilot.pause()
        chart = screen.query_one(RunsChart)
        assert [label for label, _ in chart.curves] == [
            store.get(names[0]).label,
            store.get(names[1]).label,
        ]
        assert chart.curves[0][1] == ((1, 0.51), (2, 0.52))
        drawn = {n for n, info in screen.runs.items() if info.loaded is not None}
        assert drawn == {names[0], names[1]}  # only the drawn runs' epochs were read


async def test_a_new_run_appears_at_the_top_and_the_choices_stay(tmp_path, small_pages) -> None:
    store = RunStore(tmp_path / "runs")
    names = fill(store, PAGE + 2)
    app = Host(lambda: RunsScreen(store))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await pilot.press("down", "space")  # the second newest on the chart
        await pilot.pause()
        assert screen.chosen == [names[-2]]
        (new,) = fill(RunStore(store.root), 1)  # another process records a run
        screen.relist()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        runs = screen.query_one(SelectionList)
        assert runs.get_option_at_index(0).value == new
        assert screen.total == len(names) + 1
        assert screen.chosen == [names[-2]] and screen.highlighted == names[-2]
        # Nothing changed since: relisting reads no rows again.
        before = dict(screen.runs)
        screen.relist()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert all(screen.runs[n] is before[n] for n in before)


async def test_following_a_sweep_reads_again_only_the_runs_that_changed(tmp_path) -> None:
    from textual.widgets import DataTable

    from nntui.tui.screens.sweep import SweepScreen

    store = RunStore(tmp_path / "runs")
    fill(store, 3)  # runs of no sweep: not shown
    live = []
    for i in range(4):
        run = store.create(CONFIG.with_changes(eta=1.0 + i), seed=i, sweep="sw-20261207-100000")
        run.record_epoch({"epoch": 1, "correct": 60 + i, "total": 100})
        live.append(run)
    app = Host(lambda: SweepScreen(None, store, follow="sw-20261207-100000", workers=1))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        assert screen.query_one(DataTable).row_count == 4
        before = {id(r) for r in screen.rows}
        screen._reread_later()  # nothing changed: the rows stay as they are
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert {id(r) for r in screen.rows} == before
        live[2].record_epoch({"epoch": 2, "correct": 90, "total": 100})
        screen._reread_later()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        changed = [r for r in screen.rows if id(r) not in before]
        assert len(changed) == 1 and changed[0].epochs_done == 2 and changed[0].best == 0.9
        assert len(screen.rows) == 4
        for run in live:
            run.finish("completed")


async def test_a_missing_index_is_rebuilt_by_the_worker_and_said(tmp_path, small_pages) -> None:
    from pathlib import Path

    from nntui.store.index import FILE

    writer = RunStore(tmp_path / "runs")
    names = fill(writer, 5)
    writer.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{writer.root / FILE}{suffix}").unlink(missing_ok=True)
    store = RunStore(writer.root)
    app = Host(lambda: RunsScreen(store))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        runs = screen.query_one(SelectionList)
        listed = [runs.get_option_at_index(i).value for i in range(runs.option_count)]
        assert listed == names[::-1]
        said = [n.message for n in app._notifications]
        assert any("built the runs index" in m and "5 run folders" in m for m in said), said
