"""The book's lists of ``(x, y)`` pairs as the engine's arrays, checked on the way.

The book feeds its network Python lists of column vectors; the engine wants one
matrix of images and one of desired outputs. Every check happens here, before
any training, so a wrong list fails at once with one sentence that says what is
wrong and what is allowed, never with a NumPy error from deep inside an epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NoReturn

import numpy as np

# Numeric kinds an image or desired output may have: bool, signed, unsigned, float.
_NUMERIC = "biuf"


def check_list(data: Any, name: str) -> None:
    """Raise `TypeError` unless ``data`` is a list-like sequence of pairs (not a zip)."""
    if isinstance(data, (str, bytes, np.ndarray)) or not isinstance(data, Sequence):
        hint = " (in Python 3 zip() is an iterator: wrap it in list(...))" if _is_iter(data) else ""
        raise TypeError(
            f"{name} must be a list of (x, y) pairs, like mnist_loader.load_data_wrapper() "
            f"returns; got {_kind(data)}{hint}"
        )


def training_arrays(
    data: Sequence[Any], n_in: int, n_out: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Return images (n, n_in), one per row, and desired outputs (n, n_out).

    Each x is an (n_in, 1) column (or a flat (n_in,) vector) and each y an
    (n_out, 1) column, like ``mnist_loader.vectorized_result(label)``. float32
    images (the loader's) stay float32, half the memory of float64, and are cast
    exactly mini-batch by mini-batch; others become ``dtype``. y is ``dtype``.
    """
    source, rows, y = training_images(data, n_in, n_out, dtype)
    return (source if rows is None else source[rows]), y


