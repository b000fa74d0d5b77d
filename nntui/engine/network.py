"""The network of Chapter 1 of *Neural Networks and Deep Learning*, made fast.

A reader of the book's ``network.py`` should recognise every name here:
sigmoid neurons, the quadratic cost C = 1/2n sum_x ||y(x) - a||^2 (Eq. 6), and
mini-batch stochastic gradient descent,

    w -> w' = w - (eta/m) sum_x dC_x/dw        (Eq. 20)
    b -> b' = b - (eta/m) sum_x dC_x/db        (Eq. 21)

with the gradients computed by backpropagation (Chapter 2, Eqs. BP1-BP4).

Two things differ from the book, both for speed and neither changes the maths:

* A mini-batch is a matrix whose columns are the images, x of shape (784, m),
  so backprop handles the whole mini-batch with a few matrix products (the
  "fully matrix-based approach" the book suggests in Chapter 2) instead of a
  Python loop over samples. The book's per-sample algorithm is kept as
  `backprop_single` for teaching and for comparison.
* Arrays are float32 (float64 on request) and every intermediate lives in a
  buffer allocated once per mini-batch size, so an epoch does no memory
  allocation at all.
* Each layer's bias is stored as an extra column of its weights, and each
  layer's input carries an extra row of ones, so w a + b is one matrix product
  and so are both gradients (BP3, BP4): fewer NumPy calls per mini-batch, which
  is where the time goes at the book's sizes. ``weights`` and ``biases`` are
  views of those arrays, so they read as the book's.

The training loop (epochs, shuffling, evaluation) lives in `nntui.engine.training`;
this module only knows the network.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nntui.engine.blas import subtract_product


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The sigmoid function sigma(z) = 1 / (1 + e^-z) (Eq. 3), elementwise.

    Computed as (1 + tanh(z/2)) / 2, which is the same function but never
    overflows: with eta = 100 the weighted inputs z reach the thousands, where
    e^-z would overflow float32 and make NumPy print warnings.
    """
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid, sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    prime: np.ndarray = s * (1 - s)
    return prime


def forward_in_place(
    params: Sequence[np.ndarray],
    x1: np.ndarray,
    outs: Sequence[np.ndarray],
    activations: Sequence[np.ndarray],
) -> None:
    """The forward pass (Eq. 25) into reused buffers: z^l = [w | b] [a^(l-1); 1], a^l = sigma(z^l).

    Each ``outs[l]`` is the top of ``activations[l]`` (whose last row, but the output
    layer's, is ones): sigma(z) overwrites z, which backprop no longer needs once sigma is known.
    Works on one network's arrays or on stacks of them (`nntui.engine.stacked`).
    """
    a = x1
    for p, out, act in zip(params, outs, activations, strict=True):
        np.matmul(p, a, out=out)
        sigmoid(out, out=out)
        a = act


def times_sigmoid_prime(
    delta: np.ndarray, a: np.ndarray, one: np.floating[Any], prime: np.ndarray
) -> None:
    """``delta *= sigma'(z)`` in place, with sigma'(z) = a (1 - a) for a = sigma(z) (BP1, BP2).

    ``prime`` is the scratch buffer; ``one`` is 1 in the arrays' dtype (no upcast).
    """
    np.subtract(one, a, out=prime)
    prime *= a
    delta *= prime


class _Workspace:
    """Every array one mini-batch of size m needs, allocated once and reused.

    Each layer's bias is folded into its weights (see `Network`), so every input
    to a layer carries a row of ones under it: ``x1`` for the first layer (filled
    by `Network.update_mini_batch`), ``activations[l]`` for the others.
    """

    def __init__(self, sizes: Sequence[int], m: int, dtype: np.dtype) -> None:
        self.x1 = np.empty((sizes[0] + 1, m), dtype)
        self.x1[-1] = 1
        self.x = self.x1[:-1]  # rows, so a contiguous view
        # activations[l] is layer l+1's sigma(z), with a row of ones below except for the
        # output layer; outs[l] is the part a matmul writes z into and sigma overwrites.
        self.activations = [np.empty((n + 1, m), dtype) for n in sizes[1:-1]]
        self.activations.append(np.empty((sizes[-1], m), dtype))
        for a in self.activations[:-1]:
            a[-1] = 1
        self.outs = [a[:n] for a, n in zip(self.activations, sizes[1:], strict=True)]
        self.deltas = [np.empty((n, m), dtype) for n in sizes[1:]]
        self.primes = [np.empty((n, m), dtype) for n in sizes[1:]]
        # One gradient per layer, weights and bias together: (n_out, n_in + 1).
        self.nabla = [np.empty((n, k + 1), dtype) for k, n in itertools.pairwise(sizes)]
        self.nabla_w = [g[:, :-1] for g in self.nabla]
        self.nabla_b = [g[:, -1:] for g in self.nabla]
        # params[0] -= deltas[0] @ x, set by `Network._workspace`, which knows params.
        self.first_update: Callable[[np.ndarray], None]


