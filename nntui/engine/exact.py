"""The book's per-sample arithmetic, batched without changing a rounding.

The book's ``network.py`` trains a mini-batch one sample at a time: for each
``(x, y)`` it runs backprop (Chapter 2, Eqs. BP1-BP4) and adds the gradients to
running sums that start at zero, then takes the step

    w -> w - (eta/m) sum_x dC_x/dw        (Eq. 20)
    b -> b - (eta/m) sum_x dC_x/db        (Eq. 21)

The engine's `nntui.engine.network` computes the same maths as matrix products
over the whole mini-batch, which rounds differently in the last bit; since the
run is chaotic, that last bit grows into a different run within an epoch.
`ExactNetwork` gives the book's very numbers, bit for bit, while still doing a
mini-batch in a handful of NumPy calls. Each call below is one the book makes
per sample, made for every sample at once in a way NumPy computes element by
element exactly as the per-sample call would:

* ``np.matmul(w, X)`` on a stack X (m, n, 1) of columns makes for each column the
  BLAS matrix-vector call that the book's ``np.dot(w, x)`` makes (a plain matrix
  product ``w @ [x1 ... xm]`` would sum in another order);
* the sigmoid 1 / (1 + e^-z) (Eq. 3), a - y and sigma'(z) = sigma(z) (1 - sigma(z))
  are elementwise, so it does not matter how many samples an array holds;
* the book's sums ``0 + g_1 + g_2 + ... + g_m`` are `np.add.reduce` along the
  leading (sample) axis of a stack, which NumPy adds slice after slice in that order;
* the outer products ``np.dot(delta, a.T)`` of BP4 are elementwise products
  delta_j a_k, computed by broadcasting.

NumPy only; float64 only, as in the book.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# Test images per batched forward pass in `ExactNetwork.evaluate`: a few MB of stacks.
EVAL_CHUNK = 1_000
# Use the zero pixels (see `_first_layer_gradient`) while the mini-batch's images have
# non-zero pixels in at most this fraction of the columns; MNIST's ten images: about half.
SPARSE_AT_MOST = 0.75
# Outer products made and summed at a time, in bytes: a mini-batch of 10 at [784, 30, 10]
# in one go, one of 50,000 in pieces rather than as one 9 GB array.
PRODUCTS_BYTES = 8 << 20


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^-z) (Eq. 3), written as the book writes it, in place of ``z``.

    The same roundings as the book's ``1.0/(1.0+np.exp(-z))``; e^-z overflows to
    infinity for z < -709, which gives sigma = 0 as it should (the caller silences
    NumPy's warning). Not the engine's tanh form, which rounds differently.
    """
    np.negative(z, out=z)
    np.exp(z, out=z)
    np.add(z, 1.0, out=z)
    np.divide(1.0, z, out=z)
    return z


