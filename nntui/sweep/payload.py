"""The data as it travels to the workers: once per worker, a quarter of its size when possible.

MNIST's pixels are whole 256ths (the book's file stores ``pixel / 256`` as
float32), so they travel as the uint8 pixels and are divided by 256 again on
the worker, which gives back exactly the same float32 values. Data that is
not in 256ths (some other file) travels as it is. Only the splits a sweep
uses are sent, and only as many training images as its largest run trains on.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from nntui.engine.dataset import MnistData, Split

_EMPTY = Split(np.empty((0, 784), np.float32), np.empty(0, np.int64))


@dataclass(frozen=True)
class Payload:
    """The splits a sweep needs, packed. ``token`` names it in each worker's cache."""

    token: str
    splits: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (images, labels), packed


def pack(data: MnistData, train_size: int, eval_sets: Iterable[str]) -> Payload:
    """What the workers need of ``data`` for runs of at most ``train_size`` training images."""
    wanted = {"training": train_size, **{name: None for name in eval_sets}}
    splits = {}
    for name, limit in wanted.items():
        split = data.split(name)
        images, labels = split.images[:limit], split.labels[:limit]
        if images.dtype == np.float32:
            pixels = _as_pixels(images)
            if pixels is not None:
                images = pixels
        if labels.size == 0 or (labels.min() >= 0 and labels.max() <= 255):
            labels = labels.astype(np.uint8)
        splits[name] = (np.ascontiguousarray(images), np.ascontiguousarray(labels))
    return Payload(uuid.uuid4().hex, splits)


def _as_pixels(images: np.ndarray, rows: int = 4096) -> np.ndarray | None:
    """``images * 256`` as uint8 if that is exact for every value, else None.

    In blocks of rows, so the temporaries stay in the cache rather than
    doubling the memory of 50,000 images.
    """
    out = np.empty(images.shape, np.uint8)
    for start in range(0, len(images), rows):
        scaled = images[start : start + rows] * np.float32(256)
        block = out[start : start + rows]
        np.copyto(block, scaled, casting="unsafe")
        # Equal after the round trip only if every value was a whole number in 0..255.
        if not np.array_equal(block, scaled):
            return None
    return out


def unpack(payload: Payload) -> MnistData:
    """The `MnistData` a `Payload` holds, float32 images in [0, 1] and int64 labels."""

    def split(name: str) -> Split:
        if name not in payload.splits:
            return _EMPTY
        images, labels = payload.splits[name]
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / np.float32(256)
        return Split(images, labels.astype(np.int64))

    return MnistData(split("training"), split("validation"), split("test"))


_cache: dict[str, MnistData] = {}
_cache_lock = threading.Lock()


def unpack_cached(payload: Payload) -> MnistData:
    """`unpack`, once per process: every later run on this worker reuses the arrays."""
    with _cache_lock:
        data = _cache.get(payload.token)
        if data is None:
            _cache.clear()  # one sweep's data at a time: a worker's memory is not endless
            data = _cache[payload.token] = unpack(payload)
        return data
