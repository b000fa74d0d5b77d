"""The look-inside screens, driven by Pilot: draw, confusion, misclassified, neurons, runs.

Each screen is pushed by a minimal host app onto a `Session` whose network was
trained two epochs on the small blob digits (60 of 100 test images right, so
there are mistakes to look at).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from textual.app import App
from textual.widgets import SelectionList, Static

from nntui.data.digits import INK, center_and_scale
from nntui.engine.analysis import cell_indices, confusion_matrix, misclassified
from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.network import Network
from nntui.render.digit_art import art_runs
from nntui.store import runs as runs_module
from nntui.store.runs import RunInfo, RunStore
from nntui.tui.model.inside import DigitSample, SavedSubject
from nntui.tui.model.session import Session
from nntui.tui.screens.confusion import CELL_DIGITS, ConfusionScreen
from nntui.tui.screens.draw import DrawScreen
from nntui.tui.screens.misclassified import DigitPagerScreen, MisclassifiedScreen
from nntui.tui.screens.neurons import NeuronsScreen
from nntui.tui.screens.runs import RunsChart, RunsScreen
from nntui.tui.widgets.activation_bars import ActivationBars, bar
from nntui.tui.widgets.confusion_grid import CELL_W, LABEL_W, ConfusionGrid
from nntui.tui.widgets.draw_pad import SIDE, DrawPad, stroke_ink
from nntui.tui.widgets.gallery import DigitGallery
from nntui.tui.widgets.heatmap import HeatmapGrid, weight_map
from tests.pilot import Host, train_further, trained_session


@pytest.fixture
def session(tiny_data: MnistData) -> Session:
    return trained_session(tiny_data)


def outputs(session: Session, image: np.ndarray) -> np.ndarray:
    """The network's 10 outputs for a (28, 28) image: the reference the screens must agree with."""
    net = session.network
    assert net is not None
    return net.feedforward(image.reshape(784, 1).astype(net.dtype))[:, 0]


# --- draw ----------------------------------------------------------------------------------


async def test_clicks_on_the_pad_draw_and_change_the_outputs(session: Session) -> None:
    app = Host(lambda: DrawScreen(session))
    async with app.run_test(size=(80, 24)) as pilot:
        pad = app.screen.query_one(DrawPad)
        bars = app.screen.query_one(ActivationBars)
        assert pad.blank and bars.activations is None
        assert "Nothing drawn yet" in str(app.screen.query_one("#verdict", Static).render())

        # The pad has a border: cell (x, y) of its content is at offset (x + 1, y + 1).
        await pilot.click(pad, offset=(1 + 10, 1 + 3))
        await pilot.pause()
        grid = np.array(pad.pixels).reshape(SIDE, SIDE)
        # A cell is two pixels, one above the other; the pen lands on its middle.
        assert grid[6, 10] == grid[7, 10] == 1.0
        assert grid[0].sum() == 0 and grid[:, 20:].sum() == 0  # nowhere near the click
        first = bars.activations
        assert first is not None
        expected = outputs(session, center_and_scale(grid, INK))
        np.testing.assert_allclose(first, expected, rtol=1e-4, atol=1e-6)

        # A drag (down, move with the button held, up) inks the whole way between.
        await pilot.mouse_down(pad, offset=(1 + 5, 1 + 10))
        await pilot.mouse_up(pad, offset=(1 + 22, 1 + 10))
        await pilot.pause()
        grid = np.array(pad.pixels).reshape(SIDE, SIDE)
        assert all(grid[20, x] == 1.0 for x in range(5, 23))
        second = bars.activations
        assert second is not None and second != first
        expected = outputs(session, center_and_scale(grid, INK))
        np.testing.assert_allclose(second, expected, rtol=1e-4, atol=1e-6)
        assert bars.answer == int(np.argmax(second))
        assert f"It's a {bars.answer}" in str(app.screen.query_one("#verdict", Static).render())

        await pilot.press("u")  # undo the drag
        await pilot.pause()
        assert grid[20, 15] == 1.0 and pad.pixels[20 * SIDE + 15] == 0.0
        assert bars.activations == first

        await pilot.press("c")
        await pilot.pause()
        assert pad.blank and bars.activations is None
        await pilot.press("u")  # clearing is undoable too
        await pilot.pause()
        assert bars.activations == first


