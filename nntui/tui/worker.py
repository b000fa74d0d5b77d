"""The bridge between the engine and the dashboard: runs in a worker thread, only posts messages.

`run_training` drives `Trainer.run()` -- the same loop as ``nntui train`` --
and turns each event into the `nntui.tui.messages.Training` message of the same
name, with the trainer's `NetworkSnapshot` of that moment. It never touches a
widget. (The data and the baselines come the same way: `nntui.tui.fetch`.)

The path of an epoch's end, from the training thread to the widgets that show
it, in three handoffs (a message posted, or a call into another object):

1. this thread posts `Training.EpochDone(event, snapshot)` (with the next batch
   of messages, see below);
2. `MainScreen.on_training_epoch_done` records it with `RunControl.heard_epoch`
   (the one history is the trainer's; the session keeps ``snapshot`` as the
   network the views show) and calls `MainViews.epoch`, which
3. hands it to each widget: the log's line, the accuracy chart's point, and
   `DigitGallery.show_network`, which draws the cards of that snapshot when its
   throttle (`nntui.tui.widgets.throttle`) lets it.

The path of a live change (eta, the mini-batch size or the epochs typed while a
run goes on): `HyperParams` posts `LiveSetting` once (Enter or leaving the
field); the screen hands it to `RunControl.set_live`, which calls
`Trainer.set_live`. The trainer applies it before its next mini-batch and
reports it; from the training thread, again three handoffs:

1. this thread posts `Training.SettingChanged(event)` at once;
2. `MainScreen.on_training_setting_changed` has `RunControl.heard_setting`
   update the run's config, and calls `MainViews.setting_changed`, which
3. shows it: a line in the log, a mark on both charts, or for the epochs the
   charts' and the progress's last epoch and the number the trainer kept in the
   panel (`HyperParams.show_applied`, which posts nothing back: no echo).

Four things keep the UI responsive while it runs on a 2-core machine:

* BLAS is held to one thread: at these matrix sizes more threads gain nothing
  and fight the UI for the cores.
* Progress is batched: the trainer yields a `BatchProgress` about every
  `nntui.tui.model.session.PROGRESS_IMAGES` images (more often on a small
  training set), and at most one batch of messages per `PROGRESS_INTERVAL`
  seconds is posted: the epochs that ended since the last batch and the newest
  progress, drawn in one frame. Other events (settings
  changed, pause, the end) are posted at once.
* The objects alive when the run starts (the app, its widgets, the data) are
  frozen out of the garbage collector's sight (`gc.freeze`) until it ends.
  Otherwise each full collection walks all of them with the GIL held, several
  times a minute, stalling the trainer and any key press that lands on one
  (measured in benchmarks/README.md).
* Keys come first. The UI thread clears ``ui_idle`` when a key or a click
  arrives, or a run starts, and sets it once the frame answering it is drawn;
  meanwhile this thread waits at its next event (every thousand images or so)
  instead of taking the GIL back between each of the UI's writes. The
  interpreter's switch interval is left at Python's 5 ms: a shorter one (1 ms
  was tried) made every frame hand the GIL back and forth more often, which
  cost the UI thread more CPU and answered keys no sooner (benchmarks/README.md).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from textual.message import Message
from threadpoolctl import threadpool_limits

from nntui.engine import events
from nntui.engine.snapshot import NetworkSnapshot
from nntui.engine.training import Trainer
from nntui.store.recorder import RunRecorder
from nntui.tui.messages import Training
from nntui.tui.model.session import progress_every

# seconds: post progress at most 4 times a second. Each one redraws the progress bar, the
# speed line and (throttled) the charts, the gallery and the log; at 10 a second the UI
# thread spent more than a tenth of each second of training on them (benchmarks/README.md).
PROGRESS_INTERVAL = 0.25
GIVE_WAY_MAX = 0.1  # seconds: the longest the trainer waits for the UI to draw a key's frame
FULL_GC_EVERY = 100  # while training: a full garbage collection per this many of generation 1

Post = Callable[[Message], object]


def run_training(
    trainer: Trainer,
    post: Post,
    is_cancelled: Callable[[], bool] = lambda: False,
    interval: float = PROGRESS_INTERVAL,
    recorder: RunRecorder | None = None,
    ui_idle: threading.Event | None = None,
) -> events.TrainingFinished | None:
    """Run the trainer to the end, posting messages; return how it ended.

    Every event becomes a message, but progress and epoch ends go out in
    batches at most ``interval`` seconds apart (see `_Throttle`): the UI could
    not draw them for every few mini-batches. What is held back is posted
    before any other event, so the screen always shows the final state.
    ``recorder`` keeps the run in the runs directory, from this thread: between
    two events the network does not change, so it is saved whole. While
    ``ui_idle`` is clear (a key is being answered) the loop waits at its next
    event, at most `GIVE_WAY_MAX` seconds.
    """
    train_size = trainer.config.train_size
    trainer.progress_every = progress_every(trainer.mini_batch_size, train_size)
    progress = _Throttle(post, interval, lambda: trainer.snapshot)
    costs: list[tuple[int, float]] = []
    epoch = None
    finished = None
    with threadpool_limits(limits=1), _frozen_heap():
        for event in trainer.run():
            if ui_idle is not None and not ui_idle.is_set() and not ui_idle.wait(GIVE_WAY_MAX):
                ui_idle.set()  # no frame came: give way once per key, never for good
            if is_cancelled():
                trainer.cancel()  # stops after this mini-batch; the loop still yields its end
            if recorder is not None:
                recorder.handle(event, trainer.network, trainer.shuffle_state)
            if isinstance(event, events.BatchProgress):
                if event.epoch != epoch:
                    epoch, costs = event.epoch, []
                costs.append((event.images_done, event.running_cost))
                progress.offer(Training.BatchProgress(event, tuple(costs)))
                continue
            if isinstance(event, events.EpochDone):
                # The trainer is paused at this event, so its snapshot is this epoch's.
                progress.queue(Training.EpochDone(event, trainer.snapshot))
                continue
            # Everything else answers a key or ends the run: at once, after what came before.
            progress.flush()
            if isinstance(event, events.SettingChanged) and event.name == "mini_batch_size":
                trainer.progress_every = progress_every(int(event.new), train_size)
            if isinstance(event, events.TrainingFinished):
                finished = event
            post(message_for(event, trainer.snapshot))
    return finished


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the garbage collector's full passes off the objects alive now, and rarer, for the block.

    Frozen, the objects of the app and the data are not walked; but what the UI
    makes while training (caches of rendered lines, messages) still grows the
    oldest generation, and a full pass over it took up to 120 ms with the GIL
    held, about once a second: the worst key presses waited for one. While
    training, a full pass comes after `FULL_GC_EVERY` younger ones, not 10.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], FULL_GC_EVERY))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()  # cycles among them can be collected again once the run is over


class _Throttle:
    """Posts what the run reports in batches, at most one batch per ``interval``.

    A batch is the epochs that ended since the last one, in order, then the
    newest progress (older progress is dropped). Posted together, they are
    drawn in one frame: an epoch's end posted on its own would cost the UI
    thread a frame of its own, and short epochs end several times a second.
    The progress carries the network as it is when posted (``snapshot()``):
    never older than the epoch ends posted before it, never ahead of them.
    """

    def __init__(
        self, post: Post, interval: float, snapshot: Callable[[], NetworkSnapshot | None]
    ) -> None:
        self._post = post
        self._interval = interval
        self._snapshot = snapshot
        self._last = -float("inf")
        self._held: Training.BatchProgress | None = None
        self._queued: list[Message] = []

    def offer(self, message: Training.BatchProgress) -> None:
        """Progress: only the newest held back is ever posted."""
        self._held = message
        self._post_if_due()

    def queue(self, message: Message) -> None:
        """An epoch's end: posted with the next batch, never dropped."""
        self._queued.append(message)
        self._post_if_due()

    def flush(self) -> None:
        """Post whatever is held back, now."""
        if self._held is not None or self._queued:
            self._send()

    def _post_if_due(self) -> None:
        if time.perf_counter() - self._last >= self._interval:
            self._send()

    def _send(self) -> None:
        self._last = time.perf_counter()
        queued, self._queued = self._queued, []
        for message in queued:
            self._post(message)
        if self._held is not None:
            held, self._held = self._held, None
            held.snapshot = self._snapshot()  # not yet posted: no other thread sees it
            self._post(held)


def message_for(event: events.TrainingEvent, snapshot: NetworkSnapshot | None = None) -> Message:
    """The `Training` message that carries ``event`` and, where views need it, ``snapshot``."""
    match event:
        case events.TrainingStarted():
            return Training.Started(event)
        case events.EpochDone():
            return Training.EpochDone(event, snapshot)
        case events.SettingChanged():
            return Training.SettingChanged(event)
        case events.Paused():
            return Training.Paused(event, snapshot)
        case events.Resumed():
            return Training.Resumed(event)
        case events.TrainingFinished():
            return Training.Finished(event, snapshot)
        case events.BatchProgress():
            points = ((event.images_done, event.running_cost),)
            return Training.BatchProgress(event, points, snapshot)
    raise TypeError(f"not a training event: {event!r}")
