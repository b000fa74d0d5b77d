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

import collections
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np
from numpy.typing import DTypeLike

from nntui.engine.config import TrainConfig, check_epochs, check_eta, check_mini_batch_size
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
from nntui.engine.layers import GradientMeter, layer_activations, layer_stats
from nntui.engine.network import Network
from nntui.engine.snapshot import NetworkSnapshot

_T = TypeVar("_T")

# Training accuracy is measured on this many training images each epoch: enough
# for a tenth of a percent, and the same images every epoch so the line is smooth.
TRAIN_SAMPLE_SIZE = 10_000
# One mini-batch in this many has its gradient size read for the layer statistics.
GRADIENT_SAMPLE_EVERY = 50


def new_seed() -> int:
    """A fresh random seed, recorded so that any run can be repeated."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)  # a fresh SeedSequence draws one int from the OS
    return entropy % 2**32


def seeded_network(config: TrainConfig, seed: int) -> Network:
    """The network a run with this config and seed starts from."""
    # One seed, two independent streams: the initial weights and the shuffles.
    init, _ = np.random.SeedSequence(seed).spawn(2)
    return Network(config.sizes, seed=init)


def one_hot(labels: np.ndarray, dtype: DTypeLike = np.float32) -> np.ndarray:
    """The desired outputs y(x): row i is 1.0 at labels[i] and 0.0 elsewhere, shape (n, 10)."""
    y = np.zeros((len(labels), 10), dtype)
    y[np.arange(len(labels)), labels] = 1.0
    return y


# More step presses than this waiting behind a step are dropped: a key held down for minutes.
MAX_QUEUED_STEPS = 10_000


class Trainer:
    """Runs mini-batch SGD on a `Network` and yields `nntui.engine.events` as it goes.

    ``progress_every``: yield a `BatchProgress` every this many mini-batches.
    Each event costs a little, so a UI should not ask for one per mini-batch.
    ``first_epoch`` and ``history`` continue an earlier run (``--resume``).
    ``order(n)``, if given, returns each epoch's order of the n training images
    (a permutation of their indices) in place of the trainer's own shuffle.

    Threads. Only the thread that iterates `run` touches ``network``: while a
    run goes on nobody else may read or write it, and no lock is needed. Other
    threads (the dashboard) use two things instead:

    * `snapshot`, a `NetworkSnapshot` replaced (never changed) at the start,
      after each epoch's evaluation, after each mini-batch while stepping or
      slowed down, and when the run ends. Reading the attribute
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
        order: Callable[[int], np.ndarray] | None = None,
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
        # The training images with a column of ones, which folds the first layer's bias
        # into its weights (see `Network`); the images themselves are a view of it.
        x1 = shared_with_ones(data.training.images, config.train_size, dtype)
        self._train_x1 = x1
        self._train = Split(x1[:, :-1], data.training.labels[: config.train_size])
        self._train_y = one_hot(self._train.labels, self.network.dtype)
        # The first images of the training set: MNIST's order is already mixed,
        # and a view costs no memory.
        k = min(TRAIN_SAMPLE_SIZE, len(self._train))
        self.train_sample = Split(self._train.images[:k], self._train.labels[:k])
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
        # Given ``order``, each epoch takes its order of the n training rows from the
        # caller instead of the generator: the book's random.shuffle of its own list.
        self._order = order
        self._eta = config.eta
        self._mini_batch_size = config.mini_batch_size
        self._epochs = config.epochs
        self._epoch_in_progress = first_epoch
        self._running = threading.Event()
        self._running.set()
        # Set by whatever a paused run must answer: a resume, a step, a cancel, a new setting.
        self._wake = threading.Event()
        self._cancelled = False
        self._failure: str | None = None  # set by `fail`
        # What a step asked for while paused: "batch", "epoch" or None (see `step`).
        self._step: str | None = None
        # Steps asked for while one was under way, taken in turn: a key pressed faster than
        # a mini-batch trains still counts. `_step_lock` keeps a press from slipping between
        # the end of one step and the pause after it.
        self._queued: collections.deque[str] = collections.deque(maxlen=MAX_QUEUED_STEPS)
        self._step_lock = threading.Lock()
        self._batches_per_second: float | None = None
        # Set to cut short the wait between slowed-down mini-batches.
        self._nudge = threading.Event()
        self._next_batch_at = 0.0
        # Counts the calls of the control methods: a stack (`nntui.engine.stacked`) looks at
        # this one number between mini-batches instead of at every control.
        self.control_calls = 0
        self.snapshot: NetworkSnapshot = self._publish(first_epoch - 1)

    # Controls: safe to call from any thread. -------------------------------------

    def pause(self) -> None:
        """Stop before the next mini-batch until `resume`, `step` or `cancel`.

        May be called before `run` starts: the run then waits, paused, before
        its first mini-batch, so a learner can step from the very start.
        """
        with self._step_lock:
            self._step = None
            self._queued.clear()
            self._running.clear()
        self.control_calls += 1  # after the change it announces, so it cannot be missed
        self._nudge.set()

    def resume(self) -> None:
        """Go on after `pause` (at the speed set by `set_speed`)."""
        self._run_freely()

    def _run_freely(self) -> None:
        """No step under way or queued, and running: what `resume` and `cancel` share."""
        with self._step_lock:
            self._step = None
            self._queued.clear()
            self._running.set()
        self.control_calls += 1
        self._wake.set()

    def step(self, what: str = "batch") -> bool:
        """While paused, train one mini-batch ("batch") or to the end of the epoch ("epoch").

        The run pauses again afterwards (yielding `Paused`), with a
        `BatchProgress` after each stepped mini-batch and, for "epoch", the
        usual `EpochDone`. From an epoch's start "epoch" is exactly one epoch;
        part-way through it finishes the current one. A step asked for while
        one is under way is queued and taken right after it, so 100 presses
        train 100 mini-batches. Returns False (and does nothing) unless the run
        is paused or stepping.
        """
        if what not in ("batch", "epoch"):
            raise ValueError(f"step is 'batch' or 'epoch', not {what!r}")
        with self._step_lock:
            if self._cancelled:
                return False
            if self._step is not None:
                self._queued.append(what)
                return True
            if not self.paused:
                return False
            self._step = what
            self._running.set()
        self.control_calls += 1
        self._wake.set()
        return True

    def _step_taken(self) -> None:
        """A step is done: take the next one queued, or pause (the top of the loop says so)."""
        with self._step_lock:
            if self._queued:
                self._step = self._queued.popleft()
            else:
                self._step = None
                self._running.clear()

    def set_speed(self, batches_per_second: float | None) -> None:
        """Train at most this many mini-batches a second from now on; None for full speed.

        While slowed down, every mini-batch yields a `BatchProgress`, so a view
        can follow the cost batch by batch.
        """
        if batches_per_second is not None and not batches_per_second > 0:
            raise ConfigError(
                f"speed must be above 0 mini-batches a second, got {batches_per_second}"
            )
        self._batches_per_second = batches_per_second
        self.control_calls += 1
        self._nudge.set()

    @property
    def batches_per_second(self) -> float | None:
        """The speed limit set by `set_speed` (None: full speed)."""
        return self._batches_per_second

    @property
    def stepping(self) -> bool:
        """True while a `step` is being carried out."""
        return self._step is not None

    def fail(self, reason: str) -> None:
        """End the run after the current mini-batch as "failed", with ``reason`` as its message.

        For what the trainer cannot see itself: the data it reads was found damaged.
        """
        self._failure = reason
        self.cancel()

    def cancel(self) -> None:
        """End the run after the current mini-batch (the epoch is not evaluated)."""
        self._cancelled = True
        self._run_freely()  # a paused run wakes up to end
        self._nudge.set()

    @property
    def shuffle_state(self) -> dict[str, Any]:
        """The shuffles' generator state, to save with the model (``shuffle_state=``)."""
        return dict(self._rng.bit_generator.state)

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def set_live(
        self,
        *,
        eta: float | None = None,
        mini_batch_size: int | None = None,
        epochs: int | None = None,
    ) -> None:
        """Change eta and/or the mini-batch size from the next mini-batch on, or the epochs.

        ``epochs`` is the run's number of epochs (like ``config.epochs``), raised
        or lowered while it runs; it may not end the run before the epoch in
        progress, which is always finished and evaluated. Raises `ConfigError`
        for a value a run could not use. The loop reports each change it applies
        with a `SettingChanged` event: before the next mini-batch, or at once while paused.
        """
        if eta is not None:
            eta = check_eta(float(eta))
        if mini_batch_size is not None:
            mini_batch_size = check_mini_batch_size(int(mini_batch_size), self.config.train_size)
        if epochs is not None:
            epochs = check_epochs(int(epochs))
            least = self.least_epochs
            if epochs < least:
                raise ConfigError(
                    f"epochs must be at least {least}: epoch {self.first_epoch + least - 1} "
                    "is under way"
                )
        # Each is one attribute store, read by the loop between mini-batches.
        if eta is not None:
            self._eta = eta
        if mini_batch_size is not None:
            self._mini_batch_size = mini_batch_size
        if epochs is not None:
            self._epochs = epochs
        self.control_calls += 1
        self._wake.set()  # a paused run reports the change at once

    @property
    def epochs(self) -> int:
        """The run's number of epochs, counted from `first_epoch`, as last set."""
        return self._epochs

    @property
    def least_epochs(self) -> int:
        """The fewest epochs `set_live` accepts now: up to the one in progress."""
        return max(1, self._epoch_in_progress - self.first_epoch + 1)

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
        return quiet_overflow(self._run())

    def _run(self) -> Iterator[TrainingEvent]:
        config, net = self.config, self.network
        x_all, y_all = self._train_x1, self._train_y
        n = len(x_all)
        epochs = self._epochs
        last_epoch = self.first_epoch + epochs - 1
        update: _Update = (
            net.update_mini_batch_with_ones
            if config.backprop == "matrix"
            else _without_ones(net.update_mini_batch_per_sample)
        )
        clock = _Clock()
        # The per-sample path has no gradient buffers to read: its sizes stay NaN.
        meter = GradientMeter(len(net.weights), GRADIENT_SAMPLE_EVERY)
        sample_gradients = config.backprop == "matrix"
        # Carried from epoch to epoch: a change made between two (during an evaluation), or
        # as the run starts, is reported before the next mini-batch like any other.
        eta, m = self._eta, self._mini_batch_size
        yield TrainingStarted(config, self.seed, n, len(self.eval_set), self.first_epoch)
        epochs_done = self.first_epoch - 1
        epoch = self.first_epoch
        while True:
            self._epoch_in_progress = epoch
            if self._epochs != epochs:  # set during the last evaluation
                change, epochs, last_epoch = self._new_epochs(epoch, 0, epochs, epochs_done)
                yield change
            if epoch > last_epoch:
                break
            perm = self._rng.permutation(n) if self._order is None else self._order(n)
            epoch_start = clock.now()
            xb, yb = _batch_buffers(m, x_all, y_all)
            cost_sum, done, batches = 0.0, 0, 0
            meter.reset()
            paused = False  # reported as paused, and waiting
            while done < n:
                if not paused and not self._running.is_set():
                    yield Paused(epoch, done)
                    clock.pause()
                    paused = True
                if paused:
                    if not self._running.is_set():
                        self._wake.wait()
                        self._wake.clear()
                    if self._running.is_set():
                        paused = False
                        clock.resume()
                        # A step is not a resume: the run stays paused around it.
                        if not self._cancelled and self._step is None:
                            yield Resumed(epoch, done)
                if self._cancelled:
                    if self._failure is not None:
                        yield self._finished("failed", epochs_done, clock, self._failure)
                    else:
                        yield self._finished("stopped", epochs_done, clock, "stopped by the user")
                    return
                if self._eta != eta:
                    yield SettingChanged(epoch, done, "eta", eta, self._eta)
                    eta = self._eta
                if self._epochs != epochs:
                    change, epochs, last_epoch = self._new_epochs(epoch, done, epochs, epoch)
                    yield change
                if self._mini_batch_size != m:
                    yield SettingChanged(epoch, done, "mini_batch_size", m, self._mini_batch_size)
                    m = self._mini_batch_size
                    xb, yb = _batch_buffers(m, x_all, y_all)
                if paused:
                    continue  # a setting changed while paused: reported, and still paused
                idx = perm[done : done + m]
                if len(idx) < m:  # the last, smaller mini-batch of an epoch
                    xb, yb = _batch_buffers(len(idx), x_all, y_all)
                # The method skips np.take's wrapper; "clip" skips the bounds check, which
                # would copy through a temporary array (perm holds valid indices only).
                x_all.take(idx, axis=0, out=xb, mode="clip")
                y_all.take(idx, axis=0, out=yb, mode="clip")
                # x is (785, m): the transposes are views, and matmul reads them as they are.
                sample = sample_gradients and meter.due()
                cost_sum += update(xb.T, yb.T, eta, keep_gradients=sample)
                if sample:
                    meter.add(net.last_weight_updates(len(idx)), eta)
                done += len(idx)
                batches += 1
                one_by_one = self._step == "batch" or self._batches_per_second is not None
                if one_by_one:
                    # Batch by batch, every view should see each step: a copy costs
                    # microseconds, nothing next to a slowed-down mini-batch.
                    self._publish(epoch - 1)
                if self._step == "batch":
                    self._step_taken()  # the next step queued, or the top of the loop pauses
                if done < n and (one_by_one or batches % self.progress_every == 0):
                    yield self._progress(epoch, last_epoch, done, n, cost_sum, clock, epoch_start)
                if self._batches_per_second is not None and self._running.is_set():
                    self._throttle()
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
            done_event = self._evaluate_epoch(
                epoch, last_epoch, cost_sum / n, eta, m, train_seconds, clock, meter
            )
            self.history.append(done_event)
            epochs_done = epoch
            if self._step == "epoch":
                self._step_taken()  # paused before the next epoch's first mini-batch
            self._publish(epoch)  # before the event, so its readers find this epoch's network
            yield done_event
            epoch += 1
        trained = epochs_done - self.first_epoch + 1
        yield self._finished("completed", epochs_done, clock, f"trained {trained} epochs")

    def _evaluate_epoch(
        self,
        epoch: int,
        last_epoch: int,
        train_cost: float,
        eta: float,
        m: int,
        train_seconds: float,
        clock: _Clock,
        meter: GradientMeter,
    ) -> EpochDone:
        """The `EpochDone` of an epoch just trained: evaluate the network as it is now."""
        net = self.network
        eval_start = time.perf_counter()
        # One forward pass gives the predictions and every layer's activations.
        activations = layer_activations(net.weights, net.biases, self.eval_set.images)
        predictions = np.argmax(activations[-1], axis=1).astype(np.int8)
        layers = layer_stats(net.weights, activations, meter.rms())
        del activations
        train_correct = net.evaluate(self.train_sample.images, self.train_sample.labels)
        correct = int(np.count_nonzero(predictions == self.eval_set.labels))
        return EpochDone(
            epoch=epoch,
            epochs=last_epoch,
            correct=correct,
            total=len(self.eval_set),
            train_cost=train_cost,
            eta=eta,
            mini_batch_size=m,
            train_seconds=train_seconds,
            eval_seconds=time.perf_counter() - eval_start,
            elapsed=clock.now(),
            predictions=predictions,
            train_correct=train_correct,
            train_total=len(self.train_sample),
            layers=layers,
        )

    def _new_epochs(
        self, epoch: int, done: int, old: int, last_at_least: int
    ) -> tuple[SettingChanged, int, int]:
        """Apply a new number of epochs: the event, the count and the run's last epoch.

        The last epoch stays at or after ``last_at_least`` (the epoch in progress,
        or the last one done between two epochs): `set_live` checks that too, but
        the run may have moved on since.
        """
        new = max(self._epochs, last_at_least - self.first_epoch + 1, 1)
        self._epochs = new
        return SettingChanged(epoch, done, "epochs", old, new), new, self.first_epoch + new - 1

    def _throttle(self) -> None:
        """Wait out the rest of this mini-batch's time slot; pause, cancel or a new speed cut it."""
        speed = self._batches_per_second
        if speed is None:
            return
        now = time.perf_counter()
        due = max(self._next_batch_at, now - 1.0 / speed) + 1.0 / speed
        self._next_batch_at = due
        self._nudge.clear()
        if due > now:
            self._nudge.wait(due - now)

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


