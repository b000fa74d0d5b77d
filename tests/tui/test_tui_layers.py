"""The layers screen: per-epoch statistics per layer, the stuck-output hint, snapshots."""

from __future__ import annotations

import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.tui.model.session import Session
from nntui.tui.screens.layers import LayersScreen, LayerStatPlot
from tests.pilot import Host, trained_session

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
# On the blobs, seed 1 of [784,30,10] ends six epochs with outputs 2, 3 and 7 stuck.
STUCK = TrainConfig(epochs=6, train_size=500, seed=1)
# And seed 5 of [784,16,10] learns every digit.
HEALTHY = TrainConfig(sizes=(784, 16, 10), epochs=6, train_size=500, seed=5)


@pytest.fixture(scope="module")
def stuck(tiny_data: MnistData) -> Session:
    return trained_session(tiny_data, STUCK)


@pytest.fixture(scope="module")
def healthy(tiny_data: MnistData) -> Session:
    return trained_session(tiny_data, HEALTHY)


async def test_one_line_per_layer_per_epoch_and_the_hint(stuck: Session) -> None:
    app = Host(lambda: LayersScreen(stuck))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        plots = {p.metric: p for p in app.screen.query(LayerStatPlot)}
        assert set(plots) == {"stuck", "saturated", "gradient", "norm"}
        assert plots["norm"].epochs == [1, 2, 3, 4, 5, 6]
        last = stuck.history[-1].layers
        assert plots["saturated"].series[1][-1] == pytest.approx(100 * last[1].saturated)
        assert plots["norm"].series[0][-1] == pytest.approx(last[0].weight_norm)
        status = str(app.screen.query_one("#layers-status").render())
        assert "Output neurons 2, 3 and 7 are stuck" in status


async def test_a_healthy_run_has_no_hint_and_new_epochs_show_up(
    healthy: Session, tiny_data: MnistData
) -> None:
    app = Host(lambda: LayersScreen(healthy))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "stuck" not in str(app.screen.query_one("#layers-status").render())
        plot = app.screen.query_one(LayerStatPlot)
        assert len(plot.epochs) == 6


async def test_before_the_first_epoch_it_says_when_numbers_come(tiny_data: MnistData) -> None:
    session = Session(tiny_data, sample_seed=0)
    session.reset(HEALTHY)
    app = Host(lambda: LayersScreen(session))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "after the first epoch" in str(app.screen.query_one("#layers-status").render())


@pytest.mark.parametrize("size", SIZES)
def test_snapshot(snap_compare, stuck: Session, size: tuple[int, int]) -> None:
    assert snap_compare(Host(lambda: LayersScreen(stuck)), terminal_size=size)
