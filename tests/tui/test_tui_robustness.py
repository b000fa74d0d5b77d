"""The dashboard under stress: a resize storm mid-run, 200 epochs, and a run that diverges."""

from __future__ import annotations

import asyncio
import math
import random
import time

import pytest
from textual.app import App
from textual.events import Key, Resize
from textual.geometry import Size
from textual.widgets import Input, Static

from nntui.engine.config import TrainConfig
from nntui.tui.widgets.charts import AccuracyChart, CostChart
from nntui.tui.widgets.epoch_log import EpochLog
from tests.conftest import Dashboard
from tests.pilot import wait_for


async def test_a_resize_storm_during_training_does_not_stop_the_run(dashboard: Dashboard):
    config = TrainConfig(train_size=500, epochs=10_000, seed=1)
    rng = random.Random(0)
    async with dashboard(config=config, deterministic=True) as (app, pilot):
        screen = app.screen
        await pilot.press("s")
        for _ in range(80):
            # From smaller than the layout can hold to very wide, back and forth. What
            # `pilot.resize_terminal` does, without its wait for the app to go idle: with a
            # run posting progress it takes about a second each time.
            size = Size(rng.randint(20, 240), rng.randint(6, 70))
            app._driver._size = size  # the headless driver's terminal
            app.post_message(Resize(size, size))
            await asyncio.sleep(rng.choice((0, 0, 0.002, 0.02)))
            assert screen.state == "running"
        await pilot.pause()
        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: len(screen.session.history) >= 3, timeout=30.0)
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.state == "finished", timeout=30.0)
        assert app.is_running
        epochs = [e.epoch for e in screen.session.history]
        assert epochs == list(range(1, len(epochs) + 1))
        assert app.query_one(EpochLog).lines_written[-1] == f"Stopped after epoch {epochs[-1]}"


async def test_two_hundred_epochs_keep_the_log_and_charts_bounded(dashboard: Dashboard):
    config = TrainConfig(train_size=500, epochs=200, seed=1, mini_batch_size=50)
    ticks: list[float] = []
    async with dashboard(config=config, deterministic=True) as (app, pilot):
        screen = app.screen
        # A 10 ms timer on the UI thread: it must keep firing while the run goes on (how late
        # it fires, the lag, depends on the machine: benchmarks/long_run.py measures it).
        timer = app.set_interval(0.01, lambda: ticks.append(time.perf_counter()))
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished", timeout=30.0)
        assert len(screen.session.history) == 200
        log = app.query_one(EpochLog)
        assert len(log.lines) <= log.max_lines  # what the widget holds is capped
        assert sum(line.startswith("Epoch ") for line in log.lines_written) == 200
        assert log.max_scroll_y > 0  # and it scrolls
        assert len(app.query_one(AccuracyChart).epochs) == 200  # one point per epoch
        assert len(app.query_one(CostChart).points) <= 500 // 50  # this epoch's only
        timer.stop()
    assert len(ticks) > 20  # the event loop was not starved by 200 epochs of events


# Dashboard bug, reported: when the cost becomes inf/NaN, plotext divides by zero drawing
# the cost chart (ylim lo == hi) and the app crashes. Remove the mark once it is fixed.
async def test_a_diverging_run_says_so_in_the_log_and_the_status(dashboard: Dashboard):
    config = TrainConfig(train_size=500, epochs=3, seed=1, eta=1e300)
    async with dashboard(config=config, deterministic=True) as (app, pilot):
        screen = app.screen
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished", timeout=30.0)
        lines = app.query_one(EpochLog).lines_written
        assert (
            "Diverged: the weights became infinite or NaN in epoch 1 with eta 1e+300; "
            "try a smaller eta" in lines
        )
        status = str(app.query_one("#status", Static).render())
        assert "Diverged" in status and "smaller eta" in status
        assert screen.session.history == []


@pytest.mark.parametrize("key", ["question_mark", "m", "c", "w", "R", "p", "s", "n"])
async def test_a_key_typed_right_after_q_is_ignored_not_a_crash(dashboard: Dashboard, key):
    # In a terminal both keys arrive in one read: the second is handled while the app exits.
    async with dashboard(config=TrainConfig(train_size=500, epochs=2, seed=1)) as (app, pilot):
        await pilot.pause()
        app.post_message(Key("q", "q"))
        app.post_message(Key(key, None))
        await pilot.pause(0.2)
    assert app.return_code == 0


@pytest.mark.parametrize(
    "points",
    [
        ((1000, math.inf), (2000, math.inf)),
        ((1000, math.nan), (2000, math.nan)),
        ((1000, 1e308), (2000, 1e308)),  # running means whose totals overflow
        ((1000, 0.5), (2000, math.nan)),
    ],
)
async def test_the_cost_chart_draws_a_diverged_runs_costs(points):
    class Charts(App[None]):
        def compose(self):
            yield CostChart()
            yield AccuracyChart()

    app = Charts()
    async with app.run_test(size=(80, 30)) as pilot:
        app.query_one(CostChart).set_points(1, 50_000, points)
        app.query_one(AccuracyChart).add_point(1, math.nan)
        app.query_one(CostChart).request_redraw(now=True)
        await pilot.pause(0.1)
    assert app.return_code is None  # no unhandled error (which would set it to 1)


async def test_eta_1e308_then_start_finishes_as_diverged_without_a_crash(dashboard: Dashboard):
    async with dashboard(config=TrainConfig(train_size=500, epochs=3, seed=1, eta=1e308)) as (
        app,
        pilot,
    ):
        screen = app.screen
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished", timeout=30.0)
        for chart in (app.query_one(CostChart), app.query_one(AccuracyChart)):
            chart.request_redraw(now=True)
        await pilot.pause(0.2)
        assert app.is_running
    assert app.return_code is None  # no unhandled error (which would set it to 1)


def test_a_dashboard_that_crashed_exits_non_zero(monkeypatch, tiny_data_file):
    from typer.testing import CliRunner

    from nntui.cli import app as cli

    monkeypatch.setattr("nntui.tui.app.run_dashboard", lambda **kwargs: 1)
    monkeypatch.setattr("nntui.cli.interactive", lambda: True)
    assert CliRunner().invoke(cli, ["--data", str(tiny_data_file)]).exit_code == 1


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["backspace", "backspace", "backspace", "1", "e", "3", "0", "8"], "1e308"),
        (["1", "e", "3", "0", "8", "backspace", "backspace", "backspace", "2", "5"], "31e25"),
        (["home", "delete", "0", ".", "5", "end", "left", "backspace", "7"], "075"),
    ],
)
async def test_keys_typed_in_a_burst_are_applied_in_order(dashboard: Dashboard, keys, expected):
    async with dashboard(config=TrainConfig(train_size=500, epochs=2, seed=1)) as (app, pilot):
        await pilot.pause()
        eta = app.screen.query_one("#eta", Input)
        eta.focus()
        eta.cursor_position = len(eta.value)  # "3", the cursor after it
        await pilot.pause()
        # All at once, as a terminal delivers keys typed fast (or sent by tmux) in one read.
        for key in keys:
            app.post_message(Key(key, key if len(key) == 1 else None))
        await pilot.pause(0.3)
        assert eta.value == expected
