"""Helpers shared by the dashboard's tests: configs, a host app, waiting for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.events import EpochDone
from nntui.tui.app import NntuiApp
from nntui.tui.model.session import Session
from nntui.tui.screens.main import MainScreen
from nntui.tui.widgets.epoch_log import EpochLog

SHORT = TrainConfig(train_size=500, epochs=2, seed=1)  # about 10 ms of training
# Runs until the test stops it. Mini-batches of one make epochs slow enough (~20 ms) that the
# pilot, which waits for the screen to be idle, is not swamped by hundreds of epochs a second.
LONG = TrainConfig(train_size=500, epochs=10_000, mini_batch_size=1, seed=1)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the dashboard")
        await pilot.pause(0.02)


def main_screen(app: NntuiApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def ready(pilot: Pilot, app: NntuiApp) -> MainScreen:
    """The main screen, once it is ready to start a run."""
    screen = main_screen(app)
    await wait_for(pilot, lambda: screen.state == "ready")
    return screen


async def started(pilot: Pilot, app: NntuiApp, epochs: int = 1) -> MainScreen:
    """Press ``s`` and let the run train ``epochs`` epochs (or more); the main screen."""
    screen = main_screen(app)
    await pilot.press("s")
    await wait_for(
        pilot, lambda: screen.session is not None and len(screen.session.history) >= epochs
    )
    return screen


async def press_until(pilot: Pilot, screen: MainScreen, key: str, state: str) -> None:
    """Press ``key`` and wait until the main screen's state is ``state``."""
    await pilot.press(key)
    await wait_for(pilot, lambda: screen.state == state)


async def stop_run(pilot: Pilot, screen: MainScreen) -> None:
    """Press ``x`` and wait for the run's end."""
    await pilot.press("x")
    await wait_for(pilot, lambda: screen.state == "finished")


def log_lines(app: NntuiApp) -> list[str]:
    return app.query_one(EpochLog).lines_written


CONFIG = TrainConfig(epochs=2, train_size=500, seed=1)


def trained_session(data: MnistData, config: TrainConfig = CONFIG) -> Session:
    """A session whose network trained ``config.epochs`` epochs, as the dashboard records them."""
    session = Session(data, sample_seed=0)
    session.reset(config)
    return train_further(session, config)


def train_further(session: Session, config: TrainConfig = CONFIG) -> Session:
    """Train ``session``'s network ``config.epochs`` more, as the worker and the screen do."""
    trainer = session.start(config)
    for event in trainer.run():
        if isinstance(event, EpochDone):  # with the network it left, as the worker posts it
            session.record(event, config, trainer.snapshot)
    return session


class Host(App[None]):
    """Pushes one screen over an empty default screen, as the dashboard would."""

    def __init__(self, make: Callable[[], Screen]) -> None:
        super().__init__()
        self.make = make

    def on_mount(self) -> None:
        self.push_screen(self.make())
