"""Fuzzing the model loader: whatever the bytes, only `ModelFileError` comes out."""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nntui.engine.errors import ModelFileError
from nntui.engine.network import Network
from nntui.store.model_file import load_model, save_model


@functools.cache
def valid_model() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.npz"
        save_model(path, Network([784, 3, 10], seed=0), history=[{"epoch": 1, "correct": 5}])
        return path.read_bytes()


def _load(tmp_path, content: bytes) -> None:
    path = tmp_path / "fuzz.npz"
    path.write_bytes(content)
    try:
        load_model(path)
    except ModelFileError as exc:
        assert str(path) in str(exc)
        assert "\n" not in str(exc)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=2048))
def test_random_bytes_only_raise_model_file_error(tmp_path, content):
    _load(tmp_path, content)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_model_files_only_raise_model_file_error(tmp_path, data):
    raw = bytearray(valid_model())
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    _load(tmp_path, bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(meta=st.one_of(st.text(max_size=50), st.just('{"format": "nntui-model", "version": 1}')))
def test_foreign_metadata_only_raises_model_file_error(tmp_path, meta):
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(meta), w0=np.zeros((10, 784), np.float32))
    _load(tmp_path, buf.getvalue())


def test_a_pickled_object_inside_is_never_unpickled(tmp_path):
    buf = io.BytesIO()
    np.savez(buf, meta=np.array([{"evil": True}], dtype=object))
    path = tmp_path / "evil.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ModelFileError, match="not an nntui model file"):
        load_model(path)
    assert zipfile.is_zipfile(path)
