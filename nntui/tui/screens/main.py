"""The dashboard: hyperparameters and controls on the left, charts and digits on the right.

The screen composes the widgets, routes keys to `RunControl` (the run's state
machine, `nntui.tui.model.run_control`) and hands what the threads report
(`nntui.tui.messages`) to the widgets that show it. Its keys are
`nntui.tui.screens.main_keys`; the log's lines come from `nntui.tui.model.log_text`.
Every view reads the network from the snapshot the screen last heard of
(`Session.snapshot`), never waiting for the training thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.events import Resize
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Button, Input
from textual.worker import Worker, get_current_worker

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.events import TrainingFinished
from nntui.engine.training import Trainer
from nntui.store.model_file import SavedModel
from nntui.store.recorder import RunRecorder
from nntui.store.runs import RunStore
from nntui.tui.messages import Baselines, Data, Training
from nntui.tui.model import log_text
from nntui.tui.model.run_control import READY, RunControl, Status, Step
from nntui.tui.model.run_state import RunState
from nntui.tui.model.session import Session
from nntui.tui.screens.main_flows import MainFlows
from nntui.tui.screens.main_keys import MAIN_KEYS
from nntui.tui.screens.main_views import MainViews, compose_main
from nntui.tui.widgets.data_panel import DataPanel
from nntui.tui.widgets.gallery import STYLE_NAMES
from nntui.tui.widgets.params import HyperParams
from nntui.tui.worker import run_training

Breakpoints = list[tuple[int, str]] | None


class MainScreen(Screen[None]):
    """Set hyperparameters, start training and watch the network learn.

    ``ui_idle``: clear while a key is answered (the trainer waits); ``hold_training`` clears it.
    """

    BINDINGS = MAIN_KEYS
    # Roomy (wide and tall) shows everything at once; otherwise `d` switches views. (Not
    # ClassVar: Textual declares them `ClassVar[...] | None`, an instance variable to mypy.)
    HORIZONTAL_BREAKPOINTS: Breakpoints = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS: Breakpoints = [(0, "-short"), (34, "-tall")]  # noqa: RUF012

    state: var[RunState] = var("loading", init=False)

    def __init__(
        self,
        *,
        data: MnistData | None,
        data_path: Path | None,
        config: TrainConfig,
        deterministic: bool,
        ui_idle: threading.Event,
        hold_training: Callable[[], None],
        saved: tuple[SavedModel, str] | None = None,
    ) -> None:
        super().__init__()
        self._data, self._config = data, config
        self._deterministic = deterministic
        self._ui_idle, self.hold_training = ui_idle, hold_training
        self.run = RunControl(config, sample_seed=0 if deterministic else None)
        from_file = data is None or data_path is not None  # the SVM's result may be beside it
        self.flows = MainFlows(self, config, data_path, saved, from_file, deterministic)

    @property
    def session(self) -> Session | None:
        return self.run.session

    @property
    def trainer(self) -> Trainer | None:
        return self.run.trainer

    def compose(self) -> ComposeResult:
        has_data, timings = self._data is not None, not self._deterministic
        yield from compose_main(
            self._config, timings=timings, has_data=has_data, cards=self.flows.cards
        )

    def on_mount(self) -> None:
        self.views = MainViews(self, timings=not self._deterministic)
        self.views.accuracy.set_run(self._config.epochs, self._config.eval_on)
        if self._data is not None:
            self.on_data_loaded(Data.Loaded(self._data))
        else:  # after the first frame: the load's thread would otherwise hold it back
            self.call_after_refresh(self.flows.load_data)

    def on_unmount(self) -> None:
        # The worker thread must not outlive the app: stop it after this mini-batch, even
        # if paused (the session keeps the trainer of a worker Textual has cancelled).
        kept = self.session.trainer if self.session is not None else None
        for trainer in (self.trainer, kept):
            if trainer is not None:
                trainer.cancel()

    def on_resize(self, event: Resize) -> None:
        self.refresh_bindings()  # `d` exists only on small terminals

    def watch_state(self, state: RunState) -> None:
        self.views.state(state)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sweep" and parameters:
            action = "sweep_in_footer"
        return self.run.allows(action, small=self.has_class("-narrow") or self.has_class("-short"))

    def say(self, status: Status | None) -> None:
        """Show a transition's status line, and the state it left the run in."""
        self.state = self.run.state
        self.views.say(status)

    # The data and the baselines, fetched in threads (`nntui.tui.fetch`) ----------------

    def on_data_progress(self, message: Data.Progress) -> None:
        self.views.data.show_progress(message.progress)

    def on_data_failed(self, message: Data.Failed) -> None:
        self.views.data.failed(message.message)
        self.say(self.run.no_data())

    def on_data_loaded(self, message: Data.Loaded) -> None:
        self.flows.data_ready(message.data)

    @on(DataPanel.Retry)
    def _retry(self) -> None:
        self.run.loading()
        self.flows.load_data()

    def on_baselines_computed(self, message: Baselines.Computed) -> None:
        if message.key is self.session:  # not a session since replaced
            self.views.accuracy.set_baselines(self.run.baselines(message.baselines))

    def on_baselines_svm_found(self, message: Baselines.SvmFound) -> None:
        self.run.svm_correct = message.correct
        self.flows.show_baselines()

    # Keys ---------------------------------------------------------------------------

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        self.flows.begin()

    def action_step(self, what: Step) -> None:
        """``.``: one mini-batch; ``e``: to the end of the epoch. From ready, starts paused."""
        if self.session is None:
            return
        if self.run.can_start():
            self.flows.begin(step=what)
        else:
            self.run.step(what)
        self.refresh_bindings()

    def action_speed(self, direction: int) -> None:  # `+` / `-`, at once if a run goes on
        self.views.progress.show_speed_limit(self.run.change_speed(direction))

    @on(Button.Pressed, "#pause")
    def _pause_button(self) -> None:
        self.say(self.run.resume() if self.state == "paused" else self.run.pause())

    def action_pause(self) -> None:
        self.say(self.run.pause())

    def action_resume(self) -> None:
        self.say(self.run.resume())

    @on(Button.Pressed, "#stop")
    def action_stop(self) -> None:
        self.say(self.run.stop())

    @on(Button.Pressed, "#reset")
    def action_reset(self) -> None:
        if self.session is not None and (config := self.views.read_config("Reset")) is not None:
            self.flows.reset(config)

    def action_new_sample(self) -> None:
        if self.session is not None:
            self.session.new_sample()
            self.views.gallery.show_network(now=True)

    def action_toggle_digits(self) -> None:
        self.toggle_class("-show-digits")

    def action_inside(self, view: str) -> None:
        """A look-inside screen following the session (imported now: not for the first frame)."""
        from nntui.tui.screens.inside import live_screen

        if self.session is not None and (screen := live_screen(view, self.session)) is not None:
            self.app.push_screen(screen)

    def action_runs(self) -> None:
        from nntui.tui.screens.runs import RunsScreen

        if self.session is not None:
            self.app.push_screen(RunsScreen(RunStore(), data=self.session.data), self.flows.chosen)

    def action_sweep(self, where: str = "") -> None:
        """Many runs at once; ``where`` only tells the footer's `S` from the one always there."""
        from nntui.tui.screens.sweep import SweepScreen

        data = self.session.data if self.session is not None else None
        self.app.push_screen(SweepScreen(data, RunStore()))

    def action_baselines(self) -> None:
        self.views.accuracy.toggle_full_scale()

    def action_art_style(self) -> None:
        style = self.views.gallery.cycle_style()
        self.say(Status(f"Digits drawn: {STYLE_NAMES[style]} (a: next style)"))

    def action_edit(self, field: str) -> None:  # focus a setting, its text selected to type over
        self.views.params.focus_field(field)
        self.query_one(f"#{field}", Input).select_all()

    def action_leave_field(self) -> None:
        self.set_focus(None)

    @on(HyperParams.LiveSetting)
    def _live_setting(self, message: HyperParams.LiveSetting) -> None:
        self.flows.live_setting(message.name, message.value)

    @on(HyperParams.Changed)
    def _params_changed(self, message: HyperParams.Changed) -> None:
        if self.state in ("ready", "finished"):
            error = message.error
            self.say(Status(f"Cannot start: {error}", warning=True) if error else READY)

    # Training: the worker's messages (`nntui.tui.worker` says which path each takes) -----

    @work(thread=True, exclusive=True, exit_on_error=False, group="training", name="training")
    def _train(self, trainer: Trainer, keep: Callable[[], RunRecorder]) -> TrainingFinished | None:
        worker = get_current_worker()
        # `keep` here: it writes files, which the UI thread should not wait for.
        cancelled = lambda: worker.is_cancelled  # noqa: E731
        return run_training(
            trainer, self.post_message, cancelled, recorder=keep(), ui_idle=self._ui_idle
        )

    def note_from_thread(self, text: str) -> None:
        self.post_message(Training.Note(text))  # a message: safe from the training thread

    def on_training_note(self, message: Training.Note) -> None:
        self.views.log((message.text, "yellow"))

    def on_training_started(self, message: Training.Started) -> None:
        self.views.log(log_text.started(message.event))

    def on_training_batch_progress(self, message: Training.BatchProgress) -> None:
        if self.session is not None:
            self.session.heard(message.snapshot)
        slow = self.run.stepping or self.run.speed is not None
        self.views.batch(message.event, message.costs, slow=slow, idle=self._ui_idle.is_set())

    def on_training_epoch_done(self, message: Training.EpochDone) -> None:
        hint = self.run.heard_epoch(message.event, message.snapshot)
        speeds = self.session.seconds_per_epoch() if self.session is not None else {}
        self.views.epoch(message.event, speeds, hint)

    def on_training_setting_changed(self, message: Training.SettingChanged) -> None:
        last = self.run.heard_setting(message.event)
        self.views.setting_changed(message.event, last, self.run.config.train_size)

    def on_training_paused(self, message: Training.Paused) -> None:
        ended_step = self.run.heard_pause(message.snapshot)
        self.views.paused(message.event, ended_step=ended_step)
        self.refresh_bindings()  # the step keys are back

    def on_training_resumed(self, message: Training.Resumed) -> None:
        self.views.log(log_text.RESUMED)

    def on_training_finished(self, message: Training.Finished) -> None:
        self.run.heard_finish(message.event, message.snapshot)
        self.views.log(log_text.finished(message.event))

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "training" or not event.worker.is_finished:
            return
        if not self._ui_idle.is_set():
            # A key is being answered: its frame first. The end redraws half the screen
            # and lays it out again, 50-150 ms on a slow machine, and the key would wait.
            self.call_after_refresh(self.flows.ended, event.worker)
        else:
            self.flows.ended(event.worker)
