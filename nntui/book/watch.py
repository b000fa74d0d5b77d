"""``net.SGD(..., watch=True)``: the very same call, trained in nntui's dashboard.

The dashboard opens on the caller's network, data, epochs, mini-batch size and
eta, and each epoch's order comes from the book's ``random.shuffle`` of the
caller's list (`BookRun.shuffle`). Its controls work as usual: pause, eta and
epochs live, stepping, the look-inside screens. After the last epoch it stays
open on the final state until ``q``; ``q`` (or ctrl+c) earlier stops the run
after the current mini-batch. Either way the call returns to the shell with the
terminal and the signal handlers as they were, and ``net`` trained as far as
it got; the book's ``Epoch j`` lines follow.

Without a terminal (a pipe, a notebook) it says so in one line and trains as
without ``watch``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from nntui.book.network import BookRun
from nntui.book.signals import HeldSignals
from nntui.engine.config import TrainConfig, format_sizes
from nntui.engine.dataset import MnistData, Split
from nntui.engine.errors import ConfigError
from nntui.engine.events import EpochDone, TrainingEvent
from nntui.engine.training import Trainer, new_seed
from nntui.store.model_file import SavedModel
from nntui.tui.app import NntuiApp
from nntui.tui.model.run_control import FINISHED, RunControl, Status
from nntui.tui.model.session import Session
from nntui.tui.screens.main import MainScreen
from nntui.tui.screens.main_flows import MainFlows

EVAL_FROM_TRAINING = 10_000  # without test_data the dashboard scores this many training pairs
NOT_HERE = "this dashboard trains your net from net.SGD(..., watch=True), and only it"
WATCH_FINISHED = Status("Finished: q returns to Python with net trained; s trains on.")
STOP_WAIT_SECONDS = 30.0  # the longest a stopped run may take to finish its mini-batch
# Handlers the dashboard may change while it runs, put back when it closes.
SAVED_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGTSTP", "SIGCONT", "SIGWINCH")
    if hasattr(signal, name)
)


def watch(run: BookRun, epochs: int, say: Callable[[str], object]) -> None:
    """Train ``run`` for ``epochs``, in the dashboard if it can open; ``say`` the book's lines."""
    reason = why_not(run)
    if reason is not None:
        print(f"watch=True: {reason}; training without the dashboard", file=sys.stderr)
        for j in range(epochs):
            run.train_epoch()
            say(run.epoch_line(j))
        return
    if epochs == 0:
        return
    app = watch_app(run, epochs)
    signals = HeldSignals(app.close_soon)
    try:
        # Held until the training thread has stopped and the handlers are back (signals.py).
        with _restored_terminal(), signals.held():
            run_app(app)
            lines = finish(app)
        for line in lines:
            say(line)
    finally:
        # Also when something failed on the way (a terminal that hung up fails its writes):
        # SIGINT raises KeyboardInterrupt here; SIGTERM and SIGHUP end the process.
        signals.deliver()


def run_app(app: BookApp) -> None:
    """Run the dashboard in this terminal until it closes (tests run it headless instead)."""
    app.run()


def why_not(run: BookRun) -> str | None:
    """Why the dashboard cannot show this call, or None if it can."""
    streams = (sys.stdin, sys.stdout, sys.stderr)
    try:
        terminal = all(s is not None and s.isatty() for s in streams)
    except (AttributeError, ValueError):
        terminal = False
    if not terminal:
        return "the dashboard needs a terminal (stdin, stdout and stderr)"
    if threading.current_thread() is not threading.main_thread():
        return "the dashboard can only open from the main thread"
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop()
        return "an event loop is already running here (a notebook?)"
    return why_not_data(run)


