"""A read-only copy of the network, for anyone who wants to look while it trains.

`nntui.engine.training.Trainer` publishes one of these when a run starts, as each
epoch ends, after each mini-batch while stepping or slowed down, and when the run
ends (see its docstring for the locking rule); views compute from it on their own
thread without waiting for the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nntui.engine.network import Network, sigmoid


@dataclass(frozen=True, eq=False)
class NetworkSnapshot:
    """Weights and biases as they were after ``epoch`` (0: untrained), never changed again.

    The arrays are copies marked read-only, so the snapshot can be shared between
    threads and kept as long as anyone likes. Two snapshots are equal only if they
    are the same one: each is a moment of the network, and the views ask "has it
    changed?" by comparing them (comparing the arrays would be slow, and ambiguous).
    """

    epoch: int
    weights: tuple[np.ndarray, ...] = field(repr=False)  # weights[l]: (sizes[l+1], sizes[l])
    biases: tuple[np.ndarray, ...] = field(repr=False)  # biases[l]: (sizes[l+1], 1)

    @classmethod
    def of(cls, network: Network, epoch: int) -> NetworkSnapshot:
        """Copy ``network``'s parameters; call it only where they are not changing."""
        return cls(epoch, _frozen(network.weights), _frozen(network.biases))

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.weights[0].shape[1], *(w.shape[0] for w in self.weights))

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        """Output activations (10, n) for inputs ``a`` (784, n), as `Network.feedforward`."""
        # Diverged weights give inf and NaN here: the caller shows them, NumPy need not warn.
        with np.errstate(over="ignore", invalid="ignore"):
            for b, w in zip(self.biases, self.weights, strict=True):
                a = sigmoid(w @ a + b)
        return a

    def outputs(self, images: np.ndarray) -> np.ndarray:
        """Output activations (n, 10) for images as stored, one per row (n, 784)."""
        return self.feedforward(np.asarray(images, self.weights[0].dtype).T).T

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The predicted digit (n,) for each row of ``images`` (n, 784)."""
        return np.asarray(np.argmax(self.outputs(images), axis=1))

    def to_network(self) -> Network:
        """A trainable network with these parameters (copied: the snapshot stays as it is)."""
        return Network.from_parameters(self.weights, self.biases)


def _frozen(arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    copies = tuple(a.copy() for a in arrays)
    for a in copies:
        a.flags.writeable = False
    return copies
