"""A model file's declared shapes meet the trainer's limits and memory estimate before any array
is unpacked, and loading holds about one copy of the arrays, not more.

The issue's row: a 2 MB file declaring 784,25000,20000,10 (zeros, compressed) had
`eval` at 4.2 GB. Other members of the class: too many layers, a layer above the
trainer's limit, a network within the limits but larger than the memory there is,
an array member whose unpacked size is larger than its shape needs, and metadata
that unpacks to more than the metadata may be.
"""

from __future__ import annotations

import itertools
import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nntui.engine import config as config_module
from nntui.engine.config import MAX_HIDDEN, MAX_HIDDEN_LAYERS, TrainConfig
from nntui.engine.errors import ConfigError, ModelFileError
from nntui.engine.network import Network
from nntui.store import model_file
from nntui.store.model_file import load_model, save_model


def craft(
    path: Path, sizes: list[int], meta_extra: dict | None = None, rows: int | None = None
) -> Path:
    """A deflated model file declaring `sizes`, its arrays all zeros: tiny on disk.

    With `rows`, each array holds only that many rows after its header: a file whose
    refusal must come from the declared shapes alone, before any data is read.
    """
    meta = {"format": "nntui-model", "version": 1, "sizes": sizes, "config": None,
            "seed": 1, "history": []} | (meta_extra or {})  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("meta.npy", "w") as f:
            np.save(f, np.array(json.dumps(meta)))
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            for name, shape in ((f"w{i}", (n_out, n_in)), (f"b{i}", (n_out, 1))):
                with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
                    np.lib.format.write_array_header_1_0(f, header)
                    row = bytes(8 * shape[1])
                    for _ in range(shape[0] if rows is None else min(rows, shape[0])):
                        f.write(row)
    return path


def _refused_cheaply(path: Path, *words: str) -> str:
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as caught:
            load_model(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    assert peak < 20 << 20, f"{peak:,} bytes allocated to refuse it"
    return message


def test_the_issues_file_is_refused_before_unpacking(tmp_path):
    # The arrays are cut short: were they read at all, the refusal would say so instead.
    path = craft(tmp_path / "huge.npz", [784, 25000, 20000, 10], rows=50)
    _refused_cheaply(path, "layer sizes", str(MAX_HIDDEN))


@pytest.mark.parametrize(
    ("sizes", "says"),
    [
        ([784, MAX_HIDDEN + 1, 10], f"1 to {MAX_HIDDEN} neurons"),
        ([784] + [1] * (MAX_HIDDEN_LAYERS + 1) + [10], f"at most {MAX_HIDDEN_LAYERS} hidden"),
        ([785, 30, 10], "MNIST needs 784 and 10"),
        ([784, 30, 11], "MNIST needs 784 and 10"),
        ([784], "at least"),
    ],
    ids=["wide", "deep", "inputs", "outputs", "one-layer"],
)
def test_the_loader_uses_the_trainers_limits(tmp_path, sizes, says):
    path = craft(tmp_path / "net.npz", sizes, rows=1)
    _refused_cheaply(path, says)
    # The very same sizes are refused by the trainer.
    with pytest.raises(ConfigError):
        TrainConfig(sizes=tuple(sizes)).validate()


def test_a_network_within_the_limits_but_not_the_memory_is_refused(tmp_path, monkeypatch):
    path = craft(tmp_path / "net.npz", [784, MAX_HIDDEN, MAX_HIDDEN, 10], rows=1)
    monkeypatch.setattr(config_module, "available_memory", lambda: 200 << 20)
    _refused_cheaply(path, "does not fit", "GB of memory")


def test_a_member_that_unpacks_to_more_than_its_shape_is_refused_unread(tmp_path):
    path = tmp_path / "net.npz"
    save_model(path, Network([784, 10], seed=1))
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    # A correct header, then 200 MB of zeros after it: deflated to a few hundred kB.
    members["w0.npy"] += bytes(200 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    members.clear()
    _refused_cheaply(path, "array w0", "more than its layer sizes need")


def test_metadata_that_unpacks_too_large_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(model_file, "MAX_META_BYTES", 1 << 20)
    path = craft(tmp_path / "net.npz", [784, 10], {"pad": "x" * (2 << 20)})
    _refused_cheaply(path, "metadata is too large")


def test_an_honest_file_loads_with_about_one_copy_of_its_arrays(tmp_path):
    net = Network([784, 1000, 10], seed=1)
    path = tmp_path / "net.npz"
    save_model(path, net)
    honest = sum(w.nbytes + b.nbytes for w, b in zip(net.weights, net.biases, strict=True))
    tracemalloc.start()
    try:
        saved = load_model(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(
        np.array_equal(a, b) for a, b in zip(saved.network.weights, net.weights, strict=True)
    )
    assert peak < 3 * honest, f"{peak:,} bytes to load {honest:,}"
