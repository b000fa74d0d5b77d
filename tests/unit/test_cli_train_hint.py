"""`nntui train` names a stuck output neuron in one plain sentence, and says nothing otherwise."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from nntui.cli import app
from nntui.engine.config import TrainConfig
from nntui.engine.events import EpochDone
from nntui.engine.training import Trainer
from nntui.store.metrics import epoch_record
from nntui.store.model_file import save_model

runner = CliRunner()
# A seed whose four epochs end with every digit predicted (others get stuck outputs here too).
CONFIG = TrainConfig(sizes=(784, 16, 10), epochs=4, train_size=500, seed=5)


@pytest.fixture(scope="module")
def four_epochs(tiny_data):
    trainer = Trainer(tiny_data, CONFIG)
    records = [epoch_record(e) for e in trainer.run() if isinstance(e, EpochDone)]
    return trainer.network, records


def _resume(tmp_path, tiny_data_file, network, records):
    path = tmp_path / "net.npz"
    save_model(path, network, config=CONFIG, seed=5, history=records)
    args = ["train", "--resume", str(path), "--epochs", "1", "--data", str(tiny_data_file)]
    return runner.invoke(app, args)


def test_a_dead_output_neuron_is_named_with_what_to_try(tmp_path, tiny_data_file, four_epochs):
    network, records = four_epochs
    dead = network.copy()
    dead.weights[-1][3] = 0.0
    dead.biases[-1][3] = -50.0  # sigma(-50): output 3 is ~0 for every image, and stays so
    result = _resume(tmp_path, tiny_data_file, dead, records)
    assert result.exit_code == 0, result.output
    hints = [line for line in result.stderr.splitlines() if "stuck" in line]
    assert len(hints) == 1, result.stderr
    assert "Output neuron 3 is stuck" in hints[0] and "another seed" in hints[0]


def test_a_healthy_run_gets_no_hint(tmp_path, tiny_data_file, four_epochs):
    network, records = four_epochs
    result = _resume(tmp_path, tiny_data_file, network, records)
    assert result.exit_code == 0, result.output
    assert "stuck" not in result.stderr
    assert "training accuracy" in result.stderr
