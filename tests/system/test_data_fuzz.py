"""Fuzzing the MNIST loaders: whatever the bytes, only `DataError` comes out."""

from __future__ import annotations

import functools
import gzip
import io
import tempfile
import warnings
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nntui.data.mnist import load_mnist
from nntui.engine.dataset import MnistData
from nntui.engine.errors import DataError
from tests.fakedata import write_book_pickle, write_idx_files, write_keras_npz

# Tiny files (10/2/2 images) so every example loads in a millisecond or two.
SIZES = dict(n_train=10, n_val=2, n_test=2)
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAMES = ["mnist.pkl.gz", "mnist.npz", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz"]


@functools.cache
def valid_files() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_idx_files(tmp / "idx", gz=False, **SIZES)
        return {
            "pickle": gzip.decompress(write_book_pickle(tmp / "b.pkl.gz", **SIZES).read_bytes()),
            "npz": write_keras_npz(tmp / "k.npz", **SIZES).read_bytes(),
            **{p.name: p.read_bytes() for p in (tmp / "idx").iterdir()},
        }


def only_data_error(path: Path) -> None:
    """Loading `path` either works or raises a one-line DataError naming the file; never warns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data = load_mnist(path)
        except DataError as exc:
            message = str(exc)
            assert "\n" not in message
            assert path.name in message or str(path.parent) in message, message
        else:
            assert isinstance(data, MnistData)
    assert [str(w.message) for w in caught] == []


def mutate(data: st.DataObject, raw: bytes) -> bytes:
    """Overwrite, insert or delete a few bytes, and perhaps cut the end off."""
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        action = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "set" and buf:
            buf[i] = data.draw(st.integers(0, 255))
        elif action == "insert":
            buf[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        elif buf:
            del buf[i : i + data.draw(st.integers(1, 8))]
    if data.draw(st.booleans()):
        buf = buf[: data.draw(st.integers(0, len(buf)))]
    return bytes(buf)


@FUZZ
@given(content=st.binary(max_size=2048), name=st.sampled_from(NAMES))
def test_random_bytes(tmp_path, content, name):
    (tmp_path / name).write_bytes(content)
    only_data_error(tmp_path / name)


@FUZZ
@given(content=st.binary(max_size=512))
def test_random_bytes_behind_valid_magic(tmp_path, content):
    # Past the first check of each format, into the real parsers.
    for prefix, name in [
        (b"\x80\x02", "mnist.pkl.gz"),
        (b"\x00\x00\x08\x03", "train-images-idx3-ubyte"),
    ]:
        raw = prefix + content
        (tmp_path / name).write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
        only_data_error(tmp_path / name)


@FUZZ
@given(data=st.data())
def test_mutated_pickles(tmp_path, data):
    # Mutate the pickle itself, then gzip it, so the unpickler (not the CRC check) sees the damage.
    raw = mutate(data, valid_files()["pickle"])
    (tmp_path / "mnist.pkl.gz").write_bytes(gzip.compress(raw, compresslevel=1))
    only_data_error(tmp_path / "mnist.pkl.gz")


@FUZZ
@given(data=st.data())
def test_mutated_gzip_files(tmp_path, data):
    raw = gzip.compress(valid_files()["pickle"], compresslevel=1)
    (tmp_path / "mnist.pkl.gz").write_bytes(mutate(data, raw))
    only_data_error(tmp_path / "mnist.pkl.gz")


@FUZZ
@given(data=st.data())
def test_mutated_npz_members(tmp_path, data):
    # Rebuild the zip around mutated .npy members, so numpy's parser (not the CRC) sees the damage.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(valid_files()["npz"])) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.namelist():
            content = src.read(member)
            if data.draw(st.booleans()):
                content = mutate(data, content)
            dst.writestr(member, content)
    raw = out.getvalue()
    if data.draw(st.booleans()):
        raw = mutate(data, raw)
    (tmp_path / "mnist.npz").write_bytes(raw)
    only_data_error(tmp_path / "mnist.npz")


@FUZZ
@given(data=st.data())
def test_mutated_idx_files(tmp_path, data):
    files = valid_files()
    victim = data.draw(st.sampled_from(sorted(k for k in files if "ubyte" in k)))
    for name, raw in files.items():
        if "ubyte" in name:
            (tmp_path / name).write_bytes(mutate(data, raw) if name == victim else raw)
    only_data_error(tmp_path)
