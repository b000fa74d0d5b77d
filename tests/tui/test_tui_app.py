"""Pilot tests of the dashboard: it trains with the real engine on a few hundred blob digits."""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest
from textual.widgets import Input, Static
from threadpoolctl import threadpool_info

from nntui.data.download import Progress
from nntui.engine.config import TrainConfig, parse_eta
from nntui.engine.dataset import MnistData
from nntui.engine.errors import ConfigError, DataError
from nntui.engine.events import BatchProgress, EpochDone
from nntui.engine.training import Trainer, seeded_network
from nntui.tui import worker as tui_worker
from nntui.tui.app import NntuiApp
from nntui.tui.messages import Training
from nntui.tui.screens.help import HelpScreen
from nntui.tui.screens.main import MainScreen
from nntui.tui.widgets.charts import AccuracyChart, CostChart, window_costs
from nntui.tui.widgets.data_panel import DataPanel
from nntui.tui.widgets.epoch_log import EpochLog
from nntui.tui.widgets.gallery import DigitGallery
from tests.conftest import Dashboard
from tests.pilot import LONG, SHORT, log_lines, main_screen, ready, started, stop_run, wait_for


async def test_a_short_run_fills_the_log_the_charts_and_the_gallery(
    tiny_data: MnistData, dashboard: Dashboard
) -> None:
    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        screen = main_screen(app)
        gallery = app.query_one(DigitGallery)
        assert screen.state == "ready"
        assert gallery.epoch == 0 and len(gallery.cards) == 8  # the untrained network's guesses
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")

        history = screen.session.history
        assert [e.epoch for e in history] == [1, 2]
        for event in history:
            assert f"Epoch {event.epoch}: {event.correct} / 100" in log_lines(app)
        assert log_lines(app)[-1] == f"Done: 2 epochs, best {max(e.correct for e in history)} / 100"

        accuracy = app.query_one(AccuracyChart)
        assert accuracy.epochs == [1, 2]
        assert accuracy.accuracy == pytest.approx([100 * e.accuracy for e in history])
        cost = app.query_one(CostChart)
        assert cost.epoch == 2 and cost.points[-1][0] == 500  # every image of the last epoch
        assert cost.points[-1][1] == pytest.approx(history[-1].train_cost)

        assert gallery.epoch == 2
        truth = tiny_data.test.labels
        for card in gallery.cards:
            assert card.label == truth[card.index]
            assert 0 <= card.prediction <= 9


