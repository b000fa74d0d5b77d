"""Stacked training: K networks of the same shape trained together, one NumPy call for all.

At the book's sizes a mini-batch is a couple of dozen small NumPy calls, and most
of their time is the calls' own overhead, not arithmetic. Networks of the same
layer sizes and mini-batch size can share that overhead: their parameters are
stored as stacks, ``params[l]`` of shape (K, n_out, n_in + 1), and each call
works on all K at once (``np.matmul`` over the leading axis makes one GEMM call
per network, the same call a lone network makes).

Each network stays a run of its own. It is driven by its own `Trainer`, which
keeps its seed, initial weights, shuffle order, eta, number of epochs, history,
snapshot and controls; the stack only replaces the trainer's loop. So per
network the events are those of `Trainer.run` (`StackedTrainer.run` yields
them as ``(index, event)``), and a network trained in a stack ends with the very
same parameters as when trained alone in the same process: the same operations
on the same numbers, in the same order (``tests/unit/test_stacked.py`` checks
it bit for bit).

A network leaves its stack, and the others go on undisturbed, when it finishes,
diverges or is cancelled. One whose mini-batch size changes, which is paused
(and then stepped) or slowed down (`Trainer.set_speed`), goes on in a stack of
its own: its mini-batches are then out of step with the others'. Its controls
work there as in `Trainer.run`, with the same events.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from nntui.engine.blas import subtract_product
from nntui.engine.errors import ConfigError
from nntui.engine.events import (
    BatchProgress,
    FinishStatus,
    Paused,
    Resumed,
    SettingChanged,
    TrainingEvent,
    TrainingFinished,
    TrainingStarted,
)
from nntui.engine.layers import GradientMeter
from nntui.engine.network import sigmoid, times_sigmoid_prime
from nntui.engine.training import GRADIENT_SAMPLE_EVERY, Trainer, _Clock, quiet_overflow

# How long an all-paused stack sleeps between looks at its controls.
PAUSED_POLL_SECONDS = 0.02


@dataclass(eq=False)
class _Lane:
    """One network's place in the loop: where it is in its epoch, and its counters."""

    index: int
    trainer: Trainer
    clock: _Clock
    meter: GradientMeter
    epoch: int
    last_epoch: int
    epochs: int
    eta: float
    m: int
    epochs_done: int
    perm: np.ndarray = field(default_factory=lambda: np.empty(0, np.intp))
    epoch_start: float = 0.0
    cost_sum: float = 0.0
    done: int = 0
    batches: int = 0
    paused: bool = False
    control_calls: int = -1  # the trainer's `control_calls` when its controls were last read


