"""Small synthetic MNIST files in each format the loaders read, for fast tests.

The images are learnable: each digit is a bright blob at its own place on a
ring around the centre, jittered by a pixel and sprinkled with noise, so the
book's network gets most of them right after an epoch or two. All formats
written from the same arguments hold the same images, so `load_mnist` returns
equal arrays for each.

    from tests.fakedata import write_book_pickle
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")          # 500 / 100 / 100 images
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
from pathlib import Path

import numpy as np

from nntui.engine.dataset import MnistData, Split

N_TRAIN, N_VAL, N_TEST = 500, 100, 100

_ANGLES = np.linspace(0.0, 2 * np.pi, 10, endpoint=False)
# Blob centre (row, col) for each digit: a ring of radius 8 around the centre.
_CENTRES = np.stack([14 + 8 * np.sin(_ANGLES), 14 + 8 * np.cos(_ANGLES)], axis=1)


def synthetic_pixels(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` uint8 images (n, 28, 28) and their uint8 labels, the same for the same seed."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)  # balanced classes
    centres = _CENTRES[labels] + rng.integers(-1, 2, size=(n, 2))  # (n, 2)
    rows, cols = np.mgrid[0:28, 0:28]
    dist2 = (rows - centres[:, 0, None, None]) ** 2 + (cols - centres[:, 1, None, None]) ** 2
    blob = 255 * np.exp(-dist2 / (2 * 2.0**2))  # (n, 28, 28)
    noise = rng.uniform(0, 40, size=blob.shape)
    return np.clip(blob + noise, 0, 255).astype(np.uint8), labels


def _official(
    n_train: int = N_TRAIN, n_val: int = N_VAL, n_test: int = N_TEST, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # The npz and IDX formats hold training + validation as one 60,000-style
    # array; the loader holds out min(10,000, n / 6), so the sizes must agree.
    total = n_train + n_val
    if n_val != min(10_000, total // 6):
        raise ValueError(f"n_val must be min(10000, (n_train + n_val) // 6) = {total // 6}")
    x_train, y_train = synthetic_pixels(total, seed)
    x_test, y_test = synthetic_pixels(n_test, seed + 1)
    return x_train, y_train, x_test, y_test


def expected_data(
    n_train: int = N_TRAIN, n_val: int = N_VAL, n_test: int = N_TEST, seed: int = 0
) -> MnistData:
    """The `MnistData` every loader should return for files written with these arguments."""
    x_train, y_train, x_test, y_test = _official(n_train, n_val, n_test, seed)

    def split(x: np.ndarray, y: np.ndarray) -> Split:
        # An independent reference for the loaders: plain division, as the book did.
        return Split((x.reshape(len(x), 784) / 256).astype(np.float32), y.astype(np.int64))

    return MnistData(
        split(x_train[:n_train], y_train[:n_train]),
        split(x_train[n_train:], y_train[n_train:]),
        split(x_test, y_test),
    )


def write_book_pickle(
    path: str | Path,
    n_train: int = N_TRAIN,
    n_val: int = N_VAL,
    n_test: int = N_TEST,
    seed: int = 0,
) -> Path:
    """Write a gzipped pickle shaped like the book's mnist.pkl.gz; return its path."""
    data = expected_data(n_train, n_val, n_test, seed)
    obj = tuple((s.images, s.labels) for s in (data.training, data.validation, data.test))
    return write_pickle(path, obj)


def write_book_pickle_in(folder: Path) -> Path:
    """Make ``folder`` and write a book-shaped mnist.pkl.gz in it; return the file's path."""
    folder.mkdir()
    return write_book_pickle(folder / "mnist.pkl.gz")


def write_pickle(path: str | Path, obj: object, protocol: int = 2) -> Path:
    """Gzip-pickle any object (for tests of the loader's structure checks); return the path."""
    path = Path(path)
    with gzip.GzipFile(path, "wb", compresslevel=1, mtime=0) as f:
        pickle.dump(obj, f, protocol=protocol)
    return path


def write_keras_npz(path: str | Path, seed: int = 0, **sizes: int) -> Path:
    """Write an npz shaped like Keras' mnist.npz (uint8 images and labels); return its path.

    ``sizes``: ``n_train``, ``n_val``, ``n_test`` (the defaults of `expected_data`).
    """
    path = Path(path)
    x_train, y_train, x_test, y_test = _official(seed=seed, **sizes)
    with path.open("wb") as f:  # a file object stops numpy appending ".npz" to the name
        np.savez_compressed(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def write_idx_files(directory: str | Path, gz: bool = True, seed: int = 0, **sizes: int) -> Path:
    """Write the four IDX files (official names, `.gz` if `gz`) into `directory`; return it.

    ``sizes`` as for `write_keras_npz`.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, y_test = _official(seed=seed, **sizes)
    for name, array in (
        ("train-images-idx3-ubyte", x_train),
        ("train-labels-idx1-ubyte", y_train),
        ("t10k-images-idx3-ubyte", x_test),
        ("t10k-labels-idx1-ubyte", y_test),
    ):
        blob = idx_bytes(array)
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(blob, compresslevel=1, mtime=0))
        else:
            (directory / name).write_bytes(blob)
    return directory


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX: magic 0x0000 08 <ndim>, big-endian dims, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
