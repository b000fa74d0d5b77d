"""The data as it travels to the workers: once per worker, a quarter of its size when possible.

On this machine's own cluster (`pack` with ``local=True``), images that are a
memory map of the decoded-data cache do not travel at all: the workers map the
same file, so they start at once and share its pages instead of holding a
copy each. Otherwise, MNIST's pixels are whole 256ths (the book's file stores ``pixel / 256`` as
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
from pathlib import Path

import numpy as np

from nntui.engine.dataset import MnistData, Split

_EMPTY = Split(np.empty((0, 784), np.float32), np.empty(0, np.int64))


@dataclass(frozen=True)
class MappedImages:
    """Float32 images that a worker maps from a file on this machine: where they lie in it."""

    path: str
    offset: int  # bytes from the file's start
    shape: tuple[int, int]


@dataclass(frozen=True)
class Payload:
    """The splits a sweep needs, packed. ``token`` names it in each worker's cache."""

    token: str
    # name -> (images, labels), packed; images may be a reference to a mapped file
    splits: dict[str, tuple[np.ndarray | MappedImages, np.ndarray]]


def pack(
    data: MnistData, train_size: int, eval_sets: Iterable[str], *, local: bool = False
) -> Payload:
    """What the workers need of ``data`` for runs of at most ``train_size`` training images.

    ``local``: the workers run on this machine, so images mapped from a file are
    sent as a reference to it.
    """
    wanted = {"training": train_size, **{name: None for name in eval_sets}}
    splits: dict[str, tuple[np.ndarray | MappedImages, np.ndarray]] = {}
    for name, limit in wanted.items():
        split = data.split(name)
        images, labels = split.images[:limit], split.labels[:limit]
        mapped = _mapped(images) if local else None
        if labels.size == 0 or (labels.min() >= 0 and labels.max() <= 255):
            labels = labels.astype(np.uint8)
        if mapped is not None:
            splits[name] = (mapped, np.ascontiguousarray(labels))
            continue
        if images.dtype == np.float32:
            pixels = _as_pixels(images)
            if pixels is not None:
                images = pixels
        splits[name] = (np.ascontiguousarray(images), np.ascontiguousarray(labels))
    return Payload(uuid.uuid4().hex, splits)


def _mapped(images: np.ndarray) -> MappedImages | None:
    """Where ``images`` lie in the file they are a read-only memory map of, if they are."""
    base: object = images
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    if (
        not isinstance(base, np.memmap)
        or not base.filename
        or images.dtype != np.float32
        or images.ndim != 2
        or not images.flags.c_contiguous
        or base.mode != "r"  # a writable map could change under the workers
    ):
        return None
    offset = base.offset + (images.ctypes.data - base.ctypes.data)
    return MappedImages(
        str(base.filename), int(offset), (int(images.shape[0]), int(images.shape[1]))
    )


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
        if isinstance(images, MappedImages):
            images = _open_mapped(images)
        elif images.dtype == np.uint8:
            images = images.astype(np.float32) / np.float32(256)
        return Split(images, labels.astype(np.int64))

    return MnistData(split("training"), split("validation"), split("test"))


def _open_mapped(ref: MappedImages) -> np.ndarray:
    """The images a `MappedImages` names; `OSError` if the file is gone or too short."""
    rows, cols = ref.shape
    needed = ref.offset + rows * cols * np.dtype(np.float32).itemsize
    if Path(ref.path).stat().st_size < needed:
        raise OSError(f"{ref.path} is shorter than the sweep's data; was the cache cleared?")
    if rows == 0:
        return np.empty((0, cols), np.float32)
    return np.asarray(np.memmap(ref.path, np.float32, mode="r", offset=ref.offset, shape=ref.shape))


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