class _Stack:
    """Networks in lockstep: the same mini-batch size, at the same image of the same epoch.

    Owns the stacked parameters (each network's ``params`` are views into them)
    and every buffer a mini-batch needs, per mini-batch size, allocated once.
    """

    def __init__(self, lanes: list[_Lane]) -> None:
        self.lanes = lanes
        self._build()

    def _build(self) -> None:
        lanes = self.lanes
        first = lanes[0].trainer
        self.x_all = first._train_x1
        self.y_all = first._train_y
        self.n = len(self.x_all)
        self.dtype = first.network.dtype
        self.sizes = first.network.sizes
        k = len(lanes)
        self.params = [
            np.stack([lane.trainer.network.params[j] for lane in lanes])
            for j in range(len(self.sizes) - 1)
        ]
        for i, lane in enumerate(lanes):
            lane.trainer.network._adopt([p[i] for p in self.params])
        self.weights_t = [p[:, :, :-1].transpose(0, 2, 1) for p in self.params]
        self.first_params = list(self.params[0])
        self.scale = np.empty((k, 1, 1), self.dtype)
        self._scale_m = 0  # the mini-batch size ``scale`` holds eta / m for
        # Each network's shuffle of this epoch, row by row (see `start_epoch`).
        self.perms = np.stack([lane.perm for lane in lanes]) if lanes[0].perm.size else None
        self._buffers: dict[int, _Buffers] = {}
        self._one = self.dtype.type(1)
        # The lanes' place in the epoch (the same for all: they are in step) and each one's
        # running cost (doubled, see `step`), kept here and copied to the lanes (`sync`)
        # only when an event or a change needs them.
        self.done, self.batches = lanes[0].done, lanes[0].batches
        # Every network's meter samples the same mini-batches (GRADIENT_SAMPLE_EVERY).
        self.meter_every = lanes[0].meter.every
        self.cost_sums = np.array([2 * lane.cost_sum for lane in lanes], np.float64)
        # Lanes by how often they report progress (mostly one group).
        self.progress_groups: dict[int, list[_Lane]] = {}
        for lane in lanes:
            self.progress_groups.setdefault(lane.trainer.progress_every, []).append(lane)
        self._costs = np.empty((k, 1, 1), self.dtype)

    def set_scale(self, m: int) -> None:
        """eta / m for each network, as `Network.update_mini_batch` scales its delta."""
        for i, lane in enumerate(self.lanes):
            self.scale[i] = lane.eta / m
        self._scale_m = m

    def start_epoch(self) -> None:
        """Gather the lanes' new shuffles into ``perms``, one row each."""
        self.perms = np.stack([lane.perm for lane in self.lanes])
        self.cost_sums[:] = [2 * lane.cost_sum for lane in self.lanes]
        self.done, self.batches = self.lanes[0].done, self.lanes[0].batches

    def controls_used(self) -> bool:
        """Whether a network's controls were used since they were last read: mostly not."""
        # A plain loop, as this runs every mini-batch and a generator in any() costs more.
        for lane in self.lanes:  # noqa: SIM110
            if lane.trainer.control_calls != lane.control_calls:
                return True
        return False

    def sync(self) -> None:
        """Copy the stack's place in the epoch and each network's running cost to its lane."""
        for lane, cost in zip(self.lanes, self.cost_sums.tolist(), strict=True):
            lane.cost_sum, lane.done, lane.batches = 0.5 * cost, self.done, self.batches
            lane.meter.seen(self.batches)

    def leave(self, lane: _Lane) -> None:
        """Take ``lane`` out: its network gets parameters of its own again.

        The lanes must be in sync (`sync`): the stack without it is built from them.
        """
        net = lane.trainer.network
        net._adopt([p.copy() for p in net.params])
        self.lanes.remove(lane)
        if self.lanes:
            self._build()  # the stack without it

    def buffers(self, m: int) -> _Buffers:
        b = self._buffers.get(m)
        if b is None:
            b = self._buffers[m] = _Buffers(self.sizes, len(self.lanes), m, self.dtype)
            b.first_steps = [
                (subtract_product(p, d, b.nabla0), x)
                for p, d, x in zip(self.first_params, b.delta0_views, b.xb_views, strict=True)
            ]
        return b

    def step(self, idx: np.ndarray, m: int) -> None:
        """One mini-batch of SGD for every network; ``idx`` is (K, m) training indices.

        Each network's cost before the step is added to ``cost_sums``, and each
        lane's gradient meter, when due (every ``meter_every`` mini-batches of an
        epoch, from the first), reads that lane's updates here.
        """
        b = self.buffers(m)
        self.x_all.take(idx, axis=0, out=b.xb, mode="clip")
        self.y_all.take(idx, axis=0, out=b.yb, mode="clip")
        if m != self._scale_m:
            self.set_scale(m)
        one = self._one
        # Exactly the operations of `Network._backprop`, on stacks (see there for the maths).
        # The forward pass as `forward_in_place`, but for the sigmoid's memory: each hidden
        # layer's z sits above a row of ones, so across the stack z is not one contiguous
        # block, and elementwise calls on such a view cost twice as much. The sigmoid goes
        # over the whole buffer instead (the same numbers), and the ones are put back.
        a = b.x1
        for p, out, act, ones in zip(self.params, b.outs, b.activations, b.ones, strict=True):
            np.matmul(p, a, out=out)
            sigmoid(act, out=act)
            if ones is not None:
                ones.fill(1)
            a = act
        out = b.outs[-1]
        delta = b.deltas[-1]
        np.subtract(out, b.y, out=delta)
        # C_x summed over the mini-batch is 0.5 (a - y).(a - y) per network: matmul over the
        # stack makes the same dot call as a lone run's vdot. ``cost_sums`` adds up the dots
        # and `sync` halves them: halving is exact, so the sums are the lone run's bit for bit.
        np.matmul(b.delta_rows, b.delta_cols, out=self._costs)
        np.add(self.cost_sums, self._costs.reshape(-1), out=self.cost_sums)
        times_sigmoid_prime(delta, out, one, b.primes[-1])
        delta *= self.scale
        for j in range(len(self.params) - 1, 0, -1):
            np.matmul(delta, b.activations_t[j - 1], out=b.nabla[j])
            below = b.deltas[j - 1]
            np.matmul(self.weights_t[j], delta, out=below)
            # Over whole buffers: the ones row gives sigma' = 0, and the spare row stays 0.
            times_sigmoid_prime(b.deltas_full[j - 1], b.activations[j - 1], one, b.primes[j - 1])
            delta = below
        for p, g in zip(self.params[1:], b.nabla[1:], strict=True):
            p -= g
        # The first layer's [w | b] is by far the largest array: each network's update is
        # one GEMM pass over it (`nntui.engine.blas`), as a lone run's is. A network
        # whose gradient is to be measured takes the two passes, through one small
        # buffer that stays in cache, again as alone.
        if self.batches % self.meter_every:
            for update, x in b.first_steps:
                update(x)
            return
        # The gradient meters' mini-batch (they are in step: one count for all, `sync`).
        g = b.nabla0
        for k, (lane, x) in enumerate(zip(self.lanes, b.xb_views, strict=True)):
            np.matmul(b.delta0_views[k], x, out=g)
            lane.meter.add([g[:, :-1], *(n[k, :, :-1] for n in b.nabla[1:])], lane.eta)
            np.subtract(self.first_params[k], g, out=self.first_params[k])


