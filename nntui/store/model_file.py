"""Saving and loading a trained network, with the config and history that made it.

A model file is a NumPy ``.npz`` archive: the arrays ``w0, w1, ...`` and
``b0, b1, ...`` (the book's ``weights`` and ``biases``) and ``meta``, a JSON
string with the layer sizes, the training config, the seed and the per-epoch
history. It holds no pickles, so loading one never runs code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ConfigError, ModelFileError
from nntui.engine.network import Network
from nntui.store.atomic import atomic_write

FORMAT = "nntui-model"
VERSION = 1


@dataclass
class SavedModel:
    """What a model file holds."""

    network: Network
    config: TrainConfig | None = None
    seed: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per epoch

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
) -> None:
    """Write the network to ``path`` atomically (a temporary file, then a rename)."""
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "sizes": network.sizes,
        "config": config.to_dict() if config else None,
        "seed": seed,
        "history": history or [],
    }
    arrays = {f"w{i}": w for i, w in enumerate(network.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(network.biases)}
    with atomic_write(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Read a model file written by `save_model`; raise `ModelFileError` if it is not one."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise ModelFileError(f"{name}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{name}: is a directory, not a model file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except PermissionError:
        raise ModelFileError(f"{name}: permission denied") from None
    except Exception as exc:
        # A corrupt archive can fail anywhere in zipfile, zlib or NumPy's header
        # parser (even with SyntaxError); whatever it is, the file is not a model.
        raise ModelFileError(f"{name}: not an nntui model file ({_reason(exc)})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")[()]))
    except (KeyError, ValueError, TypeError):
        raise ModelFileError(f"{name}: not an nntui model file (no readable metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{name}: not an nntui model file (wrong format marker)")
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{name}: model file version {meta.get('version')} is not supported")
    sizes = meta.get("sizes")
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(isinstance(n, int) for n in sizes)):
        raise ModelFileError(f"{name}: the layer sizes in the file are invalid")
    layers = len(sizes) - 1
    try:
        weights = [_array(arrays, f"w{i}", (sizes[i + 1], sizes[i])) for i in range(layers)]
        biases = [_array(arrays, f"b{i}", (sizes[i + 1], 1)) for i in range(layers)]
    except ModelFileError as exc:
        raise ModelFileError(f"{name}: {exc}") from None
    network = Network.from_parameters(weights, biases)
    config = None
    if meta.get("config"):
        try:
            config = TrainConfig.from_dict(meta["config"]).validate()
        except (ConfigError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{name}: the saved training config is invalid ({exc})") from None
    history = meta.get("history") or []
    if not isinstance(history, list) or not all(
        isinstance(h, dict) and isinstance(h.get("epoch"), int) for h in history
    ):
        raise ModelFileError(f"{name}: the saved history is invalid")
    seed = meta.get("seed")
    if seed is not None and not (isinstance(seed, int) and 0 <= seed < 2**32):
        raise ModelFileError(f"{name}: the saved seed is invalid")
    return SavedModel(network=network, config=config, seed=seed, history=history)


def _array(arrays: dict[str, np.ndarray], key: str, shape: tuple[int, int]) -> np.ndarray:
    if key not in arrays:
        raise ModelFileError(f"array {key} is missing")
    a = arrays[key]
    if a.shape != shape:
        raise ModelFileError(f"array {key} has shape {a.shape}, the layer sizes need {shape}")
    if a.dtype not in (np.float32, np.float64):
        raise ModelFileError(f"array {key} has type {a.dtype}, expected float32 or float64")
    return np.ascontiguousarray(a)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
