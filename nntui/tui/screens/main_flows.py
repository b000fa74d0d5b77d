"""The main screen's longer flows, step by step: the data is ready, Start, Reset, Load.

Each asks `RunControl` (the run's state machine) what changes, then `MainViews`
to show it, and starts the thread workers that fetch (`nntui.tui.fetch`) or
train (`MainScreen._train`). The screen's keys and messages call these; nothing
here is called back by a widget.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.errors import ConfigError, NntuiError
from nntui.engine.events import TrainingFinished
from nntui.store.model_file import SavedModel
from nntui.store.runs import RunInfo
from nntui.tui import fetch
from nntui.tui.model import log_text
from nntui.tui.model.inside import LiveSubject, digit_samples
from nntui.tui.model.run_control import BUSY, LOADED, READY, Status, Step
from nntui.tui.widgets.gallery import Cards

if TYPE_CHECKING:  # the screen imports this module
    from nntui.tui.screens.main import MainScreen
    from nntui.tui.screens.main_views import MainViews


class MainFlows:
    """The flows of one `MainScreen`.

    ``saved``: a model to open once the data is ready; ``from_file``: the data comes
    from a file, beside which the SVM's result may be cached.
    """

    def __init__(
        self,
        screen: MainScreen,
        config: TrainConfig,
        data_path: Path | None,
        saved: tuple[SavedModel, str] | None,
        from_file: bool,
        deterministic: bool,
    ) -> None:
        self.screen, self.run = screen, screen.run
        self._config, self._data_path, self._saved = config, data_path, saved
        self._from_file, self._deterministic = from_file, deterministic

    @property
    def views(self) -> MainViews:
        return self.screen.views  # made once the screen is mounted

    def load_data(self) -> None:
        """Look for MNIST, download it if need be, and load it, in a thread."""
        self.screen.say(None)  # the state: loading
        self.views.data.searching()
        job = partial(fetch.load_data, self._data_path, self.screen.post_message)
        fetch.in_thread(self.screen, job, "data")

    def data_ready(self, data: MnistData) -> None:
        """The session on ``data``, its first network, its baselines; then ``--resume``'s model."""
        asked = self.views.params.read()[0] or self._config
        config = self.run.open(data, asked)
        if config.train_size != asked.train_size:  # smaller data than the book's: all of it
            self.views.params.set_text("train_size", str(config.train_size))
            self.views.log(log_text.data_size(config.train_size))
        self.reset(config, first=True)
        if self._from_file:
            find = partial(fetch.svm_result, self._data_path, self.screen.post_message)
            fetch.in_thread(self.screen, find, "svm")
        if self._saved is not None:  # nntui --resume MODEL
            self.load(*self._saved)

    def show_baselines(self) -> None:
        session = self.run.session
        if session is None:
            return
        if self._deterministic or session.baselines_known:  # snapshot tests: every frame repeats
            self.views.accuracy.set_baselines(self.run.baselines(session.baselines()))
        else:  # the darkness classifier reads all 50,000 training images
            job = partial(fetch.baselines, session, self.screen.post_message)
            fetch.in_thread(self.screen, job, "baselines")

    def begin(self, step: Step | None = None) -> None:
        """Start a run; with ``step`` start it paused and take that step."""
        if not self.run.can_start() or (config := self.views.read_config("Start")) is None:
            return
        session = self.run.session
        assert session is not None
        network = session.network
        try:
            status = self.run.start(config, step)
        except NntuiError as exc:
            return self.screen.say(self.run.refusal("Start", exc))
        last = session.epochs_done + config.epochs
        self.views.run_started(last, config.eval_on, fresh=session.network is not network)
        self.screen.hold_training()  # the run's first frame first
        self.screen.say(status)
        trainer = self.run.trainer
        assert trainer is not None
        self.screen._train(trainer, session.recorder(trainer, self.screen.note_from_thread))

    def reset(self, config: TrainConfig, *, first: bool = False) -> None:
        """A new network; ``first``: the one made when the data is ready."""
        try:
            status: Status | None = self.run.reset(config)
        except ConfigError as exc:
            self.screen.say(Status(str(exc) if first else f"Reset refused: {exc}", warning=True))
            if not first:
                return
            status = None
        if self.run.reset_after_run:  # once the run has stopped
            return self.screen.say(status)
        session = self.run.session
        assert session is not None
        sizes = None if session.network is None else session.network.sizes
        self.views.new_network(config, self.run.speed, sizes, session.seed)
        self.show_baselines()
        self.screen.say(READY if first and status else status)

    def load(self, saved: SavedModel | RunInfo, origin: str, what: str = "") -> None:
        """Make a saved network (or a kept run's) the session's, to train further or look inside.

        ``origin`` (a run name or a file) is recorded as what the next run resumed from.
        """
        if not self.run.can_start():
            return self.screen.say(BUSY)
        try:
            model = saved if isinstance(saved, SavedModel) else saved.load()
            config = self.run.load(model, origin)
        except NntuiError as exc:
            return self.screen.say(Status(f"Cannot load {origin}: {exc}", warning=True))
        session = self.run.session
        assert session is not None
        self.views.loaded(config, session.earlier_curve, session.epochs_done, what or origin)
        self.show_baselines()
        self.screen.say(LOADED)

    def chosen(self, info: RunInfo | None) -> None:
        """``t`` on the runs screen: continue that run's network here."""
        if info is not None and self.run.session is not None:
            self.load(info, info.name, f"run {info.name}")

    def live_setting(self, name: str, value: float) -> None:
        """Hand a setting changed during a run to the trainer (its path: `nntui.tui.worker`)."""
        try:
            self.run.set_live(name, value)
        except ConfigError as exc:  # the panel checks first; the trainer has the last word
            self.screen.say(Status(str(exc), warning=True))
            if name == "epochs" and self.run.trainer is not None:
                self.views.params.show_applied("epochs", self.run.trainer.epochs)

    def ended(self, worker: Worker[TrainingFinished | None]) -> None:
        """The training worker ended: the views settle, the run is finished (or reset)."""
        self.views.ended(worker.error, failed=worker.state == WorkerState.ERROR)
        status = self.run.ended(worker.result if worker.state == WorkerState.SUCCESS else None)
        self.screen.say(status)
        if status is None:  # Reset was pressed during the run
            self.screen.action_reset()

    def cards(self) -> Cards | None:
        """The gallery's digits as the network the screen last heard of sees them."""
        session = self.run.session
        if session is None or session.snapshot is None:
            return None
        samples = digit_samples(LiveSubject(session), session.sample_indices)
        return samples, session.snapshot.epoch
