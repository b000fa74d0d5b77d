"""Load MNIST from the book's mnist.pkl.gz, Keras' mnist.npz or the original IDX files.

Every loader returns the same `MnistData` with the book's split: the 60,000
official training images become 50,000 for training and the last 10,000 for
validation; the 10,000 official test images are the test set. Pixels are
float32 `pixel / 256`, exactly what the book's file stores, so all three
formats give equal arrays for the same images.

Files are untrusted input: every problem is raised as a one-line `DataError`
that names the file, and the book's pickle is read with an unpickler that can
build numpy arrays and nothing else.
"""

from __future__ import annotations

import gzip
import importlib
import math
import os
import pickle
import stat
import struct
import warnings
import zlib
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nntui.data.files import read_failure
from nntui.data.streams import check_input, is_stream, spool
from nntui.engine.dataset import MnistData, Split
from nntui.engine.errors import DataError, reason

BOOK_FILENAME = "mnist.pkl.gz"
KERAS_FILENAME = "mnist.npz"
# sha256 of the book's data/mnist.pkl.gz (17,051,982 bytes).
BOOK_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

IMAGE_SIZE = 784  # 28 x 28
VALIDATION_SIZE = 10_000
IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

# The four IDX files by role. The official names use "-idx3-ubyte"; some
# redistributions (Kaggle) use ".idx3-ubyte". Either may be gzipped.
IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# Far above any real MNIST-like file (the book's pickle is 220 MB unpacked,
# EMNIST's largest IDX file 550 MB) but low enough that a small hostile file
# cannot make us allocate unbounded memory.
_MAX_UNPACKED_BYTES = 1 << 30

_GZIP_MAGIC = b"\x1f\x8b"
_IDX_MAGICS = {
    IDX_IMAGES_MAGIC.to_bytes(4, "big"): "images",
    IDX_LABELS_MAGIC.to_bytes(4, "big"): "labels",
}

# Reading broken archives can raise almost anything from the standard library;
# these are the ones that mean "this file is corrupt", turned into DataError.
_CORRUPT = (EOFError, OSError, ValueError, zlib.error, struct.error)


class Format(StrEnum):
    """The on-disk formats `load_mnist` understands."""

    BOOK = "book"  # the book's gzipped Python 2 pickle, mnist.pkl.gz
    KERAS = "keras"  # Keras' mnist.npz
    IDX = "idx"  # the original four IDX files, gzipped or not

    @property
    def description(self) -> str:
        """A short human name, for messages and `nntui data info`."""
        return {
            Format.BOOK: "the book's mnist.pkl.gz (gzipped pickle)",
            Format.KERAS: "Keras mnist.npz",
            Format.IDX: "original IDX files",
        }[self]


def load_mnist(path: str | Path) -> MnistData:
    """Load MNIST from `path`, whatever its format.

    `path` may be the book's pickle, a Keras npz, one of the four IDX files or
    a directory holding any of these. The format is detected from the
    contents, not the file name.
    """
    located, fmt = locate(path)
    loader: Callable[[Path], MnistData] = {
        Format.BOOK: load_book_pickle,
        Format.KERAS: load_keras_npz,
        Format.IDX: load_idx,
    }[fmt]
    return loader(located)


def locate(path: str | Path) -> tuple[Path, Format]:
    """Return the data file (or IDX directory) that `path` points at, and its format.

    A directory is searched with `find_in_dir`; one IDX file gives its directory.
    Only the first bytes are read, so this is cheap; the full checks happen
    when the file is loaded.
    """
    path = Path(path)
    st = check_input(path)
    if st is None:
        raise DataError(f"{path}: no such file or directory")
    if stat.S_ISDIR(st.st_mode):
        if not os.access(path, os.R_OK | os.X_OK):
            raise DataError(f"{path}: permission denied (the folder cannot be read)")
        found = find_in_dir(path)
        if found is None:
            raise DataError(_missing_in_dir_message(path))
        path = found
        if path.is_dir():
            return path, Format.IDX
    elif is_stream(st):
        # Opened as usual, a FIFO without a writer blocks and /dev/zero never ends.
        path = spool(path)
        if detect_format(path) is Format.IDX:
            raise DataError(
                f"{path}: IDX files come as a set of four; give their folder, not a stream"
            )
    fmt = detect_format(path)
    # One IDX file stands for the set of four around it.
    return (path.parent if fmt is Format.IDX else path), fmt


