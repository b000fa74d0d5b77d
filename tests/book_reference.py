"""A Python 3 reading of the chapter's network.py: the yardstick for `nntui.book.network`.

Written from the algorithm the chapter describes (Eqs. 20-22 and its SGD):
parameters drawn with the global ``np.random.randn`` (biases layer by layer,
then weights), ``random.shuffle`` of the caller's list each epoch, consecutive
mini-batches, and a Python loop over the samples of each mini-batch. float64,
with the sigmoid written as 1 / (1 + e^-z). Deliberately slow and plain: the
tests compare nntui's results with it, and benchmarks/book_api.py its speed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # e^-z overflows to inf for z < -710: sigma is then 0
        return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    return sigmoid(z) * (1 - sigmoid(z))


class BookNetwork:
    def __init__(self, sizes: Sequence[int]) -> None:
        self.num_layers = len(sizes)
        self.sizes = list(sizes)
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n_out, n_in) for n_in, n_out in itertools.pairwise(sizes)]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        for b, w in zip(self.biases, self.weights, strict=True):
            a = sigmoid(w @ a + b)
        return a

    def SGD(
        self,
        training_data: list[Any],
        epochs: int,
        mini_batch_size: int,
        eta: float,
        test_data: Sequence[Any] | None = None,
        say: Callable[[str], None] = print,
        batches: int | None = None,
    ) -> None:
        """The book's SGD; ``batches`` stops after that many mini-batches (for the tests)."""
        n = len(training_data)
        done = 0
        for j in range(epochs):
            random.shuffle(training_data)
            for k in range(0, n, mini_batch_size):
                if batches is not None and done == batches:
                    return
                self.update_mini_batch(training_data[k : k + mini_batch_size], eta)
                done += 1
            if test_data:
                say(f"Epoch {j}: {self.evaluate(test_data)} / {len(test_data)}")
            else:
                say(f"Epoch {j} complete")

    def update_mini_batch(self, mini_batch: Sequence[Any], eta: float) -> None:
        sum_b = [np.zeros(b.shape) for b in self.biases]
        sum_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            db, dw = self.backprop(x, y)
            sum_b = [s + d for s, d in zip(sum_b, db, strict=True)]
            sum_w = [s + d for s, d in zip(sum_w, dw, strict=True)]
        step = eta / len(mini_batch)
        self.weights = [w - step * s for w, s in zip(self.weights, sum_w, strict=True)]
        self.biases = [b - step * s for b, s in zip(self.biases, sum_b, strict=True)]

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        grad_b: list[np.ndarray] = [np.empty(0)] * len(self.biases)
        grad_w: list[np.ndarray] = [np.empty(0)] * len(self.weights)
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights, strict=True):
            z = w @ activation + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
        grad_b[-1], grad_w[-1] = delta, delta @ activations[-2].T
        for back in range(2, self.num_layers):
            delta = (self.weights[-back + 1].T @ delta) * sigmoid_prime(zs[-back])
            grad_b[-back], grad_w[-back] = delta, delta @ activations[-back - 1].T
        return grad_b, grad_w

    def evaluate(self, test_data: Sequence[Any]) -> int:
        return sum(int(np.argmax(self.feedforward(x)) == y) for x, y in test_data)
