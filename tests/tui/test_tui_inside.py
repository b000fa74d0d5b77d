"""The dashboard's way into the look-inside features: keys, kept runs, baselines, backprop."""

from __future__ import annotations

import pytest
from textual.widgets import Select

from nntui.engine.analysis import darkness_baseline
from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.events import EpochDone
from nntui.store.metrics import epoch_record
from nntui.store.runs import RunStore
from nntui.tui.screens.confusion import ConfusionScreen
from nntui.tui.screens.draw import DrawScreen
from nntui.tui.screens.misclassified import MisclassifiedScreen
from nntui.tui.screens.neurons import NeuronsScreen
from nntui.tui.screens.runs import RunsScreen
from nntui.tui.widgets.charts import AccuracyChart
from nntui.tui.widgets.epoch_log import EpochLog
from nntui.tui.widgets.params import HyperParams
from tests.conftest import Dashboard
from tests.pilot import SHORT, main_screen, ready, wait_for


@pytest.mark.parametrize(
    ("key", "screen_type"),
    [
        ("p", DrawScreen),
        ("c", ConfusionScreen),
        ("m", MisclassifiedScreen),
        ("w", NeuronsScreen),
        ("R", RunsScreen),
    ],
)
async def test_each_key_opens_its_look_inside_screen_and_escape_returns(
    dashboard: Dashboard, key, screen_type
) -> None:
    async with dashboard(config=SHORT, deterministic=True, size=(100, 30)) as (app, pilot):
        screen = main_screen(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, screen_type)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_a_dashboard_run_is_kept_and_can_be_loaded_to_train_further(
    dashboard: Dashboard,
) -> None:
    async with dashboard(config=SHORT.with_changes(eta=2.0), deterministic=True) as (app, pilot):
        screen = main_screen(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        (kept,) = RunStore().list()
        assert kept.status == "completed" and kept.epochs_done == 2 and kept.config.eta == 2.0
        trained = [w.copy() for w in screen.session.network.weights]

        await pilot.press("r")  # a new, untrained network...
        await pilot.pause()
        assert screen.session.epochs_done == 0
        await pilot.press("R")  # ...then bring the kept one back
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("t")
        await pilot.pause()
        assert app.screen is screen
        assert screen.session.epochs_done == 2
        assert (screen.session.network.weights[0] == trained[0]).all()
        assert app.query_one("#eta").value == "2"
        assert app.query_one(AccuracyChart).epochs == [1, 2]
        assert any(
            line.startswith(f"Loaded run {kept.name}")
            for line in app.query_one(EpochLog).lines_written
        )

        await pilot.press("s")  # trains it further: epochs 3 and 4
        await wait_for(pilot, lambda: screen.state == "finished")
        assert [e.epoch for e in screen.session.history] == [3, 4]
        newest = RunStore().list()[-1]
        assert newest.resumed_from == kept.name
        assert [r["epoch"] for r in newest.history] == [1, 2, 3, 4]


async def test_b_shows_the_chapters_baselines_on_a_full_scale(
    tiny_data: MnistData, dashboard: Dashboard
) -> None:
    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        chart = app.query_one(AccuracyChart)
        darkness = 100 * darkness_baseline(tiny_data.training, tiny_data.test) / len(tiny_data.test)
        # Data handed over in memory has no file to find a cached SVM beside: the book's figure.
        expected = {"random guess": 10.0, "darkness": darkness, "SVM (book, not reproduced)": 94.35}
        assert chart.baselines == pytest.approx(expected)
        assert "random guess 10.0%" in str(chart.border_subtitle)
        assert not chart.full_scale
        await pilot.press("b")
        assert chart.full_scale
        await pilot.press("b")
        assert not chart.full_scale


async def test_per_sample_backprop_can_be_chosen_and_both_speeds_are_shown(
    dashboard: Dashboard,
) -> None:
    async with dashboard(config=SHORT.with_changes(epochs=1)) as (app, pilot):  # timings shown
        screen = main_screen(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        app.query_one("#backprop", Select).value = "per-sample"
        await pilot.pause()
        config, error, _ = app.query_one(HyperParams).read()
        assert error is None and config.backprop == "per-sample"
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        assert screen.session.history[-1].epoch == 2
        speeds = screen.session.seconds_per_epoch()
        assert set(speeds) == {"matrix", "per-sample"}
        shown = str(app.query_one("#speeds").render())
        assert "matrix" in shown and "per-sample" in shown


async def test_the_dashboard_opens_with_a_saved_model(
    tiny_data: MnistData, tmp_path, dashboard: Dashboard
) -> None:
    from nntui.engine.training import Trainer
    from nntui.store.model_file import load_model, save_model

    trainer = Trainer(tiny_data, SHORT)
    records = [epoch_record(e) for e in trainer.run() if isinstance(e, EpochDone)]
    path = tmp_path / "net.npz"
    save_model(path, trainer.network, config=SHORT, seed=1, history=records)
    async with dashboard(config=TrainConfig(), saved=(load_model(path), str(path))) as (app, pilot):
        screen = await ready(pilot, app)
        assert screen.session.epochs_done == 2
        assert app.query_one("#train_size").value == "500"
        assert any(
            line.startswith(f"Loaded {path}") for line in app.query_one(EpochLog).lines_written
        )
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        assert [e.epoch for e in screen.session.history] == [3, 4]


def test_nntui_resume_with_a_bad_model_is_one_line_and_exit_2(tmp_path) -> None:
    from typer.testing import CliRunner

    from nntui.cli import app as cli

    result = CliRunner().invoke(cli, ["--resume", str(tmp_path / "missing.npz")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"nntui: error: {tmp_path / 'missing.npz'}: no such model file"
