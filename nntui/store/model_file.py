"""Saving and loading a trained network, with the config and history that made it.

A model file is a NumPy ``.npz`` archive: the arrays ``w0, w1, ...`` and
``b0, b1, ...`` (the book's ``weights`` and ``biases``) and ``meta``, a JSON
string with the layer sizes, the training config, the seed and the per-epoch
history. It holds no pickles, so loading one never runs code.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeGuard

import numpy as np

from nntui.engine.config import (
    INPUTS,
    OUTPUTS,
    TrainConfig,
    check_memory,
    check_mini_batch_size,
    check_sizes,
)
from nntui.engine.errors import ConfigError, ModelFileError, reason
from nntui.engine.network import Network
from nntui.store.atomic import atomic_write, special_kind

FORMAT = "nntui-model"
VERSION = 1
MAX_META_BYTES = 256 << 20  # the metadata's JSON, history included
MAX_EPOCH = 10_000_000


@dataclass
class SavedModel:
    """What a model file holds."""

    network: Network
    config: TrainConfig | None = None
    seed: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per epoch
    # The shuffles' generator (`numpy.random.PCG64` state) where training left off,
    # so a resumed run goes on with the next shuffle instead of replaying them all.
    shuffle_state: dict[str, Any] | None = None

    @property
    def epochs_done(self) -> int:
        return int(self.history[-1]["epoch"]) if self.history else 0


def save_model(
    path: str | os.PathLike[str],
    network: Network,
    *,
    config: TrainConfig | None = None,
    seed: int | None = None,
    history: list[dict[str, Any]] | None = None,
    shuffle_state: dict[str, Any] | None = None,
) -> None:
    """Write the network to ``path`` atomically (a temporary file, then a rename)."""
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "sizes": network.sizes,
        "config": config.to_dict() if config else None,
        "seed": seed,
        "history": history or [],
    }
    if shuffle_state is not None:
        meta["shuffle_state"] = shuffle_state
    arrays: dict[str, Any] = {f"w{i}": w for i, w in enumerate(network.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(network.biases)}
    with atomic_write(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Read a model file written by `save_model`; raise `ModelFileError` (one line) if not one.

    Everything is checked before it is read: the archive's member list, each
    array's header (type and shape) against the layer sizes the metadata
    declares, so a file is never read beyond what that network needs.
    """
    path = Path(path)
    name = str(path)
    check_model_path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(archive)
    except ModelFileError as exc:
        raise ModelFileError(f"{name}: {exc}") from None
    except PermissionError:
        raise ModelFileError(f"{name}: permission denied") from None
    except zipfile.BadZipFile:
        raise ModelFileError(f"{name}: not an nntui model file (not an .npz archive)") from None
    except Exception as exc:
        # A corrupt archive can fail anywhere in zipfile, zlib or NumPy's header
        # parser (even with SyntaxError); whatever it is, the file is not a model.
        raise ModelFileError(f"{name}: not an nntui model file ({reason(exc)})") from None


def check_model_path(path: Path) -> None:
    """Refuse, in one line, a model path that is missing, unreadable or not a regular file.

    A FIFO would block the read forever and a device (``/dev/zero``) never ends;
    a folder that cannot be entered would raise PermissionError from ``stat``.
    """
    name = str(path)
    try:
        path.stat()
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such model file") from None
    except PermissionError:
        raise ModelFileError(f"{name}: permission denied") from None
    except OSError as exc:
        raise ModelFileError(f"{name}: cannot read ({reason(exc)})") from None
    kind = special_kind(path)
    if kind == "a directory":
        raise ModelFileError(f"{name}: is a directory, not a model file")
    if kind is not None:
        raise ModelFileError(f"{name}: is {kind}, not a model file")


