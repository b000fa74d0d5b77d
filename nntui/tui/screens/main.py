"""The dashboard: hyperparameters and controls on the left, charts and digits on the right.

The screen owns the `Session` (the network across runs) and the training
worker, composes the widgets and routes messages to them. Which keys and
buttons work in each state is the table in `nntui.tui.model.run_state`; the
log's lines come from `nntui.tui.model.log_text`; the data panel loads the
data itself. Every view reads the network from the trainer's latest snapshot
(`Session.snapshot`), never waiting for the training thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Button, Input
from textual.worker import Worker, WorkerState, get_current_worker

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.errors import ConfigError, NntuiError
from nntui.engine.events import TrainingFinished
from nntui.engine.training import Trainer
from nntui.store.model_file import SavedModel
from nntui.store.recorder import RunRecorder
from nntui.store.runs import RunInfo, RunStore
from nntui.tui.messages import Training
from nntui.tui.model import log_text
from nntui.tui.model.inside import LiveSubject, digit_samples
from nntui.tui.model.run_state import RunState, key_availability
from nntui.tui.model.session import Session
from nntui.tui.model.speed import next_speed
from nntui.tui.widgets.baselines import BaselineAccuracyChart
from nntui.tui.widgets.charts import AccuracyChart, CostChart
from nntui.tui.widgets.controls import Controls
from nntui.tui.widgets.data_panel import DataPanel
from nntui.tui.widgets.epoch_log import EpochLog
from nntui.tui.widgets.gallery import STYLE_NAMES, DigitGallery
from nntui.tui.widgets.key_bar import KeyBar
from nntui.tui.widgets.params import HyperParams
from nntui.tui.widgets.progress import EpochProgress
from nntui.tui.worker import run_training

Breakpoints = list[tuple[int, str]] | None
_STEP_STATUS = "Paused: . one mini-batch, e one epoch, space runs on."


class MainScreen(Screen[None]):
    """Set hyperparameters, start training and watch the network learn."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start"),
        # Space plays and pauses, like a media player's key: Start when nothing runs.
        Binding("space", "start", "Start", show=False),
        Binding("space", "pause", "Pause"),
        Binding("space", "resume", "Resume"),
        Binding("t", "edit('eta')", "η"),  # the book's symbol: the footer is full at 80 columns
        Binding("E", "edit('epochs')", "Epochs"),
        Binding("x", "stop", "Stop"),
        Binding("r", "reset", "Reset", show=False),  # on `?`: the footer fits 80 columns
        # Step by step: shown while paused or before the first start.
        Binding("full_stop", "step('batch')", "1 batch"),
        Binding("e", "step('epoch')", "1 epoch"),
        Binding("n", "new_sample", "Resample"),
        Binding("d", "toggle_digits", "Digits"),
        # The views to look inside are on `?`: the footer keeps to what a run needs, so
        # that it fits in 80 columns.
        Binding("p", "inside('draw')", "Draw", show=False),
        Binding("c", "inside('confusion')", "Confusion", show=False),
        Binding("m", "inside('misclassified')", "Mistakes", show=False),
        Binding("w", "inside('neurons')", "Neurons", show=False),
        Binding("R", "runs", "Runs", show=False),
        # `S` twice: the first shows in the footer where there is room and no run under way
        # (run_state.SWEEP_SHOWN); where it is hidden, the second still opens the sweeps.
        Binding("S", "sweep('footer')", "Sweep"),
        Binding("S", "sweep", "Sweep", show=False),
        # Not in the footer, which has room at 80 columns only for what a run needs: the
        # help screen lists them.
        Binding("b", "baselines", "Baselines", show=False),
        Binding("l", "layers", "Layers", show=False),
        Binding("g", "gallery_digits", "Gallery digits", show=False),
        Binding("a", "art_style", "Art style", show=False),
        Binding("plus,equals_sign", "speed(1)", "Faster", show=False),
        Binding("minus", "speed(-1)", "Slower", show=False),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]
    # Roomy (wide and tall) shows everything at once; otherwise `d` switches views.
    HORIZONTAL_BREAKPOINTS: ClassVar[Breakpoints] = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[Breakpoints] = [(0, "-short"), (34, "-tall")]

    state: var[RunState] = var("loading", init=False)

    def __init__(
        self,
        *,
        data: MnistData | None,
        data_path: Path | None,
        config: TrainConfig,
        deterministic: bool,
        saved: tuple[SavedModel, str] | None = None,
    ) -> None:
        super().__init__()
        self._saved = saved  # a model to open with, and where it came from
        self._data = data
        self._data_path = data_path
        self._config = config
        self._deterministic = deterministic
        self.session: Session | None = None
        self.trainer: Trainer | None = None  # the run in progress, if any
        self._reset_after_run = False
        self._run_config = config  # the run in progress, or the last one
        self._speed: float | None = None  # mini-batches per second; None: full speed
        self._stepping = False  # a step is under way: its pause is not logged

    def compose(self) -> ComposeResult:
        timings = not self._deterministic
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield HyperParams(self._config, cursor_blink=timings, speeds=timings, id="params")
                yield Controls(id="controls")
                yield EpochProgress(show_timings=timings, id="progress")
                yield EpochLog(show_timings=timings, id="log")
            with Vertical(id="main", classes="" if self._data is not None else "-no-data"):
                yield DataPanel(self._data_path, id="data")
                with Horizontal(id="charts"):
                    yield BaselineAccuracyChart(
                        data_path=self._data_path, in_thread=timings, id="accuracy"
                    )
                    yield CostChart(id="cost")
                yield DigitGallery(mark_changes=True, id="gallery")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(AccuracyChart).set_run(self._config.epochs, self._config.eval_on)
        if self._data is not None:
            self._data_ready(self._data)
        else:
            # After the first frame: the load's thread and what follows it on this one
            # would otherwise hold the first frame back.
            self.call_after_refresh(self.query_one(DataPanel).load)

    def on_unmount(self) -> None:
        # The worker thread must not outlive the app: stop it after this mini-batch, even
        # if paused. (By now Textual may have marked the worker cancelled and `self.trainer`
        # be None, while its thread still waits: the session keeps the trainer.)
        for trainer in (self.trainer, self.session and self.session.trainer):
            if trainer is not None:
                trainer.cancel()

    def on_resize(self, event: Resize) -> None:
        self.refresh_bindings()  # `d` exists only on small terminals

    # State --------------------------------------------------------------------------

    def watch_state(self, state: RunState) -> None:
        self.query_one(Controls).state = state
        self.query_one(HyperParams).running = state in ("running", "paused", "stopping")
        self.query_one("#main").set_class(state in ("loading", "no-data"), "-no-data")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sweep" and parameters:
            action = "sweep_in_footer"
        return key_availability(
            action,
            self.state,
            has_session=self.session is not None,
            stepping=self._stepping,
            small=self.has_class("-narrow") or self.has_class("-short"),
        )

    def action_edit(self, field: str) -> None:
        """Move the focus to a setting's input, with its text selected to type over."""
        params = self.query_one(HyperParams)
        params.focus_field(field)
        self.query_one(f"#{field}", Input).select_all()

    def _status(self, text: str, *, warning: bool = False) -> None:
        self.query_one(Controls).set_status(text, warning=warning)

    def _log(self, line: tuple[str, str]) -> None:
        self.query_one(EpochLog).add(*line)

    # Data -----------------------------------------------------------------------------

    @on(DataPanel.Retry)
    def _retry(self) -> None:
        self.state = "loading"

    @on(DataPanel.Failed)
    def _data_failed(self) -> None:
        self._status("No data: see the message on the right.", warning=True)
        self.state = "no-data"

    @on(DataPanel.Loaded)
    def _data_loaded(self, message: DataPanel.Loaded) -> None:
        self._data_ready(message.data)

    def _data_ready(self, data: MnistData) -> None:
        self.session = Session(data, sample_seed=0 if self._deterministic else None)
        params = self.query_one(HyperParams)
        config = params.read()[0] or self._config
        available = len(data.training)
        if config.train_size > available:  # smaller data than the book's: use all of it
            params.set_text("train_size", str(available))
            config = config.with_changes(train_size=available)
            self._log(log_text.data_size(available))
        try:
            self.session.reset(config)
        except ConfigError as exc:
            self._status(str(exc), warning=True)
        else:
            self._new_network_logged()
            self._status("Ready: press s to start, ? for help.")
        self.query_one(EpochProgress).show_idle("Not started")
        self.query_one(EpochProgress).show_speed_limit(self._speed)
        self._show_baselines()
        if self._data is None or self._data_path is not None:  # data from a file: look beside it
            self.query_one(BaselineAccuracyChart).find_svm()
        self.state = "ready"
        if self._saved is not None:  # nntui --resume MODEL
            try:
                self._load_saved(*self._saved)
            except NntuiError as exc:
                self._status(f"Cannot load {self._saved[1]}: {exc}", warning=True)

    # Controls -------------------------------------------------------------------------

    def _read_params(self, verb: str) -> TrainConfig | None:
        """The config in the inputs, or None after saying why ``verb`` was refused."""
        params = self.query_one(HyperParams)
        config, error, field = params.read()
        if config is None:
            self._status(f"{verb} refused: {error}", warning=True)
            if field is not None:
                params.focus_field(field)
        return config

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        self._begin()

    def _begin(self, step: str | None = None) -> bool:
        """Start a run; with ``step`` ("batch", "epoch") start it paused and take that step."""
        if self.session is None or self.state not in ("ready", "finished"):
            return False
        config = self._read_params("Start")
        if config is None:
            return False
        network = self.session.network
        try:
            self.trainer = self.session.start(config)
        except NntuiError as exc:
            self._status(f"Start refused: {exc}", warning=True)
            return False
        self.trainer.set_speed(self._speed)
        if step is not None:
            self.trainer.pause()  # the run waits before its first mini-batch...
            self.trainer.step(step)  # ...and takes this step
            self._stepping = True
        if self.session.network is not network:  # a fresh one, made to the new sizes or seed
            self._show_digits(new_network=True)
        self._hold_heavy_panels(True)  # from now on, and the charts below take their turns
        self.query_one(AccuracyChart).set_run(
            self.session.epochs_done + config.epochs, config.eval_on
        )
        self.query_one(CostChart).clear()
        self.query_one(EpochProgress).last_epoch_seconds = None
        self._run_config = config
        hold = getattr(self.app, "hold_training_until_drawn", None)
        if hold is not None:  # the run's first frame first (a host app in the tests has none)
            hold()
        self.state = "paused" if step else "running"
        self._status(_STEP_STATUS if step else "Training…")
        self._train(self.trainer, self.session.recorder(self.trainer, self._note_from_thread))
        return True

    def action_step(self, what: str) -> None:
        """``.``: one mini-batch; ``e``: to the end of the epoch. From ready, starts paused."""
        if self._stepping or self.session is None:
            return
        if self.state in ("ready", "finished"):
            self._begin(step=what)
        elif self.state == "paused" and self.trainer is not None and self.trainer.step(what):
            self._stepping = True
        self.refresh_bindings()

    def action_speed(self, direction: int) -> None:
        """``+`` / ``-``: the next speed up or down; applies at once if a run goes on."""
        self._speed = next_speed(self._speed, direction)
        if self.trainer is not None:
            self.trainer.set_speed(self._speed)
        self.query_one(EpochProgress).show_speed_limit(self._speed)

    @on(Button.Pressed, "#pause")
    def _pause_button(self) -> None:
        if self.state == "paused":
            self.action_resume()
        else:
            self.action_pause()

    def action_pause(self) -> None:
        if self.trainer is not None and self.state == "running":
            self.trainer.pause()
            self.state = "paused"
            self._status("Paused: space resumes, . takes a mini-batch, e an epoch.")

    def action_resume(self) -> None:
        if self.trainer is not None and self.state == "paused":
            self.trainer.resume()
            self.state = "running"
            self._status("Training…")

    @on(Button.Pressed, "#stop")
    def action_stop(self) -> None:
        if self.trainer is not None and self.state in ("running", "paused"):
            self.trainer.cancel()
            self.state = "stopping"
            self._status("Stopping after this mini-batch…")

    @on(Button.Pressed, "#reset")
    def action_reset(self) -> None:
        if self.session is None:
            return
        config = self._read_params("Reset")
        if config is None:
            return
        if self.state in ("running", "paused"):
            self._reset_after_run = True  # when the worker has ended
            self.action_stop()
            return
        try:
            self.session.reset(config)
        except ConfigError as exc:
            self._status(f"Reset refused: {exc}", warning=True)
            return
        for chart in (self.query_one(AccuracyChart), self.query_one(CostChart)):
            chart.clear()
        self.query_one(AccuracyChart).set_run(config.epochs, config.eval_on)
        self._show_baselines()
        self.query_one(EpochProgress).show_idle("Not started")
        self._new_network_logged()
        self._status("New network: press s to start.")
        self.state = "ready"

    def action_new_sample(self) -> None:
        if self.session is not None:
            self.session.new_sample()
            self._show_digits()

    def action_toggle_digits(self) -> None:
        self.toggle_class("-show-digits")

    def action_inside(self, view: str) -> None:
        """Push a look-inside screen; it follows the session while training goes on.

        The screens are imported on first use, here and below: the first frame
        should not wait for views a user may never open.
        """
        from nntui.tui.screens.inside import INSIDE_SCREENS

        if self.session is not None:
            self.app.push_screen(INSIDE_SCREENS[view](self.session))

    def action_runs(self) -> None:
        from nntui.tui.screens.runs import RunsScreen

        if self.session is not None:
            self.app.push_screen(RunsScreen(RunStore(), data=self.session.data), self._run_chosen)

    def action_sweep(self, where: str = "") -> None:
        """Many runs at once: start a sweep here, follow or continue one.

        ``where`` only tells the footer's `S` from the one that works in every state.
        """
        from nntui.tui.screens.sweep import SweepScreen

        data = self.session.data if self.session is not None else None
        self.app.push_screen(SweepScreen(data, RunStore()))

    def action_baselines(self) -> None:
        self.query_one(AccuracyChart).toggle_full_scale()

    def action_layers(self) -> None:
        from nntui.tui.screens.layers import LayersScreen

        if self.session is not None:
            self.app.push_screen(LayersScreen(self.session))

    def action_gallery_digits(self) -> None:
        """The gallery's digits one at a time, with every layer's activations."""
        from nntui.tui.screens.misclassified import DigitPagerScreen

        if self.session is not None and self.session.sample_indices:
            self.app.push_screen(
                DigitPagerScreen(self.session, self.session.sample_indices, title="Gallery")
            )

    def action_art_style(self) -> None:
        style = self.query_one(DigitGallery).cycle_style()
        self._status(f"Digits drawn: {STYLE_NAMES[style]} (a: next style)")

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def _run_chosen(self, info: RunInfo | None) -> None:
        """``t`` on the runs screen: continue that run's network here."""
        if info is None or self.session is None:
            return
        if self.state not in ("ready", "finished"):
            self._status("Stop the run first (x), then load another.", warning=True)
            return
        try:
            self._load_saved(info.load(), info.name, f"run {info.name}")
        except NntuiError as exc:
            self._status(f"Cannot load {info.name}: {exc}", warning=True)

    def _load_saved(self, saved: SavedModel, origin: str, what: str | None = None) -> None:
        """Make a saved network the session's, to train further or look inside.

        ``origin`` (a run name or a file) is recorded as what the next run resumed from.
        """
        assert self.session is not None
        config = self.session.load(saved, origin)
        self.query_one(HyperParams).show_config(config)
        done = self.session.epochs_done
        self.query_one(AccuracyChart).show_earlier(
            self.session.earlier_curve, done, done + config.epochs, config.eval_on
        )
        self._show_baselines()
        self.query_one(CostChart).clear()
        self._log(log_text.loaded(what or origin, config.sizes, self.session.epochs_done))
        self._show_digits(new_network=True)
        self._status("Loaded: press s to train it further.")
        self.state = "ready"

    def _show_baselines(self) -> None:
        self.query_one(BaselineAccuracyChart).show_baselines(self.session)

    @on(HyperParams.LiveSetting)
    def _live_setting(self, message: HyperParams.LiveSetting) -> None:
        if self.trainer is None or self.state not in ("running", "paused"):
            return
        try:
            self.trainer.set_live(**{message.name: message.value})
        except ConfigError as exc:  # the panel checks first; the trainer has the last word
            self._status(str(exc), warning=True)
            if message.name == "epochs":
                self.query_one(HyperParams).undo_live("epochs", self.trainer.epochs)

    @on(HyperParams.Changed)
    def _params_changed(self, message: HyperParams.Changed) -> None:
        if self.state not in ("ready", "finished"):
            return
        if message.error is not None:
            self._status(f"Cannot start: {message.error}", warning=True)
        else:
            self._status("Ready: press s to start, ? for help.")

    def _new_network_logged(self) -> None:
        session = self.session
        if session is None or session.network is None:
            return
        self._log(log_text.new_network(session.network.sizes, session.seed))
        self._show_digits(new_network=True)

    # Training -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="training", name="training")
    def _train(self, trainer: Trainer, keep: Callable[[], RunRecorder]) -> TrainingFinished | None:
        worker = get_current_worker()
        return run_training(
            trainer,
            self.post_message,
            lambda: worker.is_cancelled,
            recorder=keep(),  # here: it writes files, which the UI thread should not wait for
            ui_idle=getattr(self.app, "ui_idle", None),
        )

    def _answering_key(self) -> bool:
        """True from a key (or a click, or a start) until the frame answering it is drawn."""
        idle = getattr(self.app, "ui_idle", None)  # a host app in the tests has none
        return idle is not None and not idle.is_set()

    def _note_from_thread(self, text: str) -> None:
        self.post_message(Training.Note(text))  # a message: safe from the training thread

    def on_training_note(self, message: Training.Note) -> None:
        self._log((message.text, "yellow"))

    def on_training_started(self, message: Training.Started) -> None:
        self._log(log_text.started(message.event))

    def on_training_batch_progress(self, message: Training.BatchProgress) -> None:
        p = message.event
        slow = self._stepping or self._speed is not None
        cost = self.query_one(CostChart)
        cost.zoom = slow  # first: it sets how often the chart redraws
        cost.set_points(p.epoch, p.images_total, message.costs)
        if slow:
            # The trainer publishes each step: show it.
            self.query_one(DigitGallery).redraw_soon(self._show_digits)
        self.query_one(EpochProgress).show_batch(p)
        if not self._answering_key():  # its frame comes first
            self._redraw_one_waiting_panel()

    def _heavy_panels(self) -> tuple[AccuracyChart, CostChart, DigitGallery]:
        """The panels whose redraw takes the UI thread 10 ms or more on a slow machine."""
        query = self.query_one
        return query(AccuracyChart), query(CostChart), query(DigitGallery)

    def _hold_heavy_panels(self, hold: bool) -> None:
        """While training, a due panel waits for `_redraw_one_waiting_panel` to draw it."""
        for panel in self._heavy_panels():
            panel.hold = hold

    def _redraw_one_waiting_panel(self) -> None:
        """Draw, with this progress, the one panel that has waited longest and is due.

        One a frame: the charts and the gallery drawn in the same frame kept the UI
        thread 30 ms or more, and a key pressed meanwhile waited that long before
        its own frame could start.
        """
        waiting = [p for p in self._heavy_panels() if p.waiting_since is not None]
        for panel in sorted(waiting, key=lambda p: p.waiting_since or 0.0):
            if panel.redraw_if_due():
                return

    def _redraw_waiting_panels(self, *, digits: bool = False) -> None:
        """Draw every panel whose redraw was put off, now (a pause, a step's end).

        ``digits``: the gallery too, even if it was not waiting.
        """
        for chart in (self.query_one(AccuracyChart), self.query_one(CostChart)):
            if chart.waiting_since is not None:
                chart.request_redraw(now=True)
        if digits or self.query_one(DigitGallery).waiting_since is not None:
            self._show_digits()

    def on_training_epoch_done(self, message: Training.EpochDone) -> None:
        event = message.event
        if self.session is not None:
            self.session.record(event, self._run_config, message.snapshot)
            if not self._deterministic:  # timings would make snapshots differ
                self.query_one(HyperParams).show_speeds(self.session.seconds_per_epoch())
        self.query_one(EpochProgress).last_epoch_seconds = event.train_seconds + event.eval_seconds
        self.query_one(EpochLog).epoch(event.book_line(), event.train_seconds)
        train = event.train_accuracy
        self.query_one(AccuracyChart).add_point(
            event.epoch, 100 * event.accuracy, None if train is None else 100 * train
        )
        self.query_one(DigitGallery).redraw_soon(self._show_digits)
        hint = self.session.new_hint(event) if self.session is not None else None
        if hint is not None:
            self._log((hint, "yellow"))

    def on_training_setting_changed(self, message: Training.SettingChanged) -> None:
        e = message.event
        self._log(log_text.setting_changed(e))
        if e.name == "epochs":
            if self.trainer is not None:
                last = self.trainer.first_epoch + int(e.new) - 1
                chart = self.query_one(AccuracyChart)
                chart.set_run(last, chart.eval_name)
                self.query_one(EpochProgress).show_last_epoch(last)  # also while paused
                # The trainer may have kept more epochs than asked (the one under way).
                self.query_one(HyperParams).undo_live("epochs", int(e.new))
            return
        label = f"η={e.new:g}" if e.name == "eta" else f"m={int(e.new)}"
        total = max(1, self._run_config.train_size)
        self.query_one(AccuracyChart).add_mark(e.epoch - 1 + e.images_done / total, label)
        self.query_one(CostChart).add_mark(e.epoch, e.images_done, label)

    def on_training_paused(self, message: Training.Paused) -> None:
        if self._stepping:  # the end of a step: show where it left the network
            self._stepping = False
            self.refresh_bindings()
            self._redraw_waiting_panels(digits=True)
            return
        self._log(log_text.paused(message.event))
        self._redraw_waiting_panels()  # the network where the pause left it

    def on_training_resumed(self, message: Training.Resumed) -> None:
        self._log(log_text.RESUMED)

    def on_training_finished(self, message: Training.Finished) -> None:
        if message.event.status == "diverged" and self.session is not None:
            self.session.diverged = True
        self._log(log_text.finished(message.event))

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.name == "training" and state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            if self._answering_key():
                # A key is being answered: its frame first. The end redraws half the screen
                # and lays it out again, 50-150 ms on a slow machine, and the key would wait.
                self.call_after_refresh(self._training_ended, worker)
            else:
                self._training_ended(worker)

    def _training_ended(self, worker: Worker[TrainingFinished | None]) -> None:
        self.trainer = None
        if worker.state == WorkerState.ERROR:
            self._log(log_text.failed(worker.error))
        self._hold_heavy_panels(False)
        for chart in (self.query_one(AccuracyChart), self.query_one(CostChart)):
            chart.request_redraw(now=True)
        self.query_one(EpochLog).flush()
        self._show_digits()  # the network as the run left it
        self.state = "finished"
        finished = worker.result if worker.state == WorkerState.SUCCESS else None
        if self._reset_after_run:
            self._reset_after_run = False
            self.action_reset()
        elif finished is not None and finished.status == "diverged":
            self._status(
                "Diverged: press r for a new network, perhaps with a smaller eta.", warning=True
            )
        else:
            self._status("Finished. s: train on, r: new network")

    # The gallery ---------------------------------------------------------------------

    def _show_digits(self, *, new_network: bool = False) -> None:
        """The gallery's digits as the latest snapshot of the network sees them."""
        gallery = self.query_one(DigitGallery)
        gallery.cancel_redraw()
        session = self.session
        snapshot = None if session is None else session.snapshot
        if session is None or snapshot is None:
            return
        samples = digit_samples(LiveSubject(session), session.sample_indices)
        gallery.show(samples, snapshot.epoch, new_network=new_network)
