"""The ``nntui`` dashboard: the Textual app, and the function the CLI calls to run it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

from rich.console import RenderableType
from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.signals import TERMINATING_SIGNALS
from nntui.store.model_file import SavedModel
from nntui.tui.browser import keep_stdout_for_the_driver, served, watch_server
from nntui.tui.screens.main import MainScreen
from nntui.tui.terminal_watch import silence_dead_terminal, terminal_alive, watch_terminal

# Every signal that would end the process ends the dashboard like `q`, so the terminal is
# left as it was: main screen, cursor shown, mouse off, the run kept, and with 128 + the
# signal's number (`nntui.engine.signals`). (The ctrl+c key sends no signal in the app's
# raw mode: it is the quit key, and exits 0.)
STOP_SIGNALS: tuple[int, ...] = TERMINATING_SIGNALS
STOP_GRACE_SECONDS = 5.0


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
        handle_signals: bool = False,
    ) -> None:
        super().__init__()
        self._handle_signals = handle_signals
        self._saved = saved
        self._data = data
        self._data_path = data_path
        self._config = config.validate()
        self.deterministic = deterministic
        self.exiting = False
        # Clear while a key is being answered: the training thread waits for it (worker.py).
        self.ui_idle = threading.Event()
        self.ui_idle.set()
        self._stop_watching: threading.Event | None = None  # see `nntui.tui.terminal_watch`

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.hold_training_until_drawn()
        await super().on_event(event)

    def hold_training_until_drawn(self) -> None:
        """Have the training thread wait at its next event until the next frame is drawn.

        For what a person does (a key, a click) and for the start of a run, whose
        frame changes half the screen: drawn while the trainer also wants the GIL,
        it would take twice as long. The wait is bounded (`GIVE_WAY_MAX`).
        """
        self.ui_idle.clear()
        self.call_after_refresh(self.ui_idle.set)

    def exit(
        self,
        result: None = None,
        return_code: int = 0,
        message: RenderableType | None = None,
    ) -> None:
        """Exit the app; keys already typed after this (``q`` then ``?``) are then ignored."""
        self.exiting = True
        super().exit(result, return_code, message)

    async def run_action(self, action: Any, *args: Any, **kwargs: Any) -> bool:
        # A screen opened while the app shuts down would mount into a dying DOM
        # and fail to find its own widgets: once exiting, no action runs.
        if self.exiting:
            return False
        return await super().run_action(action, *args, **kwargs)

    def on_mount(self) -> None:
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            for signum in STOP_SIGNALS:
                # Through the loop, so the handler runs between two events and can
                # exit the way `q` does: the driver then restores the terminal.
                loop.add_signal_handler(signum, self._stop_signal, signum)
            if sys.__stdin__ is not None and terminal_alive(sys.__stdin__.fileno()):
                self._stop_watching = watch_terminal(
                    sys.__stdin__.fileno(), lambda: self._terminal_gone(loop)
                )
            elif served():  # in a browser tab: no terminal to hang up, but a server to lose
                self._stop_watching = watch_server(lambda: self._terminal_gone(loop))

    def on_unmount(self) -> None:
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            for signum in STOP_SIGNALS:
                with contextlib.suppress(ValueError, RuntimeError):
                    loop.remove_signal_handler(signum)
            if self._stop_watching is not None:
                self._stop_watching.set()

    def _terminal_gone(self, loop: asyncio.AbstractEventLoop) -> None:
        """The terminal hung up and no SIGHUP came (from the watch thread): end as on one.

        The process ends within the grace period even if the UI thread, blocked
        on the dead terminal, never runs the exit.
        """
        end_within_grace(128 + signal.SIGHUP)
        with contextlib.suppress(RuntimeError):  # the loop has closed: the app is ending
            loop.call_soon_threadsafe(self._stop_signal, signal.SIGHUP)

    def _stop_signal(self, signum: int) -> None:
        """SIGTERM, SIGHUP or SIGINT: quit as ``q`` does (the terminal restored), exit 128 + n.

        If the orderly exit has not ended the process within `STOP_GRACE_SECONDS`
        (a thread that will not stop, a terminal that is gone), it ends anyway:
        a dashboard whose terminal was closed must never linger, let alone spin.
        The kept run loses nothing it had written: each epoch is on disk already.
        """
        # Also when already exiting (`q`, then the terminal closed): the hang-up can come
        # while Textual restores a terminal that is no longer there.
        if not self.exiting:
            self.exit(return_code=128 + signum)
        end_within_grace(128 + signum)

    def get_default_screen(self) -> Screen:
        return MainScreen(
            data=self._data,
            data_path=self._data_path,
            config=self._config,
            deterministic=self.deterministic,
            ui_idle=self.ui_idle,
            hold_training=self.hold_training_until_drawn,
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
) -> int:
    """Open the dashboard (what ``nntui`` with no command does); return the exit code.

    The code is 0 only when the user quit: an unhandled error (which Textual
    reports, with its traceback, after restoring the terminal) gives 1.
    """
    if served():
        keep_stdout_for_the_driver()  # before the app builds its driver
    app = NntuiApp(data_path=data_path, config=config, saved=saved, handle_signals=True)
    app.run()
    code = app.return_code or 0
    silence_dead_terminal()  # else Python's last flush fails on it and the exit code is 120
    # The app has ended, and so must the process: a thread left running would hold it at
    # exit. (Seen: a terminal closed just after `q` sent SIGCONT, Textual resumed and
    # started a new input thread, and it spun at 100% of a core on the dead terminal.)
    end_within_grace(code)
    return code


_watchdog_started = threading.Event()


def end_within_grace(code: int) -> None:
    """End the process with ``code`` in `STOP_GRACE_SECONDS` if it has not ended by then."""
    if _watchdog_started.is_set():
        return
    _watchdog_started.set()
    watchdog = threading.Timer(STOP_GRACE_SECONDS, os._exit, args=(code,))
    watchdog.daemon = True  # a process that ends in time is not held up by it
    watchdog.start()
