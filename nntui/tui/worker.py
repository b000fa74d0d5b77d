"""The bridge between the engine and the dashboard: runs in a worker thread, only posts messages.

`run_training` drives `Trainer.run()` -- the same loop as ``nntui train`` --
and turns each event into a message from `nntui.tui.messages`. It never
touches a widget. Three things keep the UI responsive while it runs on a
2-core machine:

* BLAS is held to one thread: at these matrix sizes more threads gain nothing
  and fight the UI for the cores.
* Progress is batched: the trainer yields a `BatchProgress` about every
  `PROGRESS_IMAGES` images, and at most one `RunProgress` per
  `PROGRESS_INTERVAL` seconds is posted. Epoch events are always posted.
* The objects alive when the run starts (the app, its widgets, the data) are
  frozen out of the garbage collector's sight (`gc.freeze`) until it ends.
  Otherwise each full collection walks all of them: 70-90 ms with the GIL
  held, half a dozen times in ten seconds of training, stalling the trainer
  and any key press that lands on one.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from textual.message import Message
from threadpoolctl import threadpool_limits

from nntui.data.download import Progress
from nntui.engine.dataset import MnistData
from nntui.engine.events import (
    BatchProgress,
    EpochDone,
    Paused,
    Resumed,
    SamplesPredicted,
    SettingChanged,
    TrainingEvent,
    TrainingFinished,
    TrainingStarted,
)
from nntui.engine.training import Trainer
from nntui.store.recorder import RunRecorder
from nntui.tui.messages import (
    DataProgress,
    EpochFinished,
    RunFinished,
    RunPaused,
    RunProgress,
    RunResumed,
    RunStarted,
    SamplesReady,
    SettingApplied,
)
from nntui.tui.model.session import progress_every

PROGRESS_INTERVAL = 0.1  # seconds: post progress at most 10 times a second
SAMPLES_INTERVAL = 0.25  # seconds: redraw the gallery at most 4 times a second

Post = Callable[[Message], object]


def run_training(
    trainer: Trainer,
    post: Post,
    is_cancelled: Callable[[], bool] = lambda: False,
    interval: float = PROGRESS_INTERVAL,
    recorder: RunRecorder | None = None,
) -> TrainingFinished | None:
    """Run the trainer to the end, posting messages; return how it ended.

    Every event becomes a message, except that progress is posted at most once
    per ``interval`` seconds and the gallery's predictions at most once per
    `SAMPLES_INTERVAL`: when epochs take milliseconds (a small training set)
    the UI could not draw them all. The newest of each held back is posted
    before the run pauses or ends, so the screen always shows the final state.
    ``recorder`` keeps the run in the runs directory, from this thread: between
    two events the network does not change, so it is saved whole.
    """
    train_size = trainer.config.train_size
    trainer.progress_every = progress_every(trainer.mini_batch_size, train_size)
    progress = _Throttle(post, interval)
    samples = _Throttle(post, SAMPLES_INTERVAL)
    costs: list[tuple[int, float]] = []
    epoch = None
    finished = None
    with threadpool_limits(limits=1), _frozen_heap():
        for event in trainer.run():
            if is_cancelled():
                trainer.cancel()  # stops after this mini-batch; the loop still yields its end
            if recorder is not None:
                recorder.handle(event, trainer.network)
            if isinstance(event, BatchProgress):
                if event.epoch != epoch:
                    epoch, costs = event.epoch, []
                costs.append((event.images_done, event.running_cost))
                progress.offer(RunProgress(event, tuple(costs)))
                continue
            if isinstance(event, SamplesPredicted):
                samples.offer(SamplesReady(event))
                continue
            if isinstance(event, Paused | TrainingFinished):
                progress.flush()
                samples.flush()
            if isinstance(event, SettingChanged) and event.name == "mini_batch_size":
                trainer.progress_every = progress_every(int(event.new), train_size)
            if isinstance(event, TrainingFinished):
                finished = event
            message = _message_for(event)
            if message is not None:
                post(message)
    return finished


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the garbage collector's full passes off the objects alive now, for the block."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # cycles among them can be collected again once the run is over


class _Throttle:
    """Posts a message at most once per ``interval``; keeps the newest one held back."""

    def __init__(self, post: Post, interval: float) -> None:
        self._post = post
        self._interval = interval
        self._last = -float("inf")
        self._held: Message | None = None

    def offer(self, message: Message) -> None:
        now = time.perf_counter()
        if now - self._last >= self._interval:
            self._last = now
            self._held = None
            self._post(message)
        else:
            self._held = message

    def flush(self) -> None:
        if self._held is not None:
            self._post(self._held)
            self._held = None
            self._last = time.perf_counter()


def _message_for(event: TrainingEvent) -> Message | None:
    if isinstance(event, EpochDone):
        return EpochFinished(event)
    if isinstance(event, SamplesPredicted):
        return SamplesReady(event)
    if isinstance(event, SettingChanged):
        return SettingApplied(event)
    if isinstance(event, Paused):
        return RunPaused(event)
    if isinstance(event, Resumed):
        return RunResumed(event)
    if isinstance(event, TrainingStarted):
        return RunStarted(event)
    if isinstance(event, TrainingFinished):
        return RunFinished(event)
    return None  # BatchProgress and SamplesPredicted are throttled above


def load_data(path: Path | None, post: Post) -> MnistData:
    """Find, download if needed, and load MNIST, posting the downloader's progress."""
    from nntui.data.datastore import load_data as find_and_load

    def on_progress(progress: Progress) -> None:
        post(DataProgress(progress))

    return find_and_load(path, on_progress=on_progress)