def training_images(
    data: Sequence[Any], n_in: int, n_out: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """`training_arrays` without copying images that already are rows of one array.

    Returns ``(source, rows, y)``: pair i's image is ``source[rows[i]]``, or
    ``source[i]`` when ``rows`` is None. ``mnist_loader``'s columns are views of
    the rows of one array, and `SGD` reads them there: no copy of the training
    set, which on a machine that hands memory out slowly costs more than the
    whole lookup (a fresh 157 MB array: 0.3 s here). Other lists are copied.
    """
    check_list(data, "training_data")
    if len(data) == 0:
        raise ValueError("training_data is empty: give it at least one (x, y) pair")
    xs, ys = _split_pairs(data, "training_data")
    found = _rows_of_one_array(xs, n_in)
    if found is None:
        x1, rows = _stack_images(xs, n_in, "training_data", dtype), None
    else:
        x1, rows = found
    if _is_label(ys[0]):
        raise TypeError(
            "training_data's y must be a desired output vector of shape "
            f"({n_out}, 1), like mnist_loader.vectorized_result(label); pair 0 has the label "
            f"{ys[0]!r} (plain labels belong in test_data)"
        )
    y = _stack(ys, (n_out,), "training_data", "y", None)
    _check_finite(x1, "training_data", "x", rows)
    _check_finite(y, "training_data", "y")
    return x1, rows, y.astype(dtype, copy=False)


def labelled_arrays(
    data: Sequence[Any], n_in: int, n_out: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return images (n, n_in) and labels (n,) of a list of ``(x, label)`` pairs.

    As in the book the label is an int; a desired-output vector (n_out, 1) is
    read as the digit where it is largest, so training data can be evaluated too.
    """
    check_list(data, name)
    xs, ys = _split_pairs(data, name)
    if len(xs) == 0:
        return np.empty((0, n_in)), np.empty(0, np.int64)
    found = _rows_of_one_array(xs, n_in)
    if found is None:
        x = _stack(xs, (n_in,), name, "x", None)
    else:
        x = found[0] if found[1] is None else found[0][found[1]]
    _check_finite(x, name, "x")
    if all(_is_label(y) for y in ys):
        labels = np.array(ys, dtype=np.int64)
        wrong = np.flatnonzero((labels < 0) | (labels >= n_out))
        if len(wrong):
            i = int(wrong[0])
            raise ValueError(
                f"{name}: the label of pair {i} is {ys[i]!r}; the network's labels are its "
                f"outputs, 0 to {n_out - 1}"
            )
    else:
        labels = np.argmax(_stack(ys, (n_out,), name, "label", None), axis=1)
    return x, labels


def column(a: Any, n: int, what: str, allow_batch: bool = True) -> np.ndarray:
    """``a`` as an (n, k) array of numbers, or a `ValueError`/`TypeError` naming ``what``."""
    arr = np.asarray(a) if not isinstance(a, np.ndarray) else a
    if arr.dtype.kind not in _NUMERIC:
        raise TypeError(f"{what} must be an array of numbers, got {arr.dtype} values")
    shape_ok = arr.ndim == 2 and arr.shape[0] == n and (allow_batch or arr.shape[1] == 1)
    if not shape_ok:
        allowed = f"({n}, 1)" + (f" or a batch ({n}, k)" if allow_batch else "")
        raise ValueError(f"{what} must have shape {allowed}, got shape {arr.shape}")
    return arr


def _split_pairs(data: Sequence[Any], name: str) -> tuple[list[Any], list[Any]]:
    try:
        xs = [x for x, _ in data]
        ys = [y for _, y in data]
    except (TypeError, ValueError):
        i = next(i for i, p in enumerate(data) if not _is_pair(p))
        raise TypeError(f"{name} must hold (x, y) pairs; item {i} is {_kind(data[i])}") from None
    return xs, ys


def _stack(
    items: list[Any], inner: tuple[int], name: str, what: str, dtype: np.dtype | None
) -> np.ndarray:
    """Stack columns (k, 1) or vectors (k,) into rows (n, k), or say which item is wrong."""
    (k,) = inner
    try:
        # Stacked as they are, then cast in one go: np.stack(dtype=...) casts item by
        # item, twenty times slower for 50,000 columns.
        arr = _concatenated(items, k) if _same_shape(items, k) else np.stack(items)
    except (ValueError, TypeError):
        arr = None
    if arr is None or arr.shape[1:] not in ((k, 1), (k,)) or arr.dtype.kind not in _NUMERIC:
        _raise_first_bad(items, k, name, what)
    arr = arr.reshape(len(items), k)
    return arr.astype(dtype, copy=False) if dtype is not None else arr


def _stack_images(xs: list[Any], k: int, name: str, dtype: np.dtype) -> np.ndarray:
    """The columns as rows of one (n, k) array."""
    stores = [dtype]
    if getattr(xs[0], "dtype", None) == np.float32 and dtype != np.float32:
        stores.insert(0, np.dtype(np.float32))  # tried first, kept if every x is float32
    column = np.shape(xs[0]) == (k, 1)  # an array's or a nested list's
    same = _same_shape(xs, k)
    for store in stores:
        x = np.empty((len(xs), k), store)
        try:
            # Straight into place: one pass, no temporary the size of the training set.
            # "safe" refuses to round a float64 x into float32 storage.
            casting: Literal["same_kind", "safe"] = "same_kind" if store == dtype else "safe"
            if same:
                _concatenated(xs, k, out=x, casting=casting)
            else:
                np.stack(xs, out=x[:, :, None] if column else x, casting=casting)
        except TypeError:
            continue
        except ValueError:
            break
        return x
    _raise_first_bad(xs, k, name, "x")


def _rows_of_one_array(xs: list[Any], k: int) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``(source, rows)`` when every x is a whole row of one float (N, k) array, else None.

    ``rows[i]`` is the row x_i views, found from where its data starts; ``rows``
    is None and ``source`` the rows' slice when they follow each other in order
    (a list fresh from the loader). Any other list, or one mixing in a single
    array of its own, is left to the copying path.
    """
    base = getattr(xs[0], "base", None)
    if not (
        type(base) is np.ndarray
        and base.ndim == 2
        and base.shape[1] == k
        and base.flags.c_contiguous
        and base.dtype in (np.float32, np.float64)
        and all(type(x) is np.ndarray and x.base is base for x in xs)
    ):
        return None
    # One row each: the row's length and type, its numbers next to each other.
    if {(x.shape, x.strides[0], x.dtype) for x in xs} not in (
        {((k, 1), base.itemsize, base.dtype)},
        {((k,), base.itemsize, base.dtype)},
    ):
        return None
    row_bytes = k * base.itemsize
    starts = np.fromiter((x.ctypes.data for x in xs), np.intp, len(xs)) - base.ctypes.data
    rows, within = np.divmod(starts, row_bytes)
    if within.any() or rows.min() < 0 or rows.max() >= len(base):
        return None
    first = int(rows[0])
    if np.array_equal(rows, np.arange(first, first + len(rows))):
        return base[first : first + len(rows)], None
    return base, rows


def _same_shape(items: list[Any], k: int) -> bool:
    """True when every item is an array of shape (k, 1), or every one (k,)."""
    shapes = {getattr(item, "shape", None) for item in items}
    return len(shapes) == 1 and shapes <= {(k, 1), (k,)} and isinstance(items[0], np.ndarray)


def _concatenated(
    items: list[np.ndarray],
    k: int,
    out: np.ndarray | None = None,
    casting: Literal["same_kind", "safe"] = "same_kind",
) -> np.ndarray:
    """Arrays all of shape (k, 1) or all (k,) end to end, as rows (n, k).

    `np.concatenate` copies them in one C loop; `np.stack` first makes a new view
    of each (50,000 of them for MNIST), which costs more than the copy. The shapes
    must have been checked equal: concatenation alone would take a (k - 1, 1) and a
    (k + 1, 1) column for two columns.
    """
    flat = items[0].ndim == 1
    if out is None:
        joined = np.concatenate(items, axis=0)
    else:
        joined = np.concatenate(
            items, axis=0, out=out.reshape(-1) if flat else out.reshape(-1, 1), casting=casting
        )
    return joined.reshape(len(items), k)


def _check_finite(arr: np.ndarray, name: str, what: str, rows: np.ndarray | None = None) -> None:
    """A NaN or infinity would make every weight NaN within a mini-batch: refuse it at once.

    With ``rows``, only ``arr[rows]`` is the data (pair i is row ``rows[i]``).
    """
    if rows is not None:
        lo, hi = int(rows.min()), int(rows.max())
        if arr.dtype.kind != "f" or np.isfinite(arr[lo : hi + 1].sum()):
            return  # the rows between the first and the last used: a superset, one pass
        arr = arr[rows]
    if arr.dtype.kind != "f" or np.isfinite(arr.sum()):
        return  # one cheap pass; only a non-finite sum needs the row-by-row look
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        hint = " (the book's pixels are from 0 to 1)" if what == "x" else ""
        raise ValueError(
            f"{name}: the {what} of pair {i} holds NaN or infinity; it must be finite numbers"
            + hint
        )


def _raise_first_bad(items: list[Any], k: int, name: str, what: str) -> NoReturn:
    for i, item in enumerate(items):
        arr = np.asarray(item) if isinstance(item, np.ndarray) else None
        if arr is None:
            try:
                arr = np.asarray(item)
            except ValueError:
                arr = np.empty(0, object)
        if arr.dtype.kind not in _NUMERIC:
            got = f"{arr.dtype} values" if isinstance(item, np.ndarray) else _kind(item)
            raise TypeError(
                f"{name}: the {what} of pair {i} must be an array of numbers, got {got}"
            )
        if arr.shape not in ((k, 1), (k,)):
            raise ValueError(
                f"{name}: the {what} of pair {i} has shape {arr.shape}, the network needs ({k}, 1)"
            )
    raise ValueError(f"{name}: the {what}s cannot be stacked into one array")  # pragma: no cover


def _is_label(y: Any) -> bool:
    return isinstance(y, (int, np.integer)) and not isinstance(y, bool)


def _is_pair(p: Any) -> bool:
    try:
        return len(p) == 2
    except TypeError:
        return False


def _is_iter(data: Any) -> bool:
    return hasattr(data, "__next__")


def _kind(obj: Any) -> str:
    if isinstance(obj, np.ndarray):
        return f"an array of shape {obj.shape}"
    return f"a {type(obj).__name__}"
