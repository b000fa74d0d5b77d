"""One run of a sweep, as a Dask worker executes it.

`run_on_worker` trains the engine's `Trainer` and reports back while it goes:
a message when it starts and one per epoch, on a `distributed.Queue` that the
client drains (so the client records runs even when it shares no filesystem
with the workers). The trained network comes back as the task's result.

A running Dask task cannot be interrupted from outside, so the run checks a
stop flag between mini-batches. Asking the scheduler costs a round trip, too
much for every mini-batch: a background thread waits on the sweep's
`distributed.Event` and calls `Trainer.cancel`, which the loop sees at the next
mini-batch.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from nntui.engine.config import TrainConfig
from nntui.engine.events import EpochDone, TrainingFinished
from nntui.engine.training import Trainer
from nntui.store.metrics import epoch_record
from nntui.sweep.payload import Payload, unpack_cached

# How often the stop watcher asks the scheduler again; the wait returns at once when the
# flag is set, so this only bounds how long the thread outlives its run.
_WATCH_SECONDS = 1.0
# A run sends its model (with the shuffles' state) to the client at most this often, after
# an epoch, and at its end: a run stopped or failed later continues from there.
CHECKPOINT_SECONDS = 30.0


class StopWatcher:
    """Cancels ``trainers`` when the sweep's stop event is set; ends with the run (or stack)."""

    def __init__(self, event: Any, trainers: Sequence[Trainer]) -> None:
        self._event = event
        self._trainers = trainers
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="nntui-stop-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.is_set():
            try:
                if self._event.wait(timeout=_WATCH_SECONDS):
                    for trainer in self._trainers:
                        trainer.cancel()
                    return
            except Exception:  # the scheduler is gone: the run is lost anyway
                return

    def close(self) -> None:
        self._done.set()


def checkpoint_every() -> float:
    """Seconds between a run's model messages (Dask's config may say otherwise: tests do)."""
    import dask

    return float(dask.config.get("nntui.checkpoint-seconds", CHECKPOINT_SECONDS))


def _quiet_client_teardown(unraisable: Any) -> None:
    """Drop the one error a worker dying mid-start prints: its half-made client's ``__del__``.

    A run that a stop cancels as it starts is still making the worker's client
    (for its `Queue` and `Event`) when the cluster shuts the worker down; the
    client's ``__del__`` then finds the event loop closed and Python prints
    "Exception ignored in Client.__del__ ... IOLoop is closed" on the terminal
    of ``nntui sweep``. Harmless, the process is ending; anything else is printed.
    """
    exc = unraisable.exc_value
    where = getattr(unraisable.object, "__qualname__", "")
    if (
        where == "Client.__del__"
        and isinstance(exc, RuntimeError)
        and "IOLoop is closed" in str(exc)
    ):
        return
    _default_unraisablehook(unraisable)


_default_unraisablehook = sys.unraisablehook


def worker_channels(channel: str, stop_name: str) -> tuple[Any, Any, str]:
    """The task's side of a sweep: its report ``Queue``, its stop ``Event``, its worker.

    Also installs `_quiet_client_teardown`: the queue and event make the worker's client.
    """
    from distributed import Event, Queue, get_worker

    sys.unraisablehook = _quiet_client_teardown
    queue = Queue(channel)
    stop = Event(stop_name)
    try:
        worker = get_worker().address
    except ValueError:  # pragma: no cover - called outside a worker
        worker = "local"
    return queue, stop, worker


def run_on_worker(
    index: int,
    config: dict[str, Any],
    payload: Payload,
    channel: str,
    stop_name: str,
    resume: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train run ``index`` of a sweep; report on queue ``channel``; stop on event ``stop_name``.

    ``resume`` continues a stopped run: its ``weights``, ``biases``,
    ``shuffle_state`` and ``epochs_done`` (``config``'s epochs are then those
    still to train). Returns the run's outcome: status, message, epoch records,
    the network's weights and biases (plain lists of arrays, for the client to
    save) and the shuffles' state.
    """
    from threadpoolctl import threadpool_limits

    attempt = uuid.uuid4().hex
    queue, stop, worker = worker_channels(channel, stop_name)
    train_config = TrainConfig.from_dict(config)
    history: list[dict[str, Any]] = []
    finished: TrainingFinished | None = None
    # One BLAS thread per run: the worker processes are the parallelism, and the same
    # thread count everywhere keeps results bit for bit the same on any cluster.
    with threadpool_limits(limits=1):
        data = unpack_cached(payload)
        trainer = _trainer(data, train_config, resume)
        last_sent = time.monotonic()
        every = checkpoint_every()
        queue.put({"kind": "start", "run": index, "attempt": attempt, "worker": worker})
        watcher = StopWatcher(stop, [trainer])
        try:
            if stop.is_set():
                trainer.cancel()
            for event in trainer.run():
                if isinstance(event, EpochDone):
                    record = epoch_record(event)
                    history.append(record)
                    queue.put({"kind": "epoch", "run": index, "attempt": attempt, "record": record})
                    if time.monotonic() - last_sent >= every:
                        queue.put(model_message(index, attempt, event.epoch, trainer))
                        last_sent = time.monotonic()
                elif isinstance(event, TrainingFinished):
                    finished = event
        finally:
            watcher.close()
    net = trainer.network
    return {
        "run": index,
        "attempt": attempt,
        "status": finished.status if finished else "stopped",
        "message": finished.message if finished else "stopped",
        "history": history,
        "weights": [w.copy() for w in net.weights],
        "biases": [b.copy() for b in net.biases],
        "shuffle_state": trainer.shuffle_state,
    }


def _trainer(data: Any, config: TrainConfig, resume: dict[str, Any] | None) -> Trainer:
    if resume is None:
        return Trainer(data, config, progress_every=10**9)
    from nntui.engine.network import Network

    network = Network.from_parameters(list(resume["weights"]), list(resume["biases"]))
    return Trainer(
        data,
        config,
        network=network,
        progress_every=10**9,
        first_epoch=int(resume["epochs_done"]) + 1,
        shuffle_state=resume.get("shuffle_state"),
    )


def model_message(index: int, attempt: str, epoch: int, trainer: Trainer) -> dict[str, Any]:
    """The run's model after ``epoch``, for the client to keep (`RunCheckpoint`)."""
    net = trainer.network
    return {
        "kind": "model",
        "run": index,
        "attempt": attempt,
        "epoch": epoch,
        "weights": [w.copy() for w in net.weights],
        "biases": [b.copy() for b in net.biases],
        # As JSON text: the generator's 128-bit integers are too big for msgpack.
        "shuffle_state": json.dumps(trainer.shuffle_state),
    }
