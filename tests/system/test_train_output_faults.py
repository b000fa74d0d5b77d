"""`nntui train` as a real process, when its terminal hangs up or its stdout dies.

A closed SSH session (SIGHUP), a reader that stops reading (``| head -1``) and
a full disk (``> /dev/full``) must not cost the model, the metrics or the
kept run, and must never print a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nntui.store.model_file import load_model
from nntui.store.runs import RunStore


def _training(data_file: Path, epochs: int, cwd: Path, **kwargs: Any) -> subprocess.Popen:
    """``nntui train`` in ``cwd``, its stdout and stderr piped as text."""
    return subprocess.Popen(
        _command(data_file, epochs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        **kwargs,
    )


def _command(data_file: Path, epochs: int) -> list[str]:
    return [
        sys.executable, "-m", "nntui", "train", "--data", str(data_file), "--seed", "1",
        "--train-size", "500", "--epochs", str(epochs), "--save", "m.npz", "--metrics", "m.json",
    ]  # fmt: skip


def _check_saved(tmp_path: Path, status: str, epochs: int | None = None) -> None:
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["status"] == status
    assert load_model(tmp_path / "m.npz").epochs_done == len(doc["epochs"])
    if epochs is not None:
        assert len(doc["epochs"]) == epochs
    (kept,) = RunStore().list()
    assert kept.status == status  # never left "running"
    assert kept.epochs_done == len(doc["epochs"])


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGHUP, 129), (signal.SIGTERM, 143), (signal.SIGINT, 130)]
)
def test_a_signal_saves_the_model_the_metrics_and_the_run(tiny_data_file, tmp_path, signum, code):
    unbuffered = os.environ | {"PYTHONUNBUFFERED": "1"}
    proc = _training(tiny_data_file, 10_000, tmp_path, env=unbuffered)
    deadline = time.monotonic() + 60
    seen = 0
    while seen < 2 and time.monotonic() < deadline:
        seen += proc.stdout.readline().startswith("Epoch ")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    _check_saved(tmp_path, "stopped")


def test_a_reader_that_stops_reading_costs_nothing(tiny_data_file, tmp_path):
    # What `nntui train ... | head -1` does: read one line, close the pipe.
    proc = _training(tiny_data_file, 4, tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert first.startswith("Epoch 1: ")
    assert "Traceback" not in err and "Exception ignored" not in err
    assert proc.returncode == 0, err
    assert "training goes on" in err
    _check_saved(tmp_path, "completed", epochs=4)


def test_a_full_stdout_is_reported_and_everything_is_still_saved(tiny_data_file, tmp_path):
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            _command(tiny_data_file, 3),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert proc.returncode == 1, proc.stderr  # the epoch lines were lost
    assert "nntui: warning: cannot write to stdout (No space left on device)" in proc.stderr
    _check_saved(tmp_path, "completed", epochs=3)


def test_a_run_on_a_cache_found_damaged_stops_as_failed(tiny_data_file, tmp_path):
    # The first run writes the cache; an array is then edited in place (same size, valid
    # header), so the next start maps it and only the background checksum can tell.
    first = subprocess.run(
        [*_command(tiny_data_file, 1)[:-4]], capture_output=True, text=True, cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    from nntui.data import cache

    cache.wait_for_writes()
    deadline = time.monotonic() + 60
    folder = tiny_data_file.parent / cache.CACHE_DIRNAME
    while not list(folder.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.1)  # the write was handed to a detached child at exit
    (labels,) = folder.glob("*.labels.npy")
    blob = bytearray(labels.read_bytes())
    blob[-1] = (blob[-1] + 1) % 10
    labels.write_bytes(bytes(blob))
    for run in RunStore().list():
        shutil.rmtree(run.path)

    proc = subprocess.run(
        _command(tiny_data_file, 10_000), capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "damaged" in proc.stderr and "failed: cached data was damaged" in proc.stderr
    (kept,) = RunStore().list()
    assert kept.status == "failed" and kept.note == "cached data was damaged"
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["status"] == "failed"  # the model and metrics are still written
    assert load_model(tmp_path / "m.npz").epochs_done == len(doc["epochs"])
