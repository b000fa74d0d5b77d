"""The ``nntui`` dashboard: the Textual app, and the function the CLI calls to run it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.store.model_file import SavedModel
from nntui.tui.screens.main import MainScreen


class NntuiApp(App[None]):
    """Train Chapter 1's network and watch it learn.

    ``data`` skips finding and loading MNIST (tests pass small arrays);
    otherwise it is looked for at ``data_path``, then where `nntui.data.datastore`
    looks, and downloaded if need be. ``deterministic`` hides clocks, timings
    and speeds and fixes the gallery's digits, so snapshots repeat.
    """

    TITLE = "nntui"
    CSS_PATH = Path(__file__).parent / "nntui.tcss"  # absolute: subclasses elsewhere find it
    # Nothing focused at first, so the keys in the footer work until an input is clicked.
    AUTO_FOCUS = None
    ENABLE_COMMAND_PALETTE = False  # every action has a key in the footer
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        # On `?` rather than in the footer, which has room at 80 columns for the run's keys.
        Binding("q", "quit", "Quit", show=False),
        # Textual's default ctrl+c only says how to quit; here it quits, even from an input.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        data: MnistData | None = None,
        data_path: Path | None = None,
        config: TrainConfig = TrainConfig(),  # noqa: B008 - frozen, so one shared default is safe
        deterministic: bool = False,
        saved: tuple[SavedModel, str] | None = None,
    ) -> None:
        super().__init__()
        self._saved = saved
        self._data = data
        self._data_path = data_path
        self._config = config.validate()
        self.deterministic = deterministic
        # Clear while a key is being answered: the training thread waits for it (worker.py).
        self.ui_idle = threading.Event()
        self.ui_idle.set()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.ui_idle.clear()
            self.call_after_refresh(self.ui_idle.set)
        await super().on_event(event)

    def get_default_screen(self) -> Screen:
        return MainScreen(
            data=self._data,
            data_path=self._data_path,
            config=self._config,
            deterministic=self.deterministic,
            saved=self._saved,
        )

    def action_help(self) -> None:
        # Imported on first use: Markdown is not needed for the first frame.
        from nntui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def run_dashboard(
    data_path: Path | None = None,
    config: TrainConfig = TrainConfig(),  # noqa: B008
    saved: tuple[SavedModel, str] | None = None,
) -> None:
    """Open the dashboard (what ``nntui`` with no command does), perhaps with a saved model."""
    NntuiApp(data_path=data_path, config=config, saved=saved).run()
