"""Saved models: round trip, atomic writes and clear errors for files that are not models."""

from __future__ import annotations

import numpy as np
import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ModelFileError
from nntui.engine.network import Network
from nntui.store.model_file import load_model, save_model


def test_round_trip_keeps_weights_config_seed_and_history(tmp_path):
    net = Network([784, 30, 10], seed=3)
    cfg = TrainConfig(eta=0.5, seed=3)
    history = [{"epoch": 1, "correct": 9000, "total": 10000}]
    path = tmp_path / "net.npz"
    save_model(path, net, config=cfg, seed=3, history=history)
    loaded = load_model(path)
    for a, b in zip(
        net.weights + net.biases, loaded.network.weights + loaded.network.biases, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert loaded.network.sizes == [784, 30, 10]
    assert (loaded.config, loaded.seed, loaded.history, loaded.epochs_done) == (cfg, 3, history, 1)
    x = np.random.default_rng(0).random((784, 3), dtype=np.float32)
    np.testing.assert_array_equal(net.feedforward(x), loaded.network.feedforward(x))
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]  # no temporary file left


def test_a_failed_save_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    save_model(path, Network([784, 10], seed=1))
    good = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="No space left"):
        save_model(path, Network([784, 10], seed=2))
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an nntui model file"),
        (b"this is not a zip archive", "not an nntui model file"),
        (b"PK\x03\x04corrupted", "not an nntui model file"),
    ],
)
def test_files_that_are_not_models_are_refused_with_the_file_name(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_missing_directory_and_truncated_files(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(ModelFileError, match="is a directory"):
        load_model(tmp_path)
    path = tmp_path / "net.npz"
    save_model(path, Network([784, 30, 10], seed=1))
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="not an nntui model file"):
        load_model(path)


def test_a_plain_npz_or_mismatched_arrays_are_refused(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.zeros(3))
    with pytest.raises(ModelFileError, match="no readable metadata"):
        load_model(plain)
    path = tmp_path / "net.npz"
    save_model(path, Network([784, 30, 10], seed=1))
    with np.load(path) as f:
        arrays = dict(f)
    arrays["w0"] = np.zeros((20, 784), np.float32)  # another architecture's weights
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match=r"w0 has shape \(20, 784\)"):
        load_model(path)
