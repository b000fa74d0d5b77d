"""Snapshots of the dashboard before training and after one seeded epoch, small and large.

The app runs with ``deterministic=True``: no clocks, timings or speeds on
screen, and a fixed sample of gallery digits, so the pictures repeat.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.tui.app import NntuiApp

CONFIG = TrainConfig(train_size=500, epochs=1, seed=1)
SIZES = [(80, 24), (120, 40)]


def make_app(data: MnistData) -> NntuiApp:
    return NntuiApp(data=data, config=CONFIG, deterministic=True)


async def train_one_epoch(pilot: Pilot) -> None:
    await pilot.press("s")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)  # the charts and the log draw at most a few times a second
    assert pilot.app.screen.state == "finished"


class TestMainScreen:
    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_before_training(self, snap_compare, tiny_data: MnistData, size) -> None:
        assert snap_compare(make_app(tiny_data), terminal_size=size)

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_after_one_epoch(self, snap_compare, tiny_data: MnistData, size) -> None:
        assert snap_compare(make_app(tiny_data), terminal_size=size, run_before=train_one_epoch)

    def test_digits_after_one_epoch_on_a_small_terminal(
        self, snap_compare, tiny_data: MnistData
    ) -> None:
        async def run_before(pilot: Pilot) -> None:
            await train_one_epoch(pilot)
            await pilot.press("d")

        assert snap_compare(make_app(tiny_data), terminal_size=(80, 24), run_before=run_before)


async def step_two_batches(pilot: Pilot) -> None:
    """Two presses of `.` from ready: paused after 20 images, the step keys in the footer."""
    screen = pilot.app.screen
    for _ in range(2):
        await pilot.press("full_stop")
        while screen.run.stepping:
            await pilot.pause(0.05)
    await pilot.pause(0.5)


class TestSteps:
    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_after_two_steps(self, snap_compare, tiny_data: MnistData, size) -> None:
        assert snap_compare(make_app(tiny_data), terminal_size=size, run_before=step_two_batches)

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_ascii_gallery(self, snap_compare, tiny_data: MnistData, size) -> None:
        async def ascii_after_an_epoch(pilot: Pilot) -> None:
            await train_one_epoch(pilot)
            await pilot.press("a", "a", "a")  # automatic -> half -> braille -> ASCII
            if pilot.app.screen.has_class("-narrow") or pilot.app.screen.has_class("-short"):
                await pilot.press("d")  # the digits instead of the charts
            await pilot.pause(0.3)

        assert snap_compare(
            make_app(tiny_data), terminal_size=size, run_before=ascii_after_an_epoch
        )

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_gallery_digit_with_its_layers(self, snap_compare, tiny_data: MnistData, size) -> None:
        async def pick(pilot: Pilot) -> None:
            await train_one_epoch(pilot)
            await pilot.press("g", "right")
            await pilot.pause(0.3)

        assert snap_compare(make_app(tiny_data), terminal_size=size, run_before=pick)
