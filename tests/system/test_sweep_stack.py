"""`nntui sweep --stack K` on a real local Dask cluster: stacks of runs per worker."""

from __future__ import annotations

from nntui.store.runs import RunStore
from nntui.sweep.events import RunEpoch, RunStarted, SweepState
from nntui.sweep.grid import Axes, build_runs
from nntui.sweep.manifest import stored_runs
from tests.system.sweeps import (
    assert_stored_completed,
    kill_a_worker_at_epoch_5,
    local_sweep,
    trained_alone,
)


def test_stacked_runs_report_per_run_and_equal_the_runs_trained_alone(tiny_data, tmp_path):
    runs = build_runs(Axes(eta="1,3", hidden="10", epochs=2, seeds=3, train_size=400))
    store = RunStore(tmp_path)
    sweep = local_sweep(runs, tiny_data, store, "sw-s", workers=2, stack=4)
    state = SweepState()
    started: list[int] = []
    epochs: dict[int, list[int]] = {}
    for event in sweep.events():
        state.apply(event)
        if isinstance(event, RunStarted):
            started.append(event.index)
        elif isinstance(event, RunEpoch):
            epochs.setdefault(event.index, []).append(event.record["epoch"])
    assert state.finished is not None and state.finished.status == "completed"
    assert sorted(started) == list(range(6))  # a start per run, not per stack
    assert epochs == {i: [1, 2] for i in range(6)}  # every epoch of every run, streamed
    assert [r.status for r in state.runs] == ["completed"] * 6
    assert len({r.worker for r in state.runs}) == 2  # 6 runs, 2 workers: two stacks of 3
    for run in state.runs:
        alone = trained_alone(tiny_data, run.spec.config)
        assert [r["correct"] for r in run.history] == alone  # same process kind, same numbers
    assert_stored_completed(store, "sw-s", runs=6, epochs=2)


def test_a_worker_killed_mid_stack_loses_only_its_stack(tiny_data, tmp_path):
    runs = build_runs(Axes(eta="3", hidden="30", epochs=150, seeds=4, train_size=500))
    store = RunStore(tmp_path)
    sweep = local_sweep(runs, tiny_data, store, "sw-ks", workers=2, stack=2)
    state = SweepState()
    killed = kill_a_worker_at_epoch_5(sweep, state)
    victim_worker_runs = [r for r in state.runs if r.attempt >= 2 or r.status == "failed"]
    # The killed run's stack (two runs) was lost together; the other stack went on.
    assert killed in [r.spec.index for r in victim_worker_runs]
    assert len(victim_worker_runs) == 2
    for r in state.runs:
        if r in victim_worker_runs:
            if r.status == "completed":  # retried from its first epoch
                assert [h["epoch"] for h in r.history] == list(range(1, 151))
            else:
                assert r.status == "failed" and "worker lost" in r.message
        else:
            assert r.status == "completed" and r.attempt == 1 and r.epochs_done == 150
    stored = stored_runs(store, "sw-ks")
    assert len(stored) == 4 and "running" not in {r.status for r in stored}
