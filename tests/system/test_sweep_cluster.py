"""Sweeps on real Dask clusters: a LocalCluster, and `dask scheduler` + `dask worker` processes
on 127.0.0.1 driven with --scheduler; a worker killed with -9 mid-sweep; Ctrl-C of the CLI.

Small synthetic data and short runs keep this within CI's time; the real-data sweep is
benchmarks/sweep.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nntui.store.runs import RunStore
from nntui.sweep.events import SweepStarted, SweepState
from nntui.sweep.grid import Axes, build_runs
from nntui.sweep.manifest import stored_runs
from tests.system.sweeps import (
    assert_stored_completed,
    kill_a_worker_at_epoch_5,
    local_sweep,
    trained_alone,
)

BIN = Path(sys.executable).parent
NNTUI = str(BIN / "nntui")
DASK = str(BIN / "dask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_local_cluster_runs_the_grid_and_keeps_every_run(tiny_data, tmp_path):
    runs = build_runs(Axes(eta="1,3", hidden="10,0", epochs=2, seeds=2, train_size=400))
    store = RunStore(tmp_path)
    sweep = local_sweep(runs, tiny_data, store, "sw-t", workers=2)
    state = SweepState()
    for event in sweep.events():
        state.apply(event)
    assert state.finished is not None and state.finished.status == "completed"
    assert [r.status for r in state.runs] == ["completed"] * 8
    assert len({r.worker for r in state.runs}) == 2  # both workers took runs
    # Each run is the engine's Trainer with its seed: the same answers as training here.
    for run in state.runs[:2]:
        assert [r["correct"] for r in run.history] == trained_alone(tiny_data, run.spec.config)
    assert_stored_completed(store, "sw-t", runs=8, epochs=2)


def test_a_worker_killed_mid_sweep_loses_only_its_run(tiny_data, tmp_path):
    # Long enough runs (many small epochs) that the kill lands mid-run.
    runs = build_runs(Axes(eta="3", hidden="30", epochs=150, seeds=3, train_size=500))
    store = RunStore(tmp_path)
    sweep = local_sweep(runs, tiny_data, store, "sw-k", workers=2)
    state = SweepState()
    killed = kill_a_worker_at_epoch_5(sweep, state)
    victim = state.runs[killed]
    others = [r for r in state.runs if r is not victim]
    assert all(r.status == "completed" and r.epochs_done == 150 for r in others)
    if victim.status == "completed":  # started again from its first epoch
        assert victim.attempt >= 2
        assert [r["epoch"] for r in victim.history] == list(range(1, 151))
    else:
        assert victim.status == "failed" and "worker lost" in victim.message
    stored = stored_runs(store, "sw-k")
    assert len(stored) == 3 and "running" not in {r.status for r in stored}
    again = next(r for r in stored if r.seed == victim.spec.seed)
    assert again.status == victim.status
    if victim.status == "completed":
        assert [e["epoch"] for e in again.history] == list(range(1, 151))


@pytest.fixture
def dask_cluster(tmp_path):
    """`dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=(logs / "scheduler.log").open("w"),
            env=env,
        )
    ]
    for i in range(2):
        procs.append(
            subprocess.Popen(
                [
                    DASK,
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(logs / f"worker{i}.log").open("w"),
                env=env,
                cwd=tmp_path,  # not the checkout: nntui must come from the installed package
            )
        )
    try:
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()  # SIGTERM: the scheduler and workers close in order
        for p in reversed(procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)
            if p.poll() is None:
                p.kill()
                p.wait()


def _sweep_cli(args: list[str], runs_dir: Path, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "NNTUI_RUNS": str(runs_dir)}
    return subprocess.run([NNTUI, "sweep", *args], capture_output=True, text=True, env=env, **kw)


def test_the_same_sweep_through_a_scheduler_gives_the_same_accuracies(
    dask_cluster, tiny_data_file, tmp_path
):
    axes = ["--eta", "1,3", "--hidden", "10", "--epochs", "3", "--seeds", "2"]
    axes += ["--train-size", "400", "--data", str(tiny_data_file)]
    remote = _sweep_cli(
        [*axes, "--scheduler", dask_cluster, "--json", str(tmp_path / "r.json")],
        tmp_path / "runs-remote",
        timeout=120,
    )
    assert remote.returncode == 0, remote.stderr
    local = _sweep_cli(
        [*axes, "--workers", "2", "--json", str(tmp_path / "l.json")],
        tmp_path / "runs-local",
        timeout=120,
    )
    assert local.returncode == 0, local.stderr
    assert len([ln for ln in remote.stdout.splitlines() if ": Epoch " in ln]) == 4 * 3

    def accuracies(path: Path) -> dict:
        doc = json.loads(path.read_text())
        return {
            (tuple(r["config"]["sizes"]), r["config"]["eta"], r["seed"]): [
                e["correct"] for e in r["epochs"]
            ]
            for r in doc["runs"]
        }

    got = accuracies(tmp_path / "r.json")
    assert len(got) == 4 and all(len(v) == 3 for v in got.values())
    assert got == accuracies(tmp_path / "l.json")
    stored = RunStore(tmp_path / "runs-remote").list()
    assert len(stored) == 4 and {r.status for r in stored} == {"completed"}
    assert len({r.sweep for r in stored}) == 1


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tiny_data_file, tmp_path):
    result = _sweep_cli(
        [
            "--scheduler",
            f"tcp://127.0.0.1:{free_port()}",
            "--epochs",
            "1",
            "--train-size",
            "100",
            "--data",
            str(tiny_data_file),
        ],
        tmp_path / "runs",
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("nntui: error: cannot reach the Dask scheduler")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_whole_sweep_and_keeps_every_run(tiny_data_file, tmp_path, signum, code):
    runs_dir = tmp_path / "runs"
    env = {**os.environ, "NNTUI_RUNS": str(runs_dir)}
    args = ["--eta", "3", "--hidden", "30", "--epochs", "2000", "--seeds", "3", "--workers", "2"]
    args += ["--train-size", "500", "--data", str(tiny_data_file)]
    proc = subprocess.Popen(
        [NNTUI, "sweep", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the first finished epoch: the runs are training
            if ": Epoch " in line:
                break
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert "--continue" in err
    stored = RunStore(runs_dir).list()
    assert len(stored) == 3  # the run that had not started is kept too
    assert {r.status for r in stored} == {"stopped"}
    assert any(r.epochs_done > 0 for r in stored)
    assert all(r.epochs_done < 2000 for r in stored)
    if signum == signal.SIGINT:
        # Continued, the sweep runs only what was missing: here, every run, now short.
        sweep_id = stored[0].sweep
        assert sweep_id
        again = subprocess.run(
            [NNTUI, "runs", "--sweep", sweep_id], capture_output=True, text=True, env=env
        )
        assert again.returncode == 0 and "784-30-10 eta 3 m 10" in again.stdout


def test_continue_runs_only_what_a_stopped_sweep_left(tiny_data, tiny_data_file, tmp_path):
    from typer.testing import CliRunner

    from nntui.cli import app
    from nntui.sweep.manifest import Manifest, save_manifest

    # Runs long enough that none can finish before the stop below reaches it.
    runs = build_runs(Axes(eta="3", hidden="10", epochs=200, seeds=3, train_size=300))
    store = RunStore(tmp_path)
    save_manifest(store, Manifest("sw-c", "", tuple(runs)))
    sweep = local_sweep(runs, tiny_data, store, "sw-c", workers=1)
    for event in sweep.events():
        if isinstance(event, SweepStarted):
            sweep.stop()  # as soon as the runs are handed out
    before = stored_runs(store, "sw-c")
    assert len(before) == 3 and {r.status for r in before} == {"stopped"}

    result = CliRunner().invoke(
        app,
        ["sweep", "--continue", "sw-c", "--workers", "1", "--data", str(tiny_data_file)],
        env={"NNTUI_RUNS": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    after = stored_runs(store, "sw-c")
    assert len(after) == 3 and {r.status for r in after} == {"completed"}
    assert sorted(r.seed for r in after) == [1, 2, 3]
    assert all(r.epochs_done == 200 for r in after)
    again = CliRunner().invoke(
        app, ["sweep", "--continue", "sw-c"], env={"NNTUI_RUNS": str(tmp_path)}
    )
    assert again.exit_code == 0 and "nothing to continue" in again.stderr


def test_a_full_or_closed_stdout_loses_no_run_and_prints_no_traceback(tiny_data_file, tmp_path):
    args = ["--data", str(tiny_data_file), "--eta", "1,3", "--epochs", "2", "--train-size", "300"]
    env = {**os.environ, "NNTUI_RUNS": str(tmp_path / "full")}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [NNTUI, "sweep", *args, "--workers", "1"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 1, done.stderr  # what was asked for on stdout is not all there
    assert "cannot write to stdout (No space left on device)" in done.stderr
    assert "Traceback" not in done.stderr
    kept = RunStore(tmp_path / "full").list()
    assert len(kept) == 2 and {r.status for r in kept} == {"completed"}

    # A reader that stops after one line (`| head -1`): the sweep goes on to the end.
    env = {**os.environ, "NNTUI_RUNS": str(tmp_path / "head")}
    proc = subprocess.Popen(
        [NNTUI, "sweep", *args, "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and "Epoch 1" in proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    kept = RunStore(tmp_path / "head").list()
    assert len(kept) == 2 and {r.status for r in kept} == {"completed"}
