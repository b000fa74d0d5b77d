"""What a sweep tells its user interfaces, and the state both build from it.

`nntui.sweep.runner.Sweep.events` yields these on the client; the CLI draws its
table from a `SweepState`, the dashboard posts them as messages. Plain values
only, so a consumer on another thread may keep them.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nntui.sweep.grid import RunSpec

# How a run of a sweep stands. "queued" and "running" are never left in the store.
RUN_STATUSES = ("queued", "running", "completed", "stopped", "diverged", "failed")


@dataclass(frozen=True)
class SweepStarted:
    sweep: str
    runs: tuple[RunSpec, ...]
    workers: int
    address: str  # the scheduler's address


@dataclass(frozen=True)
class RunStarted:
    index: int
    worker: str
    attempt: int  # 1, or more when a worker died and the run started again from its first epoch
    run_name: str | None  # the run's folder in the runs store, if it is kept


@dataclass(frozen=True)
class RunEpoch:
    index: int
    record: dict[str, Any]  # `nntui.store.metrics.epoch_record`


@dataclass(frozen=True)
class RunEnded:
    index: int
    status: str  # "completed", "stopped", "diverged" or "failed"
    message: str
    # The trained network, when the worker sent it back (not for a failed or unstarted run).
    weights: tuple[np.ndarray, ...] | None = field(default=None, repr=False)
    biases: tuple[np.ndarray, ...] | None = field(default=None, repr=False)
    shuffle_state: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RunCheckpoint:
    """A run's model after ``epoch``, sent now and then while it trains (for `--continue`)."""

    index: int
    epoch: int
    weights: tuple[np.ndarray, ...] = field(repr=False)
    biases: tuple[np.ndarray, ...] = field(repr=False)
    shuffle_state: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SweepFinished:
    status: str  # "completed" (every run ended by itself) or "stopped"
    elapsed: float


SweepEvent = SweepStarted | RunStarted | RunEpoch | RunCheckpoint | RunEnded | SweepFinished


@dataclass
class SweepRun:
    """One run of a sweep as the user interfaces show it (not the dashboard's `RunState`)."""

    spec: RunSpec
    status: str = "queued"
    history: list[dict[str, Any]] = field(default_factory=list)
    worker: str = ""
    attempt: int = 0
    message: str = ""
    run_name: str | None = None

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def last(self) -> float | None:
        return self.history[-1]["accuracy"] if self.history else None

    @property
    def best(self) -> float | None:
        return max(r["accuracy"] for r in self.history) if self.history else None

    @property
    def seconds(self) -> float:
        """Training and evaluation time of the epochs done."""
        return float(sum(r["train_seconds"] + r["eval_seconds"] for r in self.history))


class SweepState:
    """Every run's state, built by `apply`-ing the events in order."""

    def __init__(self) -> None:
        self.sweep = ""
        self.runs: list[SweepRun] = []
        self.workers = 0
        self.address = ""
        self.finished: SweepFinished | None = None
        self._start = time.monotonic()

    def apply(self, event: SweepEvent) -> None:
        if isinstance(event, SweepStarted):
            self.sweep = event.sweep
            self.runs = [SweepRun(spec) for spec in event.runs]
            self.workers = event.workers
            self.address = event.address
            self._start = time.monotonic()
        elif isinstance(event, RunStarted):
            run = self.runs[event.index]
            run.status, run.worker, run.attempt = "running", event.worker, event.attempt
            run.history.clear()  # a retried run starts again from its first epoch
            run.run_name = event.run_name or run.run_name
            run.message = "retried: worker lost" if event.attempt > 1 else ""
        elif isinstance(event, RunEpoch):
            self.runs[event.index].history.append(event.record)
        elif isinstance(event, RunEnded):
            run = self.runs[event.index]
            run.status, run.message = event.status, event.message
        elif isinstance(event, SweepFinished):
            self.finished = event

    @property
    def epochs_total(self) -> int:
        return sum(r.spec.config.epochs for r in self.runs)

    @property
    def epochs_done(self) -> int:
        return sum(r.epochs_done for r in self.runs)

    @property
    def elapsed(self) -> float:
        if self.finished is not None:
            return self.finished.elapsed
        return time.monotonic() - self._start

    def seconds_left(self) -> float | None:
        """Seconds left, from the seconds per epoch so far spread over the workers."""
        done = [r for r in self.runs if r.history]
        if not done or self.workers < 1:
            return None
        per_epoch = statistics.median(r.seconds / r.epochs_done for r in done)
        left = sum(
            r.spec.config.epochs - r.epochs_done
            for r in self.runs
            if r.status in ("queued", "running")
        )
        return per_epoch * left / self.workers

    def ranked(self) -> list[SweepRun]:
        """Runs sorted by best accuracy, best first; runs without an epoch last, in order."""
        return sorted(self.runs, key=lambda r: (r.best is None, -(r.best or 0.0), r.spec.index))
