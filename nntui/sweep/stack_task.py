"""Several runs of a sweep trained as one stack on one worker (``nntui sweep --stack K``).

Runs of the same layer sizes, mini-batch size and training-set size train
faster together (`nntui.engine.stacked`): `stacks` groups a sweep's runs that
way, and `run_stack_on_worker` is the Dask task that trains one group. Each run
still reports as `task.run_on_worker` does, on the same queue, so the client
sees the same start and epoch messages per run; the task's result holds every
run's outcome under ``"runs"``. A worker lost mid-stack loses the stack's runs
only, and the scheduler retries the stack as it would a run.
"""

from __future__ import annotations

import itertools
import math
import time
import uuid
from collections.abc import Sequence
from typing import Any

from nntui.engine.config import TrainConfig
from nntui.engine.events import EpochDone, TrainingFinished
from nntui.engine.stacked import StackedTrainer
from nntui.engine.training import Trainer
from nntui.store.metrics import epoch_record
from nntui.sweep.grid import RunSpec
from nntui.sweep.payload import Payload, unpack_cached
from nntui.sweep.task import StopWatcher, checkpoint_every, model_message, worker_channels

# Measured with benchmarks/stacked.py on one core (benchmarks/README.md): the time per
# network-epoch falls up to K = 8 and no further.
DEFAULT_STACK = 8


def run_cost(config: TrainConfig) -> float:
    """A run's rough cost in microseconds: its mini-batches times the time of one.

    At the book's sizes a mini-batch takes about 32 us of fixed overhead plus about
    1 us per thousand parameters (benchmarks/speed.py on this project's 2-core VM);
    only the ratios between runs matter here.
    """
    params = sum((a + 1) * b for a, b in itertools.pairwise(config.sizes))
    batches = config.epochs * math.ceil(config.train_size / config.mini_batch_size)
    return batches * (32.0 + params / 1000.0)


def stacks(runs: Sequence[RunSpec], stack: int, workers: int) -> list[list[RunSpec]]:
    """The runs in groups to train together, the largest first.

    Runs share a group only with the same (sizes, mini-batch size, train size).
    A group holds at most ``stack`` runs, and fewer when one group would take
    more than a worker's share of the whole sweep (then the other workers would
    wait for it): 8 like runs on 2 workers make two stacks of 4, not one of 8.
    Groups of one are trained the usual way (`task.run_on_worker`); with
    ``stack`` 1 the runs come back one by one in the order of the table, as
    before stacking. Otherwise the groups come largest first, which spreads
    them best over the workers.
    """
    if stack < 1:
        raise ValueError(f"the stack size must be at least 1, got {stack}")
    if stack == 1:
        return [[spec] for spec in runs]
    share = sum(run_cost(spec.config) for spec in runs) / max(1, workers)
    groups: dict[tuple[object, ...], list[RunSpec]] = {}
    for spec in runs:
        c = spec.config
        groups.setdefault((tuple(c.sizes), c.mini_batch_size, c.train_size), []).append(spec)
    out: list[list[RunSpec]] = []
    for group in groups.values():
        largest = max(run_cost(spec.config) for spec in group)
        size = max(1, min(stack, int(share // largest) if largest > 0 else stack))
        parts = math.ceil(len(group) / size)
        base, extra = divmod(len(group), parts)
        start = 0
        for p in range(parts):
            n = base + (1 if p < extra else 0)
            out.append(group[start : start + n])
            start += n
    out.sort(key=lambda g: (-sum(run_cost(s.config) for s in g), g[0].index))
    return out


def run_stack_on_worker(
    indices: list[int],
    configs: list[dict[str, Any]],
    payload: Payload,
    channel: str,
    stop_name: str,
) -> dict[str, Any]:
    """Train runs ``indices`` of a sweep as one stack; report and stop as `run_on_worker`.

    Returns ``{"runs": {index: outcome}}``, each outcome as `run_on_worker` returns it.
    """
    from threadpoolctl import threadpool_limits

    queue, stop, worker = worker_channels(channel, stop_name)
    attempts = [uuid.uuid4().hex for _ in indices]
    histories: list[list[dict[str, Any]]] = [[] for _ in indices]
    finished: list[TrainingFinished | None] = [None for _ in indices]
    with threadpool_limits(limits=1):  # as run_on_worker: the same results on any cluster
        data = unpack_cached(payload)
        trainers = [Trainer(data, TrainConfig.from_dict(c), progress_every=10**9) for c in configs]
        for index, attempt in zip(indices, attempts, strict=True):
            queue.put({"kind": "start", "run": index, "attempt": attempt, "worker": worker})
        # Each run sends its model now and then, as a lone run does, for `--continue`.
        every = checkpoint_every()
        last_sent = [time.monotonic()] * len(indices)
        watcher = StopWatcher(stop, trainers)
        try:
            if stop.is_set():
                for t in trainers:
                    t.cancel()
            for k, event in StackedTrainer(trainers).run():
                if isinstance(event, EpochDone):
                    record = epoch_record(event)
                    histories[k].append(record)
                    queue.put(
                        {
                            "kind": "epoch",
                            "run": indices[k],
                            "attempt": attempts[k],
                            "record": record,
                        }
                    )
                    if time.monotonic() - last_sent[k] >= every:
                        queue.put(model_message(indices[k], attempts[k], event.epoch, trainers[k]))
                        last_sent[k] = time.monotonic()
                elif isinstance(event, TrainingFinished):
                    finished[k] = event
        finally:
            watcher.close()
    outcomes: dict[int, dict[str, Any]] = {}
    for k, index in enumerate(indices):
        net, done = trainers[k].network, finished[k]
        outcomes[index] = {
            "run": index,
            "attempt": attempts[k],
            "status": done.status if done else "stopped",
            "message": done.message if done else "stopped",
            "history": histories[k],
            "weights": [w.copy() for w in net.weights],
            "biases": [b.copy() for b in net.biases],
            "shuffle_state": trainers[k].shuffle_state,
        }
    return {"runs": outcomes}