class _Buffers:
    """A stack's arrays for mini-batches of size m, as `network._Workspace` for one network."""

    def __init__(self, sizes: Sequence[int], k: int, m: int, dtype: np.dtype) -> None:
        self.xb = np.empty((k, m, sizes[0] + 1), dtype)
        self.x1 = self.xb.transpose(0, 2, 1)  # (K, 785, m), each network's x as alone
        self.yb = np.empty((k, m, sizes[-1]), dtype)
        self.y = self.yb.transpose(0, 2, 1)
        self.activations = [np.empty((k, n + 1, m), dtype) for n in sizes[1:-1]]
        self.activations.append(np.empty((k, sizes[-1], m), dtype))
        for a in self.activations[:-1]:
            a[:, -1] = 1
        # Each hidden layer's row of ones (the output layer has none).
        self.ones: list[np.ndarray | None] = [a[:, -1] for a in self.activations[:-1]]
        self.ones.append(None)
        self.outs = [a[:, :n] for a, n in zip(self.activations, sizes[1:], strict=True)]
        # Shaped like the activations (a hidden layer's with a spare row, kept at 0, under
        # its delta's), so that sigma'(z) is worked out over whole, contiguous buffers.
        self.deltas_full = [np.zeros_like(a) for a in self.activations]
        self.deltas = [d[:, :n] for d, n in zip(self.deltas_full, sizes[1:], strict=True)]
        # Each network's output error as one row and one column, for its cost.
        self.delta_rows = self.deltas[-1].reshape(k, 1, -1)
        self.delta_cols = self.delta_rows.transpose(0, 2, 1)
        self.primes = [np.empty_like(a) for a in self.activations]
        self.activations_t = [a.transpose(0, 2, 1) for a in self.activations]
        # nabla[0] is unused: the first layer's gradient goes through nabla0, one at a time.
        self.nabla = [np.empty((k, n, j + 1), dtype) for j, n in itertools.pairwise(sizes)]
        self.nabla[0] = np.empty((0, sizes[1], sizes[0] + 1), dtype)
        self.nabla0 = np.empty((sizes[1], sizes[0] + 1), dtype)
        self.delta0_views = list(self.deltas[0])
        self.xb_views = list(self.xb)
        # Each network's first-layer update, params[0][k] -= delta0[k] @ xb[k], with its
        # xb[k] (set by `_Stack.buffers`, which knows the parameters).
        self.first_steps: list[tuple[Callable[[np.ndarray], None], np.ndarray]] = []