async def test_the_drawing_is_classified_again_as_the_network_trains(
    tiny_data: MnistData,
) -> None:
    session = trained_session(tiny_data, TrainConfig(epochs=1, train_size=500, seed=1))
    app = Host(lambda: DrawScreen(session))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DrawScreen)
        await pilot.click(DrawPad, offset=(1 + 14, 1 + 7))
        await pilot.pause()
        before = screen.query_one(ActivationBars).activations
        # Another epoch, as the training worker would run it, on the same network.
        train_further(session)
        screen.poll()
        await pilot.pause()
        after = screen.query_one(ActivationBars).activations
        assert after is not None and after != before
        grid = np.array(screen.query_one(DrawPad).pixels).reshape(28, 28)
        image = center_and_scale(grid, INK)
        np.testing.assert_allclose(after, outputs(session, image), rtol=1e-4, atol=1e-6)
        assert "after epoch 3" in str(screen.query_one("#draw-status", Static).render())


def test_the_pen_is_solid_in_the_middle_and_soft_at_the_edge() -> None:
    assert stroke_ink(0.0) == stroke_ink(0.9) == 1.0
    assert 0.0 < stroke_ink(1.5) < 1.0
    assert stroke_ink(2.0) == 0.0 and stroke_ink(5.0) == 0.0


def test_bars_are_drawn_to_an_eighth_of_a_cell() -> None:
    assert bar(0.0, 4) == "    "
    assert bar(1.0, 4) == "████"
    assert bar(0.5, 4) == "██  "
    assert bar(1 / 32, 4) == "▏   "
    assert bar(7.0, 2) == "██"  # clipped
    assert bar(float("nan"), 3) == "   "  # a diverged network


async def test_a_diverged_network_is_drawn_without_errors(tiny_data: MnistData) -> None:
    session = trained_session(tiny_data, TrainConfig(epochs=1, train_size=500, seed=1))
    assert session.network is not None
    for w in session.network.weights:
        w[...] = np.nan
    for make in (DrawScreen, ConfusionScreen, MisclassifiedScreen, NeuronsScreen):
        app = Host(lambda make=make: make(session))
        async with app.run_test(size=(80, 24)) as pilot:
            if make is DrawScreen:
                await pilot.click(DrawPad, offset=(10, 5))
            await pilot.pause()
            assert isinstance(app.screen, make)


# --- confusion -----------------------------------------------------------------------------


async def test_confusion_counts_and_a_selected_cells_digits(session: Session) -> None:
    split = session.data.test
    predictions = session.history[-1].predictions
    cm = confusion_matrix(split.labels, predictions)
    # The most frequent mistake: a cell with several digits in it.
    off = cm - np.diag(np.diag(cm))
    true, guess = (int(i) for i in np.unravel_index(np.argmax(off), off.shape))
    assert off[true, guess] >= 2

    app = Host(lambda: ConfusionScreen(session))
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.screen.query_one(ConfusionGrid)
        assert grid.counts is not None
        assert sum(map(sum, grid.counts)) == len(split) == 100
        assert sum(grid.counts[d][d] for d in range(10)) == session.history[-1].correct
        assert grid.counts == tuple(tuple(int(c) for c in row) for row in cm)
        for d in range(10):
            row = cm[d].sum()
            expected = None if row == 0 else cm[d, d] / row
            assert grid.accuracy[d] == pytest.approx(expected)

        # Click the cell: one header line, then a line per true digit.
        x = 1 + LABEL_W + guess * CELL_W + 2
        await pilot.click(grid, offset=(x, 1 + 1 + true))
        await pilot.pause()
        assert grid.cursor == (true, guess)
        gallery = app.screen.query_one(DigitGallery)
        wanted = cell_indices(split.labels, predictions, true, guess)
        assert [c.index for c in gallery.cards] == list(wanted[:CELL_DIGITS])
        assert all((c.label, c.prediction) == (true, guess) for c in gallery.cards)
        assert f"True {true}, guess {guess}" in str(gallery.border_title)

        # The keys move the cursor; enter pages through the cell's digits.
        await pilot.press("down")
        assert grid.cursor == ((true + 1) % 10, guess)
        await pilot.press("up", "enter")
        await pilot.pause()
        pager = app.screen
        assert isinstance(pager, DigitPagerScreen)
        assert pager.indices == tuple(int(i) for i in wanted)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfusionScreen)


