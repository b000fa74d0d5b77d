"""The dashboard: hyperparameters and controls on the left, charts and digits on the right.

The screen owns the `Session` (the network across runs) and the two thread
workers: one loads the data, one runs the trainer. Workers only post
messages (`nntui.tui.messages`); every widget is updated here, on the UI
thread, from plain values.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Footer
from textual.worker import Worker, WorkerState, get_current_worker

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.errors import ConfigError, NntuiError
from nntui.engine.events import DigitSample, SamplesPredicted, TrainingFinished
from nntui.engine.network import Network
from nntui.engine.training import Trainer
from nntui.store.metrics import epoch_record
from nntui.store.model_file import SavedModel
from nntui.store.recorder import RunRecorder
from nntui.store.runs import RunInfo, RunStore
from nntui.tui.messages import (
    DataProgress,
    EpochFinished,
    LiveSetting,
    ParamsChanged,
    RunFinished,
    RunNote,
    RunPaused,
    RunProgress,
    RunResumed,
    RunStarted,
    SamplesReady,
    SettingApplied,
)
from nntui.tui.model.session import Session
from nntui.tui.render.digit_art import braille, half_blocks
from nntui.tui.screens.confusion import ConfusionScreen
from nntui.tui.screens.draw import DrawScreen
from nntui.tui.screens.misclassified import MisclassifiedScreen
from nntui.tui.screens.neurons import NeuronsScreen
from nntui.tui.screens.runs import RunsScreen
from nntui.tui.widgets.charts import AccuracyChart, CostChart
from nntui.tui.widgets.controls import Controls, RunState
from nntui.tui.widgets.data_panel import DataPanel
from nntui.tui.widgets.epoch_log import EpochLog
from nntui.tui.widgets.gallery import DigitCard, DigitGallery
from nntui.tui.widgets.params import HyperParams
from nntui.tui.widgets.progress import EpochProgress
from nntui.tui.worker import load_data, run_training

Breakpoints = list[tuple[int, str]] | None
SETTING_NAMES = {"eta": "eta", "mini_batch_size": "mini-batch size"}


class DownloadCancelled(Exception):
    """The app is closing: stop downloading at the next chunk."""


class MainScreen(Screen[None]):
    """Set hyperparameters, start training and watch the network learn."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start"),
        Binding("space", "pause", "Pause"),
        Binding("space", "resume", "Resume"),
        Binding("x", "stop", "Stop"),
        Binding("r", "reset", "Reset"),
        Binding("n", "new_sample", "New digits"),
        Binding("d", "toggle_digits", "Digits"),
        # Look inside the network (issue: "the features no peer combines").
        Binding("p", "inspect('draw')", "Draw"),
        Binding("c", "inspect('confusion')", "Confusion"),
        Binding("m", "inspect('misclassified')", "Mistakes"),
        Binding("w", "inspect('neurons')", "Neurons"),
        Binding("R", "runs", "Runs"),
        Binding("b", "baselines", "Baselines"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]
    # Roomy (wide and tall) shows everything at once; otherwise `d` switches views.
    HORIZONTAL_BREAKPOINTS: ClassVar[Breakpoints] = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[Breakpoints] = [(0, "-short"), (34, "-tall")]

    state: reactive[RunState] = reactive("loading", init=False)

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
        self._last_epoch_seconds: float | None = None
        self._shown_predictions: dict[int, int] = {}  # gallery index -> guess on screen
        self._art: dict[int, tuple[Text, Text]] = {}  # drawings of the gallery's images
        # While a run goes on: a copy of the network as an epoch left it, and that epoch, for `n`.
        self._epoch_network: tuple[Network, int] | None = None

    def compose(self) -> ComposeResult:
        timings = not self._deterministic
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield HyperParams(self._config, cursor_blink=timings, id="params")
                yield Controls(id="controls")
                yield EpochProgress(show_timings=timings, id="progress")
                yield EpochLog(show_timings=timings, id="log")
            with Vertical(id="main"):
                yield DataPanel(id="data")
                with Horizontal(id="charts"):
                    yield AccuracyChart(id="accuracy")
                    yield CostChart(id="cost")
                yield DigitGallery(id="gallery")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(AccuracyChart).set_run(self._config.epochs, self._config.eval_on)
        if self._data is not None:
            self._data_ready(self._data)
        else:
            self.add_class("-no-data")
            self._load_data()

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
        self.set_class(state in ("loading", "no-data"), "-no-data")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.state
        if action == "start":
            return state in ("ready", "finished") or None
        if action == "pause":
            return True if state == "running" else (False if state == "paused" else None)
        if action == "resume":
            return state == "paused"
        if action == "stop":
            return state in ("running", "paused") or None
        if action == "reset":
            return state in ("ready", "running", "paused", "finished") or None
        if action == "new_sample":
            return self.session is not None or None
        if action == "toggle_digits":
            return self.has_class("-narrow") or self.has_class("-short")
        if action in ("inspect", "runs"):
            return self.session is not None or None
        return True

    def _status(self, text: str, *, warning: bool = False) -> None:
        self.query_one(Controls).set_status(text, warning=warning)

    # Data -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="data", name="data")
    def _load_data(self) -> MnistData:
        worker = get_current_worker()

        def post(message: DataProgress) -> None:
            if worker.is_cancelled:
                raise DownloadCancelled
            self.post_message(message)

        return load_data(self._data_path, post)

    def on_data_progress(self, message: DataProgress) -> None:
        progress, panel = message.progress, self.query_one(DataPanel)
        if progress.status == "trying":
            panel.trying(progress.message)
        elif progress.status == "downloading":
            panel.downloading(progress.source, progress.file, progress.done, progress.total)
        elif progress.status == "failed":
            panel.failed_source(progress.message)
        elif progress.status == "done":
            panel.loading(progress.message)

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        self.state = "loading"
        self.query_one(DataPanel).searching()
        self._load_data()

    def _data_ready(self, data: MnistData) -> None:
        self.session = Session(data, sample_seed=0 if self._deterministic else None)
        params = self.query_one(HyperParams)
        config = params.read()[0] or self._config
        available = len(data.training)
        if config.train_size > available:  # smaller data than the book's: use all of it
            params.set_text("train_size", str(available))
            config = config.with_changes(train_size=available)
            self.query_one(EpochLog).add(f"The data has {available:,} training images")
        try:
            self.session.reset(config)
        except ConfigError as exc:
            self._status(str(exc), warning=True)
        else:
            self._new_network_logged()
            self._status("Ready: press s to start, ? for help.")
        self.query_one(EpochProgress).show_idle("Not started")
        self._show_baselines()
        self.state = "ready"
        if self._saved is not None:  # nntui --resume MODEL
            try:
                self._load_saved(*self._saved)
            except NntuiError as exc:
                self._status(f"Cannot load {self._saved[1]}: {exc}", warning=True)

    # Controls -------------------------------------------------------------------------

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.session is None or self.state not in ("ready", "finished"):
            return
        params = self.query_one(HyperParams)
        config, error, field = params.read()
        if config is None:
            self._status(f"Start refused: {error}", warning=True)
            if field is not None:
                params.focus_field(field)
            return
        reason = self.session.why_not_start(config)
        if reason is not None:
            self._status(f"Start refused: {reason}", warning=True)
            return
        try:
            self.trainer = self.session.start(config)
        except NntuiError as exc:
            self._status(f"Start refused: {exc}", warning=True)
            return
        self.query_one(AccuracyChart).set_run(
            self.session.epochs_done + config.epochs, config.eval_on
        )
        self.query_one(CostChart).clear()
        self._last_epoch_seconds = None
        self._run_config = config
        self._keep_epoch_network()
        self.state = "running"
        self._status("Training…")
        self._train(self.trainer, self._recorder(self.trainer))

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
            self._status("Paused: space resumes. eta and mini-batch may be changed.")

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
        config, error, field = self.query_one(HyperParams).read()
        if config is None:
            self._status(f"Reset refused: {error}", warning=True)
            if field is not None:
                self.query_one(HyperParams).focus_field(field)
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
        if self.session is None:
            return
        self.session.new_sample()
        if self._epoch_network is not None and self.state in ("running", "stopping"):
            # Not the trainer's network: it is locked for a tenth of a second while each
            # epoch is evaluated, and the key would wait that long to show anything.
            predicted = self._predict_samples(*self._epoch_network)
        else:
            predicted = self.session.predict_samples()
        if predicted is not None:
            self._show_samples(predicted)

    def action_toggle_digits(self) -> None:
        self.toggle_class("-show-digits")

    def action_inspect(self, view: str) -> None:
        """Push a look-inside screen; it follows the session while training goes on."""
        if self.session is None:
            return
        screens = {
            "draw": DrawScreen,
            "confusion": ConfusionScreen,
            "misclassified": MisclassifiedScreen,
            "neurons": NeuronsScreen,
        }
        self.app.push_screen(screens[view](self.session))

    def action_runs(self) -> None:
        if self.session is not None:
            self.app.push_screen(RunsScreen(RunStore(), data=self.session.data), self._run_chosen)

    def action_baselines(self) -> None:
        self.query_one(AccuracyChart).toggle_full_scale()

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
        chart = self.query_one(AccuracyChart)
        chart.clear()
        chart.set_run(self.session.epochs_done + config.epochs, config.eval_on)
        for epoch, accuracy in self.session.earlier_curve:
            chart.add_point(epoch, 100 * accuracy)
        self._show_baselines()
        self.query_one(CostChart).clear()
        self._shown_predictions = {}
        self.query_one(EpochLog).add(
            f"Loaded {what or origin}: {','.join(map(str, config.sizes))}, "
            f"{_count(self.session.epochs_done, 'epoch')} trained; s trains it further",
            style="bold cyan",
        )
        predicted = self.session.predict_samples()
        if predicted is not None:
            self._show_samples(predicted)
        self._status("Loaded: press s to train it further.")
        self.state = "ready"

    def _show_baselines(self) -> None:
        if self.session is not None:
            baselines = self.session.baselines()
            chart = self.query_one(AccuracyChart)
            chart.set_baselines({name: 100 * value for name, value in baselines.items()})

    def action_leave_field(self) -> None:
        self.set_focus(None)

    @on(LiveSetting)
    def _live_setting(self, message: LiveSetting) -> None:
        if self.trainer is None or self.state not in ("running", "paused"):
            return
        # The trainer reads these before every mini-batch and reports the change.
        setattr(self.trainer, message.name, message.value)

    @on(ParamsChanged)
    def _params_changed(self, message: ParamsChanged) -> None:
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
        self._shown_predictions = {}
        sizes = ",".join(map(str, session.network.sizes))
        self.query_one(EpochLog).add(f"New network {sizes}, seed {session.seed}", style="bold cyan")
        predicted = session.predict_samples()
        if predicted is not None:
            self._show_samples(predicted)

    # Training -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="training", name="training")
    def _train(self, trainer: Trainer, kept: RunRecorder) -> TrainingFinished | None:
        worker = get_current_worker()
        return run_training(trainer, self.post_message, lambda: worker.is_cancelled, recorder=kept)

    def _recorder(self, trainer: Trainer) -> RunRecorder:
        """Every run is kept in the runs directory, with the epochs this network had before."""
        session = self.session
        assert session is not None
        earlier = [*session.earlier_records, *(epoch_record(e) for e in session.history)]
        return RunRecorder(
            trainer.config,
            trainer.seed,
            warn=lambda text: self.post_message(RunNote(text)),
            history=earlier,
            resumed_from=session.loaded_from,
        )

    def on_run_note(self, message: RunNote) -> None:
        self.query_one(EpochLog).add(message.text, style="yellow")

    def on_run_started(self, message: RunStarted) -> None:
        event, c = message.event, message.event.config
        verb = "Continuing" if event.first_epoch > 1 else "Training"
        self.query_one(EpochLog).add(
            f"{verb}: eta {c.eta:g}, mini-batch {c.mini_batch_size}, {_count(c.epochs, 'epoch')}, "
            f"{event.train_size:,} images, {c.eval_on} set",
            style="cyan",
        )

    def on_run_progress(self, message: RunProgress) -> None:
        p = message.event
        self.query_one(CostChart).set_points(p.epoch, p.images_total, message.costs)
        remaining = None
        if p.images_per_second > 0:
            this_epoch = (p.images_total - p.images_done) / p.images_per_second
            per_epoch = self._last_epoch_seconds or p.images_total / p.images_per_second
            remaining = this_epoch + (p.epochs - p.epoch) * per_epoch
        self.query_one(EpochProgress).show_progress(
            epoch=p.epoch,
            epochs=p.epochs,
            images_done=p.images_done,
            images_total=p.images_total,
            images_per_second=p.images_per_second,
            elapsed=p.elapsed,
            remaining=remaining,
        )

    def on_epoch_finished(self, message: EpochFinished) -> None:
        event = message.event
        if self.session is not None:
            self.session.record(event, self._run_config)
            if not self._deterministic:  # timings would make snapshots differ
                self.query_one(HyperParams).show_speeds(self.session.seconds_per_epoch())
        self._last_epoch_seconds = event.train_seconds + event.eval_seconds
        self._keep_epoch_network()
        self.query_one(EpochLog).epoch(event.book_line(), event.train_seconds)
        self.query_one(AccuracyChart).add_point(event.epoch, 100 * event.accuracy)

    def on_samples_ready(self, message: SamplesReady) -> None:
        self._show_samples(message.event)

    def on_setting_applied(self, message: SettingApplied) -> None:
        e = message.event
        self.query_one(EpochLog).add(
            f"{SETTING_NAMES[e.name]} {e.old:g} → {e.new:g} from image {e.images_done:,} "
            f"of epoch {e.epoch}",
            style="yellow",
        )

    def on_run_paused(self, message: RunPaused) -> None:
        e = message.event
        self.query_one(EpochLog).add(f"Paused in epoch {e.epoch} at image {e.images_done:,}", "dim")

    def on_run_resumed(self, message: RunResumed) -> None:
        self.query_one(EpochLog).add("Resumed", "dim")

    def on_run_finished(self, message: RunFinished) -> None:
        e = message.event
        log = self.query_one(EpochLog)
        if e.status == "completed":
            log.add(
                f"Done: {_count(e.epochs_done, 'epoch')}, best {e.best_correct} / {e.total}",
                style="bold green",
            )
        elif e.status == "stopped":
            log.add(f"Stopped after epoch {e.epochs_done}", style="yellow")
        else:
            if self.session is not None:
                self.session.diverged = True
            log.add(f"Diverged: {e.message}", style="bold red")

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        if worker.name == "data":
            if state == WorkerState.SUCCESS:
                self._data_ready(worker.result)
            else:
                error = worker.error
                message = str(error) if isinstance(error, NntuiError) else repr(error)
                self.query_one(DataPanel).failed(message)
                self._status("No data: see the message on the right.", warning=True)
                self.state = "no-data"
        elif worker.name == "training":
            self._training_ended(worker)

    def _training_ended(self, worker: Worker[TrainingFinished | None]) -> None:
        self.trainer = None
        self._epoch_network = None
        if worker.state == WorkerState.ERROR:
            self.query_one(EpochLog).add(f"Training failed: {worker.error!r}", style="bold red")
        for chart in (self.query_one(AccuracyChart), self.query_one(CostChart)):
            chart.request_redraw(now=True)
        self.query_one(EpochLog).flush()
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

    def _keep_epoch_network(self) -> None:
        """Copy the run's network (100 kB) between two mini-batches, as an epoch ends.

        If the trainer is busy for longer (evaluating, when this screen lags an
        epoch behind), the copy of an epoch before will do.
        """
        trainer, session = self.trainer, self.session
        if trainer is None or session is None or not trainer.lock.acquire(timeout=0.01):
            return
        try:
            network = trainer.network.copy()
        finally:
            trainer.lock.release()
        self._epoch_network = (network, session.epochs_done)

    def _predict_samples(self, network: Network, epoch: int) -> SamplesPredicted | None:
        """The gallery's digits as ``network`` (a copy after ``epoch``, not locked) sees them."""
        session = self.session
        if session is None or not session.sample_indices:
            return None
        split = session.data.split(session.eval_on)
        indices = list(session.sample_indices)
        images = split.images[indices]  # (n, 784)
        with np.errstate(over="ignore", invalid="ignore"):
            outputs = network.feedforward(np.asarray(images, network.dtype).T).T  # (n, 10)
        samples = tuple(
            DigitSample(
                index=i,
                image=image.reshape(28, 28),
                label=int(split.labels[i]),
                prediction=int(np.argmax(a)),
                activations=tuple(float(v) for v in a),
                changed=False,  # the gallery compares with what it shows
            )
            for i, image, a in zip(indices, images, outputs, strict=True)
        )
        return SamplesPredicted(epoch=epoch, samples=samples)

    def _show_samples(self, predicted: SamplesPredicted) -> None:
        # "Changed" compares with the guesses on screen, which are the previous epoch's
        # unless epochs come faster than the gallery is redrawn (see nntui.tui.worker).
        before = self._shown_predictions
        # The images stay the same from epoch to epoch: draw each once.
        art = {s.index: self._art.get(s.index) for s in predicted.samples}
        self._art = {
            i: drawn or (half_blocks(s.image), braille(s.image))
            for (i, drawn), s in zip(art.items(), predicted.samples, strict=True)
        }
        cards = tuple(
            DigitCard(
                index=s.index,
                label=s.label,
                prediction=s.prediction,
                changed=before.get(s.index, s.prediction) != s.prediction,
                half=self._art[s.index][0],
                braille=self._art[s.index][1],
            )
            for s in predicted.samples
        )
        self._shown_predictions = {s.index: s.prediction for s in predicted.samples}
        self.query_one(DigitGallery).show(cards, predicted.epoch)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