def _read(archive: zipfile.ZipFile) -> SavedModel:
    members = {info.filename: info for info in archive.infolist()}
    if "meta.npy" not in members:
        raise ModelFileError("not an nntui model file (no readable metadata)")
    meta = _read_meta(archive, members["meta.npy"])
    sizes = meta.get("sizes")
    if not (isinstance(sizes, list) and all(_is_int(n) for n in sizes)):
        raise ModelFileError("the layer sizes in the file are invalid")
    _check_fits(tuple(sizes), meta.get("config"))
    layers = len(sizes) - 1
    expected = {f"w{i}.npy": (sizes[i + 1], sizes[i]) for i in range(layers)}
    expected |= {f"b{i}.npy": (sizes[i + 1], 1) for i in range(layers)}
    for member, info in members.items():
        if member != "meta.npy" and member not in expected:
            raise ModelFileError(f"unexpected array {member.removesuffix('.npy')} in the file")
        # The archive's own directory says how many bytes a member unpacks to: checked
        # before any is decompressed, so a few MB of zeros cannot unpack to gigabytes.
        if member in expected and info.file_size > _npy_bytes(expected[member]):
            raise ModelFileError(
                f"array {member.removesuffix('.npy')} unpacks to {info.file_size:,} bytes, "
                f"more than its layer sizes need"
            )
    arrays = {
        key: _read_array(archive, members.get(key), key.removesuffix(".npy"), shape)
        for key, shape in expected.items()
    }
    weights = [arrays[f"w{i}.npy"] for i in range(layers)]
    biases = [arrays[f"b{i}.npy"] for i in range(layers)]
    network = Network.from_parameters(weights, biases)
    config = None
    if meta.get("config"):
        if not isinstance(meta["config"], dict):
            raise ModelFileError("the saved training config is invalid")
        try:
            config = TrainConfig.from_dict(meta["config"]).validate()
        except (ConfigError, TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ModelFileError(f"the saved training config is invalid ({exc})") from None
    history = meta.get("history") or []
    if not isinstance(history, list) or not _valid_history(history):
        raise ModelFileError("the saved history is invalid")
    seed = meta.get("seed")
    if seed is not None and not (_is_int(seed) and 0 <= seed < 2**32):
        raise ModelFileError("the saved seed is invalid")
    shuffle_state = meta.get("shuffle_state")
    if shuffle_state is not None and not _valid_shuffle_state(shuffle_state):
        raise ModelFileError("the saved shuffle state is invalid")
    return SavedModel(
        network=network, config=config, seed=seed, history=history, shuffle_state=shuffle_state
    )


def _check_fits(sizes: tuple[int, ...], saved_config: Any) -> None:
    """The trainer's own limits and memory estimate, applied to the declared shapes."""
    if len(sizes) >= 2 and (sizes[0], sizes[-1]) != (INPUTS, OUTPUTS):
        raise ModelFileError(
            f"the network has {sizes[0]} inputs and {sizes[-1]} outputs; "
            f"MNIST needs {INPUTS} and {OUTPUTS}"
        )
    try:
        check_sizes(sizes)
    except ConfigError as exc:
        raise ModelFileError(f"the layer sizes in the file are invalid: {exc}") from None
    config = TrainConfig(sizes=sizes)
    if isinstance(saved_config, dict) and _is_int(saved_config.get("mini_batch_size")):
        # The saved mini-batch size counts in the estimate only within the trainer's limit.
        with contextlib.suppress(ConfigError, TypeError, ValueError):
            config = config.with_changes(
                mini_batch_size=check_mini_batch_size(saved_config["mini_batch_size"])
            )
    try:
        check_memory(config)
    except ConfigError as exc:
        raise ModelFileError(f"the network in the file does not fit: {exc}") from None


def _npy_bytes(shape: tuple[int, int], header: int = 4096) -> int:
    """The most an .npy member of `shape` may hold: float64 data and a generous header."""
    return shape[0] * shape[1] * 8 + header


def _read_meta(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    if info.file_size > MAX_META_BYTES:
        raise ModelFileError("not an nntui model file (its metadata is too large)")
    with archive.open(info) as f:
        dtype, shape, fortran = _header(f, "meta")
        if dtype.kind != "U" or shape != () or dtype.itemsize > MAX_META_BYTES:
            raise ModelFileError("not an nntui model file (no readable metadata)")
        text = _data(f, "meta", dtype, shape, fortran)
    try:
        meta = json.loads(str(text[()]))
    except (ValueError, TypeError, RecursionError):
        raise ModelFileError("not an nntui model file (no readable metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError("not an nntui model file (wrong format marker)")
    if meta.get("version") != VERSION:
        raise ModelFileError(f"model file version {meta.get('version')!r} is not supported")
    return meta


def _read_array(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, key: str, shape: tuple[int, int]
) -> np.ndarray:
    if info is None:
        raise ModelFileError(f"array {key} is missing")
    with archive.open(info) as f:
        dtype, found, fortran = _header(f, key)
        if found != shape:
            raise ModelFileError(f"array {key} has shape {found}, the layer sizes need {shape}")
        if dtype not in (np.float32, np.float64):
            raise ModelFileError(f"array {key} has type {dtype}, expected float32 or float64")
        # The header is checked: the data read is now bounded by what the network needs.
        a = _data(f, key, dtype, found, fortran)
    return np.ascontiguousarray(a)


def _data(
    f: IO[bytes], key: str, dtype: np.dtype, shape: tuple[int, ...], fortran: bool
) -> np.ndarray:
    """Read exactly the bytes the (checked) header promised, no more."""
    # Read straight into the array: one copy of the data in memory, never two.
    array = np.empty(shape, dtype, order="F" if fortran else "C")
    view = memoryview(array.reshape(-1, order="A").data).cast("B")
    done = 0
    while done < len(view):
        got = f.readinto(view[done:])  # type: ignore[attr-defined]
        if not got:
            raise ModelFileError(f"array {key} is cut short")
        done += got
    return array


def _header(f: IO[bytes], key: str) -> tuple[np.dtype, tuple[int, ...], bool]:
    """The dtype and shape an .npy member declares, read without reading its data."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"npy version {version}")
    except (ValueError, SyntaxError, TypeError, OverflowError):
        raise ModelFileError(f"array {key} has an unreadable header") from None
    if dtype.hasobject:
        raise ModelFileError(f"not an nntui model file (array {key} holds Python objects)")
    return dtype, tuple(shape), bool(fortran)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_history(history: list[Any]) -> bool:
    """Records with whole, sane counts, epochs counting up: hand edits cannot hang a resume."""
    previous = 0
    for record in history:
        if not isinstance(record, dict):
            return False
        epoch = record.get("epoch")
        if not (_is_int(epoch) and previous < epoch <= MAX_EPOCH):
            return False
        previous = epoch
        for key in ("correct", "total"):
            if key in record and not (_is_int(record[key]) and 0 <= record[key] <= 10**9):
                return False
        correct, total = record.get("correct"), record.get("total")
        if _is_int(correct) and _is_int(total) and correct > total:
            return False
        for key in ("accuracy", "train_cost", "train_seconds"):
            if key in record and not isinstance(record[key], int | float | None):
                return False
    return True


def _valid_shuffle_state(state: Any) -> bool:
    try:
        np.random.PCG64().state = state
    except (TypeError, ValueError, KeyError, OverflowError):
        return False
    return True