def why_not_data(run: BookRun) -> str | None:
    """Why the dashboard cannot train this network on this data, or None."""
    try:
        _config(run, 1).validate()
    except ConfigError as exc:
        return f"the dashboard cannot train it: {exc}"
    y = run.y
    if not np.array_equal(y, np.eye(y.shape[1], dtype=y.dtype)[np.argmax(y, axis=1)]):
        return "the dashboard needs one-hot desired outputs, like vectorized_result(label)"
    return None


def watch_app(run: BookRun, epochs: int, **app_options: Any) -> BookApp:
    """The dashboard for this call, not yet running (tests drive it with ``run_test``)."""
    return BookApp(run, _config(run, epochs), **app_options)


def finish(app: BookApp) -> list[str]:
    """After the app has closed: stop every run it started, and return the book's lines."""
    for trainer in app.trainers:
        trainer.cancel()
    for trainer in app.trainers:
        trainer.wait(STOP_WAIT_SECONDS)
    return [_book_line(e, app.book_run.tests is not None) for e in app.epochs_done()]


def _book_line(event: EpochDone, with_tests: bool) -> str:
    j = event.epoch - 1  # the book counts from 0
    return f"Epoch {j}: {event.correct} / {event.total}" if with_tests else f"Epoch {j} complete"


def _config(run: BookRun, epochs: int) -> TrainConfig:
    n = len(run.x)
    return TrainConfig(
        sizes=tuple(run.network.sizes),
        epochs=epochs,
        mini_batch_size=min(run.mini_batch_size, n),  # larger is one mini-batch of all, as here
        eta=run.eta,
        seed=None,
        train_size=n,
        eval_on="test",
    )


def _data(run: BookRun) -> MnistData:
    """The call's data as the dashboard holds it: its test data is the evaluation set."""
    images = run.x
    labels = np.argmax(run.y, axis=1).astype(np.int64)
    training = Split(images, labels)
    if run.tests is not None:
        test = Split(run.tests[0], run.tests[1])
    else:
        test = Split(images[:EVAL_FROM_TRAINING], labels[:EVAL_FROM_TRAINING])
    return MnistData(training, test, test)


@contextlib.contextmanager
def _restored_terminal() -> Iterator[None]:
    """Put the signal handlers and the terminal's modes back as they were, whatever happens."""
    handlers = {signum: signal.getsignal(signum) for signum in SAVED_SIGNALS}
    modes = None
    with contextlib.suppress(ImportError, OSError, ValueError):
        import termios

        fd = sys.stdin.fileno()
        modes = termios.tcgetattr(fd)
    try:
        yield
    finally:
        for signum, handler in handlers.items():
            if handler is not None:
                with contextlib.suppress(OSError, ValueError):
                    signal.signal(signum, handler)
        if modes is not None:
            with contextlib.suppress(OSError, ValueError):
                termios.tcsetattr(fd, termios.TCSADRAIN, modes)


class WatchedTrainer(Trainer):
    """A trainer whose end can be waited for from another thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._started = threading.Event()
        self._ended = threading.Event()

    def run(self) -> Iterator[TrainingEvent]:
        self._started.set()
        try:
            yield from super().run()
        finally:
            self._ended.set()

    @property
    def started(self) -> bool:
        return self._started.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait until `run` has ended (at once if it never started); False on a timeout."""
        return not self._started.is_set() or self._ended.wait(timeout)


class BookSession(Session):
    """The dashboard's session on the caller's network, shuffled by the caller's list."""

    def __init__(self, data: MnistData, run: BookRun, trainers: list[WatchedTrainer]) -> None:
        super().__init__(data)
        self.book_run = run
        self._trainers = trainers

    def reset(self, config: TrainConfig) -> None:
        """Take the caller's network itself (once): what the dashboard trains, ``net`` learns."""
        if self.network is not None:
            raise ConfigError(NOT_HERE)
        self._check_train_size(config)
        self.network = self.book_run.network.engine
        self.seed = new_seed()  # the trainer's and the kept run's; the shuffles are the book's
        self.eval_on = config.eval_on
        self.new_sample()
        self.trainer = self._trainer(config)

    def load(self, saved: SavedModel, origin: str) -> TrainConfig:
        raise ConfigError(NOT_HERE)  # a saved network here would leave `net` behind

    def _new_trainer(self, *args: Any, **kwargs: Any) -> Trainer:
        # Each epoch's order is the book's shuffle of the learner's list, not the trainer's.
        trainer = WatchedTrainer(*args, order=self._order, **kwargs)
        self._trainers.append(trainer)
        return trainer

    def _order(self, n: int) -> np.ndarray:
        return self.book_run.shuffle()


