"""The book's ``network.py``: the same class, methods and data formats, on nntui's engine.

Type the chapter's lines and they work as printed::

    >>> import network
    >>> net = network.Network([784, 30, 10])
    >>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    Epoch 0: 9129 / 10000

The maths is the engine's (`nntui.engine.network`): sigmoid neurons, the
quadratic cost (Eq. 6) and mini-batch gradient descent (Eqs. 20, 21) with
backpropagation. What this module adds is the book's way of calling it:

* The same run as the book's code. The parameters come from the global
  ``np.random.randn``: first the biases, layer by layer, each (n_out, 1), then
  the weights, each (n_out, n_in). Each epoch Python's ``random.shuffle``
  reorders the caller's list in place and the mini-batches are consecutive
  slices of it. After ``random.seed(s); np.random.seed(s)`` the run takes the
  book's steps; float64 as in the book, so only last-bit rounding differs, and
  ``SGD(..., exact=True)`` removes even that (`nntui.engine.exact`): the book's
  very numbers, every rounding in its order.
* Fast: `Network.SGD` turns the lists into arrays once per call (the loader's
  images are read in place) and trains each mini-batch with one matrix-based
  backprop instead of a loop over samples.
* ``SGD(..., watch=True)`` opens nntui's dashboard on the very same call.
"""

from __future__ import annotations

import itertools
import math
import random
import warnings
from collections.abc import Iterator, MutableSequence, Sequence
from typing import Any

import numpy as np

from nntui.book import pairs
from nntui.engine import network as engine
from nntui.engine.config import available_memory
from nntui.engine.exact import ExactNetwork
from nntui.engine.network import sigmoid, sigmoid_prime

__all__ = ["Network", "sigmoid", "sigmoid_prime"]

DTYPES = (np.float64, np.float32)
EVAL_CHUNK = 2_000  # test images per forward pass when counting correct answers
GATHER_ROWS = 1_000  # training images gathered at a time, a few mini-batches' worth


