"""Stepping through training one mini-batch or one epoch at a time, and the speed limit."""

from __future__ import annotations

import queue
import threading
import time

import numpy as np
import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ConfigError
from nntui.engine.events import BatchProgress, EpochDone, Paused, TrainingFinished
from nntui.engine.training import Trainer, one_hot

CONFIG = TrainConfig(sizes=(784, 12, 10), epochs=2, train_size=200, seed=9, mini_batch_size=10)


class Runner:
    """Consumes a trainer's events on a thread, as the dashboard's worker does."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.events: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for event in self.trainer.run():
            self.events.put(event)
        self.events.put(None)

    def until(self, kind) -> list:
        seen = []
        while True:
            event = self.events.get(timeout=30)
            seen.append(event)
            if event is None or isinstance(event, kind):
                return seen

    def stop(self) -> None:
        self.trainer.cancel()
        self.thread.join(timeout=30)


def paused_before_the_start(tiny_data) -> tuple[Trainer, Runner]:
    """A run paused before its first mini-batch, its thread waiting: (the trainer, its runner)."""
    trainer = Trainer(tiny_data, CONFIG)
    trainer.pause()
    runner = Runner(trainer)
    runner.until(Paused)
    return trainer, runner


def first_batch(trainer: Trainer, tiny_data, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The first mini-batch of the run: the trainer's shuffle stream, recreated."""
    _, shuffle = np.random.SeedSequence(trainer.seed).spawn(2)
    idx = np.random.default_rng(shuffle).permutation(CONFIG.train_size)[:m]
    x = tiny_data.training.images[idx]
    return x.T, one_hot(tiny_data.training.labels[idx]).T


def test_a_batch_step_before_the_start_is_exactly_one_update(tiny_data):
    trainer = Trainer(tiny_data, CONFIG)
    before = trainer.network.copy()
    trainer.pause()  # before the first start
    runner = Runner(trainer)
    paused = runner.until(Paused)[-1]
    assert (paused.epoch, paused.images_done) == (1, 0)
    assert trainer.step("batch")
    seen = runner.until(Paused)
    assert [type(e) for e in seen] == [BatchProgress, Paused]
    assert seen[-1].images_done == 10
    x, y = first_batch(trainer, tiny_data, 10)
    before.update_mini_batch(x, y, CONFIG.eta)
    for w, expected in zip(trainer.network.weights, before.weights, strict=True):
        assert np.allclose(w, expected, atol=1e-6)
    for b, expected in zip(trainer.network.biases, before.biases, strict=True):
        assert np.allclose(b, expected, atol=1e-6)
    runner.stop()


def test_a_second_batch_step_moves_on_by_one_more_batch(tiny_data):
    trainer, runner = paused_before_the_start(tiny_data)
    for done in (10, 20, 30):
        assert trainer.step("batch")
        assert runner.until(Paused)[-1].images_done == done
    runner.stop()


def test_an_epoch_step_is_one_evaluated_epoch_then_paused(tiny_data):
    trainer, runner = paused_before_the_start(tiny_data)
    assert trainer.step("epoch")
    seen = runner.until(Paused)
    epochs = [e for e in seen if isinstance(e, EpochDone)]
    assert [e.epoch for e in epochs] == [1]
    assert (seen[-1].epoch, seen[-1].images_done) == (2, 0)
    # Not one progress event per mini-batch when stepping an epoch at full speed.
    assert sum(isinstance(e, BatchProgress) for e in seen) <= 2
    # The same network as an uninterrupted one-epoch run.
    plain = Trainer(tiny_data, CONFIG.with_changes(epochs=1))
    for _ in plain.run():
        pass
    for w, expected in zip(trainer.network.weights, plain.network.weights, strict=True):
        assert np.allclose(w, expected, atol=1e-6)
    runner.stop()