def test_a_click_outside_the_cells_selects_nothing() -> None:
    grid = ConfusionGrid()
    assert grid.cell_at(0, 1) is None  # the row labels
    assert grid.cell_at(LABEL_W, 0) is None  # the header
    assert grid.cell_at(LABEL_W, 1) == (0, 0)
    assert grid.cell_at(LABEL_W + 10 * CELL_W - 1, 10) == (9, 9)
    assert grid.cell_at(LABEL_W, 11) is None  # the accuracy row


# --- the gallery ---------------------------------------------------------------------------


def _card(image: np.ndarray) -> DigitSample:
    return DigitSample(index=3, label=1, prediction=1, activations=(0.1,) * 10, image=image)


async def test_the_gallery_redraws_an_index_that_now_stands_for_another_image() -> None:
    """Switching the evaluation set makes index 3 another image: its old drawing must go."""

    class One(App[None]):
        def compose(self):
            yield DigitGallery()

    upright = np.zeros((28, 28), np.float32)
    upright[4:24, 10:12] = 1.0
    lying = upright.T.copy()
    async with One().run_test(size=(80, 24)) as pilot:
        gallery = pilot.app.query_one(DigitGallery)
        for image in (upright, lying, upright):
            gallery.show((_card(image),), epoch=1)
            await pilot.pause()
            art = art_runs(image, gallery.art_style)
            lines = gallery.render().lines  # a RunsVisual: an indent, then the card's runs
            assert [
                line[-len(runs) :] for line, runs in zip(lines[: len(art)], art, strict=True)
            ] == art
            other = art_runs(lying if image is upright else upright, gallery.art_style)
            assert [
                line[-len(runs) :] for line, runs in zip(lines[: len(other)], other, strict=True)
            ] != other


# --- misclassified -------------------------------------------------------------------------


async def test_paging_through_the_misclassified_digits(session: Session) -> None:
    split = session.data.test
    wrong = tuple(int(i) for i in misclassified(split.labels, session.history[-1].predictions))
    assert len(wrong) == 40
    app = Host(lambda: MisclassifiedScreen(session))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, MisclassifiedScreen)
        assert screen.indices == wrong
        bars = screen.query_one(ActivationBars)

        def shown() -> int:
            return wrong[screen.position]

        for step in ("right", "right", "pagedown", "left"):
            await pilot.press(step)
        assert screen.position == 11
        image = split.images[shown()].reshape(28, 28)
        assert bars.truth == split.labels[shown()]
        np.testing.assert_allclose(bars.activations, outputs(session, image), rtol=1e-5)
        assert bars.answer != bars.truth  # it is wrong, as promised
        title = str(screen.query_one("#digit", Static).border_title)
        assert title == "12 of 40"

        await pilot.press("end", "right")
        assert screen.position == 39
        await pilot.press("home", "left")
        assert screen.position == 0


async def test_the_misclassified_list_follows_the_epochs(tiny_data: MnistData) -> None:
    session = trained_session(tiny_data, TrainConfig(epochs=1, train_size=500, seed=1))
    app = Host(lambda: MisclassifiedScreen(session))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, MisclassifiedScreen)
        assert len(screen.indices) == 100 - session.history[-1].correct
        train_further(session)
        screen.poll()
        await pilot.pause()
        assert len(screen.indices) == 100 - session.history[-1].correct