class ExactNetwork:
    """Weights and biases as the book keeps them, trained with the book's exact roundings.

    ``weights[l]`` is (n_out, n_in) and ``biases[l]`` (n_out, 1), C-contiguous
    float64 copies of what it is given; they are updated in place. Read them
    back, e.g. into an `nntui.engine.network.Network`, when a run is done.
    """

    def __init__(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> None:
        if len(weights) != len(biases) or not weights:
            raise ValueError("ExactNetwork needs one weight matrix and one bias per layer")
        self.weights = [np.array(w, dtype=np.float64, order="C") for w in weights]
        self.biases = [np.array(b, dtype=np.float64, order="C").reshape(-1, 1) for b in biases]
        self.sizes = [self.weights[0].shape[1], *(w.shape[0] for w in self.weights)]
        self._buffer = np.empty(0)

    def feedforward(self, x: np.ndarray) -> np.ndarray:
        """Outputs (k, n_out, 1) for images as rows (k, n_in): the book's feedforward per image.

        a^l = sigma(w^l a^(l-1) + b^l) (Eq. 22), each image through its own
        matrix-vector product, in float64 (float32 images are cast, exactly).
        """
        a = np.asarray(x, dtype=np.float64)[:, :, None]
        for w, b in zip(self.weights, self.biases, strict=True):
            z = np.matmul(w, a)
            z += b
            a = sigmoid(z)
        return a

    def evaluate(self, images: np.ndarray, labels: np.ndarray) -> int:
        """How many images (k, n_in) the network labels right: the book's ``evaluate``.

        The book's answer is ``np.argmax`` of each image's output (the first of
        equal largest outputs); the images go through in chunks to keep memory small.
        """
        correct = 0
        for k in range(0, len(labels), EVAL_CHUNK):
            answers = self.feedforward(images[k : k + EVAL_CHUNK])[:, :, 0].argmax(axis=1)
            correct += int(np.count_nonzero(answers == labels[k : k + EVAL_CHUNK]))
        return correct

    def update_mini_batch(self, x: np.ndarray, y: np.ndarray, eta: float) -> None:
        """One step of Eqs. 20, 21 for images ``x`` (m, n_in) and desired outputs ``y`` (m, n_out).

        Both float64, one sample per row (rows may be strided views). The
        gradients are the book's backprop for each sample, summed in sample
        order from zero, and the step is ``w - (eta/m) * nabla_w`` as the book writes it.
        """
        m = len(x)
        activations = [x[:, :, None]]  # the stack of the book's (n_in, 1) columns
        for w, b in zip(self.weights, self.biases, strict=True):
            z = np.matmul(w, activations[-1])
            z += b
            # sigma(z) in place of z: BP1 and BP2 use sigma'(z) = sigma(z) (1 - sigma(z)),
            # and recomputing sigma(z) from z, as the book does, gives these very bits.
            activations.append(sigmoid(z))
        a = activations[-1]
        # BP1: delta^L = (a^L - y) * sigma'(z^L), the book's cost_derivative * sigmoid_prime.
        delta = (a - y[:, :, None]) * (a * (1 - a))
        step = eta / m  # the book's (eta/len(mini_batch)), a Python float
        layers = len(self.weights)
        for back in range(1, layers + 1):
            l = layers - back  # noqa: E741 - the book's layer index
            w, b = self.weights[l], self.biases[l]
            if back < layers:
                # BP2 for the layer below, before w changes: (w^T delta) * sigma'(z).
                below = activations[l]
                delta_below = np.matmul(w.T, delta)
                delta_below *= below * (1 - below)
            nabla_b = _sum_over_samples(delta)
            if l == 0:
                _first_layer_step(w, delta, x, nabla_b, step, self._scratch)
            else:
                nabla_w = _sum_of_products(delta, activations[l].transpose(0, 2, 1), self._scratch)
                nabla_w *= step
                np.subtract(w, nabla_w, out=w)
            nabla_b *= step
            np.subtract(b, nabla_b, out=b)
            if back < layers:
                delta = delta_below

    def _scratch(self, size: int) -> np.ndarray:
        """``size`` float64s of scratch, kept between mini-batches (grown when needed)."""
        if self._buffer.size < size:
            self._buffer = np.empty(size)
        return self._buffer[:size]


def _sum_over_samples(stack: np.ndarray) -> np.ndarray:
    """The book's ``0 + g_1 + ... + g_m`` over the leading axis of a stack (m, r, c).

    `np.add.reduce` along a leading axis adds whole slices one after another, in
    order, when a slice holds more than one number; along the only axis it would
    sum pairwise instead, so a stack of single numbers is accumulated in order.
    """
    total: np.ndarray
    if stack[0].size > 1:
        total = np.add.reduce(stack, axis=0)
    else:
        total = np.add.accumulate(stack, axis=0)[-1]
    return total


def _sum_of_products(
    delta: np.ndarray, a: np.ndarray, scratch: Callable[[int], np.ndarray]
) -> np.ndarray:
    """BP4 summed over the samples: sum_k delta_k a_k^T, in sample order.

    ``delta`` is (m, r, 1) and ``a`` (m, 1, c). The book's ``np.dot(delta, a.T)``
    is an outer product, each element a single product rounded once: the
    elementwise delta_j a_i here. At most `PRODUCTS_BYTES` of them exist at a time;
    each later piece's stack starts with the sum so far, so the additions are the
    ones a single stack of all m would make, in the same order.
    """
    m, r, c = delta.shape[0], delta.shape[1], a.shape[2]
    per = max(1, PRODUCTS_BYTES // (8 * r * c))
    if m <= per:
        products = scratch(m * r * c).reshape(m, r, c)
        np.multiply(delta, a, out=products)
        return _sum_over_samples(products)
    stack = scratch((per + 1) * r * c).reshape(per + 1, r, c)
    total: np.ndarray = np.multiply(delta[0], a[0])
    for start in range(1, m, per):
        end = min(start + per, m)
        part = stack[: end - start + 1]
        part[0] = total
        np.multiply(delta[start:end], a[start:end], out=part[1:])
        total = _sum_over_samples(part)
    return total


def _first_layer_step(
    w: np.ndarray,
    delta: np.ndarray,
    x: np.ndarray,
    nabla_b: np.ndarray,
    step: float,
    scratch: Callable[[int], np.ndarray],
) -> None:
    """The first layer's weights: w - (eta/m) sum_x delta x^T, skipping all-zero pixel columns.

    The input layer is the only one with exact zeros (MNIST's background, about
    4 pixels in 5). A column of w whose pixel is 0 in every image of the mini-batch
    gets the book's gradient sum of (+-)0 products, and w - (eta/m) * 0 is w
    itself: leaving those columns alone changes no bit and halves the work. It holds
    while every delta is finite (0 * inf is NaN); otherwise, or when few pixels are
    zero, every column is computed.
    """
    columns = np.flatnonzero(x.any(axis=0))
    n_in = w.shape[1]
    if len(columns) <= SPARSE_AT_MOST * n_in and np.isfinite(nabla_b).all():
        xs = x[:, columns]
        # Scattered into zeros, then one dense subtraction: cheaper than updating the
        # columns through fancy indexing, and w - 0 is w in the skipped columns.
        nabla_w = np.zeros_like(w)
        nabla_w[:, columns] = _sum_of_products(delta, xs[:, None, :], scratch)
        nabla_w *= step
        np.subtract(w, nabla_w, out=w)
        return
    nabla_w = _sum_of_products(delta, x[:, None, :], scratch)
    nabla_w *= step
    np.subtract(w, nabla_w, out=w)
