"""Each epoch's training accuracy and layer statistics, from the Trainer to the metrics files."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.events import EpochDone
from nntui.engine.layers import layer_activations, layer_stats
from nntui.engine.training import Trainer
from nntui.store.metrics import epoch_record, write_metrics

CONFIG = TrainConfig(sizes=(784, 16, 10), epochs=2, train_size=500, seed=5, mini_batch_size=10)


@pytest.fixture(scope="module")
def run(tiny_data):
    trainer = Trainer(tiny_data, CONFIG)
    epochs = [e for e in trainer.run() if isinstance(e, EpochDone)]
    return trainer, epochs


def test_training_accuracy_is_measured_on_the_fixed_sample(run):
    trainer, epochs = run
    last = epochs[-1]
    assert last.train_total == len(trainer.train_sample) == 500  # all of a small training set
    net = trainer.network
    assert last.train_correct == net.evaluate(
        trainer.train_sample.images, trainer.train_sample.labels
    )
    assert 0.0 <= last.train_accuracy <= 1.0


def test_layer_stats_come_from_the_final_weights(run, tiny_data):
    trainer, epochs = run
    net = trainer.network
    acts = layer_activations(net.weights, net.biases, tiny_data.test.images)
    expected = layer_stats(net.weights, acts)
    got = epochs[-1].layers
    assert [s.layer for s in got] == [1, 2] and [s.neurons for s in got] == [16, 10]
    for g, e in zip(got, expected, strict=True):
        assert g.stuck == pytest.approx(e.stuck) and g.saturated == pytest.approx(e.saturated)
        assert g.weight_norm == pytest.approx(e.weight_norm, rel=1e-5)
        # 50 mini-batches an epoch, sampled one in 50: one sample, a real number.
        assert math.isfinite(g.grad_rms) and g.grad_rms > 0
    # The predictions come from the same forward pass.
    assert np.array_equal(epochs[-1].predictions, np.argmax(acts[-1], axis=1))


def test_per_sample_backprop_has_no_gradient_sizes(tiny_data):
    config = TrainConfig(
        sizes=(784, 8, 10), epochs=1, train_size=100, seed=1, backprop="per-sample"
    )
    epochs = [e for e in Trainer(tiny_data, config).run() if isinstance(e, EpochDone)]
    assert all(math.isnan(s.grad_rms) for s in epochs[0].layers)
    assert epoch_record(epochs[0])["layer1_grad_rms"] is None


def test_records_carry_the_new_columns_to_json_and_csv(run, tmp_path):
    _, epochs = run
    records = [epoch_record(e) for e in epochs]
    assert records[0]["train_total"] == 500
    for key in ("layer1_stuck", "layer2_saturated", "layer1_grad_rms", "layer2_weight_norm"):
        assert key in records[0]
    write_metrics(tmp_path / "m.json", config=CONFIG, seed=5, history=records, status="completed")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["epochs"][1]["train_accuracy"] == records[1]["train_accuracy"]
    # An epoch from an older run (resumed) lacks them: its cells stay empty.
    old = {k: records[0][k] for k in ("epoch", "correct", "total", "accuracy", "train_cost")}
    old |= {"eta": 3.0, "mini_batch_size": 10, "train_seconds": 0.1, "eval_seconds": 0.01}
    write_metrics(tmp_path / "m.csv", config=CONFIG, seed=5, history=[old, *records], status="x")
    rows = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert rows[0]["train_accuracy"] == "" and rows[1]["train_accuracy"] != ""
    assert float(rows[2]["layer2_weight_norm"]) == pytest.approx(records[1]["layer2_weight_norm"])
    assert rows[2]["sizes"] == "784-16-10"
