"""``nntui sweep --continue`` keeps what was trained: stopped and failed runs go on from their
last model and shuffle state, not from epoch 1; ``--restart`` starts them again; the
output names which run continues from where. Deleting a running sweep is refused.

The model is sent to the client at most every 30 s; the tests set Dask's config key
``nntui.checkpoint-seconds`` (DASK_NNTUI__CHECKPOINT_SECONDS) lower so a run has sent
several within seconds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from nntui.engine.config import TrainConfig
from nntui.engine.events import EpochDone
from nntui.engine.training import Trainer
from nntui.store.runs import RunStore
from tests.system.test_sweep_cluster import NNTUI

EPOCHS = 300
AXES = ["--eta", "3", "--hidden", "10", "--epochs", str(EPOCHS), "--train-size", "300"]


def _env(runs_dir: Path) -> dict[str, str]:
    return {**os.environ, "NNTUI_RUNS": str(runs_dir), "DASK_NNTUI__CHECKPOINT_SECONDS": "0.2"}


def _start(tiny_data_file: Path, runs_dir: Path, seeds: int = 1) -> subprocess.Popen:
    args = [*AXES, "--seeds", str(seeds), "--workers", "1", "--data", str(tiny_data_file)]
    return subprocess.Popen(
        [NNTUI, "sweep", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(runs_dir),
    )


def _until_epoch(proc: subprocess.Popen, epoch: int) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if f": Epoch {epoch}:" in line:
            return
    raise AssertionError(f"no epoch {epoch}: {proc.stderr.read() if proc.stderr else ''}")


def _ctrl_c_at_epoch(tiny_data_file: Path, runs_dir: Path, epoch: int) -> None:
    """A one-run sweep stopped as Ctrl-C would, once it has reached ``epoch``."""
    proc = _start(tiny_data_file, runs_dir)
    try:
        _until_epoch(proc, epoch)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        proc.kill()


def _continue(tiny_data_file: Path, runs_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    (sweep,) = {r.sweep for r in RunStore(runs_dir).list()}
    return subprocess.run(
        [NNTUI, "sweep", "--continue", sweep, "--workers", "1", "--data", str(tiny_data_file),
         *extra],
        capture_output=True,
        text=True,
        env=_env(runs_dir),
        timeout=240,
    )  # fmt: skip


def _uninterrupted(tiny_data, seed: int) -> list[int]:
    config = TrainConfig(sizes=(784, 10, 10), eta=3.0, epochs=EPOCHS, train_size=300, seed=seed)
    with threadpool_limits(limits=1):
        return [e.correct for e in Trainer(tiny_data, config).run() if isinstance(e, EpochDone)]


def test_a_stopped_run_continues_from_its_last_epoch_as_if_never_stopped(
    tiny_data, tiny_data_file, tmp_path
):
    runs_dir = tmp_path / "runs"
    _ctrl_c_at_epoch(tiny_data_file, runs_dir, 20)
    (stopped,) = RunStore(runs_dir).list()
    assert stopped.status == "stopped" and 20 <= stopped.epochs_done < EPOCHS
    assert stopped.model_epoch == stopped.epochs_done  # the model came back at the end

    result = _continue(tiny_data_file, runs_dir)
    assert result.returncode == 0, result.stderr
    assert f"continues from epoch {stopped.epochs_done}" in result.stderr
    first = re.search(r": Epoch (\d+):", result.stdout)
    assert first is not None and int(first.group(1)) == stopped.epochs_done + 1
    (done,) = RunStore(runs_dir).list()
    assert done.name == stopped.name and done.status == "completed"  # the same record
    assert [r["epoch"] for r in done.history] == list(range(1, EPOCHS + 1))
    # Its model and shuffles went on where they were: the same epochs as one long run.
    assert [r["correct"] for r in done.history] == _uninterrupted(tiny_data, done.seed)


def test_a_killed_sweep_continues_from_the_last_model_that_reached_it(tiny_data_file, tmp_path):
    runs_dir = tmp_path / "runs"
    proc = _start(tiny_data_file, runs_dir)
    try:
        _until_epoch(proc, 40)
        time.sleep(0.5)  # a checkpoint or two after that
        proc.send_signal(signal.SIGKILL)  # nothing sent at the end: only the checkpoints
        proc.wait(timeout=60)
    finally:
        proc.kill()
    (lost,) = RunStore(runs_dir).list()
    assert lost.model_epoch is not None and 1 <= lost.model_epoch <= lost.epochs_done
    result = _continue(tiny_data_file, runs_dir)
    assert result.returncode == 0, result.stderr
    assert f"continues from epoch {lost.model_epoch}" in result.stderr
    (done,) = RunStore(runs_dir).list()
    assert done.status == "completed"
    assert [r["epoch"] for r in done.history] == list(range(1, EPOCHS + 1))  # no gap, no twice


def test_stacked_runs_send_their_models_too_and_continue_from_them(tiny_data_file, tmp_path):
    runs_dir = tmp_path / "runs"
    proc = _start(tiny_data_file, runs_dir, seeds=2)  # one worker: both seeds in one stack
    try:
        _until_epoch(proc, 40)
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)  # only the checkpoints reached the client
        proc.wait(timeout=60)
    finally:
        proc.kill()
    lost = RunStore(runs_dir).list()
    assert len(lost) == 2
    assert all(r.model_epoch is not None and 1 <= r.model_epoch <= r.epochs_done for r in lost)
    result = _continue(tiny_data_file, runs_dir)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())  # the lines may wrap at the terminal's width
    for r in lost:
        assert f"continues from epoch {r.model_epoch} (run {r.name})" in said
    done = RunStore(runs_dir).list()
    assert sorted(r.name for r in done) == sorted(r.name for r in lost)
    for r in done:
        assert r.status == "completed"
        assert [e["epoch"] for e in r.history] == list(range(1, EPOCHS + 1))


def test_restart_trains_again_from_epoch_1_and_says_so(tiny_data_file, tmp_path):
    runs_dir = tmp_path / "runs"
    _ctrl_c_at_epoch(tiny_data_file, runs_dir, 10)
    result = _continue(tiny_data_file, runs_dir, "--restart")
    assert result.returncode == 0, result.stderr
    assert "starts again from epoch 1" in result.stderr
    assert re.search(r": Epoch 1:", result.stdout)
    (done,) = RunStore(runs_dir).list()
    assert done.status == "completed" and done.epochs_done == EPOCHS


def test_deleting_a_running_sweep_is_refused(tiny_data_file, tmp_path):
    runs_dir = tmp_path / "runs"
    proc = _start(tiny_data_file, runs_dir)
    try:
        _until_epoch(proc, 3)
        (running,) = RunStore(runs_dir).list()
        refused = subprocess.run(
            [NNTUI, "runs", "--sweep", running.sweep or "", "--delete"],
            capture_output=True,
            text=True,
            env=_env(runs_dir),
            timeout=60,
        )
        assert refused.returncode == 2, refused.stderr
        assert "still running" in refused.stderr and "Traceback" not in refused.stderr
        assert running.path.is_dir()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    (kept,) = RunStore(runs_dir).list()
    assert kept.status == "stopped" and kept.epochs_done >= 3


def test_runs_on_a_cache_found_damaged_fail_and_continue_on_the_rebuilt_one(
    tiny_data_file, tmp_path
):
    from nntui.data import cache

    runs_dir = tmp_path / "runs"
    # A first start writes the decoded-data cache; then one label is edited in place (same
    # size, valid header), so the sweep maps it and only the background checksum can tell.
    first = subprocess.run(
        [NNTUI, "train", "--data", str(tiny_data_file), "--epochs", "1", "--train-size", "100"],
        capture_output=True,
        text=True,
        env=_env(tmp_path / "other-runs"),
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    folder = tiny_data_file.parent / cache.CACHE_DIRNAME
    deadline = time.monotonic() + 60
    while not list(folder.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.1)  # the write may be finished by a detached child after exit
    (labels,) = folder.glob("*.labels.npy")
    blob = bytearray(labels.read_bytes())
    blob[-1] = (blob[-1] + 1) % 10
    labels.write_bytes(bytes(blob))

    proc = _start(tiny_data_file, runs_dir, seeds=2)
    _out, err = proc.communicate(timeout=240)
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "damaged" in err
    runs = RunStore(runs_dir).list()
    assert len(runs) == 2
    assert all(r.status == "failed" and r.note == f"failed: {cache.DAMAGED}" for r in runs)

    result = _continue(tiny_data_file, runs_dir)  # on the cache rebuilt meanwhile
    assert result.returncode == 0, result.stderr
    assert all(r.status == "completed" for r in RunStore(runs_dir).list())
