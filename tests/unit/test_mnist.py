"""The MNIST loaders: every format gives the same arrays, every broken file one DataError."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nntui.data.mnist import (
    Format,
    detect_format,
    find_in_dir,
    load_book_pickle,
    load_idx,
    load_keras_npz,
    load_mnist,
    locate,
)
from nntui.engine.dataset import MnistData
from nntui.engine.errors import DataError
from tests.fakedata import (
    expected_data,
    idx_bytes,
    synthetic_pixels,
    write_book_pickle,
    write_idx_files,
    write_keras_npz,
    write_pickle,
)

SPLITS = ("training", "validation", "test")


def assert_same(got: MnistData, want: MnistData) -> None:
    for name in SPLITS:
        g, w = got.split(name), want.split(name)
        assert g.images.dtype == np.float32 and g.labels.dtype == np.int64
        assert g.images.shape == (len(w), 784) and g.labels.shape == (len(w),)
        np.testing.assert_array_equal(g.images, w.images)
        np.testing.assert_array_equal(g.labels, w.labels)


# --- each format loads, and all give equal arrays -------------------------------------------


def test_book_pickle_loads_with_its_split(tmp_path):
    data = load_book_pickle(write_book_pickle(tmp_path / "mnist.pkl.gz"))
    assert (len(data.training), len(data.validation), len(data.test)) == (500, 100, 100)
    assert_same(data, expected_data())


def test_keras_npz_holds_out_the_last_sixth_for_validation(tmp_path):
    data = load_keras_npz(write_keras_npz(tmp_path / "mnist.npz"))
    assert_same(data, expected_data())
    # The validation images are the *last* of the official training images.
    x_train, _ = synthetic_pixels(600, seed=0)
    np.testing.assert_array_equal(data.validation.images[0] * 256, x_train[500].reshape(784))


@pytest.mark.parametrize("gz", [True, False])
def test_idx_files_load_from_their_directory(tmp_path, gz):
    assert_same(load_idx(write_idx_files(tmp_path, gz=gz)), expected_data())


def test_all_formats_give_equal_arrays_for_the_same_images(tmp_path):
    args = dict(n_train=1000, n_val=200, n_test=50, seed=7)
    book = load_mnist(write_book_pickle(tmp_path / "mnist.pkl.gz", **args))
    keras = load_mnist(write_keras_npz(tmp_path / "mnist.npz", **args))
    idx_gz = load_mnist(write_idx_files(tmp_path / "gz", gz=True, **args))
    idx_raw = load_mnist(write_idx_files(tmp_path / "raw", gz=False, **args))
    for other in (keras, idx_gz, idx_raw):
        assert_same(other, book)
    # pixel / 256 exactly, as the book stores it: every value times 256 is a whole byte.
    scaled = book.training.images * 256
    np.testing.assert_array_equal(scaled, np.round(scaled))
    assert scaled.max() <= 255


def test_format_is_detected_from_contents_not_the_name(tmp_path):
    book = write_book_pickle(tmp_path / "looks-like.npz")
    keras = write_keras_npz(tmp_path / "data.bin")
    assert detect_format(book) is Format.BOOK
    assert detect_format(keras) is Format.KERAS
    assert_same(load_mnist(book), expected_data())
    assert_same(load_mnist(keras), expected_data())


def test_idx_loads_from_the_path_of_any_one_of_its_files(tmp_path):
    write_idx_files(tmp_path, gz=True)
    for name in ("t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz"):
        assert locate(tmp_path / name) == (tmp_path, Format.IDX)
        assert_same(load_mnist(tmp_path / name), expected_data())


def test_idx_accepts_the_dotted_names_some_mirrors_use(tmp_path):
    write_idx_files(tmp_path, gz=False)
    for path in tmp_path.iterdir():
        path.rename(tmp_path / path.name.replace("-idx", ".idx"))
    assert sorted(p.name for p in tmp_path.iterdir())[0] == "t10k-images.idx3-ubyte"
    assert_same(load_mnist(tmp_path), expected_data())


def test_a_directory_prefers_the_books_file(tmp_path):
    write_idx_files(tmp_path)
    assert find_in_dir(tmp_path) == tmp_path
    write_keras_npz(tmp_path / "mnist.npz")
    assert find_in_dir(tmp_path) == tmp_path / "mnist.npz"
    write_book_pickle(tmp_path / "mnist.pkl.gz", seed=3)
    assert find_in_dir(tmp_path) == tmp_path / "mnist.pkl.gz"
    assert_same(load_mnist(tmp_path), expected_data(seed=3))


def test_loaded_arrays_are_writable(tmp_path):
    # Consumers shuffle and normalise in place; read-only views of file buffers would break them.
    for path in (
        write_book_pickle(tmp_path / "mnist.pkl.gz"),
        write_keras_npz(tmp_path / "mnist.npz"),
        write_idx_files(tmp_path / "idx"),
    ):
        data = load_mnist(path)
        assert data.training.images.flags.writeable and data.test.labels.flags.writeable


# --- Python 2 pickles, like the book's real file ------------------------------------------


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Writes str and bytes as Python 2 "str" (BINSTRING), as the book's Python 2 file does."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def save_py2_str(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str


def write_py2_pickle(path: Path, data: MnistData) -> Path:
    buffer = io.BytesIO()
    obj = tuple((s.images, s.labels) for s in (data.training, data.validation, data.test))
    _Py2Pickler(buffer, protocol=2).dump(obj)
    # numpy 1 (and the book's file) name the module numpy.core.multiarray.
    raw = buffer.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    assert b"numpy.core.multiarray\n_reconstruct" in raw and b"_codecs" not in raw
    path.write_bytes(gzip.compress(raw, compresslevel=1))
    return path


def test_python2_pickle_with_numpy1_names_loads(tmp_path):
    want = expected_data(60, 12, 10, seed=4)
    assert_same(load_mnist(write_py2_pickle(tmp_path / "mnist.pkl.gz", want)), want)


def test_float64_images_and_int32_labels_are_converted(tmp_path):
    want = expected_data(30, 6, 6)
    obj = tuple(
        (s.images.astype(np.float64), s.labels.astype(np.int32))
        for s in (want.training, want.validation, want.test)
    )
    assert_same(load_mnist(write_pickle(tmp_path / "mnist.pkl.gz", obj)), want)


# --- a hostile pickle cannot run code -------------------------------------------------------


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_a_pickle_that_calls_a_function_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = write_pickle(tmp_path / "mnist.pkl.gz", (_Exploit(marker), None, None))
    with pytest.raises(DataError, match=r"refusing to load (posix|os|nt)\.mkdir"):
        load_mnist(path)
    assert not marker.exists()


def test_a_pickle_using_codecs_for_anything_but_latin1_is_refused(tmp_path):
    raw = pickle.dumps((b"x", None, None), protocol=2).replace(b"latin1", b"base64")
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(DataError, match="only latin1"):
        load_mnist(path)


def test_a_pickle_may_not_allocate_bytes_of_its_choosing(tmp_path):
    raw = b"\x80\x02c__builtin__\nbytes\nJ\x00\xca\x9a\x3b\x85R."  # bytes(1_000_000_000)
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(DataError, match="not a valid MNIST pickle"):
        load_mnist(path)


# --- every broken file gives one DataError that names the file ----------------------------


def expect_error(path: Path, match: str) -> DataError:
    with pytest.raises(DataError, match=match) as info:
        load_mnist(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message or path.name in message
    return info.value


@pytest.mark.parametrize("name", ["mnist.pkl.gz", "mnist.npz", "train-images-idx3-ubyte"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    expect_error(tmp_path / name, "empty file")


def test_missing_file(tmp_path):
    expect_error(tmp_path / "mnist.pkl.gz", "no such file")


def test_not_gzip(tmp_path):
    (tmp_path / "mnist.pkl.gz").write_bytes(b"this is not gzip at all")
    expect_error(tmp_path / "mnist.pkl.gz", "not gzip-compressed")


def test_unknown_format(tmp_path):
    (tmp_path / "mnist.dat").write_bytes(b"hello")
    expect_error(tmp_path / "mnist.dat", "not a recognised MNIST file")


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_gzip(tmp_path, keep):
    raw = write_book_pickle(tmp_path / "whole.pkl.gz").read_bytes()
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(raw[: int(len(raw) * keep)])
    expect_error(path, "truncated")


def test_corrupt_gzip_body(tmp_path):
    raw = bytearray(write_book_pickle(tmp_path / "mnist.pkl.gz").read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = bytes(64)
    (tmp_path / "mnist.pkl.gz").write_bytes(bytes(raw))
    expect_error(tmp_path / "mnist.pkl.gz", "mnist.pkl.gz")


def test_gzip_of_something_that_is_not_a_pickle(tmp_path):
    (tmp_path / "mnist.pkl.gz").write_bytes(gzip.compress(b"just some text\n" * 10))
    expect_error(tmp_path / "mnist.pkl.gz", "not a valid MNIST pickle")


def _pickle_of(tmp_path: Path, obj: object) -> Path:
    return write_pickle(tmp_path / "mnist.pkl.gz", obj)


def _good_parts(n: int = 12):
    data = expected_data(10 * n, 2 * n, n)
    return [(s.images, s.labels) for s in (data.training, data.validation, data.test)]


def test_pickle_of_the_wrong_structure(tmp_path):
    expect_error(
        _pickle_of(tmp_path, {"x": 1}), r"expected a pickled \(training, validation, test\)"
    )
    parts = _good_parts()
    expect_error(_pickle_of(tmp_path, tuple(parts[:2])), "got a tuple of 2")
    expect_error(_pickle_of(tmp_path, (parts[0], parts[1], (1, 2, 3))), "test data should be")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda x, y: (x[:, :700], y), r"shape \(120, 700\), expected \(n, 784\)"),
        (lambda x, y: (x.reshape(120, 28, 28), y), r"shape \(120, 28, 28\)"),
        (lambda x, y: ((x * 256).astype(np.uint8), y), "should be a float array"),
        (lambda x, y: (x, y[:-1]), "120 training images but 119 labels"),
        (lambda x, y: (x, y.reshape(-1, 1)), "labels should be a 1-D integer array"),
        (lambda x, y: (x, y.astype(np.float32)), "labels should be a 1-D integer array"),
        (lambda x, y: (x, np.where(y == 3, 10, y)), r"labels range 0\.\.10"),
        (lambda x, y: (x * 255, y), r"pixels range .*expected values in \[0, 1\]"),
        (lambda x, y: (np.where(x > 0.5, np.nan, x), y), r"expected values in \[0, 1\]"),
        (lambda x, y: (x[:0], y[:0]), "the training set is empty"),
        (lambda x, y: ("images", y), "should be a float array, got str"),
    ],
)
def test_pickle_of_the_wrong_shape_or_values(tmp_path, mutate, match):
    parts = _good_parts()
    parts[0] = mutate(*parts[0])
    expect_error(_pickle_of(tmp_path, tuple(parts)), match)


def test_trailing_data_after_the_pickle(tmp_path):
    raw = gzip.decompress(write_book_pickle(tmp_path / "mnist.pkl.gz", 60, 12, 10).read_bytes())
    (tmp_path / "mnist.pkl.gz").write_bytes(gzip.compress(raw + b"extra"))
    expect_error(tmp_path / "mnist.pkl.gz", "unexpected data after the pickle")


def _npz(tmp_path: Path, **arrays) -> Path:
    path = tmp_path / "mnist.npz"
    with path.open("wb") as f:
        np.savez(f, **arrays)
    return path


def _official_arrays():
    x_train, y_train = synthetic_pixels(60, seed=0)
    x_test, y_test = synthetic_pixels(10, seed=1)
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"y_test": None}, "npz lacks y_test"),
        ({"x_train": lambda a: a.astype(np.float32) / 255}, "training images should be uint8"),
        ({"x_test": lambda a: a[:, :27, :27]}, r"test images have shape \(10, 27, 27\)"),
        ({"y_train": lambda a: a[:50]}, "60 training images but 50 labels"),
        ({"y_test": lambda a: a[:5]}, "10 test images but 5 labels"),
        ({"y_train": lambda a: a + 5}, r"labels range .*expected digits 0\.\.9"),
        ({"x_train": lambda a: a[:5]}, "too few to split off validation"),
    ],
)
def test_npz_of_the_wrong_shape_or_values(tmp_path, change, match):
    arrays = _official_arrays()
    for key, fn in change.items():
        if fn is None:
            del arrays[key]
        else:
            arrays[key] = fn(arrays[key])
    expect_error(_npz(tmp_path, **arrays), match)


def test_npz_holding_objects_is_refused_not_unpickled(tmp_path):
    arrays = _official_arrays()
    arrays["x_train"] = np.array([_Exploit(tmp_path / "pwned")], dtype=object)
    expect_error(_npz(tmp_path, **arrays), "not a valid npz file")
    assert not (tmp_path / "pwned").exists()


def test_npz_that_is_not_a_zip(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"nope, not a zip")
    expect_error(tmp_path / "mnist.npz", "not a zip archive")


def test_npz_whose_zip_is_corrupt(tmp_path):
    raw = write_keras_npz(tmp_path / "mnist.npz").read_bytes()
    (tmp_path / "mnist.npz").write_bytes(raw[: len(raw) // 2])
    expect_error(tmp_path / "mnist.npz", "not a valid npz file")


def _idx_dir(tmp_path: Path, **replace: bytes) -> Path:
    """Raw IDX files with some replaced by the given bytes."""
    write_idx_files(tmp_path, gz=False, n_train=50, n_val=10, n_test=10)
    for name, blob in replace.items():
        (tmp_path / name.replace("_", "-")).write_bytes(blob)
    return tmp_path


def test_idx_bad_magic(tmp_path):
    images, _ = synthetic_pixels(10, seed=1)
    directory = _idx_dir(tmp_path, **{"t10k_labels_idx1_ubyte": idx_bytes(images)})
    err = expect_error(directory, r"bad IDX magic 0x00000803, expected 0x00000801 for labels")
    assert "t10k-labels-idx1-ubyte" in str(err)


def test_idx_header_count_disagrees_with_body(tmp_path):
    images, _ = synthetic_pixels(10, seed=1)
    short = idx_bytes(images)[:-784]  # header says 10 images, body holds 9
    expect_error(
        _idx_dir(tmp_path, t10k_images_idx3_ubyte=short),
        r"header says 10 images \(7,840 bytes\) but the body has 7,056 bytes",
    )


def test_idx_extra_bytes_after_the_body(tmp_path):
    _, labels = synthetic_pixels(10, seed=1)
    expect_error(
        _idx_dir(tmp_path, t10k_labels_idx1_ubyte=idx_bytes(labels) + b"\0"),
        r"header says 10 labels \(10 bytes\) but the body has 11\+ bytes",
    )


def test_idx_images_and_labels_disagree(tmp_path):
    _, labels = synthetic_pixels(9, seed=1)
    expect_error(
        _idx_dir(tmp_path, t10k_labels_idx1_ubyte=idx_bytes(labels)), "10 test images but 9 labels"
    )


def test_idx_wrong_image_size(tmp_path):
    images = np.zeros((10, 27, 29), np.uint8)
    expect_error(
        _idx_dir(tmp_path, t10k_images_idx3_ubyte=idx_bytes(images)),
        r"test images have shape \(10, 27, 29\), expected \(n, 28, 28\)",
    )


def test_idx_absurd_count_is_refused_before_reading(tmp_path):
    header = bytes([0, 0, 8, 3]) + struct.pack(">III", 4_000_000_000, 28, 28)
    expect_error(
        _idx_dir(tmp_path, train_images_idx3_ubyte=header),
        "header claims 4,000,000,000 x 28 x 28 images, more than MNIST can be",
    )


def test_idx_truncated_header(tmp_path):
    blob = bytes([0, 0, 8, 3, 0, 0])
    expect_error(_idx_dir(tmp_path, train_images_idx3_ubyte=blob), "truncated IDX header")


def test_idx_truncated_gzip(tmp_path):
    write_idx_files(tmp_path, gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    expect_error(tmp_path, "train-images-idx3-ubyte.gz: truncated")


def test_idx_directory_missing_a_file(tmp_path):
    write_idx_files(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    expect_error(tmp_path, "incomplete IDX files, missing t10k-labels-idx1-ubyte")
    with pytest.raises(DataError, match="missing IDX file t10k-labels-idx1-ubyte"):
        load_idx(tmp_path / "train-images-idx3-ubyte.gz")


def test_directory_without_data(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    expect_error(tmp_path, "no MNIST data here")


def test_unreadable_file(tmp_path, monkeypatch):
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    expect_error(path, "permission denied")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_by_mode(tmp_path):
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    path.chmod(0)
    expect_error(path, "permission denied")


def test_a_pickle_that_unpacks_to_too_much_is_stopped(tmp_path, monkeypatch):
    import nntui.data.mnist

    monkeypatch.setattr(nntui.data.mnist, "_MAX_UNPACKED_BYTES", 10_000)
    expect_error(write_book_pickle(tmp_path / "mnist.pkl.gz", 60, 12, 10), "unpacks to more than")


def test_a_wheel_zip_is_not_mistaken_for_data(tmp_path):
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mnist/data/mnist.pkl.gz", b"not an array")
    expect_error(path, "npz lacks x_train, y_train, x_test, y_test")
