"""Helpers for the tests that run sweeps on a real local Dask cluster."""

from __future__ import annotations

import os
import signal

from threadpoolctl import threadpool_limits

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.events import EpochDone
from nntui.engine.training import Trainer
from nntui.store.runs import RunStore
from nntui.sweep.events import RunEpoch, SweepState
from nntui.sweep.grid import RunSpec
from nntui.sweep.manifest import stored_runs
from nntui.sweep.recorder import SweepRecorder
from nntui.sweep.runner import Sweep


def local_sweep(
    runs: list[RunSpec],
    data: MnistData,
    store: RunStore,
    sweep_id: str,
    workers: int,
    stack: int = 1,
) -> Sweep:
    """A sweep of ``runs`` on a local cluster of ``workers``, kept in ``store``."""
    recorder = SweepRecorder(sweep_id, store, print)
    return Sweep(runs, data, sweep_id=sweep_id, workers=workers, recorder=recorder, stack=stack)


def trained_alone(data: MnistData, config: TrainConfig) -> list[int]:
    """Each epoch's correct count from the engine's Trainer here, one BLAS thread as a worker."""
    with threadpool_limits(limits=1):
        return [e.correct for e in Trainer(data, config).run() if isinstance(e, EpochDone)]


def kill_a_worker_at_epoch_5(sweep: Sweep, state: SweepState) -> int:
    """Run ``sweep`` into ``state``, killing (-9) the worker of the first run to reach epoch 5.

    Returns the index of that run.
    """
    killed: int | None = None
    for event in sweep.events():
        state.apply(event)
        if killed is None and isinstance(event, RunEpoch) and event.record["epoch"] == 5:
            killed = event.index
            worker = state.runs[killed].worker
            pid = sweep._client.run(os.getpid, workers=[worker])[worker]
            os.kill(pid, signal.SIGKILL)
    assert killed is not None
    return killed


def assert_stored_completed(store: RunStore, sweep_id: str, runs: int, epochs: int) -> None:
    """The store holds the sweep's ``runs`` runs, each completed with its model after ``epochs``."""
    stored = stored_runs(store, sweep_id)
    assert len(stored) == runs and {r.status for r in stored} == {"completed"}
    assert all(r.model_path is not None and r.epochs_done == epochs for r in stored)