def test_step_does_nothing_unless_paused(tiny_data):
    trainer = Trainer(tiny_data, CONFIG)
    assert not trainer.step("batch")
    trainer.pause()
    assert trainer.step("batch")
    assert trainer.step("batch")  # already stepping: queued behind it
    with pytest.raises(ValueError):
        trainer.step("lots")
    trainer.cancel()
    assert not trainer.step("batch")  # a cancelled run takes no step


def test_steps_asked_for_faster_than_they_train_are_queued_not_dropped(tiny_data):
    # The row: 100 presses of `.` 4 ms apart trained 12 mini-batches.
    trainer = Trainer(tiny_data, CONFIG.with_changes(epochs=20))
    trainer.pause()
    presses = 100
    taken = 0
    events = []
    runner = threading.Thread(target=lambda: events.extend(trainer.run()), daemon=True)
    runner.start()
    for _ in range(presses):
        taken += trainer.step("batch")
        time.sleep(0.001)  # faster than a mini-batch is reported and the pause follows
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (trainer.stepping or not trainer.paused):
        time.sleep(0.01)
    trainer.cancel()
    runner.join(60)
    assert taken == presses
    last_in_epoch: dict[int, int] = {}
    for e in events:
        if isinstance(e, BatchProgress):
            last_in_epoch[e.epoch] = max(last_in_epoch.get(e.epoch, 0), e.images_done)
    trained = sum(last_in_epoch.values())
    m = CONFIG.mini_batch_size
    assert trained == presses * m, f"{trained} images for {presses} presses"


def test_an_epoch_step_queued_behind_batch_steps_finishes_that_epoch(tiny_data):
    trainer = Trainer(tiny_data, CONFIG.with_changes(epochs=3))
    trainer.pause()
    events = []
    runner = threading.Thread(target=lambda: events.extend(trainer.run()), daemon=True)
    runner.start()
    assert trainer.step("batch") and trainer.step("batch") and trainer.step("epoch")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(isinstance(e, EpochDone) for e in events):
        time.sleep(0.01)
    while time.monotonic() < deadline and (trainer.stepping or not trainer.paused):
        time.sleep(0.01)
    trainer.cancel()
    runner.join(60)
    assert [e.epoch for e in events if isinstance(e, EpochDone)] == [1]


def test_a_speed_limit_gives_one_progress_event_per_batch(tiny_data):
    trainer = Trainer(tiny_data, CONFIG.with_changes(epochs=1))
    trainer.set_speed(1000.0)  # fast enough for a test, but one by one
    events = list(trainer.run())
    progress = [e for e in events if isinstance(e, BatchProgress)]
    assert [p.images_done for p in progress] == list(range(10, 201, 10))
    assert isinstance(events[-1], TrainingFinished) and events[-1].status == "completed"


def test_a_slow_run_still_pauses_and_cancels_promptly(tiny_data):
    trainer = Trainer(tiny_data, CONFIG)
    trainer.set_speed(0.01)  # one mini-batch every 100 s
    runner = Runner(trainer)
    runner.until(BatchProgress)  # the first batch went through, the wait has begun
    trainer.pause()
    assert isinstance(runner.until(Paused)[-1], Paused)
    trainer.set_speed(None)
    assert trainer.batches_per_second is None
    runner.stop()
    assert not runner.thread.is_alive()


def test_speed_must_be_positive(tiny_data):
    trainer = Trainer(tiny_data, CONFIG)
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ConfigError):
            trainer.set_speed(bad)


def test_a_step_publishes_a_snapshot_for_the_views(tiny_data):
    trainer = Trainer(tiny_data, CONFIG)
    before = trainer.snapshot
    trainer.pause()
    runner = Runner(trainer)
    runner.until(Paused)
    trainer.step("batch")
    runner.until(Paused)
    after = trainer.snapshot
    assert after is not before and after.epoch == 0  # no epoch finished yet
    for w, live in zip(after.weights, trainer.network.weights, strict=True):
        assert np.array_equal(w, live)
    runner.stop()