def fold(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], dtype: np.dtype
) -> list[np.ndarray]:
    """Each layer's [w | b] as one array (n_out, n_in + 1), the bias as its last column.

    With a row of ones under the layer's input, w a + b is then the single matrix
    product [w | b] [a; 1], and its gradient comes out of a single product too.
    """
    return [
        np.concatenate([np.asarray(w, dtype), np.asarray(b, dtype).reshape(-1, 1)], axis=1)
        for w, b in zip(weights, biases, strict=True)
    ]


class Network:
    """A feedforward network of sigmoid neurons, trained by mini-batch SGD.

    ``Network([784, 30, 10])`` has 784 input neurons (one per pixel), a hidden
    layer of 30 and 10 output neurons (one per digit), as in the book.
    ``weights[l]`` has shape (sizes[l+1], sizes[l]), so ``weights[l][j, k]``
    connects neuron k in one layer to neuron j in the next; ``biases[l]`` has
    shape (sizes[l+1], 1). Both start as draws from N(0, 1), like the book,
    but from a seeded ``numpy.random.Generator`` so a run can be repeated.

    For speed each layer's weights and bias live side by side in one array,
    ``params[l] = [w | b]`` of shape (sizes[l+1], sizes[l] + 1), and
    ``weights[l]`` and ``biases[l]`` are views into it: change them in place
    (``w[...] = ...``, ``w -= ...``), never rebind the list items.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        seed: int | np.random.SeedSequence | None = None,
        dtype: type[np.floating] = np.float32,
    ) -> None:
        self.sizes = [int(n) for n in sizes]
        self.num_layers = len(self.sizes)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        # Drawn in the same order as ever (all biases, then all weights), so a seed
        # still gives the same network.
        biases = [rng.standard_normal((y, 1)).astype(self.dtype) for y in self.sizes[1:]]
        weights = [
            rng.standard_normal((y, x)).astype(self.dtype)
            for x, y in zip(self.sizes[:-1], self.sizes[1:], strict=True)
        ]
        self._adopt(fold(weights, biases, self.dtype))

    def _adopt(self, params: list[np.ndarray]) -> None:
        self.params = params
        self.weights = [p[:, :-1] for p in params]
        self.biases = [p[:, -1:] for p in params]
        self._weights_t = [w.T for w in self.weights]  # views made once, not per mini-batch
        self._one = self.dtype.type(1)
        self._workspaces: dict[int, _Workspace] = {}

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled item by item, the views would come back as separate arrays.
        return (Network.from_parameters, (self.weights, self.biases))

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        """Return the output activations for input ``a`` (Eq. 22: a' = sigma(wa + b)).

        ``a`` has shape (784, n): one column per image (n = 1 for the book's
        single column vector). The result has shape (10, n).
        """
        for b, w in zip(self.biases, self.weights, strict=True):
            a = sigmoid(w @ a + b)
        return a

    def evaluate(self, images: np.ndarray, labels: np.ndarray) -> int:
        """Return how many images the network classifies correctly.

        The network's answer is the output neuron with the highest activation.
        ``images`` has shape (n, 784) (rows, as stored) and ``labels`` (n,).
        """
        return int(np.count_nonzero(self.predict(images) == labels))

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Return the predicted digit for each row of ``images`` (n, 784), shape (n,)."""
        return np.asarray(np.argmax(self.feedforward(images.T), axis=0))

    def cost(self, images: np.ndarray, labels: np.ndarray) -> float:
        """The quadratic cost C = 1/2n sum_x ||y(x) - a||^2 (Eq. 6) over ``images`` (n, 784)."""
        diff = self.feedforward(images.T).astype(np.float64)  # (10, n)
        diff[labels, np.arange(len(labels))] -= 1.0
        return float(np.einsum("ij,ij->", diff, diff) / (2 * len(labels)))

    def update_mini_batch(self, x: np.ndarray, y: np.ndarray, eta: float) -> float:
        """Apply one step of gradient descent (Eqs. 20, 21) using the mini-batch x, y.

        ``x`` has shape (784, m) and ``y`` (10, m): column j is image j and its
        desired output (1.0 at the right digit, 0.0 elsewhere). Returns the sum
        over the mini-batch of the costs C_x = 1/2 ||y(x) - a||^2 before the step,
        which the training loop turns into a running cost.
        """
        ws = self._workspace(x.shape[1])
        np.copyto(ws.x, x)
        return self.update_mini_batch_with_ones(ws.x1, y, eta)

    def update_mini_batch_with_ones(
        self, x1: np.ndarray, y: np.ndarray, eta: float, *, keep_gradients: bool = True
    ) -> float:
        """`update_mini_batch` for an ``x1`` of shape (785, m) whose last row is all ones.

        The training loop gathers its mini-batches that way, straight from
        training images stored with a ones column, which saves a copy. With
        ``keep_gradients=False`` the first layer's update is made in one pass
        (`nntui.engine.blas`), without keeping its gradient for
        `last_weight_updates`: the same numbers, faster.
        """
        # Scaling delta^L by eta/m scales every gradient by it (they are all linear
        # in delta^L), so the update below is a plain subtraction.
        nabla, cost = self._backprop(x1, y, scale=eta / x1.shape[1], first=keep_gradients)
        if keep_gradients:
            for p, g in zip(self.params, nabla, strict=True):
                p -= g
        else:
            self._workspace(x1.shape[1]).first_update(x1.T)
            for p, g in zip(self.params[1:], nabla[1:], strict=True):
                p -= g
        return cost

    def last_weight_updates(self, m: int) -> list[np.ndarray]:
        """What the last `update_mini_batch` of size m subtracted from each weight matrix.

        That is (eta/m) sum_x dC_x/dw, layer by layer. These are the reused
        buffers themselves, valid until the next update of that size: read them
        at once (under the trainer's lock), never keep them.
        """
        return self._workspace(m).nabla_w

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return ``(nabla_b, nabla_w)``, the gradient of sum_x C_x over the mini-batch.

        Layer by layer, like the book's ``self.biases`` and ``self.weights``.
        ``x`` is (784, m) and ``y`` is (10, m). The arrays returned are copies.
        """
        ws = self._workspace(x.shape[1])
        np.copyto(ws.x, x)
        self._backprop(ws.x1, y, scale=1.0)
        return [nb.copy() for nb in ws.nabla_b], [nw.copy() for nw in ws.nabla_w]

    def _backprop(
        self, x1: np.ndarray, y: np.ndarray, scale: float, first: bool = True
    ) -> tuple[list[np.ndarray], float]:
        """Matrix-based backprop into reused buffers; gradients come out times ``scale``.

        Returns the gradients of [w | b], layer by layer, and the summed cost.
        With ``first=False`` the first layer's is left out (its delta is in the
        workspace), for an update that makes the product itself.
        """
        ws = self._workspace(x1.shape[1])
        one = self._one
        # Forward pass (Eq. 25): z^l = w^l a^(l-1) + b^l = [w | b] [a; 1], a^l = sigma(z^l).
        forward_in_place(self.params, x1, ws.outs, ws.activations)
        # Output error (BP1): delta^L = (a^L - y) * sigma'(z^L), with sigma' = a (1 - a).
        out = ws.outs[-1]
        delta = ws.deltas[-1]
        np.subtract(out, y, out=delta)
        cost = 0.5 * float(np.vdot(delta, delta))
        times_sigmoid_prime(delta, out, one, ws.primes[-1])
        delta *= scale
        # Backward pass, from the last layer (index L - 1) down to the first (index 0).
        for l in range(self.num_layers - 2, -1, -1):
            below_act = ws.activations[l - 1] if l else x1
            # BP3 and BP4 at once: the ones row turns the bias gradient into a column.
            if l or first:
                np.matmul(delta, below_act.T, out=ws.nabla[l])
            if l:
                # BP2: delta^(l) = (w^(l+1))^T delta^(l+1) * sigma'(z^l)
                below = ws.deltas[l - 1]
                np.matmul(self._weights_t[l], delta, out=below)
                times_sigmoid_prime(below, ws.outs[l - 1], one, ws.primes[l - 1])
                delta = below
        return ws.nabla, cost

    def backprop_single(
        self, x: np.ndarray, y: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The book's backprop for one training example, line for line.

        ``x`` is (784, 1) and ``y`` is (10, 1). Returns ``(nabla_b, nabla_w)``,
        the gradient of C_x. Slow (a Python loop per image); kept for teaching
        and for the speed comparison with the matrix-based version.
        """
        nabla_b = [np.zeros(b.shape, self.dtype) for b in self.biases]
        nabla_w = [np.zeros(w.shape, self.dtype) for w in self.weights]
        # feedforward
        activation = x
        activations = [x]  # list to store all the activations, layer by layer
        zs = []  # list to store all the z vectors, layer by layer
        for b, w in zip(self.biases, self.weights, strict=True):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        # backward pass
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].T)
        # l = 1 means the last layer of neurons, l = 2 the second-last, and so on,
        # as in the book: Python's negative indices make the backward walk read naturally.
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].T, delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].T)
        return (nabla_b, nabla_w)

    def update_mini_batch_per_sample(self, x: np.ndarray, y: np.ndarray, eta: float) -> float:
        """The book's ``update_mini_batch``: sum ``backprop_single`` over the columns of x.

        Same arguments, result and effect as `update_mini_batch`, several times
        slower (``benchmarks/speed.py``; figures in benchmarks/README.md).
        """
        m = x.shape[1]
        nabla_b = [np.zeros(b.shape, self.dtype) for b in self.biases]
        nabla_w = [np.zeros(w.shape, self.dtype) for w in self.weights]
        # The cost before the step, from one batched forward pass: a few percent of the
        # loop below, so it barely changes the speed comparison.
        diff = self.cost_derivative(self.feedforward(x), y)
        cost = 0.5 * float(np.vdot(diff, diff))
        for j in range(m):
            xj, yj = x[:, j : j + 1], y[:, j : j + 1]
            delta_nabla_b, delta_nabla_w = self.backprop_single(xj, yj)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b, strict=True)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w, strict=True)]
        # In place (the same numbers as the book's w - (eta/m) nw): weights and biases
        # are views into ``params``.
        for w, nw in zip(self.weights, nabla_w, strict=True):
            w -= (eta / m) * nw
        for b, nb in zip(self.biases, nabla_b, strict=True):
            b -= (eta / m) * nb
        return cost

    def cost_derivative(
        self, output_activations: np.ndarray, y: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the vector of partial derivatives dC_x/da for the output activations.

        For the quadratic cost C_x = 1/2 ||y - a||^2 that is simply a - y.
        """
        delta: np.ndarray = np.subtract(output_activations, y, out=out)
        return delta

    def is_finite(self) -> bool:
        """True while every weight and bias is a finite number."""
        return all(np.isfinite(p).all() for p in (*self.weights, *self.biases))

    @classmethod
    def from_parameters(
        cls, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]
    ) -> Network:
        """A network with the given weights (n_out, n_in) and biases (n_out, 1), e.g. loaded."""
        net = cls.__new__(cls)
        net.sizes = [weights[0].shape[1], *(w.shape[0] for w in weights)]
        net.num_layers = len(net.sizes)
        net.dtype = np.dtype(weights[0].dtype)
        net._adopt(fold(weights, biases, net.dtype))
        return net

    def copy(self) -> Network:
        """A deep copy (weights and biases copied, buffers not shared)."""
        return Network.from_parameters(self.weights, self.biases)

    def _workspace(self, m: int) -> _Workspace:
        ws = self._workspaces.get(m)
        if ws is None:
            ws = self._workspaces[m] = _Workspace(self.sizes, m, self.dtype)
            ws.first_update = subtract_product(self.params[0], ws.deltas[0], ws.nabla[0])
        return ws
