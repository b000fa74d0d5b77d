"""The training loop: the book's ``SGD``, as a stream of events instead of prints.

``Trainer.run()`` is a generator. Each epoch it shuffles the training images,
walks through them in mini-batches calling `Network.update_mini_batch`, then
evaluates the network and yields an `EpochDone` (the book's
``Epoch j: n / 10000``). Between mini-batches it
applies the live settings (`Trainer.set_live`) and honours `pause`, `resume`
and `cancel`; at the start and after each epoch it publishes a read-only copy
of the network (`Trainer.snapshot`) for views on other threads.

The loop knows nothing about terminals: the CLI and the dashboard consume the
same events.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nntui.engine.config import TrainConfig, check_eta, check_mini_batch_size
from nntui.engine.dataset import MnistData, Split
from nntui.engine.errors import ConfigError
from nntui.engine.events import (
    BatchProgress,
    EpochDone,
    FinishStatus,
    Paused,
    Resumed,
    SettingChanged,
    TrainingEvent,
    TrainingFinished,
    TrainingStarted,
)
from nntui.engine.network import Network
from nntui.engine.snapshot import NetworkSnapshot


def new_seed() -> int:
    """A fresh random seed, recorded so that any run can be repeated."""
    return int(np.random.SeedSequence().entropy % 2**32)


def seeded_network(config: TrainConfig, seed: int) -> Network:
    """The network a run with this config and seed starts from."""
    # One seed, two independent streams: the initial weights and the shuffles.
    init, _ = np.random.SeedSequence(seed).spawn(2)
    return Network(config.sizes, seed=init)


def one_hot(labels: np.ndarray, dtype: np.dtype = np.float32) -> np.ndarray:
    """The desired outputs y(x): row i is 1.0 at labels[i] and 0.0 elsewhere, shape (n, 10)."""
    y = np.zeros((len(labels), 10), dtype)
    y[np.arange(len(labels)), labels] = 1.0
    return y


class Trainer:
    """Runs mini-batch SGD on a `Network` and yields `nntui.engine.events` as it goes.

    ``progress_every``: yield a `BatchProgress` every this many mini-batches.
    Each event costs a little, so a UI should not ask for one per mini-batch.
    ``first_epoch`` and ``history`` continue an earlier run (``--resume``).

    Threads. Only the thread that iterates `run` touches ``network``: while a
    run goes on nobody else may read or write it, and no lock is needed. Other
    threads (the dashboard) use two things instead:

    * `snapshot`, a `NetworkSnapshot` replaced (never changed) at the start,
      after each epoch's evaluation and when the run ends. Reading the attribute
      is atomic, so it needs no lock and never waits for a mini-batch or an
      evaluation; compute from the snapshot, not from ``network``.
    * the controls `pause`, `resume`, `cancel` and `set_live`. They only set
      flags and values that the loop reads between two mini-batches.

    Once `run` has finished, ``network`` belongs to whoever holds the trainer.
    """

    def __init__(
        self,
        data: MnistData,
        config: TrainConfig,
        *,
        network: Network | None = None,
        seed: int | None = None,
        progress_every: int = 100,
        first_epoch: int = 1,
        history: Sequence[EpochDone] = (),
        shuffle_state: dict[str, Any] | None = None,
    ) -> None:
        config.validate()
        check_fits(config, data)
        self.config = config
        self.seed = (
            seed if seed is not None else config.seed if config.seed is not None else new_seed()
        )
        self.network = network if network is not None else seeded_network(config, self.seed)
        if self.network.sizes != list(config.sizes):
            raise ConfigError(
                f"the network has layer sizes {self.network.sizes}, the config {list(config.sizes)}"
            )
        dtype = self.network.dtype
        self._train = Split(
            data.training.images[: config.train_size].astype(dtype, copy=False),
            data.training.labels[: config.train_size],
        )
        self._train_y = one_hot(self._train.labels, self.network.dtype)
        self.eval_set: Split = data.split(config.eval_on)
        self.progress_every = max(1, progress_every)
        self.first_epoch = first_epoch
        self.history: list[EpochDone] = list(history)
        _, shuffle = np.random.SeedSequence(self.seed).spawn(2)
        self._rng = np.random.default_rng(shuffle)
        if shuffle_state is not None:  # where a saved run left off: nothing to replay
            self._rng.bit_generator.state = shuffle_state
        else:
            # Skip the shuffles of the epochs already done, so a resumed run sees the
            # same order of mini-batches as an uninterrupted one.
            for _ in range(first_epoch - 1):
                self._rng.permutation(config.train_size)
        self._eta = config.eta
        self._mini_batch_size = config.mini_batch_size
        self._running = threading.Event()
        self._running.set()
        self._cancelled = False
        self.snapshot: NetworkSnapshot = self._publish(first_epoch - 1)

    # Controls: safe to call from any thread. -------------------------------------

    def pause(self) -> None:
        """Stop before the next mini-batch until `resume` or `cancel`."""
        self._running.clear()

    def resume(self) -> None:
        """Go on after `pause`."""
        self._running.set()

    def cancel(self) -> None:
        """End the run after the current mini-batch (the epoch is not evaluated)."""
        self._cancelled = True
        self._running.set()

    @property
    def shuffle_state(self) -> dict[str, Any]:
        """The shuffles' generator state, to save with the model (``shuffle_state=``)."""
        return self._rng.bit_generator.state

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def set_live(self, *, eta: float | None = None, mini_batch_size: int | None = None) -> None:
        """Change eta and/or the mini-batch size from the next mini-batch on.

        Raises `ConfigError` for a value a run could not use. The loop reports
        each change it applies with a `SettingChanged` event.
        """
        if eta is not None:
            eta = check_eta(float(eta))
        if mini_batch_size is not None:
            mini_batch_size = check_mini_batch_size(int(mini_batch_size), self.config.train_size)
        # Each is one attribute store, read by the loop between mini-batches.
        if eta is not None:
            self._eta = eta
        if mini_batch_size is not None:
            self._mini_batch_size = mini_batch_size

    @property
    def eta(self) -> float:
        """The learning rate the next mini-batch uses."""
        return self._eta

    @property
    def mini_batch_size(self) -> int:
        """The mini-batch size from the next mini-batch on."""
        return self._mini_batch_size

    def _publish(self, epoch: int) -> NetworkSnapshot:
        """Replace `snapshot` with a copy of the network as it is now, after ``epoch``."""
        self.snapshot = NetworkSnapshot.of(self.network, epoch)
        return self.snapshot

    # The loop. --------------------------------------------------------------------

    def run(self) -> Iterator[TrainingEvent]:
        """Train for the configured epochs, yielding events. The book's ``SGD``."""
        config, net = self.config, self.network
        x_all, y_all = self._train.images, self._train_y
        n = len(x_all)
        last_epoch = self.first_epoch + config.epochs - 1
        update = (
            net.update_mini_batch
            if config.backprop == "matrix"
            else net.update_mini_batch_per_sample
        )
        clock = _Clock()
        yield TrainingStarted(config, self.seed, n, len(self.eval_set), self.first_epoch)
        epochs_done = self.first_epoch - 1
        for epoch in range(self.first_epoch, last_epoch + 1):
            perm = self._rng.permutation(n)
            epoch_start = clock.now()
            eta, m = self._eta, self._mini_batch_size
            xb, yb = _batch_buffers(m, x_all, y_all)
            cost_sum, done, batches = 0.0, 0, 0
            while done < n:
                if not self._running.is_set():
                    yield Paused(epoch, done)
                    clock.pause()
                    self._running.wait()
                    clock.resume()
                    if not self._cancelled:
                        yield Resumed(epoch, done)
                if self._cancelled:
                    yield self._finished("stopped", epochs_done, clock, "stopped by the user")
                    return
                if self._eta != eta:
                    yield SettingChanged(epoch, done, "eta", eta, self._eta)
                    eta = self._eta
                if self._mini_batch_size != m:
                    yield SettingChanged(epoch, done, "mini_batch_size", m, self._mini_batch_size)
                    m = self._mini_batch_size
                    xb, yb = _batch_buffers(m, x_all, y_all)
                idx = perm[done : done + m]
                if len(idx) < m:  # the last, smaller mini-batch of an epoch
                    xb, yb = _batch_buffers(len(idx), x_all, y_all)
                x_all.take(idx, axis=0, out=xb)  # the method skips np.take's wrapper
                y_all.take(idx, axis=0, out=yb)
                # A huge eta overflows to inf and then NaN: that is caught after the epoch and
                # reported as divergence, so NumPy's warnings about it would only be noise.
                with np.errstate(over="ignore", invalid="ignore"):
                    # x is (784, m): the transposes are views, and matmul reads them as they are.
                    cost_sum += update(xb.T, yb.T, eta)
                done += len(idx)
                batches += 1
                if batches % self.progress_every == 0 and done < n:
                    yield self._progress(epoch, last_epoch, done, n, cost_sum, clock, epoch_start)
            yield self._progress(epoch, last_epoch, done, n, cost_sum, clock, epoch_start)
            train_seconds = clock.now() - epoch_start
            if not (np.isfinite(cost_sum) and net.is_finite()):
                yield self._finished(
                    "diverged",
                    epochs_done,
                    clock,
                    f"the weights became infinite or NaN in epoch {epoch} with eta {eta:g}; "
                    "try a smaller eta",
                )
                return
            eval_start = time.perf_counter()
            with np.errstate(over="ignore", invalid="ignore"):  # huge but finite weights
                predictions = net.predict(self.eval_set.images).astype(np.int8)
            correct = int(np.count_nonzero(predictions == self.eval_set.labels))
            done_event = EpochDone(
                epoch=epoch,
                epochs=last_epoch,
                correct=correct,
                total=len(self.eval_set),
                train_cost=cost_sum / n,
                eta=eta,
                mini_batch_size=m,
                train_seconds=train_seconds,
                eval_seconds=time.perf_counter() - eval_start,
                elapsed=clock.now(),
                predictions=predictions,
            )
            self.history.append(done_event)
            epochs_done = epoch
            self._publish(epoch)  # before the event, so its readers find this epoch's network
            yield done_event
        yield self._finished("completed", epochs_done, clock, f"trained {config.epochs} epochs")

    def _progress(
        self, epoch: int, last: int, done: int, n: int, cost_sum: float, clock: _Clock, start: float
    ) -> BatchProgress:
        now = clock.now()
        spent = now - start
        return BatchProgress(
            epoch=epoch,
            epochs=last,
            images_done=done,
            images_total=n,
            running_cost=cost_sum / done if done else 0.0,
            images_per_second=done / spent if spent > 0 else 0.0,
            epoch_elapsed=spent,
            elapsed=now,
        )

    def _finished(
        self, status: FinishStatus, epochs_done: int, clock: _Clock, message: str
    ) -> TrainingFinished:
        if status != "completed":
            self._publish(epochs_done)  # the network may be part-way into the next epoch
        best = max(self.history, key=lambda e: e.correct, default=None)
        return TrainingFinished(
            status=status,
            epochs_done=epochs_done,
            best_correct=best.correct if best else 0,
            total=len(self.eval_set),
            elapsed=clock.now(),
            message=message,
        )


def check_fits(config: TrainConfig, data: MnistData) -> None:
    """Raise `ConfigError` if ``config`` wants more training images than ``data`` has."""
    available = len(data.training)
    if config.train_size > available:
        raise ConfigError(
            f"training-set size {config.train_size:,} is more than the "
            f"{available:,} training images in the data"
        )


def _batch_buffers(m: int, x_all: np.ndarray, y_all: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Filled in place by np.take for every mini-batch: no allocation in the loop.
    return np.empty((m, x_all.shape[1]), x_all.dtype), np.empty((m, y_all.shape[1]), y_all.dtype)


class _Clock:
    """Seconds since start, not counting time spent paused."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._paused_at: float | None = None

    def now(self) -> float:
        t = self._paused_at if self._paused_at is not None else time.perf_counter()
        return t - self._start

    def pause(self) -> None:
        self._paused_at = time.perf_counter()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._start += time.perf_counter() - self._paused_at
            self._paused_at = None
