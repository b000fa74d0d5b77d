"""A lost cluster is a failure, not a stop: ``kill -9`` of the Dask scheduler mid-sweep.

The sweep must end with exit 1 and one line of nntui's own; its runs are kept as
"failed: scheduler lost" with the epochs they did; Dask's own log lines show only
with --verbose.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

import pytest

from nntui.store.runs import RunStore
from tests.system.test_sweep_cluster import DASK, NNTUI, free_port


def _start(args: list[str], log) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, env=env)


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_a_killed_scheduler_fails_the_runs_and_keeps_their_epochs(
    tiny_data_file, tmp_path, verbose
):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        (tmp_path / "scheduler.log").open("w"),
    )
    worker = _start(
        [DASK, "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
        (tmp_path / "worker.log").open("w"),
    )
    runs_dir = tmp_path / "runs"
    sweep = None
    try:
        args = ["--eta", "3", "--hidden", "30", "--epochs", "3000", "--train-size", "500"]
        args += ["--data", str(tiny_data_file), "--scheduler", address]
        args += ["--verbose"] if verbose else []
        deadline = time.monotonic() + 60
        while sweep is None and time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                from distributed import Client

                with Client(address, timeout=5) as client:
                    client.wait_for_workers(1, timeout=30)
                sweep = subprocess.Popen(
                    [NNTUI, "sweep", *args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**os.environ, "NNTUI_RUNS": str(runs_dir)},
                )
        assert sweep is not None and sweep.stdout is not None
        for line in sweep.stdout:  # a finished epoch: the run is training
            if ": Epoch " in line:
                break
        scheduler.send_signal(signal.SIGKILL)
        start = time.monotonic()
        _, err = sweep.communicate(timeout=90)
        took = time.monotonic() - start
    finally:
        for proc in (sweep, worker, scheduler):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    assert sweep.returncode == 1, err
    assert took < 60  # Dask gives up reconnecting after a few seconds
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("nntui: error: lost the Dask scheduler")
    assert "--continue" in last
    dask_lines = [ln for ln in err.splitlines() if "distributed." in ln]
    assert bool(dask_lines) == verbose, err
    (kept,) = RunStore(runs_dir).list()
    assert kept.status == "failed" and kept.note == "failed: scheduler lost"
    assert kept.epochs_done >= 1