class BookRunControl(RunControl):
    """The run's state machine on a `BookSession`."""

    def __init__(self, run: BookRun, trainers: list[WatchedTrainer], config: TrainConfig) -> None:
        super().__init__(config)
        self._book = run, trainers

    def open(self, data: MnistData, config: TrainConfig) -> TrainConfig:
        self.session = BookSession(data, *self._book)
        self.state = "ready"
        return config  # `_config` made it to fit the call's data


class BookFlows(MainFlows):
    """The main screen's flows, but the first network is the caller's, and so logged."""

    def reset(self, config: TrainConfig, *, first: bool = False) -> None:
        if not first:
            return super().reset(config)
        self.run.reset(config)
        self.views.new_network(config, self.run.speed, None, None)  # sizes None: no log line
        sizes = format_sizes(config.sizes)
        self.views.log((f"Your net {sizes}, from net.SGD(..., watch=True)", "bold cyan"))
        self.views.gallery.show_network(new_network=True)
        self.show_baselines()


class WatchScreen(MainScreen):
    """The dashboard's main screen, started at once on the caller's ``SGD`` call."""

    def __init__(
        self, run: BookRun, trainers: list[WatchedTrainer], config: TrainConfig, **kwargs: Any
    ) -> None:
        super().__init__(config=config, **kwargs)
        # The state machine and the flows, on a session holding the caller's network.
        self.run = BookRunControl(run, trainers, config)
        self.flows = BookFlows(self, config, None, None, False, kwargs["deterministic"])

    def on_mount(self) -> None:
        # Textual calls MainScreen's on_mount too, which opens the session; then start.
        self.call_after_refresh(self.action_start)

    def say(self, status: Status | None) -> None:
        super().say(WATCH_FINISHED if status is FINISHED else status)


class BookApp(NntuiApp):
    """nntui's dashboard on one ``SGD(..., watch=True)`` call.

    Unlike ``nntui``'s, it installs no signal handlers and no exit watchdog:
    the process is the learner's Python session, and goes on after it.
    """

    def __init__(self, run: BookRun, config: TrainConfig, **options: Any) -> None:
        super().__init__(data=_data(run), config=config, handle_signals=False, **options)
        self.book_run = run
        self.trainers: list[WatchedTrainer] = []
        self._book_loop: asyncio.AbstractEventLoop | None = None
        self._close_asked = False

    def on_mount(self) -> None:
        self._book_loop = asyncio.get_running_loop()
        if self._close_asked:  # a signal came while the app was starting
            self.exit()

    def close_soon(self) -> None:
        """Close as ``q`` does, from a signal handler or another thread."""
        self._close_asked = True
        loop = self._book_loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: so has the app
                loop.call_soon_threadsafe(self._close)

    def _close(self) -> None:
        if not self.exiting:
            self.exit()

    def get_default_screen(self) -> MainScreen:
        return WatchScreen(
            self.book_run,
            self.trainers,
            self._config,
            data=self._data,
            data_path=None,
            deterministic=self.deterministic,
            ui_idle=self.ui_idle,
            hold_training=self.hold_training_until_drawn,
        )

    def epochs_done(self) -> list[EpochDone]:
        """Every epoch trained in this dashboard, in order (the last run's history holds all)."""
        ran = [t for t in self.trainers if t.started]
        return list(ran[-1].history) if ran else []