# --- neurons -------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [30, 100])
async def test_one_heat_map_per_hidden_neuron(tiny_data: MnistData, hidden: int) -> None:
    config = TrainConfig(epochs=1, train_size=500, seed=1, sizes=(784, hidden, 10))
    session = trained_session(tiny_data, config)
    app = Host(lambda: NeuronsScreen(session))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.screen.query_one(HeatmapGrid)
        assert grid.count == hidden
        assert session.network is not None
        np.testing.assert_allclose(grid.weights, session.network.weights[0], rtol=1e-6)
        assert grid.zoom == "small"  # at 80 columns, five half-size maps a row
        assert grid.per_row(grid.content_size.width) == 5
        scroll = app.screen.query_one("#neurons-scroll")
        assert scroll.max_scroll_y > 0  # they do not all fit: it scrolls
        assert f"{hidden} hidden neurons" in str(scroll.border_title)
        await pilot.press("z")
        await pilot.pause()
        assert grid.zoom == "full"
        assert grid.size.height == -(-hidden // 2) * 15  # two 28x14 maps a row, and numbers


def test_a_heat_map_is_blue_for_negative_and_red_for_positive_weights() -> None:
    weights = tuple([-1.0] * (28 * 14) + [1.0] * (28 * 14))  # top half negative
    lines = weight_map(weights, scale=1.0)
    assert len(lines) == 14 and all(len(line) == 28 for line in lines)
    top = lines[0][0].style
    bottom = lines[-1][0].style
    assert top is not None and bottom is not None
    assert top.bgcolor.triplet.blue > top.bgcolor.triplet.red  # type: ignore[union-attr]
    assert bottom.bgcolor.triplet.red > bottom.bgcolor.triplet.blue  # type: ignore[union-attr]
    small = weight_map(weights, scale=1.0, zoom="small")
    assert len(small) == 7 and all(len(line) == 14 for line in small)


# --- runs ----------------------------------------------------------------------------------


def fill_store(
    store: RunStore,
    data: MnistData,
    monkeypatch: pytest.MonkeyPatch,
) -> list[RunInfo]:
    """Three runs, as the eta experiment of Chapter 1 would leave them, at fixed times."""
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    runs = []
    for n, (eta, hidden, curve) in enumerate(
        [(0.001, 30, (9, 10, 11)), (3.0, 30, (80, 88, 91)), (3.0, 100, (85, 92, 95))]
    ):
        monkeypatch.setattr(runs_module, "_now", lambda n=n: start + timedelta(minutes=n))
        config = TrainConfig(epochs=3, eta=eta, sizes=(784, hidden, 10), train_size=500)
        run = store.create(config, seed=n)
        network = Network([784, hidden, 10], seed=n)
        for epoch, correct in enumerate(curve, 1):
            run.record_epoch({"epoch": epoch, "correct": correct, "total": 100}, network)
        run.finish("completed", network)
        runs.append(run.info())
    return runs


async def test_runs_are_listed_and_chosen_ones_plotted(
    tiny_data: MnistData, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    store = RunStore(tmp_path / "runs")
    made = fill_store(store, tiny_data, monkeypatch)
    results: list[RunInfo | None] = []

    class RunsHost(App[None]):
        def on_mount(self) -> None:
            self.push_screen(RunsScreen(store, data=tiny_data), results.append)

    app = RunsHost()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        runs = screen.query_one(SelectionList)
        assert runs.option_count == 3
        assert screen.highlighted == made[-1].name  # newest first
        chart = screen.query_one(RunsChart)
        assert chart.curves == []

        await pilot.press("space", "down", "down", "space")  # 100 hidden and eta 0.001
        await pilot.pause()
        assert [label for label, _ in chart.curves] == [made[0].label, made[2].label]
        assert chart.curves[1][1] == ((1, 0.85), (2, 0.92), (3, 0.95))
        await pilot.press("space")
        await pilot.pause()
        assert [label for label, _ in chart.curves] == [made[2].label]

        # Look inside the highlighted run's saved network, then come back.
        await pilot.press("w")
        await pilot.pause()
        neurons = app.screen
        assert isinstance(neurons, NeuronsScreen)
        assert isinstance(neurons.subject, SavedSubject)
        assert neurons.query_one(HeatmapGrid).count == 30
        await pilot.press("escape")
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfusionScreen)
        grid = app.screen.query_one(ConfusionGrid)
        assert grid.counts is not None and sum(map(sum, grid.counts)) == 100
        await pilot.press("escape")
        await pilot.pause()

        # t hands the run back to the app, to train it further.
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, RunsScreen)
    assert [r.name if r else None for r in results] == [made[0].name]


async def test_an_empty_runs_directory_says_so(tmp_path) -> None:
    store = RunStore(tmp_path / "none")
    app = Host(lambda: RunsScreen(store))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        details = str(app.screen.query_one("#run-details", Static).render())
        assert "No runs yet" in details
        await pilot.press("w", "t")  # nothing highlighted: nothing happens
        assert isinstance(app.screen, RunsScreen)


async def test_tall_terminals_show_the_next_mistakes_under_the_current_one(
    session: Session,
) -> None:
    split = session.data.test
    wrong = tuple(int(i) for i in misclassified(split.labels, session.history[-1].predictions))
    app = Host(lambda: MisclassifiedScreen(session))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("right")
        strip = app.screen.query_one("#pager-strip", DigitGallery)
        assert strip.display
        assert [c.index for c in strip.cards] == list(wrong[2:14])
        assert all(c.label != c.prediction for c in strip.cards)
        await pilot.press("end")
        assert strip.cards == () and strip.border_title == "No more"
    async with Host(lambda: MisclassifiedScreen(session)).run_test(size=(80, 24)) as pilot:
        assert not pilot.app.screen.query_one("#pager-strip", DigitGallery).display