async def test_the_dashboard_trains_the_same_network_as_the_engine(
    tiny_data: MnistData, dashboard: Dashboard
) -> None:
    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        screen = main_screen(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        ui_correct = [e.correct for e in screen.session.history]
    headless = Trainer(tiny_data, SHORT)
    assert ui_correct == [e.correct for e in headless.run() if isinstance(e, EpochDone)]


@pytest.mark.parametrize(
    ("field", "text"),
    [("eta", "-1"), ("sizes", "784,30"), ("epochs", "zero"), ("mini_batch_size", "600")],
)
async def test_an_invalid_input_shows_its_reason_and_blocks_start(
    dashboard: Dashboard, field: str, text: str
) -> None:
    async with dashboard(config=SHORT, size=(80, 24)) as (app, pilot):
        screen = main_screen(app)
        await pilot.click(f"#{field}")
        app.query_one(f"#{field}", Input).value = ""
        await pilot.press(*text)
        await pilot.pause()
        error = str(app.query_one(f"#{field}-error", Static).render())
        assert error  # the parser's own message, e.g. for eta:
        if field == "eta":
            with pytest.raises(ConfigError) as exc:
                parse_eta(text)
            assert error == str(exc.value)
        assert app.query_one(f"#{field}", Input).has_class("-invalid")

        await pilot.press("escape", "s")
        await pilot.pause()
        assert screen.state == "ready" and screen.trainer is None
        status = str(app.query_one("#status", Static).render())
        assert status == f"Start refused: {error}"

        await pilot.click("#start")  # the button refuses too, and puts the cursor on the field
        await pilot.pause()
        assert screen.trainer is None
        assert app.focused is app.query_one(f"#{field}", Input)


async def test_pause_resume_and_stop(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG) as (app, pilot):
        screen = await started(pilot, app, epochs=2)
        await pilot.press("space")
        assert screen.state == "paused" and screen.trainer.paused
        await wait_for(pilot, lambda: any(x.startswith("Paused in") for x in log_lines(app)))
        done = len(screen.session.history)
        await pilot.pause(0.2)
        assert len(screen.session.history) == done  # nothing trains while paused

        await pilot.press("space")
        assert screen.state == "running" and not screen.trainer.paused
        await wait_for(pilot, lambda: len(screen.session.history) > done)

        await stop_run(pilot, screen)
        assert any(line.startswith("Stopped after epoch") for line in log_lines(app))
        assert not app.workers  # the training worker has ended


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_progress_and_the_log_stay_put_from_ready_to_running_to_finished(
    dashboard: Dashboard, size: tuple[int, int]
) -> None:
    """The status line changes with the state; what is below it must not jump a line."""
    async with dashboard(config=LONG, deterministic=True, size=size) as (app, pilot):
        screen = await ready(pilot, app)

        def places() -> tuple:
            return tuple(screen.query_one(f"#{name}").region for name in ("progress", "log"))

        at_rest = places()
        await pilot.press("s")
        await wait_for(pilot, lambda: len(screen.session.history) >= 1)
        await pilot.pause()
        assert places() == at_rest
        await stop_run(pilot, screen)
        await pilot.pause()
        assert places() == at_rest


async def test_reset_draws_a_new_untrained_network(dashboard: Dashboard) -> None:
    async with dashboard(config=SHORT) as (app, pilot):
        screen = main_screen(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        trained = [w.copy() for w in screen.session.network.weights]

        await pilot.press("r")
        await pilot.pause()
        session = screen.session
        assert session.history == [] and screen.state == "ready"
        fresh = seeded_network(SHORT, 1).weights  # the seed field holds 1
        for w, w0, before in zip(session.network.weights, fresh, trained, strict=True):
            np.testing.assert_array_equal(w, w0)
            assert not np.array_equal(w, before)
        assert app.query_one(AccuracyChart).epochs == []
        assert app.query_one(CostChart).points == ()
        assert app.query_one(DigitGallery).epoch == 0
        assert log_lines(app)[-1] == "New network 784,30,10, seed 1"

        # With the seed field empty, Reset picks a new random seed.
        app.query_one("#seed", Input).value = ""
        await pilot.press("r")
        await pilot.pause()
        assert session.seed != 1
        assert log_lines(app)[-1] == f"New network 784,30,10, seed {session.seed}"


async def test_reset_during_a_run_stops_it_first(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG) as (app, pilot):
        screen = await started(pilot, app)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.state == "ready")
        assert screen.session.history == [] and not app.workers


async def test_start_after_a_run_trains_the_same_network_further(dashboard: Dashboard) -> None:
    async with dashboard(config=SHORT) as (app, pilot):
        screen = main_screen(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished" and screen.trainer is None)
        assert [e.epoch for e in screen.session.history] == [1, 2, 3, 4]
        assert app.query_one(AccuracyChart).epochs == [1, 2, 3, 4]
        assert any(line.startswith("Continuing:") for line in log_lines(app))


@pytest.mark.parametrize(
    ("field", "text", "value"), [("eta", "0.5", 0.5), ("mini_batch_size", "25", 25)]
)
async def test_a_setting_changed_mid_run_reaches_the_engine(
    dashboard: Dashboard, field: str, text: str, value: float
) -> None:
    async with dashboard(config=LONG) as (app, pilot):
        screen = await started(pilot, app)
        trainer = screen.trainer
        # Paused, so that the pilot's clicks and keys are not queued behind epochs.
        await pilot.press("space")
        assert not app.query_one(f"#{field}", Input).disabled  # live settings stay editable
        assert app.query_one("#train_size", Input).disabled  # the others are locked
        await pilot.click(f"#{field}")
        app.query_one(f"#{field}", Input).value = ""
        await pilot.press(*text, "enter")
        assert getattr(trainer, field) == value
        assert app.focused is None  # Enter hands the keys back to the dashboard

        await pilot.press("space")
        name, old = ("eta", "3") if field == "eta" else ("mini-batch size", "1")
        expected = f"{name} {old} → {text} from image"
        await wait_for(pilot, lambda: any(expected in line for line in log_lines(app)))
        epochs = len(screen.session.history)
        await wait_for(pilot, lambda: len(screen.session.history) > epochs)
        assert getattr(screen.session.history[-1], field) == value  # the epoch trained with it
        await stop_run(pilot, screen)


async def test_quitting_mid_run_ends_the_worker_within_a_mini_batch(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG) as (app, pilot):
        screen = await started(pilot, app)
        trainer = screen.trainer
        (worker,) = app.workers
        await pilot.press("q")
    since = time.monotonic()
    while not worker.is_finished and time.monotonic() - since < 5:
        time.sleep(0.01)
    assert trainer.cancelled and worker.is_finished


async def test_quitting_while_paused_ends_the_worker(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG) as (app, pilot):
        await started(pilot, app)
        await pilot.press("space")
        (worker,) = app.workers
        await pilot.press("ctrl+c")
    since = time.monotonic()
    while not worker.is_finished and time.monotonic() - since < 5:
        time.sleep(0.01)
    assert worker.is_finished


async def test_n_picks_new_digits(dashboard: Dashboard) -> None:
    async with dashboard(config=SHORT) as (app, pilot):
        gallery = app.query_one(DigitGallery)
        before = [card.index for card in gallery.cards]
        await pilot.press("n")
        after = [card.index for card in gallery.cards]
        assert len(after) == 8 and after != before
        assert main_screen(app).session.sample_indices == tuple(after)


async def test_n_while_training_does_not_wait_for_the_trainer(dashboard: Dashboard) -> None:
    # The trainer is busy evaluating an epoch; `n` must not wait for that.
    async with dashboard(config=LONG) as (app, pilot):
        screen = await started(pilot, app, epochs=2)
        gallery = app.query_one(DigitGallery)
        network = screen.trainer.network
        evaluating, go_on, released = threading.Event(), threading.Event(), threading.Event()

        def slow_predict(images):  # the trainer's next evaluation, held up until released
            evaluating.set()
            go_on.wait(30)
            released.set()
            return type(network).predict(network, images)

        network.predict = slow_predict
        try:
            await wait_for(pilot, evaluating.is_set)
            await pilot.press("n")
            # Answered while the trainer is still held inside its evaluation: the key did
            # not wait for it (had it waited, the evaluation would have been let go first).
            assert not released.is_set()
            # New digits, guessed by the network as a recent epoch left it, and titled so.
            assert [card.index for card in gallery.cards] == list(screen.session.sample_indices)
            assert 1 <= gallery.epoch <= screen.session.epochs_done
        finally:
            go_on.set()
            del network.predict
        await stop_run(pilot, screen)


async def test_the_log_shows_its_last_line_after_a_long_run(dashboard: Dashboard) -> None:
    # More lines than fit, and the status above the log takes a second line at the end.
    async with dashboard(config=SHORT.with_changes(epochs=30)) as (app, pilot):
        screen = main_screen(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "finished")
        await pilot.pause(0.3)
        log = app.query_one(EpochLog)
        assert log.max_scroll_y > 0
        assert log.scroll_y == log.max_scroll_y
        assert log_lines(app)[-1].startswith("Done: 30 epochs")


async def test_help_explains_the_controls_and_closes(dashboard: Dashboard) -> None:
    async with dashboard(config=SHORT, size=(80, 24)) as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_d_swaps_charts_and_digits_on_a_small_terminal(dashboard: Dashboard) -> None:
    async with dashboard(config=SHORT, size=(80, 24)) as (app, pilot):
        gallery, charts = app.query_one(DigitGallery), app.query_one("#charts")
        assert not gallery.display or gallery.region.height == 0
        assert charts.region.height > 0
        await pilot.press("d")
        await pilot.pause()
        assert gallery.region.width == 80 and charts.region.height == 0
        assert gallery.art_style == "braille"
        await pilot.press("d")
        await pilot.pause()
        assert charts.region.height > 0


async def test_a_large_terminal_shows_everything_and_half_block_digits(
    dashboard: Dashboard,
) -> None:
    async with dashboard(config=SHORT, size=(200, 60)) as (app, pilot):
        await pilot.pause()
        assert app.query_one("#charts").region.height > 0
        assert app.query_one(DigitGallery).region.height > 0
        assert app.query_one(DigitGallery).art_style == "half"


async def test_the_data_download_is_shown_with_its_progress(
    tiny_data: MnistData, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def fake_load_data(explicit, on_progress, on_notice=None):
        on_progress(Progress("the book's file on GitHub", "trying", message="trying GitHub"))
        on_progress(Progress("GitHub", "downloading", 5_000_000, 17_000_000, file="mnist.pkl.gz"))
        release.wait(10)
        return tiny_data

    monkeypatch.setattr("nntui.data.datastore.load_data", fake_load_data)
    app = NntuiApp(config=SHORT)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        status = app.query_one("#data-status", Static)
        await wait_for(pilot, lambda: "Downloading" in str(status.render()))
        assert str(status.render()) == ("Downloading mnist.pkl.gz from GitHub: 5.0 MB of 17.0 MB")
        assert screen.state == "loading"
        await pilot.press("s")
        assert screen.trainer is None  # nothing to train on yet
        release.set()
        await wait_for(pilot, lambda: screen.state == "ready")
        assert not app.query_one(DataPanel).display or app.query_one(DataPanel).region.height == 0
        assert len(app.query_one(DigitGallery).cards) == 8


async def test_a_data_error_is_shown_with_the_fix_and_can_be_retried(
    tiny_data: MnistData, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([DataError("could not download MNIST: no network"), tiny_data])

    def fake_load_data(explicit, on_progress, on_notice=None):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr("nntui.data.datastore.load_data", fake_load_data)
    app = NntuiApp(config=SHORT)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: screen.state == "no-data")
        assert str(app.query_one("#data-error", Static).render()) == (
            "could not download MNIST: no network"
        )
        assert "NNTUI_DATA" in str(app.query_one("#data-fix", Static).render())
        await pilot.pause()  # lay out the button that has just appeared
        await pilot.click("#retry")
        await wait_for(pilot, lambda: screen.state == "ready")


async def test_smaller_data_than_the_book_trains_on_all_of_it(dashboard: Dashboard) -> None:
    async with dashboard() as (app, _):  # the book's config asks for 50,000 images
        assert app.query_one("#train_size", Input).value == "500"
        assert "The data has 500 training images" in log_lines(app)


# The worker bridge, without the app. ------------------------------------------------------


def test_the_bridge_batches_progress_but_never_drops_an_epoch(tiny_data: MnistData) -> None:
    config = TrainConfig(train_size=500, epochs=3, mini_batch_size=5, seed=2)
    trainer = Trainer(tiny_data, config)
    posted = []
    blas_threads = []

    def post(message):
        posted.append(message)
        blas_threads.extend(lib["num_threads"] for lib in threadpool_info())

    finished = tui_worker.run_training(trainer, post, interval=10.0)
    kinds = [type(m) for m in posted]
    assert kinds[0] is Training.Started and kinds[-1] is Training.Finished
    assert kinds.count(Training.EpochDone) == 3  # every epoch
    # Progress is held back: with a long interval the first is posted, and the last before the
    # end...
    progress = [m for m in posted if isinstance(m, Training.BatchProgress)]
    assert [(p.event.epoch, p.event.images_done) for p in progress] == [(1, 10), (3, 500)]
    # ...carrying every point of its epoch: 50 on a small training set (every 2 batches of 5).
    assert trainer.progress_every == 2
    assert [done for done, _ in progress[-1].costs] == list(range(10, 501, 10))
    assert progress[-1].costs[-1][1] == progress[-1].event.running_cost
    assert finished is not None and finished.status == "completed"
    assert set(blas_threads) <= {1}  # BLAS held to one thread while training


def test_the_bridge_keeps_the_collector_off_old_objects_only_while_it_runs(
    tiny_data: MnistData,
) -> None:
    trainer = Trainer(tiny_data, TrainConfig(train_size=100, epochs=1, seed=3))
    frozen = []
    tui_worker.run_training(trainer, lambda message: frozen.append(gc.get_freeze_count()))
    assert min(frozen) > 0  # everything alive at the start was frozen...
    assert gc.get_freeze_count() == 0  # ...and is collectable again afterwards


def test_progress_messages_replace_each_other_but_epochs_do_not() -> None:
    def progress(done: int) -> Training.BatchProgress:
        event = BatchProgress(1, 1, done, 100, 0.1, 1.0, 0.1, 0.1)
        return Training.BatchProgress(event, ((done, 0.1),))

    assert progress(20).can_replace(progress(40))
    epoch = Training.EpochDone.__new__(Training.EpochDone)
    assert not progress(20).can_replace(epoch)


def test_window_costs_undo_the_running_mean() -> None:
    # Batches costing 4, then 2, then 0 (100 images each): running means 4, 3, 2.
    assert window_costs(((100, 4.0), (200, 3.0), (300, 2.0))) == pytest.approx([4.0, 2.0, 0.0])