def quiet_overflow(events: Iterator[_T]) -> Iterator[_T]:
    """``events``, computed with NumPy's overflow and invalid-value warnings off.

    A huge eta overflows to inf and then NaN: that is caught after the epoch and
    reported as divergence, so the warnings would only be noise. Entering
    ``np.errstate`` once per event rather than once per mini-batch saves a few
    microseconds a mini-batch, and leaving it before each ``yield`` keeps the
    consumer's own settings as they were.
    """
    try:
        while True:
            with np.errstate(over="ignore", invalid="ignore"):
                try:
                    event = next(events)
                except StopIteration:
                    return
            yield event
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


# Training images with their ones column, shared by every trainer of one process that
# trains on the same images (a stack of K networks, a sweep worker's runs): keyed by the
# source array's identity, held only while some trainer holds the copy.
_ONES: dict[tuple[int, int, str], tuple[weakref.ref[np.ndarray], weakref.ref[np.ndarray]]] = {}
_ONES_LOCK = threading.Lock()


def shared_with_ones(images: np.ndarray, n: int, dtype: np.dtype) -> np.ndarray:
    """``with_ones(images[:n], dtype)``, the same array for the same ``images`` while it lives."""
    key = (id(images), n, np.dtype(dtype).str)
    with _ONES_LOCK:
        for k in [k for k, (src, out) in _ONES.items() if src() is None or out() is None]:
            del _ONES[k]
        hit = _ONES.get(key)
        if hit is not None and hit[0]() is images:
            x1 = hit[1]()
            if x1 is not None:
                return x1
        x1 = with_ones(images[:n], np.dtype(dtype))
        _ONES[key] = (weakref.ref(images), weakref.ref(x1))
        return x1


def with_ones(images: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A copy of ``images`` (n, k) in ``dtype`` with a column of ones appended: (n, k + 1)."""
    x1 = np.empty((images.shape[0], images.shape[1] + 1), dtype)
    x1[:, :-1] = images
    x1[:, -1] = 1
    return x1


def _without_ones(update: Callable[[np.ndarray, np.ndarray, float], float]) -> _Update:
    """An update that takes (784, m) images, made to take them with their ones row.

    It keeps no gradients to read, so ``keep_gradients`` changes nothing.
    """

    def with_ones(x1: np.ndarray, y: np.ndarray, eta: float, *, keep_gradients: bool) -> float:
        return update(x1[:-1], y, eta)

    return with_ones


class _Update(Protocol):
    """One mini-batch's gradient step, as the training loop calls it."""

    def __call__(
        self, x1: np.ndarray, y: np.ndarray, eta: float, *, keep_gradients: bool
    ) -> float: ...


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
