"""The dashboard's run as a state machine: what Start, Pause, a step, Stop and Reset do.

`RunControl` holds the session (the network across runs), the trainer of the
run under way, the state of `nntui.tui.model.run_state`, whether a step is
under way, the speed limit, and the run's config, which follows the settings
changed while it runs. The main screen turns keys into these calls and shows
what they return; the training worker's messages come back here through the
``heard_*`` methods. Plain Python: no Textual, so every transition is tested
without an app (tests/unit/test_run_control.py).

Each transition returns the status line to show (`Status`), or None when it
does not apply in this state; a refused one says why, as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.errors import ConfigError, NntuiError
from nntui.engine.events import EpochDone, SettingChanged, TrainingFinished
from nntui.engine.snapshot import NetworkSnapshot
from nntui.engine.training import Trainer
from nntui.store.model_file import SavedModel
from nntui.tui.model.run_state import RunState, key_availability
from nntui.tui.model.session import Session
from nntui.tui.model.speed import next_speed

Step = Literal["batch", "epoch"]


@dataclass(frozen=True)
class Status:
    """The line under the buttons: what the dashboard is doing, or why it refused."""

    text: str
    warning: bool = False


READY = Status("Ready: press s to start, ? for help.")
TRAINING = Status("Training…")
STEPPING = Status("Paused: . one mini-batch, e one epoch, space runs on.")
PAUSED = Status("Paused: space resumes, . takes a mini-batch, e an epoch.")
STOPPING = Status("Stopping after this mini-batch…")
NEW_NETWORK = Status("New network: press s to start.")
LOADED = Status("Loaded: press s to train it further.")
FINISHED = Status("Finished. s: train on, r: new network")
DIVERGED = Status("Diverged: press r for a new network, perhaps with a smaller eta.", True)
NO_DATA = Status("No data: see the message on the right.", True)
BUSY = Status("Stop the run first (x), then load another.", True)


class RunControl:
    """The run's state machine; ``sample_seed`` fixes the gallery's digits (for tests)."""

    def __init__(self, config: TrainConfig, *, sample_seed: int | None = None) -> None:
        self.session: Session | None = None
        self.trainer: Trainer | None = None  # the run in progress, if any
        self.state: RunState = "loading"
        self.stepping = False  # a step is under way: its pause is not logged
        self.speed: float | None = None  # mini-batches per second; None: full speed
        self.config = config  # the run in progress, or the last one, with its live changes
        self.reset_after_run = False  # Reset pressed while running: once the run has ended
        self.svm_correct: int | None = None  # the SVM's cached result on this data, if found
        self._sample_seed = sample_seed

    # The data ---------------------------------------------------------------------------

    def loading(self) -> None:
        self.state = "loading"

    def no_data(self) -> Status:
        self.state = "no-data"
        return NO_DATA

    def open(self, data: MnistData, config: TrainConfig) -> TrainConfig:
        """A session on ``data``; returns ``config`` with at most the data's training images."""
        self.session = Session(data, sample_seed=self._sample_seed)
        self.state = "ready"
        available = len(data.training)
        if config.train_size > available:  # smaller data than the book's: use all of it
            config = config.with_changes(train_size=available)
        return config

    # Keys -------------------------------------------------------------------------------

    def allows(self, action: str, *, small: bool) -> bool | None:
        """Textual's answer for a key in this state (`run_state.key_availability`)."""
        return key_availability(
            action,
            self.state,
            has_session=self.session is not None,
            stepping=self.stepping,
            small=small,
        )

    def can_start(self) -> bool:
        return self.session is not None and self.state in ("ready", "finished")

    def start(self, config: TrainConfig, step: Step | None = None) -> Status:
        """Start a run with ``config``; with ``step``, start it paused and take that step.

        Raises `NntuiError` when the session refuses (`Session.why_not_start`).
        """
        assert self.session is not None and self.can_start()
        trainer = self.session.start(config)
        trainer.set_speed(self.speed)
        if step is not None:
            trainer.pause()  # the run waits before its first mini-batch...
            trainer.step(step)  # ...and takes this step
        self.trainer, self.config, self.stepping = trainer, config, step is not None
        self.state = "paused" if step else "running"
        return STEPPING if step else TRAINING

    def step(self, what: Step) -> bool:
        """Take a step of a paused run; True if one began."""
        if self.trainer is None or self.state != "paused":
            return False
        # While a step is under way the trainer queues this one: every press counts.
        taken = self.trainer.step(what)
        self.stepping = self.stepping or taken
        return taken

    def pause(self) -> Status | None:
        return self._switch(("running",), "paused", PAUSED)

    def resume(self) -> Status | None:
        return self._switch(("paused",), "running", TRAINING)

    def stop(self) -> Status | None:
        return self._switch(("running", "paused"), "stopping", STOPPING)

    def _switch(self, before: tuple[RunState, ...], after: RunState, says: Status) -> Status | None:
        """From a state of ``before`` to ``after``, telling the trainer; None if not in one."""
        trainer = self.trainer
        if trainer is None or self.state not in before:
            return None
        {"paused": trainer.pause, "running": trainer.resume, "stopping": trainer.cancel}[after]()
        self.state = after
        return says

    def reset(self, config: TrainConfig) -> Status | None:
        """A new network from ``config``; while a run goes on, once it has stopped.

        While it waits for the run to stop, `reset_after_run` is set. Raises
        `ConfigError` if refused.
        """
        assert self.session is not None
        if self.state in ("running", "paused"):
            self.reset_after_run = True  # when the worker has ended
            return self.stop()
        self.session.reset(config)
        self.state = "ready"
        return NEW_NETWORK

    def load(self, saved: SavedModel, origin: str) -> TrainConfig:
        """Make a saved network the session's (no run under way); returns the config to show.

        Raises `NntuiError` if it cannot be used here.
        """
        assert self.session is not None and self.can_start()
        config = self.session.load(saved, origin)
        self.state = "ready"
        return config

    def change_speed(self, direction: int) -> float | None:
        """The next speed limit up or down; applies at once if a run goes on."""
        self.speed = next_speed(self.speed, direction)
        if self.trainer is not None:
            self.trainer.set_speed(self.speed)
        return self.speed

    def set_live(self, name: str, value: float) -> bool:
        """Hand a setting changed in the panel to the run under way; False if none runs.

        Raises `ConfigError` when the trainer refuses it. The run's config changes
        when the trainer reports the change (`heard_setting`), as it applies it.
        """
        if self.trainer is None or self.state not in ("running", "paused"):
            return False
        if name == "eta":
            self.trainer.set_live(eta=value)
        elif name == "mini_batch_size":
            self.trainer.set_live(mini_batch_size=int(value))
        elif name == "epochs":
            self.trainer.set_live(epochs=int(value))
        else:
            raise ConfigError(f"{name} cannot change during a run")
        return True

    # What the training worker reports ----------------------------------------------------

    def heard_epoch(self, event: EpochDone, snapshot: NetworkSnapshot | None) -> str | None:
        """An epoch ended; returns the hint about stuck outputs, if there is a new one."""
        if self.session is None:
            return None
        self.session.record(event, self.config, snapshot)
        return self.session.new_hint(event)

    def heard_setting(self, event: SettingChanged) -> int | None:
        """A live change took effect: the run's config follows it.

        Returns the run's new last epoch when the number of epochs changed.
        """
        value = event.new if event.name == "eta" else int(event.new)
        self.config = self.config.with_changes(**{event.name: value})
        if event.name == "epochs" and self.trainer is not None:
            return self.trainer.first_epoch + int(event.new) - 1
        return None

    def heard_pause(self, snapshot: NetworkSnapshot | None) -> bool:
        """The run paused; True if that was the end of a step (not to be logged)."""
        if self.session is not None:
            self.session.heard(snapshot)
        ended_step, self.stepping = self.stepping, False
        return ended_step

    def heard_finish(self, event: TrainingFinished, snapshot: NetworkSnapshot | None) -> None:
        if self.session is not None:
            self.session.heard(snapshot)
            if event.status == "diverged":
                self.session.diverged = True

    def ended(self, finished: TrainingFinished | None) -> Status | None:
        """The worker has ended (``finished`` None: it failed). None: now reset, as asked."""
        self.trainer = None
        self.stepping = False
        self.state = "finished"
        if self.reset_after_run:
            self.reset_after_run = False
            return None
        if finished is not None and finished.status == "diverged":
            return DIVERGED
        if finished is not None and finished.status == "failed":
            return Status(f"Failed: {finished.message}. s: train on, r: new network", True)
        return FINISHED

    # For the views ----------------------------------------------------------------------

    def baselines(self, found: dict[str, float]) -> dict[str, float]:
        """The baselines for the accuracy chart, in percent: ``found`` and the SVM's."""
        shown = dict(found)
        if self.session is not None:
            shown.update(self.session.svm_baseline(self.svm_correct))
        return {name: 100 * value for name, value in shown.items()}

    def refusal(self, verb: str, exc: ConfigError | NntuiError) -> Status:
        return Status(f"{verb} refused: {exc}", warning=True)
