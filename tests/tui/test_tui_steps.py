"""Step by step, the speed limit, every layer of a picked digit, chart marks: through the keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.events import EpochDone
from nntui.engine.training import Trainer, one_hot
from nntui.tui.app import NntuiApp
from nntui.tui.model.inside import LiveSubject, layer_values
from nntui.tui.model.speed import SPEEDS
from nntui.tui.screens.layers import LayersScreen
from nntui.tui.screens.main import MainScreen
from nntui.tui.screens.misclassified import DigitPagerScreen
from nntui.tui.widgets.charts import AccuracyChart, CostChart
from nntui.tui.widgets.gallery import DigitGallery
from nntui.tui.widgets.layer_view import HiddenStrips
from nntui.tui.widgets.progress import EpochProgress
from tests.conftest import Dashboard
from tests.pilot import LONG, press_until, ready, started, stop_run, wait_for

STEP = TrainConfig(train_size=500, epochs=3, seed=4, mini_batch_size=10)


def first_batch(data: MnistData, seed: int, config: TrainConfig):
    """The run's first mini-batch: the trainer's shuffle stream, recreated."""
    _, shuffle = np.random.SeedSequence(seed).spawn(2)
    idx = np.random.default_rng(shuffle).permutation(config.train_size)[: config.mini_batch_size]
    return data.training.images[idx].T, one_hot(data.training.labels[idx]).T


@asynccontextmanager
async def at_rest(dashboard: Dashboard) -> AsyncIterator[tuple[NntuiApp, Pilot[None], MainScreen]]:
    """The dashboard on `STEP`, ready before its first start: (the app, its pilot, the screen)."""
    async with dashboard(config=STEP, deterministic=True) as (app, pilot):
        yield app, pilot, await ready(pilot, app)


async def take_step(pilot: Pilot[None], screen: MainScreen, key: str) -> None:
    """Press a step key (``full_stop``: one mini-batch, ``e``: one epoch); wait for its end."""
    await pilot.press(key)
    await wait_for(pilot, lambda: screen.state == "paused" and not screen.run.stepping)


async def test_full_stop_trains_exactly_one_mini_batch(
    tiny_data: MnistData, dashboard: Dashboard
) -> None:
    async with at_rest(dashboard) as (app, pilot, screen):
        before = screen.session.network.copy()
        await take_step(pilot, screen, "full_stop")
        trainer = screen.trainer
        x, y = first_batch(tiny_data, trainer.seed, STEP)
        before.update_mini_batch(x, y, STEP.eta)
        for w, expected in zip(trainer.network.weights, before.weights, strict=True):
            assert np.allclose(w, expected, atol=1e-6)
        assert "10/500 images" in str(app.query_one("#epoch-line").render())
        # A second step: one more mini-batch, and every view follows.
        await take_step(pilot, screen, "full_stop")
        assert app.query_one(CostChart).points[-1][0] == 20
        assert trainer.snapshot.weights[0].tobytes() == trainer.network.weights[0].tobytes()
        assert not screen.session.history  # no epoch finished
        await stop_run(pilot, screen)


async def test_e_trains_exactly_one_epoch_then_waits(
    tiny_data: MnistData, dashboard: Dashboard
) -> None:
    async with at_rest(dashboard) as (app, pilot, screen):
        await take_step(pilot, screen, "e")
        await wait_for(pilot, lambda: len(screen.session.history) == 1)
        assert screen.state == "paused"
        weights = [w.copy() for w in screen.trainer.network.weights]
        chart = app.query_one(AccuracyChart)
        assert chart.epochs == [1] and len(chart.train_accuracy) == 1
        await stop_run(pilot, screen)
    headless = Trainer(tiny_data, STEP.with_changes(epochs=1), seed=screen.session.seed)
    for _ in headless.run():
        pass
    for w, expected in zip(weights, headless.network.weights, strict=True):
        assert np.allclose(w, expected, atol=1e-6)


async def test_step_keys_show_in_the_footer_only_when_they_work(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG) as (app, pilot):
        screen = await ready(pilot, app)
        assert screen.check_action("step", ("batch",)) is True
        await press_until(pilot, screen, "s", "running")
        # Hidden while running: Textual hides a key on False (None would grey it out).
        assert screen.check_action("step", ("batch",)) is False
        await press_until(pilot, screen, "space", "paused")
        assert screen.check_action("step", ("epoch",)) is True
        await stop_run(pilot, screen)


async def test_minus_and_plus_set_the_speed_live(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG) as (app, pilot):
        screen = await ready(pilot, app)
        await press_until(pilot, screen, "s", "running")
        await pilot.press(*["minus"] * 7)  # down to the slowest
        assert screen.trainer.batches_per_second == SPEEDS[-1] == 1.0
        limit = str(app.query_one("#limit-line").render())
        assert "Speed: 1 mini-batches/s" in limit
        await pilot.press("plus")
        assert screen.trainer.batches_per_second == 3.0
        await pilot.press(*["plus"] * 7)
        assert screen.trainer.batches_per_second is None
        assert "Speed: full" in str(app.query_one(EpochProgress).query_one("#limit-line").render())
        await stop_run(pilot, screen)


async def test_a_live_eta_change_is_marked_on_both_charts(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG) as (app, pilot):
        screen = await started(pilot, app)
        await press_until(pilot, screen, "space", "paused")
        await pilot.click("#eta")
        app.query_one("#eta", Input).value = ""
        await pilot.press(*"0.5", "enter")
        await pilot.press("space")
        accuracy, cost = app.query_one(AccuracyChart), app.query_one(CostChart)
        await wait_for(pilot, lambda: accuracy.marks and cost.marks)
        (x, label), (epoch, done, cost_label) = accuracy.marks[0], cost.marks[0]
        assert label == cost_label == "η=0.5"
        assert x == pytest.approx(epoch - 1 + done / LONG.train_size)
        await stop_run(pilot, screen)


async def test_a_picked_gallery_digit_shows_every_layer(
    tiny_data: MnistData, dashboard: Dashboard
) -> None:
    async with at_rest(dashboard) as (app, pilot, screen):
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, DigitPagerScreen))
        await pilot.pause()
        strips = app.screen.query_one(HiddenStrips)
        first = screen.session.sample_indices[0]
        expected = layer_values(LiveSubject(screen.session), tiny_data.test.images[first])
        assert len(strips.hidden) == 1 and len(strips.hidden[0]) == 30
        assert np.allclose(strips.hidden[0], expected[0])
        await pilot.press("right")  # the next digit: its own activations
        await pilot.pause()
        second = screen.session.sample_indices[1]
        expected = layer_values(LiveSubject(screen.session), tiny_data.test.images[second])
        assert np.allclose(app.screen.query_one(HiddenStrips).hidden[0], expected[0])


async def test_l_opens_the_layers_screen_and_a_cycles_the_art(dashboard: Dashboard) -> None:
    async with dashboard(config=STEP, deterministic=True) as (app, pilot):
        await ready(pilot, app)
        gallery = app.query_one(DigitGallery)
        styles = []
        for _ in range(4):
            await pilot.press("a")
            styles.append(gallery.art_style)
        assert styles[:3] == ["half", "braille", "ascii"]
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LayersScreen))


def test_the_training_accuracy_reaches_the_chart(tiny_data: MnistData) -> None:
    events = [e for e in Trainer(tiny_data, STEP).run() if isinstance(e, EpochDone)]
    assert all(e.train_accuracy is not None for e in events)


async def test_b_shows_the_svm_figure_cached_beside_the_data(tiny_data_file, tmp_path) -> None:
    import shutil

    from nntui.data.datastore import baseline_dirs, data_checksum
    from nntui.engine.svm import SvmResult
    from nntui.store.baselines import save_svm_result

    # A copy of its own: the shared file must not get a cache beside it.
    tiny_data_file = shutil.copy(tiny_data_file, tmp_path / "mnist.pkl.gz")
    checksum = data_checksum(tiny_data_file)
    save_svm_result(
        baseline_dirs(tiny_data_file), checksum, SvmResult("auto", 9412, 10_000, 50_000, 1.0, "x")
    )
    app = NntuiApp(data_path=tiny_data_file, config=STEP, deterministic=True)
    async with app.run_test(size=(120, 40)) as pilot:
        chart = app.query_one(AccuracyChart)
        await wait_for(pilot, lambda: "SVM" in chart.baselines)
        assert chart.baselines["SVM"] == pytest.approx(94.12)
