"""Metrics files: JSON and CSV with the config and seed, written atomically."""

from __future__ import annotations

import csv
import json

import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ConfigError
from nntui.store.metrics import check_metrics_path, write_metrics

HISTORY = [
    {"epoch": 1, "correct": 9000, "total": 10000, "accuracy": 0.9, "train_cost": 0.1,
     "eta": 3.0, "mini_batch_size": 10, "train_seconds": 0.2, "eval_seconds": 0.01},
    {"epoch": 2, "correct": 9200, "total": 10000, "accuracy": 0.92, "train_cost": 0.07,
     "eta": 3.0, "mini_batch_size": 10, "train_seconds": 0.2, "eval_seconds": 0.01},
]  # fmt: skip


def test_json_holds_config_seed_status_and_epochs(tmp_path):
    path = tmp_path / "run.json"
    write_metrics(path, config=TrainConfig(seed=7), seed=7, history=HISTORY, status="completed")
    doc = json.loads(path.read_text())
    assert doc["seed"] == 7 and doc["status"] == "completed"
    assert doc["config"]["sizes"] == [784, 30, 10] and doc["config"]["eta"] == 3.0
    assert [e["correct"] for e in doc["epochs"]] == [9000, 9200]


def test_csv_has_one_row_per_epoch_with_the_config(tmp_path):
    path = tmp_path / "run.csv"
    write_metrics(path, config=TrainConfig(), seed=7, history=HISTORY, status="stopped")
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert rows[1]["correct"] == "9200" and rows[0]["seed"] == "7"
    assert rows[0]["sizes"] == "784-30-10"


def test_metrics_paths_are_checked_before_training(tmp_path):
    assert check_metrics_path(tmp_path / "a.CSV").name == "a.CSV"
    with pytest.raises(ConfigError, match=r"must end in \.json or \.csv"):
        check_metrics_path(tmp_path / "a.txt")
    with pytest.raises(ConfigError, match="does not exist"):
        check_metrics_path(tmp_path / "missing" / "a.json")
    (tmp_path / "d.json").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        check_metrics_path(tmp_path / "d.json")
