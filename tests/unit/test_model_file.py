"""Saved models: round trip, atomic writes and clear errors for files that are not models."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import tracemalloc
import zipfile

import numpy as np
import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ModelFileError
from nntui.engine.network import Network
from nntui.engine.training import Trainer
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


# --- files that are not models, and crafted ones -----------------------------------------


def _one_line_refusal(path, *words: str) -> str:
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    message = str(caught.value)
    reason = message.removeprefix(str(path))
    assert "\n" not in message and "pickle" not in reason
    for word in words:
        assert word in message
    return message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("digit.png", b"\x89PNG\r\n\x1a\n" + bytes(200)),
        ("notes.txt", b"just some text\n" * 20),
        ("mnist.pkl.gz", gzip.compress(pickle.dumps(([1, 2], [3])))),
        (
            "raw.npy",
            b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (), }",
        ),
    ],
)
def test_a_file_that_is_not_a_model_gets_one_clear_line(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    _one_line_refusal(path, str(path), "not an nntui model file")


def test_a_pickled_npz_is_refused_without_mentioning_allow_pickle(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, meta=np.array({"format": "nntui-model"}, dtype=object))
    _one_line_refusal(path, "not an nntui model file")


def _with_members(path, extra: dict[str, bytes], replace_meta: dict | None = None) -> None:
    """Rewrite the model at ``path`` with more members, or other metadata."""
    with zipfile.ZipFile(path) as old:
        members = {n: old.read(n) for n in old.namelist()}
    if replace_meta is not None:
        buffer = io.BytesIO()
        np.save(buffer, np.array(json.dumps(replace_meta)))
        members["meta.npy"] = buffer.getvalue()
    members |= extra
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for n, data in members.items():
            new.writestr(n, data)


def test_a_huge_extra_array_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "net.npz"
    save_model(path, Network([784, 10], seed=1))
    big = io.BytesIO()
    np.save(big, np.zeros((200, 1 << 17)))  # 200 MB of zeros, a few hundred kB compressed
    _with_members(path, {"extra.npy": big.getvalue()})
    del big
    tracemalloc.start()
    try:
        _one_line_refusal(path, "unexpected array extra")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 << 20  # nothing like the 200 MB the member holds


def test_an_array_larger_than_its_layer_is_refused_by_its_header(tmp_path):
    path = tmp_path / "net.npz"
    save_model(path, Network([784, 10], seed=1))
    big = io.BytesIO()
    np.save(big, np.zeros((10, 784 * 30)))
    _with_members(path, {"w0.npy": big.getvalue()})
    message = _one_line_refusal(path, "array w0")
    # Refused by the archive's directory (before unpacking) or by the array's header.
    assert (
        "more than its layer sizes need" in message or "the layer sizes need (10, 784)" in message
    )


def _meta(**changes):
    meta = {
        "format": "nntui-model",
        "version": 1,
        "sizes": [784, 10],
        "config": None,
        "seed": 1,
        "history": [{"epoch": 1, "correct": 90, "total": 100}],
    }
    return meta | changes


@pytest.mark.parametrize(
    "meta",
    [
        _meta(history=[{"epoch": 1, "correct": "x", "total": 100}]),
        _meta(history=[{"epoch": 10**30, "correct": 1, "total": 100}]),
        _meta(history=[{"epoch": -3, "correct": 1, "total": 100}]),
        _meta(history=[{"epoch": 2}, {"epoch": 1}]),
        _meta(history=[{"epoch": 1, "correct": 101, "total": 100}]),
        _meta(history=[{"epoch": True}]),
        _meta(history={"epoch": 1}),
        _meta(sizes="784,10"),
        _meta(sizes=[784, 10**9]),
        _meta(sizes=[784, *[5] * 11, 10]),
        _meta(seed=-1),
        _meta(seed="7"),
        _meta(config={"eta": "fast"}),
        _meta(config=[1, 2]),
        _meta(shuffle_state={"bit_generator": "PCG64", "state": "nope"}),
        _meta(version=10**30),
    ],
)
def test_crafted_metadata_gets_one_line(tmp_path, meta):
    path = tmp_path / "net.npz"
    save_model(path, Network([784, 10], seed=1))
    _with_members(path, {}, replace_meta=meta)
    _one_line_refusal(path, str(path))


def test_the_shuffle_generator_is_saved_so_a_resume_replays_nothing(tmp_path, tiny_data):
    config = TrainConfig(train_size=500, epochs=2, seed=4)
    first = Trainer(tiny_data, config)
    list(first.run())
    path = tmp_path / "net.npz"
    save_model(path, first.network, config=config, seed=4, shuffle_state=first.shuffle_state)
    saved = load_model(path)
    assert saved.shuffle_state == first.shuffle_state
    # Resumed from the saved state, epoch 3 shuffles as an uninterrupted run's epoch 3 does.
    resumed = Trainer(
        tiny_data,
        config.with_changes(epochs=1),
        network=saved.network,
        first_epoch=3,
        shuffle_state=saved.shuffle_state,
    )
    whole = Trainer(tiny_data, config.with_changes(epochs=3))
    list(whole.run())
    list(resumed.run())
    for a, b in zip(whole.network.weights, resumed.network.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
