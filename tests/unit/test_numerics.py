"""Large learning rates: no NumPy warnings, and a clear stop when the weights blow up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from nntui.cli import app
from nntui.engine.config import TrainConfig
from nntui.engine.network import Network
from nntui.store.model_file import load_model, save_model

runner = CliRunner()


def train_strictly(data_file, cwd, *args: str) -> subprocess.CompletedProcess:
    """`nntui train` in a process where any warning is an error (a traceback, exit 1)."""
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "nntui", "train", "--data", str(data_file), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=os.environ | {"PYTHONWARNINGS": "error"},
        timeout=120,
    )


@pytest.mark.parametrize("eta", ["100", "1000", "1e6"])
def test_a_large_eta_trains_without_numpy_warnings(eta, tiny_data_file, tmp_path):
    quick = ["--train-size", "500", "--epochs", "2", "--seed", "1"]
    result = train_strictly(tiny_data_file, tmp_path, "--eta", eta, *quick)
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["Epoch 1", "Epoch 2"]
    assert "Warning" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_an_eta_past_float32s_range_stops_with_one_line_and_no_warnings(tiny_data_file, tmp_path):
    result = train_strictly(
        tiny_data_file, tmp_path, "--eta", "1e300", "--train-size", "500", "--epochs", "2"
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        "nntui: error: the weights became infinite or NaN in epoch 1 with eta 1e+300; "
        "try a smaller eta"
    ]
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("poison", [np.nan, np.inf])
def test_a_non_finite_network_stops_naming_the_epoch_and_still_writes_metrics(
    poison, tiny_data_file, tmp_path
):
    net = Network([784, 12, 10], seed=0)
    net.weights[0][3, 400] = poison
    record = {"correct": 50, "total": 100, "accuracy": 0.5, "train_cost": 0.3, "eta": 3.0}
    record |= {"mini_batch_size": 10, "train_seconds": 0.1, "eval_seconds": 0.01}
    history = [{"epoch": e, **record} for e in (1, 2)]
    config = TrainConfig(sizes=(784, 12, 10), epochs=2, eta=0.5, train_size=500, seed=1)
    model = tmp_path / "poisoned.npz"
    save_model(model, net, config=config, seed=1, history=history)
    metrics, out = tmp_path / "m.json", tmp_path / "out.npz"

    args = ["--resume", str(model), "--metrics", str(metrics), "--save", str(out)]
    result = runner.invoke(app, ["train", "--data", str(tiny_data_file), *args])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        "nntui: error: the weights became infinite or NaN in epoch 3 with eta 0.5; "
        "try a smaller eta"
    ]
    assert result.stdout == ""  # no "Epoch 3: ..." line for an epoch that diverged
    doc = json.loads(metrics.read_text())
    assert doc["status"] == "diverged"
    assert [e["epoch"] for e in doc["epochs"]] == [1, 2]
    assert load_model(out).epochs_done == 2