class StackedTrainer:
    """Trains the networks of several `Trainer` objects together, yielding their events.

    The trainers must train by matrix backprop on the same training images;
    networks of the same layer sizes, dtype, mini-batch size and starting epoch
    share stacks, the others are trained in stacks of their own. Control each
    network through its own trainer (`Trainer.cancel`, `Trainer.set_live`,
    `Trainer.pause`, `Trainer.resume`), from any thread.
    """

    def __init__(self, trainers: Sequence[Trainer], *, max_stack: int | None = None) -> None:
        if not trainers:
            raise ConfigError("a stack needs at least one trainer")
        for t in trainers:
            if t.config.backprop != "matrix":
                raise ConfigError("stacked training uses matrix backprop only")
        if max_stack is not None and max_stack < 1:
            raise ConfigError(f"the stack size must be at least 1, got {max_stack}")
        self.trainers = list(trainers)
        self.max_stack = max_stack

    def run(self) -> Iterator[tuple[int, TrainingEvent]]:
        """Train every network to its end, yielding ``(index into trainers, event)``."""
        return quiet_overflow(self._run())

    def _run(self) -> Iterator[tuple[int, TrainingEvent]]:
        lanes: list[_Lane] = []
        for i, t in enumerate(self.trainers):
            lane = _Lane(
                index=i,
                trainer=t,
                clock=_Clock(),
                meter=GradientMeter(len(t.network.weights), GRADIENT_SAMPLE_EVERY),
                epoch=t.first_epoch,
                epochs=t._epochs,
                last_epoch=t.first_epoch + t._epochs - 1,
                eta=t._eta,
                m=t._mini_batch_size,
                epochs_done=t.first_epoch - 1,
            )
            lanes.append(lane)
            yield (
                i,
                TrainingStarted(t.config, t.seed, len(t._train_x1), len(t.eval_set), t.first_epoch),
            )
        stacks: list[_Stack] = []
        groups: dict[tuple[object, ...], list[_Lane]] = {}
        for lane in lanes:
            t = lane.trainer
            key = (
                tuple(t.network.sizes),
                t.network.dtype.str,
                lane.m,
                lane.epoch,
                id(t._train_x1),
            )
            groups.setdefault(key, []).append(lane)
        size = self.max_stack or len(lanes)
        for group in groups.values():
            for start in range(0, len(group), size):
                stacks.append(_Stack(group[start : start + size]))
        for stack in stacks:
            yield from self._start_epochs(stack, stack.lanes[:])
        while stacks:
            progressed = False
            for stack in stacks[:]:
                if not stack.lanes:
                    stacks.remove(stack)
                    continue
                if stack.controls_used():
                    out: list[_Stack] = []
                    yield from self._controls(stack, out)
                    stacks.extend(out)
                if not stack.lanes:
                    stacks.remove(stack)
                    continue
                if stack.lanes[0].paused:  # only a stack of one: a paused network leaves its stack
                    continue
                progressed = True
                yield from self._batch(stack)
                if not stack.lanes:
                    stacks.remove(stack)
            if stacks and not progressed:
                time.sleep(PAUSED_POLL_SECONDS)

    def _start_epochs(
        self, stack: _Stack, lanes: list[_Lane]
    ) -> Iterator[tuple[int, TrainingEvent]]:
        """Begin each lane's next epoch, or finish the lanes that are done."""
        for lane in lanes:
            t = lane.trainer
            t._epoch_in_progress = lane.epoch
            if t._epochs != lane.epochs:  # set during the last evaluation
                change, lane.epochs, lane.last_epoch = t._new_epochs(
                    lane.epoch, 0, lane.epochs, lane.epochs_done
                )
                yield lane.index, change
            if lane.epoch > lane.last_epoch:
                trained = lane.epochs_done - t.first_epoch + 1
                yield (
                    lane.index,
                    self._finish(stack, lane, "completed", f"trained {trained} epochs"),
                )
                continue
            lane.perm = t._rng.permutation(stack.n)
            lane.epoch_start = lane.clock.now()
            lane.cost_sum, lane.done, lane.batches = 0.0, 0, 0
            lane.meter.reset()
        if stack.lanes:
            stack.start_epoch()

    def _controls(self, stack: _Stack, out: list[_Stack]) -> Iterator[tuple[int, TrainingEvent]]:
        """Apply each network's controls, as `Trainer.run` does between mini-batches."""
        stack.sync()
        for lane in stack.lanes[:]:
            t = lane.trainer
            # Read first: a control used while these lines run is seen at the next look.
            lane.control_calls = t.control_calls
            if t._cancelled:
                yield lane.index, self._finish(stack, lane, "stopped", "stopped by the user")
                continue
            if not lane.paused and not t._running.is_set():
                yield lane.index, Paused(lane.epoch, lane.done)
                lane.clock.pause()
                lane.paused = True
            elif lane.paused and t._running.is_set():
                lane.paused = False
                lane.clock.resume()
                if t._step is None:  # a step is not a resume: the run stays paused around it
                    yield lane.index, Resumed(lane.epoch, lane.done)
            if t._eta != lane.eta:
                yield lane.index, SettingChanged(lane.epoch, lane.done, "eta", lane.eta, t._eta)
                lane.eta = t._eta
                stack._scale_m = 0  # eta / m to be worked out again
            if t._epochs != lane.epochs:
                change, lane.epochs, lane.last_epoch = t._new_epochs(
                    lane.epoch, lane.done, lane.epochs, lane.epoch
                )
                yield lane.index, change
            new_m = t._mini_batch_size
            if new_m != lane.m:
                yield (
                    lane.index,
                    SettingChanged(lane.epoch, lane.done, "mini_batch_size", lane.m, new_m),
                )
                lane.m = new_m
            out_of_step = lane.paused or t._step is not None or t._batches_per_second is not None
            if (lane.m != stack.lanes[0].m or out_of_step) and len(stack.lanes) > 1:
                # Out of step with the others from now on: on in a stack of its own.
                stack.leave(lane)
                out.append(_Stack([lane]))

    def _batch(self, stack: _Stack) -> Iterator[tuple[int, TrainingEvent]]:
        """One mini-batch for every network of ``stack``, then its events."""
        lanes = stack.lanes
        m = lanes[0].m
        done = stack.done
        assert stack.perms is not None
        idx = stack.perms[:, done : done + m]
        size = idx.shape[1]
        stack.step(idx, size)
        n = stack.n
        stack.done += size
        stack.batches += 1
        if len(lanes) == 1 and self._one_by_one(lanes[0]):
            yield from self._alone_batch(stack, lanes[0], done + size < n)
            if done + size < n:
                return
        elif done + size < n:
            synced = False
            for every, group in stack.progress_groups.items():
                if stack.batches % every == 0:
                    if not synced:
                        stack.sync()
                        synced = True
                    for lane in group:
                        yield lane.index, self._progress(stack, lane)
            return
        # The epoch is over for every network of the stack.
        stack.sync()
        seconds = {}
        for lane in lanes:
            yield lane.index, self._progress(stack, lane)
            seconds[lane] = lane.clock.now() - lane.epoch_start
        for lane in lanes[:]:
            t = lane.trainer
            train_seconds = seconds[lane]
            if not (np.isfinite(lane.cost_sum) and t.network.is_finite()):
                yield (
                    lane.index,
                    self._finish(
                        stack,
                        lane,
                        "diverged",
                        f"the weights became infinite or NaN in epoch {lane.epoch} with eta "
                        f"{lane.eta:g}; try a smaller eta",
                    ),
                )
                continue
            event = t._evaluate_epoch(
                lane.epoch,
                lane.last_epoch,
                lane.cost_sum / n,
                lane.eta,
                lane.m,
                train_seconds,
                lane.clock,
                lane.meter,
            )
            t.history.append(event)
            lane.epochs_done = lane.epoch
            if t._step == "epoch":
                t._step_taken()  # paused before the next epoch's first mini-batch
                lane.control_calls = -1
            t._publish(lane.epoch)
            yield lane.index, event
            lane.epoch += 1
        yield from self._start_epochs(stack, stack.lanes[:])

    @staticmethod
    def _one_by_one(lane: _Lane) -> bool:
        """Whether a network is stepped or slowed down: then it is seen after every mini-batch."""
        t = lane.trainer
        return t._step is not None or t._batches_per_second is not None

    def _alone_batch(
        self, stack: _Stack, lane: _Lane, more: bool
    ) -> Iterator[tuple[int, TrainingEvent]]:
        """After a mini-batch of a stepped or slowed-down network, what `Trainer.run` does."""
        t = lane.trainer
        stack.sync()
        one_by_one = t._step == "batch" or t._batches_per_second is not None
        if one_by_one:
            t._publish(lane.epoch - 1)
        if t._step == "batch":
            t._step_taken()  # the next step queued, or the next look at the controls pauses
            lane.control_calls = -1  # a step taken is no control call: look at them anyway
        if more and (one_by_one or lane.batches % t.progress_every == 0):
            yield lane.index, self._progress(stack, lane)
        if t._batches_per_second is not None and t._running.is_set():
            t._throttle()

    @staticmethod
    def _progress(stack: _Stack, lane: _Lane) -> BatchProgress:
        return lane.trainer._progress(
            lane.epoch,
            lane.last_epoch,
            lane.done,
            stack.n,
            lane.cost_sum,
            lane.clock,
            lane.epoch_start,
        )

    @staticmethod
    def _finish(stack: _Stack, lane: _Lane, status: FinishStatus, message: str) -> TrainingFinished:
        """The lane's `TrainingFinished`; it leaves the stack with parameters of its own."""
        stack.leave(lane)
        return lane.trainer._finished(status, lane.epochs_done, lane.clock, message)
