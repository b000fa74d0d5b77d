"""The training loop: the events it yields and the controls it honours."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ConfigError
from nntui.engine.events import (
    BatchProgress,
    EpochDone,
    Paused,
    Resumed,
    SettingChanged,
    TrainingFinished,
    TrainingStarted,
)
from nntui.engine.network import Network
from nntui.engine.snapshot import NetworkSnapshot
from nntui.engine.training import Trainer

SMALL = TrainConfig(epochs=3, mini_batch_size=10, eta=3.0, seed=1, train_size=500)


def events_of(trainer: Trainer) -> list:
    return list(trainer.run())


def run_and_act(trainer: Trainer, images_done: int, act: Callable[[], None]) -> list:
    """Every event of the run; ``act`` is called at the progress event at ``images_done``."""
    seen = []
    for event in trainer.run():
        seen.append(event)
        if isinstance(event, BatchProgress) and event.images_done == images_done:
            act()
    return seen


def test_a_run_yields_the_books_epoch_lines_and_learns(tiny_data):
    trainer = Trainer(tiny_data, SMALL, progress_every=10)
    events, published = [], []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, TrainingStarted | EpochDone):
            published.append(trainer.snapshot)
    assert isinstance(events[0], TrainingStarted) and events[0].seed == 1
    epochs = [e for e in events if isinstance(e, EpochDone)]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert epochs[0].book_line() == f"Epoch 1: {epochs[0].correct} / 100"
    assert epochs[-1].accuracy > 0.5  # chance is 0.1; the blobs are easy to learn
    assert epochs[-1].predictions.shape == (100,)
    assert epochs[-1].correct == int((epochs[-1].predictions == tiny_data.test.labels).sum())
    progress = [e for e in events if isinstance(e, BatchProgress)]
    # 50 mini-batches an epoch, a report every 10 and one at the end of the epoch.
    assert len(progress) == 3 * 5
    assert progress[-1].images_done == progress[-1].images_total == 500
    assert all(p.running_cost > 0 for p in progress)
    # A snapshot of the network before training, then one as each epoch is reported.
    assert [s.epoch for s in published] == [0, 1, 2, 3]
    assert published[0].outputs(tiny_data.test.images[:8]).shape == (8, 10)
    assert not [e for e in events if isinstance(e, NetworkSnapshot)]  # an attribute, not an event
    snapshot = trainer.snapshot
    np.testing.assert_array_equal(snapshot.weights[0], trainer.network.weights[0])
    assert snapshot.weights[0] is not trainer.network.weights[0]  # a copy, safe to keep
    assert not snapshot.weights[0].flags.writeable
    assert not np.array_equal(published[0].weights[0], snapshot.weights[0])  # kept as it was
    finished = events[-1]
    assert isinstance(finished, TrainingFinished) and finished.status == "completed"
    assert finished.best_correct == max(e.correct for e in epochs)


def test_two_snapshots_of_one_epoch_compare_as_different_moments_not_as_arrays():
    """The views compare snapshots to see a change; array fields must not make that raise."""
    network = Network([784, 30, 10], seed=1)
    a, b = NetworkSnapshot.of(network, 30), NetworkSnapshot.of(network, 30)
    assert a == a and a != b  # no "truth value of an array is ambiguous"
    assert (a, 30, "test") != (b, 30, "test")  # as `LiveSubject.version` is compared
    assert len({a, b}) == 2


def test_the_same_seed_gives_the_same_run(tiny_data):
    a = [e.correct for e in events_of(Trainer(tiny_data, SMALL)) if isinstance(e, EpochDone)]
    b = [e.correct for e in events_of(Trainer(tiny_data, SMALL)) if isinstance(e, EpochDone)]
    assert a == b


def test_per_sample_backprop_trains_like_the_matrix_version(tiny_data):
    def final_weights(backprop):
        cfg = SMALL.with_changes(epochs=1, backprop=backprop)
        t = Trainer(tiny_data, cfg)
        events_of(t)
        return t.network.weights[0]

    np.testing.assert_allclose(final_weights("per-sample"), final_weights("matrix"), atol=2e-4)


def test_eval_on_validation_uses_the_validation_split(tiny_data):
    cfg = SMALL.with_changes(epochs=1, eval_on="validation")
    done = [e for e in events_of(Trainer(tiny_data, cfg)) if isinstance(e, EpochDone)]
    assert done[0].total == len(tiny_data.validation)


def test_train_size_uses_a_subset_and_must_fit_the_data(tiny_data):
    t = Trainer(tiny_data, SMALL.with_changes(train_size=100, epochs=1))
    assert [e.images_total for e in events_of(t) if isinstance(e, BatchProgress)][-1] == 100
    with pytest.raises(ConfigError, match="more than the 500 training images"):
        Trainer(tiny_data, SMALL.with_changes(train_size=501))


def test_eta_and_mini_batch_size_can_change_mid_run(tiny_data):
    trainer = Trainer(tiny_data, SMALL.with_changes(epochs=2), progress_every=5)
    seen = []
    for event in trainer.run():
        seen.append(event)
        if isinstance(event, BatchProgress) and event.epoch == 1 and event.images_done == 50:
            trainer.set_live(eta=0.5, mini_batch_size=25)
    changes = [e for e in seen if isinstance(e, SettingChanged)]
    assert [(c.name, c.old, c.new) for c in changes] == [
        ("eta", 3.0, 0.5),
        ("mini_batch_size", 10, 25),
    ]
    assert changes[0].images_done == 50
    done = [e for e in seen if isinstance(e, EpochDone)]
    assert (done[-1].eta, done[-1].mini_batch_size) == (0.5, 25)


def test_cancel_stops_after_the_current_mini_batch(tiny_data):
    trainer = Trainer(tiny_data, SMALL, progress_every=1)
    seen = run_and_act(trainer, 30, trainer.cancel)
    finished = seen[-1]
    assert isinstance(finished, TrainingFinished) and finished.status == "stopped"
    assert finished.epochs_done == 0
    assert not [e for e in seen if isinstance(e, EpochDone)]
    # Nothing ran after the cancel: the last progress is the one that cancelled.
    assert [e for e in seen if isinstance(e, BatchProgress)][-1].images_done == 30


def test_pause_blocks_between_mini_batches_until_resumed_from_another_thread(tiny_data):
    trainer = Trainer(tiny_data, SMALL.with_changes(epochs=1), progress_every=1)
    resumer = threading.Timer(0.5, trainer.resume)
    began = time.perf_counter()

    def pause() -> None:
        trainer.pause()
        assert trainer.paused
        resumer.start()

    seen = run_and_act(trainer, 20, pause)
    kinds = [type(e) for e in seen]
    paused_at = kinds.index(Paused)
    assert kinds[paused_at + 1] is Resumed
    assert seen[paused_at].images_done == 20
    assert isinstance(seen[-1], TrainingFinished) and seen[-1].status == "completed"
    # Time spent paused (at least 0.5 s) is not counted as training time, however slow the
    # machine: the epoch's training time fits in the run's wall time less the pause.
    wall = time.perf_counter() - began
    assert next(e for e in seen if isinstance(e, EpochDone)).train_seconds < wall - 0.45


def test_cancel_while_paused_ends_the_run(tiny_data):
    trainer = Trainer(tiny_data, SMALL, progress_every=1)

    def pause_then_cancel() -> None:
        trainer.pause()
        threading.Timer(0.05, trainer.cancel).start()

    seen = run_and_act(trainer, 10, pause_then_cancel)
    assert isinstance(seen[-1], TrainingFinished) and seen[-1].status == "stopped"
    assert Resumed not in [type(e) for e in seen]


def test_live_settings_are_checked_before_they_apply(tiny_data):
    trainer = Trainer(tiny_data, SMALL)
    for bad in ({"eta": 0.0}, {"eta": float("nan")}, {"mini_batch_size": 0}):
        with pytest.raises(ConfigError):
            trainer.set_live(**bad)
    with pytest.raises(ConfigError, match="training-set size"):
        trainer.set_live(eta=1.0, mini_batch_size=501)  # all or nothing
    assert (trainer.eta, trainer.mini_batch_size) == (3.0, 10)


def test_snapshots_predict_like_the_network_they_copy(tiny_data):
    trainer = Trainer(tiny_data, SMALL)
    first = trainer.snapshot
    images = tiny_data.test.images[:20]
    assert first.epoch == 0 and first.sizes == tuple(SMALL.sizes)
    before = first.predict(images)
    events_of(trainer)
    after = trainer.snapshot
    assert after.epoch == 3
    np.testing.assert_array_equal(first.predict(images), before)  # the old copy did not change
    outputs = after.outputs(images)  # (20, 10)
    assert outputs.shape == (20, 10)
    np.testing.assert_array_equal(after.predict(images), np.argmax(outputs, axis=1))
    assert after.to_network().evaluate(images, tiny_data.test.labels[:20]) == int(
        (after.predict(images) == tiny_data.test.labels[:20]).sum()
    )


def test_divergence_stops_with_a_message_naming_the_epoch(tiny_data):
    trainer = Trainer(tiny_data, SMALL)
    trainer.network.weights[0][0, 0] = np.nan  # what a runaway eta would leave behind
    events = events_of(trainer)
    finished = events[-1]
    assert isinstance(finished, TrainingFinished) and finished.status == "diverged"
    assert "epoch 1" in finished.message and "smaller eta" in finished.message
    assert not [e for e in events if isinstance(e, EpochDone)]


def test_resuming_continues_the_same_run(tiny_data):
    whole = Trainer(tiny_data, SMALL.with_changes(epochs=2))
    events_of(whole)
    first = Trainer(tiny_data, SMALL.with_changes(epochs=1))
    events_of(first)
    rest = Trainer(
        tiny_data, SMALL.with_changes(epochs=1), network=first.network, seed=1, first_epoch=2
    )
    done = [e for e in events_of(rest) if isinstance(e, EpochDone)]
    assert [e.epoch for e in done] == [2]
    np.testing.assert_array_equal(rest.network.weights[0], whole.network.weights[0])


def test_an_order_from_outside_replaces_the_trainers_shuffle(tiny_data):
    """The book's random.shuffle of its own list decides the mini-batches (`nntui.book`)."""
    config = TrainConfig(epochs=2, mini_batch_size=7, eta=3.0, seed=4, train_size=60)
    orders = [np.random.default_rng(9).permutation(60) for _ in range(2)]
    asked: list[int] = []

    def order(n: int) -> np.ndarray:
        asked.append(n)
        return orders[len(asked) - 1]

    start = Network(config.sizes, seed=1)
    trainer = Trainer(tiny_data, config, network=start.copy(), order=order)
    events_of(trainer)
    assert asked == [60, 60]
    # By hand: consecutive slices of each epoch's order, the last one short.
    by_hand = start.copy()
    x = tiny_data.training.images[:60]
    y = np.eye(10, dtype=np.float32)[tiny_data.training.labels[:60]]
    for perm in orders:
        for k in range(0, 60, 7):
            idx = perm[k : k + 7]
            by_hand.update_mini_batch(x[idx].T, y[idx].T, 3.0)
    for a, b in zip(trainer.network.weights, by_hand.weights, strict=True):
        assert np.allclose(a, b, atol=1e-5)


def test_every_control_call_is_counted_once_its_change_is_made(tiny_data):
    # A stack of networks looks only at this count between mini-batches, so each control
    # must bump it, and only after the change it announces is in place.
    trainer = Trainer(tiny_data, TrainConfig(epochs=2, train_size=500), seed=1)
    seen = [trainer.control_calls]

    def counted(call: Callable[[], object], check: Callable[[], bool]) -> None:
        call()
        assert trainer.control_calls == seen[-1] + 1 and check()
        seen.append(trainer.control_calls)

    counted(trainer.pause, lambda: trainer.paused)
    counted(lambda: trainer.step("batch"), lambda: trainer.stepping)
    counted(trainer.resume, lambda: not trainer.paused)
    counted(lambda: trainer.set_live(eta=0.5), lambda: trainer._eta == 0.5)
    counted(lambda: trainer.set_speed(20.0), lambda: trainer.batches_per_second == 20.0)
    counted(trainer.cancel, lambda: trainer.cancelled)
    with pytest.raises(ConfigError):
        trainer.set_live(eta=-1.0)
    assert trainer.control_calls == seen[-1]  # a refused change is no change