def find_in_dir(directory: str | Path) -> Path | None:
    """Return the MNIST data in `directory`, or None if it holds none.

    Prefers the book's file (it is the exact data the book trains on), then
    Keras' npz, then a complete set of IDX files (returned as the directory).
    """
    directory = Path(directory)
    for name in (BOOK_FILENAME, KERAS_FILENAME):
        if (directory / name).is_file():
            return directory / name
    if all(_find_idx_file(directory, base) is not None for base in IDX_NAMES.values()):
        return directory
    return None


def detect_format(path: str | Path) -> Format:
    """Tell the format of the file at `path` from its first bytes."""
    path = Path(path)
    head = _read_head(path, 4)
    if head.startswith(_GZIP_MAGIC):
        # Both the book's pickle and IDX files come gzipped: look inside.
        try:
            with gzip.open(path, "rb") as f:
                inner = f.read(4)
        except _CORRUPT as exc:
            raise DataError(f"{path}: not a valid gzip file ({reason(exc)})") from None
        return Format.IDX if inner in _IDX_MAGICS else Format.BOOK
    if head.startswith(b"PK"):
        return Format.KERAS
    if head in _IDX_MAGICS:
        return Format.IDX
    if path.name.endswith(".gz"):
        raise DataError(f"{path}: not gzip-compressed (the book's file is a gzipped pickle)")
    if path.suffix == ".npz":
        raise DataError(f"{path}: not a zip archive, so not a numpy .npz file")
    raise DataError(
        f"{path}: not a recognised MNIST file "
        "(expected the book's mnist.pkl.gz, Keras' mnist.npz or IDX files)"
    )


# --- the book's pickle -------------------------------------------------------------------


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    # Python 3 pickles bytes at protocol <= 2 as `_codecs.encode(text, "latin1")`;
    # allow exactly that use and no other codec.
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError("only latin1 byte strings are allowed")
    return text.encode("latin1", errors)


def _empty_bytes() -> bytes:
    # ...and empty bytes as `bytes()`: allowed without arguments only, since
    # `bytes(n)` would allocate n bytes of the file's choosing.
    return b""