class Network:
    """A feedforward network of sigmoid neurons, as in the book.

    ``Network([784, 30, 10])``: 784 inputs (one per pixel), 30 hidden neurons and
    10 outputs (one per digit). ``biases[l]`` is (sizes[l+1], 1) and
    ``weights[l]`` is (sizes[l+1], sizes[l]), drawn from N(0, 1) by
    ``np.random.randn`` like the book's. ``dtype=np.float32`` is an opt-in for
    speed; float64, the default, is the book's arithmetic.
    """

    def __init__(self, sizes: Sequence[int], dtype: Any = np.float64) -> None:
        self.sizes = _check_sizes(sizes)
        self.num_layers = len(self.sizes)
        if dtype not in DTYPES and _as_dtype(dtype) not in DTYPES:
            raise ValueError(f"dtype must be np.float64 (the book's) or np.float32, got {dtype!r}")
        _check_fits(self.sizes, np.dtype(dtype).itemsize)
        # In the book's order: every bias draw before the first weight draw.
        biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        weights = [np.random.randn(y, x) for x, y in itertools.pairwise(self.sizes)]
        self._net = engine.Network.from_parameters(
            [w.astype(dtype) for w in weights], [b.astype(dtype) for b in biases]
        )

    # The book's attributes, kept in the engine's network. -------------------------------

    @property
    def dtype(self) -> np.dtype:
        """float64 (the book's) unless the network was made with ``dtype=np.float32``."""
        return self._net.dtype

    @property
    def biases(self) -> list[np.ndarray]:
        """One (n, 1) column per layer after the input layer."""
        return self._net.biases

    @biases.setter
    def biases(self, value: Sequence[np.ndarray]) -> None:
        # Copied into place: the engine's biases are views into its [w | b] arrays.
        new = self._checked(value, [(y, 1) for y in self.sizes[1:]], "biases")
        for b, v in zip(self._net.biases, new, strict=True):
            b[...] = v

    @property
    def weights(self) -> list[np.ndarray]:
        """One (n_out, n_in) matrix per pair of neighbouring layers."""
        return self._net.weights

    @weights.setter
    def weights(self, value: Sequence[np.ndarray]) -> None:
        shapes = [(y, x) for x, y in itertools.pairwise(self.sizes)]
        for w, v in zip(self._net.weights, self._checked(value, shapes, "weights"), strict=True):
            w[...] = v

    @property
    def engine(self) -> engine.Network:
        """The engine's network holding these very parameters (what the dashboard trains)."""
        return self._net

    # The book's methods. --------------------------------------------------------------

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        """Return the output of the network for input ``a`` (Eq. 22, layer by layer).

        ``a`` is an (n_in, 1) column, as in the book, or a batch (n_in, k) of k
        columns; the result is (n_out, 1) or (n_out, k).
        """
        return self._net.feedforward(pairs.column(a, self.sizes[0], "feedforward's input"))

    def SGD(
        self,
        training_data: list[tuple[np.ndarray, np.ndarray]],
        epochs: int,
        mini_batch_size: int,
        eta: float,
        test_data: Sequence[tuple[np.ndarray, int]] | None = None,
        *,
        watch: bool = False,
        exact: bool = False,
    ) -> None:
        """Train by mini-batch stochastic gradient descent, printing a line per epoch.

        ``training_data`` is a list of ``(x, y)`` pairs, shuffled in place each
        epoch as the book does. With ``test_data`` (a list of ``(x, label)``)
        each epoch prints ``Epoch j: correct / total``, else ``Epoch j complete``,
        with j counted from 0 as in the book. ``watch=True`` (not in the book)
        trains in nntui's dashboard instead and prints the lines when it closes.

        ``exact=True`` (not in the book) trains with the book's own per-sample
        arithmetic, batched without changing a rounding (`nntui.engine.exact`):
        after ``random.seed(s); np.random.seed(s)`` it prints the very lines the
        book's code prints, a few times faster than the book but slower than the
        default matrix backprop. float64 networks only, and not with ``watch``.
        """
        epochs = _check_whole(epochs, "epochs", least=0)
        mini_batch_size = _check_whole(mini_batch_size, "mini_batch_size", least=1)
        eta = _check_eta(eta)
        watch, exact = _check_flag(watch, "watch"), _check_flag(exact, "exact")
        if exact and watch:
            raise ValueError(
                "exact=True cannot go with watch=True: the dashboard trains with nntui's "
                "matrix backprop, not the book's per-sample arithmetic; choose one"
            )
        if exact and self.dtype != np.float64:
            raise ValueError(
                f"exact=True repeats the book's float64 arithmetic and this network is "
                f"{self.dtype}; make it with network.Network(sizes) (float64, the default)"
            )
        n_in, n_out = self.sizes[0], self.sizes[-1]
        pairs.check_list(training_data, "training_data")
        if not isinstance(training_data, MutableSequence):
            raise TypeError(
                "training_data must be a list: SGD shuffles it in place each epoch, as the "
                f"book does; got a {type(training_data).__name__} (pass list(...) of it)"
            )
        x, rows, y = pairs.training_images(training_data, n_in, n_out, self.dtype)
        tests = None
        if test_data is not None:
            pairs.check_list(test_data, "test_data")
            if len(test_data) > 0:  # the book's `if test_data:`
                tests = pairs.labelled_arrays(test_data, n_in, n_out, "test_data")
        run = BookRun(self, training_data, x, y, mini_batch_size, eta, tests, rows)
        if watch:
            from nntui.book.watch import watch as watch_run

            watch_run(run, epochs, _say)
            return
        if exact:
            run.exact = ExactNetwork(self.weights, self.biases)
        try:
            for j in range(epochs):
                run.train_epoch()
                run.keep_exact()
                _say(run.epoch_line(j))
                if not _finite(self._net):
                    _warn_not_finite(j)
                    break  # NaN stays NaN: further epochs would only print the same line
        finally:
            run.keep_exact()  # Ctrl-C or an error mid-epoch: net keeps every step taken

    def update_mini_batch(
        self, mini_batch: Sequence[tuple[np.ndarray, np.ndarray]], eta: float
    ) -> None:
        """Apply one gradient-descent step (Eqs. 20, 21) for a list of ``(x, y)`` pairs."""
        eta = _check_eta(eta)
        x, y = pairs.training_arrays(mini_batch, self.sizes[0], self.sizes[-1], self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            self._net.update_mini_batch(x.T, y.T, eta)

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return ``(nabla_b, nabla_w)``, the gradient of the cost C_x for one sample.

        ``x`` is (n_in, 1) and ``y`` (n_out, 1); the lists are shaped like
        `biases` and `weights`. Columns (n_in, k), (n_out, k) give the sum over k samples.
        """
        xs = pairs.column(x, self.sizes[0], "backprop's x")
        ys = pairs.column(y, self.sizes[-1], "backprop's y")
        if xs.shape[1] != ys.shape[1]:
            raise ValueError(f"backprop's x has {xs.shape[1]} columns and y {ys.shape[1]}")
        return self._net.backprop(xs.astype(self.dtype), ys.astype(self.dtype))

    def evaluate(self, test_data: Sequence[tuple[np.ndarray, int]]) -> int:
        """Return how many ``(x, label)`` pairs the network gets right (its largest output)."""
        x, labels = pairs.labelled_arrays(test_data, self.sizes[0], self.sizes[-1], "test_data")
        return _count_correct(self._net, x, labels)

    def cost_derivative(self, output_activations: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The partial derivatives dC_x/da of the quadratic cost: simply a - y."""
        return self._net.cost_derivative(output_activations, y)

    def __repr__(self) -> str:
        extra = "" if self.dtype == np.float64 else f", dtype=np.{self.dtype}"
        return f"network.Network({self.sizes}{extra})"

    def _checked(
        self, value: Sequence[np.ndarray], shapes: list[tuple[int, int]], what: str
    ) -> list[np.ndarray]:
        if isinstance(value, np.ndarray) or len(value) != len(shapes):
            raise ValueError(f"{what} must be a list of {len(shapes)} arrays, one per layer")
        arrays = [np.array(v, dtype=self.dtype) for v in value]
        for i, (arr, shape) in enumerate(zip(arrays, shapes, strict=True)):
            if arr.shape != shape:
                raise ValueError(f"{what}[{i}] must have shape {shape}, got {arr.shape}")
        return arrays


class BookRun:
    """One ``SGD`` call's data as arrays, trained epoch by epoch the book's way.

    ``x`` holds the images as rows (n, n_in), ``y`` the desired outputs (n, n_out);
    with ``rows``, pair i's image is row ``rows[i]`` of ``x`` instead (the loader's
    own array, see `pairs.training_images`). ``order[k]`` is the pair now at position
    k of the caller's list. Shuffling ``order`` with ``random.shuffle`` draws exactly
    what shuffling the list itself would (the draws depend only on its length), and
    the list is then put in that same order, so the caller sees the book's shuffle.
    """

    def __init__(
        self,
        network: Network,
        training_data: list[Any],
        x: np.ndarray,
        y: np.ndarray,
        mini_batch_size: int,
        eta: float,
        tests: tuple[np.ndarray, np.ndarray] | None,
        rows: np.ndarray | None = None,
    ) -> None:
        self.network = network
        self.training_data = training_data
        self._pairs = list(training_data)  # the caller's pairs, in the order of y's rows
        self.source, self.rows, self.y = x, rows, y
        self._x: np.ndarray | None = None
        self.mini_batch_size = mini_batch_size
        self.eta = eta
        self.tests = tests
        self.order = list(range(len(y)))
        # Set by SGD(exact=True): the book's own arithmetic trains this copy of the
        # parameters, and `keep_exact` writes them back into the network.
        self.exact: ExactNetwork | None = None

    @property
    def x(self) -> np.ndarray:
        """The images (n, n_in) in the order of ``y``: copied out of the source if need be."""
        if self.rows is None:
            return self.source
        if self._x is None:
            self._x = self.source[self.rows]
        return self._x

    def shuffle(self) -> np.ndarray:
        """The book's ``random.shuffle(training_data)``; return the rows in their new order."""
        random.shuffle(self.order)
        self.training_data[:] = [self._pairs[i] for i in self.order]
        return np.array(self.order, dtype=np.intp)

    def train_epoch(self) -> None:
        """Shuffle, then one gradient step per consecutive mini-batch of the shuffled list."""
        rows = self.shuffle()
        net, m, eta = self.network.engine, self.mini_batch_size, self.eta
        # Like the book, a huge eta runs on into inf and NaN without a word.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.exact is not None:
                step = self.exact.update_mini_batch
                f64 = np.dtype(np.float64)
                for x1b, yb in _mini_batches(rows, self.source, self.y, m, f64, self.rows):
                    step(x1b[:, :-1], yb, eta)  # the images without their ones column
                return
            update = net.update_mini_batch_with_ones
            for x1b, yb in _mini_batches(rows, self.source, self.y, m, net.dtype, self.rows):
                # (n_in + 1, m): transposed views, read as they are. No gradient is kept for
                # later, so the first layer's update is one pass (`nntui.engine.blas`).
                update(x1b.T, yb.T, eta, keep_gradients=False)

    def keep_exact(self) -> None:
        """Copy the exact run's parameters into the network (nothing without ``exact``)."""
        if self.exact is None:
            return
        net = self.network.engine
        for mine, book in zip(net.weights, self.exact.weights, strict=True):
            mine[...] = book
        for mine, book in zip(net.biases, self.exact.biases, strict=True):
            mine[...] = book

    def correct(self) -> int | None:
        """Test images classified right now, or None without test data."""
        if self.tests is None:
            return None
        if self.exact is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                return self.exact.evaluate(*self.tests)
        return _count_correct(self.network.engine, *self.tests)

    def epoch_line(self, j: int) -> str:
        """The book's line for epoch ``j`` (counted from 0)."""
        correct = self.correct()
        if correct is None or self.tests is None:
            return f"Epoch {j} complete"
        return f"Epoch {j}: {correct} / {len(self.tests[1])}"


def _mini_batches(
    rows: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    m: int,
    dtype: np.dtype,
    x_rows: np.ndarray | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Consecutive slices of ``rows``: blocks (m, n_in + 1) of ``x`` with ones, and of ``y``.

    With ``x_rows``, pair i's image is row ``x_rows[i]`` of ``x``.

    The images come with a ones column last, so the engine folds each first-layer
    bias into its weights; both are ``dtype``. Gathered many mini-batches at a time
    into buffers reused all epoch: a few NumPy calls per block instead of three per
    mini-batch, which at 5,000 mini-batches an epoch is a few percent of the book's
    call. Each mini-batch is a view of the block.
    """
    m = min(m, len(rows))  # a larger mini-batch is all of them, as the book's slices give
    block = m * max(1, GATHER_ROWS // m)
    n_in = x.shape[1]
    xb = np.empty((block, n_in + 1), dtype)
    xb[:, n_in] = 1  # written once: each block's cast below fills only the images
    yb = np.empty((block, y.shape[1]), dtype)
    # Gathered as they are (float32 from the loader), then cast beside the ones: float32
    # to float64 is exact, and cheaper block by block than a float64 copy of the whole set.
    staged = np.empty((block, n_in), x.dtype)
    for start in range(0, len(rows), block):
        idx = rows[start : start + block]
        n = len(idx)
        # mode="clip" skips the bounds check's temporary: the rows are a permutation.
        x.take(idx if x_rows is None else x_rows[idx], axis=0, out=staged[:n], mode="clip")
        np.copyto(xb[:n, :n_in], staged[:n])
        y.take(idx, axis=0, out=yb[:n], mode="clip")
        for k in range(0, n, m):
            end = min(k + m, n)  # the epoch's last mini-batch may be short
            yield xb[k:end], yb[k:end]


def _count_correct(net: engine.Network, x: np.ndarray, labels: np.ndarray) -> int:
    """Correct answers over ``x``, in chunks so a float32 set is cast a little at a time."""
    correct = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(0, len(labels), EVAL_CHUNK):
            chunk = x[k : k + EVAL_CHUNK].astype(net.dtype, copy=False)
            correct += net.evaluate(chunk, labels[k : k + EVAL_CHUNK])
    return correct


def _check_fits(sizes: list[int], itemsize: int) -> None:
    """Refuse, before drawing a single weight, a network that cannot fit in memory."""
    params = sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))
    # The float64 draws, the parameters themselves, and SGD's gradients and workspace.
    need = params * (8 + 3 * itemsize)
    have = available_memory()
    if have is not None and need > have:
        raise ValueError(
            f"Network({sizes}) needs about {need / 2**30:.1f} GB of memory for its weights "
            f"and {have / 2**30:.1f} GB is available; use smaller or fewer hidden layers"
        )


def _finite(net: engine.Network) -> bool:
    # The output layer is enough: a NaN or inf anywhere reaches it within a mini-batch.
    return bool(np.isfinite(net.weights[-1]).all() and np.isfinite(net.biases[-1]).all())


def _warn_not_finite(j: int) -> None:
    warnings.warn(
        f"the network's weights are no longer finite numbers (NaN or infinity) after epoch "
        f"{j}, so it stopped: eta or the inputs are too large (the book's pixels are from 0 "
        "to 1). Make a new Network and train it with a smaller eta.",
        RuntimeWarning,
        stacklevel=3,
    )


def _say(line: str) -> None:
    print(line, flush=True)  # flushed: a piped session shows each epoch as it ends


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of layer sizes like [784, 30, 10], got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(
            f"sizes needs at least an input and an output layer, like [784, 30, 10]; got {sizes!r}"
        )
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(
                f"each layer size must be a whole number of at least 1, like [784, 30, 10]; "
                f"got {sizes!r}"
            )
    return [int(n) for n in sizes]


def _as_dtype(dtype: Any) -> np.dtype | None:
    try:
        known: np.dtype = np.dtype(dtype)
    except TypeError:  # not a type NumPy knows: refused with the others
        return None
    return known


def _check_whole(value: Any, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < least:
        raise ValueError(f"{name} must be at least {least}, got {value}")
    return int(value)


def _check_flag(value: Any, name: str) -> bool:
    # Strict, as exact="no" or watch="False" would otherwise switch the option on.
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_eta(eta: Any) -> float:
    if isinstance(eta, bool) or not isinstance(eta, (int, float, np.integer, np.floating)):
        raise TypeError(f"eta must be a number like 3.0, got {eta!r}")
    try:
        finite = math.isfinite(eta)
    except OverflowError:  # an int beyond any float
        raise ValueError(
            "eta must be a finite number greater than 0, like 3.0; got an int too large for a float"
        ) from None
    if not finite or eta <= 0:
        raise ValueError(f"eta must be a finite number greater than 0, like 3.0; got {eta}")
    return float(eta)
