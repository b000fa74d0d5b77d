"""Snapshots of the look-inside screens at 80x24 and 120x40.

Everything on them is fixed: the blob digits, the seed of the network, the
strokes drawn on the pad and the times of the runs. Review a changed SVG
before accepting it with ``pytest --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.network import Network
from nntui.store import runs as runs_module
from nntui.store.runs import RunStore
from nntui.tui.model.session import Session
from nntui.tui.screens.confusion import ConfusionScreen
from nntui.tui.screens.draw import DrawScreen
from nntui.tui.screens.misclassified import MisclassifiedScreen
from nntui.tui.screens.neurons import NeuronsScreen
from nntui.tui.screens.runs import RunsScreen
from nntui.tui.widgets.draw_pad import DrawPad
from tests.pilot import Host, trained_session

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

# A 7: a bar along the top, then a diagonal down to the left (pixel coordinates).
SEVEN = [(6.0, 5.0), (21.0, 5.0), (13.0, 24.0)]


@pytest.fixture(scope="module")
def session(tiny_data: MnistData) -> Session:
    return trained_session(tiny_data)


@pytest.fixture
def snap_screen(snap_compare):
    """``snap_compare`` for one screen: the one ``make()`` builds, at ``size``, after ``keys``."""

    def compare(make: Callable[[], Screen], size: tuple[int, int], *keys: str, **options) -> bool:
        return snap_compare(Host(make), terminal_size=size, press=list(keys), **options)

    return compare


class TestDraw:
    @pytest.mark.parametrize("size", SIZES)
    def test_blank(self, snap_screen, session: Session, size: tuple[int, int]) -> None:
        assert snap_screen(lambda: DrawScreen(session), size)

    @pytest.mark.parametrize("size", SIZES)
    def test_a_drawn_seven(self, snap_screen, session: Session, size: tuple[int, int]) -> None:
        async def draw(pilot: Pilot) -> None:
            pilot.app.screen.query_one(DrawPad).stroke(SEVEN)
            await pilot.pause()

        assert snap_screen(lambda: DrawScreen(session), size, run_before=draw)


class TestConfusion:
    @pytest.mark.parametrize("size", SIZES)
    def test_a_mistake_selected(self, snap_screen, session: Session, size: tuple[int, int]) -> None:
        keys = ["down", "down", "right", "right", "right", "right", "right"]
        assert snap_screen(lambda: ConfusionScreen(session), size, *keys)


class TestMisclassified:
    @pytest.mark.parametrize("size", SIZES)
    def test_third_mistake(self, snap_screen, session: Session, size: tuple[int, int]) -> None:
        assert snap_screen(lambda: MisclassifiedScreen(session), size, "right", "right")


class TestNeurons:
    @pytest.mark.parametrize("size", SIZES)
    def test_thirty(self, snap_screen, session: Session, size: tuple[int, int]) -> None:
        assert snap_screen(lambda: NeuronsScreen(session), size)

    def test_shared_scale(self, snap_screen, session: Session) -> None:
        assert snap_screen(lambda: NeuronsScreen(session), (120, 40), "s")


class TestRuns:
    @pytest.fixture
    def store(self, tmp_path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
        store = RunStore(tmp_path / "runs")
        start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
        # Chapter 1's eta experiment, with made-up but plausible curves.
        for n, (eta, curve) in enumerate(
            [
                (0.001, (10, 11, 12, 13, 14)),
                (3.0, (90, 92, 93, 94, 94)),
                (100.0, (40, 55, 60, 58, 62)),
            ]
        ):
            monkeypatch.setattr(runs_module, "_now", lambda n=n: start + timedelta(minutes=n))
            config = TrainConfig(epochs=5, eta=eta, train_size=500)
            run = store.create(config, seed=n)
            network = Network([784, 30, 10], seed=n)
            for epoch, correct in enumerate(curve, 1):
                run.record_epoch({"epoch": epoch, "correct": correct, "total": 100}, network)
            run.finish("completed", network)
        return store

    @pytest.mark.parametrize("size", SIZES)
    def test_three_runs_overlaid(self, snap_screen, store: RunStore, size: tuple[int, int]) -> None:
        keys = ["space", "down", "space", "down", "space"]
        assert snap_screen(lambda: RunsScreen(store), size, *keys)