def _numpy_globals() -> dict[tuple[str, str], Any]:
    try:
        multiarray = importlib.import_module("numpy._core.multiarray")
    except ImportError:  # numpy < 2 without the numpy._core alias
        multiarray = importlib.import_module("numpy.core.multiarray")
    _reconstruct, scalar = multiarray._reconstruct, multiarray.scalar
    allowed: dict[tuple[str, str], Any] = {
        ("_codecs", "encode"): _latin1_encode,
        ("__builtin__", "bytes"): _empty_bytes,  # the Python 2 name pickle writes at protocol 2
        ("builtins", "bytes"): _empty_bytes,
    }
    # numpy 1 pickles name numpy.core.multiarray, numpy 2 names numpy._core.multiarray.
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed |= {
            (module, "_reconstruct"): _reconstruct,
            (module, "scalar"): scalar,
            (module, "ndarray"): np.ndarray,
            (module, "dtype"): np.dtype,
        }
    allowed |= {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    return allowed


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can only build numpy arrays, so a hostile file cannot run code."""

    _allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


class _Reader(Protocol):
    """A binary file as the readers here use it: gzip's, or a plain one."""

    def read(self, size: int, /) -> bytes: ...

    def readline(self, size: int, /) -> bytes: ...


class _BoundedReader:
    """Hands the unpickler at most `limit` bytes, so a gzip bomb fails instead of eating RAM."""

    def __init__(self, raw: _Reader, limit: int) -> None:
        self._raw = raw
        self._left = limit

    def _take(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise DataError(f"unpacks to more than {_MAX_UNPACKED_BYTES >> 20} MiB")
        return data

    def read(self, n: int = -1) -> bytes:
        return self._take(self._raw.read(self._left + 1 if n < 0 else min(n, self._left + 1)))

    def readline(self) -> bytes:
        return self._take(self._raw.readline(self._left + 1))


def load_book_pickle(path: str | Path) -> MnistData:
    """Load the book's `mnist.pkl.gz`: a gzipped pickle of three (images, labels) pairs.

    Any number of images per split is accepted (tests use small files); the
    structure, shapes, dtypes and value ranges are checked.
    """
    path = Path(path)
    _read_head(path, 2)  # a clear message for missing, empty or unreadable files
    try:
        with gzip.open(path, "rb") as f:
            # "bytes" keeps Python 2 strings (the array buffers) as bytes: numpy
            # accepts them directly, which saves decoding and re-encoding 200 MB.
            obj = _ArrayUnpickler(_BoundedReader(f, _MAX_UNPACKED_BYTES), encoding="bytes").load()
            trailing = f.read(1)  # reading to the end checks the gzip CRC
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    except gzip.BadGzipFile as exc:
        raise DataError(f"{path}: not a valid gzip file ({reason(exc)})") from None
    except EOFError as exc:
        raise DataError(f"{path}: truncated ({reason(exc)})") from None
    except Exception as exc:  # unpickling corrupt bytes can raise almost any type
        raise DataError(f"{path}: not a valid MNIST pickle ({reason(exc)})") from None
    if trailing:
        raise DataError(f"{path}: unexpected data after the pickle")

    if not (isinstance(obj, tuple | list) and len(obj) == 3):
        raise DataError(
            f"{path}: expected a pickled (training, validation, test) tuple, got {_describe(obj)}"
        )
    splits = []
    for name, part in zip(("training", "validation", "test"), obj, strict=True):
        if not (isinstance(part, tuple | list) and len(part) == 2):
            raise DataError(
                f"{path}: {name} data should be an (images, labels) pair, got {_describe(part)}"
            )
        images, labels = part
        if not isinstance(images, np.ndarray) or images.dtype.kind != "f":
            raise DataError(
                f"{path}: {name} images should be a float array, got {_describe(images)}"
            )
        if images.ndim != 2 or images.shape[1] != IMAGE_SIZE:
            raise DataError(
                f"{path}: {name} images have shape {images.shape}, expected (n, {IMAGE_SIZE})"
            )
        splits.append(_checked_split(path, name, images.astype(np.float32, copy=False), labels))
    return MnistData(*splits)


# --- Keras' npz ----------------------------------------------------------------------------


def load_keras_npz(path: str | Path) -> MnistData:
    """Load Keras' `mnist.npz` (x_train, y_train, x_test, y_test; uint8 28x28 images).

    The last 10,000 training images become the validation set, as in the book.
    """
    path = Path(path)
    _read_head(path, 4)
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        # allow_pickle=False: an npz may only hold plain arrays, never objects.
        # Odd headers make numpy warn; this module reports problems only by raising.
        # The file is opened here because np.load leaks its own handle if the zip is bad.
        with warnings.catch_warnings(), path.open("rb") as f, np.load(f, allow_pickle=False) as npz:
            warnings.simplefilter("ignore")
            missing = [k for k in keys if k not in npz.files]
            if missing:
                has = ", ".join(npz.files) or "nothing"
                raise DataError(f"{path}: npz lacks {', '.join(missing)} (has: {has})")
            arrays = {k: npz[k] for k in keys}
    except DataError:
        raise
    except Exception as exc:  # zipfile and numpy raise many types on corrupt input
        raise DataError(f"{path}: not a valid npz file ({reason(exc)})") from None
    return _official_split(
        path, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]
    )


# --- the original IDX files ----------------------------------------------------------------


def load_idx(path: str | Path) -> MnistData:
    """Load the four original IDX files from a directory, or from the directory of one of them.

    Files may be gzipped or not. The last 10,000 training images become the
    validation set, as in the book.
    """
    path = Path(path)
    directory = path if path.is_dir() else path.parent
    if not directory.is_dir():
        raise DataError(f"{path}: no such file or directory")
    files = {}
    for role, base in IDX_NAMES.items():
        found = _find_idx_file(directory, base)
        if found is None:
            raise DataError(f"{directory}: missing IDX file {base} (or {base}.gz)")
        files[role] = found
    return _official_split(
        directory,
        _read_idx(files["train_images"], IDX_IMAGES_MAGIC),
        _read_idx(files["train_labels"], IDX_LABELS_MAGIC),
        _read_idx(files["test_images"], IDX_IMAGES_MAGIC),
        _read_idx(files["test_labels"], IDX_LABELS_MAGIC),
    )


def idx_files(directory: str | Path, every_spelling: bool = False) -> list[Path]:
    """The IDX files in `directory` that `load_idx` would read (some may be missing).

    With `every_spelling`, also the other spellings of the same files (gzipped
    or not, "-idx" or ".idx") that are shadowed by the ones read.
    """
    directory = Path(directory)
    found = []
    for base in IDX_NAMES.values():
        present = [directory / n for n in _idx_spellings(base) if (directory / n).is_file()]
        found += present if every_spelling else present[:1]
    return found


def _idx_spellings(base: str) -> tuple[str, ...]:
    dotted = base.replace("-idx", ".idx")
    return (base, base + ".gz", dotted, dotted + ".gz")


def _find_idx_file(directory: Path, base: str) -> Path | None:
    for name in _idx_spellings(base):
        if (directory / name).is_file():
            return directory / name
    return None


def _read_idx(path: Path, magic: int) -> np.ndarray:
    kind = "images" if magic == IDX_IMAGES_MAGIC else "labels"
    head = _read_head(path, 2)
    try:
        with gzip.open(path, "rb") if head == _GZIP_MAGIC else path.open("rb") as f:
            header = f.read(4)
            found = int.from_bytes(header, "big")
            if len(header) < 4 or found != magic:
                raise DataError(
                    f"{path}: bad IDX magic {found:#010x}, expected {magic:#010x} for {kind}"
                )
            ndim = header[3]
            dims = struct.unpack(f">{ndim}I", _read_exactly(f, path, 4 * ndim))
            expected = math.prod(dims)
            if expected > _MAX_UNPACKED_BYTES:
                shape = " x ".join(f"{d:,}" for d in dims)
                raise DataError(f"{path}: header claims {shape} {kind}, more than MNIST can be")
            # Ask for one byte more than the header promises, to catch extra data
            # and (for gzip) to read through to the end-of-stream check.
            body = _read_at_most(f, expected + 1)
    except DataError:
        raise
    except gzip.BadGzipFile as exc:
        raise DataError(f"{path}: not a valid gzip file ({reason(exc)})") from None
    except EOFError as exc:
        raise DataError(f"{path}: truncated ({reason(exc)})") from None
    except _CORRUPT as exc:
        raise DataError(f"{path}: cannot read ({reason(exc)})") from None
    if len(body) != expected:
        raise DataError(
            f"{path}: header says {dims[0]:,} {kind} ({expected:,} bytes) "
            f"but the body has {len(body):,}{'+' if len(body) > expected else ''} bytes"
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _read_at_most(f: _Reader, n: int) -> bytes:
    # In pieces: f.read(n) allocates n bytes up front, whatever the file really holds.
    parts = []
    while n > 0 and (part := f.read(min(n, 1 << 22))):
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _read_exactly(f: _Reader, path: Path, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise DataError(f"{path}: truncated IDX header")
    return data


# --- shared checks ------------------------------------------------------------------------


def _official_split(path: Path, x_train: Any, y_train: Any, x_test: Any, y_test: Any) -> MnistData:
    """Turn the official 60,000/10,000 arrays (uint8 pixels) into the book's three splits."""
    train_images = _pixels(path, "training", x_train)
    test_images = _pixels(path, "test", x_test)
    n = train_images.shape[0]
    # The book holds out the last 10,000 of 60,000; for smaller files (tests)
    # hold out the same sixth.
    n_val = min(VALIDATION_SIZE, n // 6)
    if n_val == 0:
        raise DataError(f"{path}: only {n} training images, too few to split off validation")
    labels = _labels(path, "training", y_train, n)
    return MnistData(
        training=_checked_split(path, "training", train_images[:-n_val], labels[:-n_val]),
        validation=_checked_split(path, "validation", train_images[-n_val:], labels[-n_val:]),
        test=_checked_split(path, "test", test_images, _labels(path, "test", y_test, None)),
    )


def _pixels(path: Path, name: str, x: Any) -> np.ndarray:
    """uint8 images of shape (n, 28, 28) or (n, 784) -> float32 (n, 784) holding pixel / 256."""
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
        raise DataError(f"{path}: {name} images should be uint8, got {_describe(x)}")
    if x.ndim not in (2, 3) or int(np.prod(x.shape[1:])) != IMAGE_SIZE:
        raise DataError(f"{path}: {name} images have shape {x.shape}, expected (n, 28, 28)")
    flat = x.reshape(x.shape[0], IMAGE_SIZE)
    # One pass from uint8 straight to float32; 1/256 is a power of two, so the
    # product equals pixel / 256 exactly, as the book's file stores it.
    return np.multiply(flat, np.float32(1 / 256), dtype=np.float32)


def _labels(path: Path, name: str, y: Any, n: int | None) -> np.ndarray:
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or y.ndim != 1:
        raise DataError(f"{path}: {name} labels should be a 1-D integer array, got {_describe(y)}")
    if n is not None and y.shape[0] != n:
        raise DataError(f"{path}: {n:,} {name} images but {y.shape[0]:,} labels")
    return y.astype(np.int64, copy=False)


def _checked_split(path: Path, name: str, images: np.ndarray, labels: Any) -> Split:
    labels = _labels(path, name, labels, images.shape[0])
    if images.shape[0] == 0:
        raise DataError(f"{path}: the {name} set is empty")
    low, high = images.min(), images.max()
    # NaN fails both comparisons, so this also rejects NaN pixels.
    if not (low >= 0.0 and high <= 1.0):
        raise DataError(f"{path}: {name} pixels range {low}..{high}, expected values in [0, 1]")
    if labels.min() < 0 or labels.max() > 9:
        raise DataError(
            f"{path}: {name} labels range {labels.min()}..{labels.max()}, expected digits 0..9"
        )
    return Split(images=images, labels=labels)


def _read_head(path: Path, n: int) -> bytes:
    """The first `n` bytes of `path`, with one clear error for missing/empty/unreadable files."""
    try:
        with path.open("rb") as f:
            head = f.read(n)
    except OSError as exc:
        raise read_failure(path, exc, "expected a file") from None
    if not head:
        raise DataError(f"{path}: empty file")
    return head


def _missing_in_dir_message(directory: Path) -> str:
    present = idx_files(directory)
    if present:
        missing = [base for base in IDX_NAMES.values() if _find_idx_file(directory, base) is None]
        return f"{directory}: incomplete IDX files, missing {', '.join(missing)}"
    return (
        f"{directory}: no MNIST data here "
        f"(expected {BOOK_FILENAME}, {KERAS_FILENAME} or the four IDX files)"
    )


def _describe(obj: Any) -> str:
    if isinstance(obj, np.ndarray):
        return f"{obj.dtype} array of shape {obj.shape}"
    if isinstance(obj, tuple | list):
        return f"a {type(obj).__name__} of {len(obj)}"
    return type(obj).__name__
