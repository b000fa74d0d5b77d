"""Stacked training: several networks trained together, each as if alone."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ConfigError
from nntui.engine.events import (
    BatchProgress,
    EpochDone,
    SettingChanged,
    TrainingFinished,
    TrainingStarted,
)
from nntui.engine.stacked import StackedTrainer
from nntui.engine.training import Trainer

BASE = TrainConfig(epochs=3, mini_batch_size=10, eta=3.0, seed=1, train_size=500)


def per_run(items):
    runs: dict[int, list] = {}
    for i, event in items:
        runs.setdefault(i, []).append(event)
    return runs


def comparable(event):
    """An event's fields minus the clock's."""
    fields = dataclasses.asdict(event)
    for name in ("train_seconds", "eval_seconds", "elapsed", "images_per_second", "epoch_elapsed"):
        fields.pop(name, None)
    fields.pop("predictions", None)
    fields.pop("layers", None)
    return type(event).__name__, fields


def alone(data, config, seed, dtype=np.float32, progress_every=7):
    from nntui.engine.network import Network
    from nntui.engine.training import seeded_network

    net = seeded_network(config, seed)
    if dtype is not np.float32:
        net = Network.from_parameters(
            [w.astype(dtype) for w in net.weights], [b.astype(dtype) for b in net.biases]
        )
    trainer = Trainer(data, config, seed=seed, network=net, progress_every=progress_every)
    return trainer, list(trainer.run())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stacked_runs_equal_the_same_runs_trained_alone_bit_for_bit(tiny_data, dtype):
    # Each network keeps its own seed (initial weights and shuffles) and its own eta.
    configs = [dataclasses.replace(BASE, eta=eta) for eta in (3.0, 0.5, 3.0)]
    seeds = [1, 7, 9]
    singles = [alone(tiny_data, c, s, dtype) for c, s in zip(configs, seeds, strict=True)]
    trainers = [
        Trainer(
            tiny_data,
            c,
            seed=s,
            network=t.network.__class__.from_parameters(*_initial(c, s, dtype)),
            progress_every=7,
        )
        for (t, _), c, s in zip(singles, configs, seeds, strict=True)
    ]
    runs = per_run(StackedTrainer(trainers).run())
    assert sorted(runs) == [0, 1, 2]
    for i, (single, events) in enumerate(singles):
        assert [comparable(e) for e in runs[i]] == [comparable(e) for e in events]
        stacked_done = [e for e in runs[i] if isinstance(e, EpochDone)]
        alone_done = [e for e in events if isinstance(e, EpochDone)]
        for a, b in zip(stacked_done, alone_done, strict=True):
            np.testing.assert_array_equal(a.predictions, b.predictions)
            # Inside the layers too: the same mini-batches sampled for the gradient sizes.
            assert a.layers == b.layers
        # The parameters themselves, bit for bit (same process, same operations).
        for a, b in zip(trainers[i].network.params, single.network.params, strict=True):
            np.testing.assert_array_equal(a, b)
        assert trainers[i].snapshot.epoch == 3
        assert isinstance(runs[i][0], TrainingStarted) and runs[i][0].seed == seeds[i]
        assert isinstance(runs[i][-1], TrainingFinished) and runs[i][-1].status == "completed"
    # Different seeds, different networks: the stack did not mix them up.
    assert not np.array_equal(trainers[0].network.params[0], trainers[2].network.params[0])
    # Each network owns its parameters again once the stack is done.
    assert not np.shares_memory(trainers[0].network.params[0], trainers[1].network.params[0])


def _initial(config, seed, dtype):
    from nntui.engine.training import seeded_network

    net = seeded_network(config, seed)
    return [w.astype(dtype) for w in net.weights], [b.astype(dtype) for b in net.biases]


def test_a_diverging_network_leaves_the_stack_without_disturbing_the_others(tiny_data):
    configs = [BASE, dataclasses.replace(BASE, eta=7.0), dataclasses.replace(BASE, eta=0.5)]
    trainers = [Trainer(tiny_data, c, seed=3, progress_every=7) for c in configs]
    trainers[1].network.weights[0][0, 0] = np.nan  # what a runaway eta would leave behind
    runs = per_run(StackedTrainer(trainers).run())
    finished = {i: runs[i][-1] for i in runs}
    assert finished[1].status == "diverged" and "epoch 1 with eta 7" in finished[1].message
    assert not [e for e in runs[1] if isinstance(e, EpochDone)]
    assert finished[0].status == finished[2].status == "completed"
    for i in (0, 2):
        _, events = alone(tiny_data, configs[i], 3)
        assert [comparable(e) for e in runs[i]] == [comparable(e) for e in events]


def test_a_network_stopped_or_changed_mid_stack_goes_its_own_way(tiny_data):
    config = dataclasses.replace(BASE, epochs=2)
    trainers = [Trainer(tiny_data, config, seed=s, progress_every=5) for s in (1, 2, 3)]
    stack = StackedTrainer(trainers)
    seen = []
    for i, event in stack.run():
        seen.append((i, event))
        if isinstance(event, BatchProgress) and event.epoch == 1 and event.images_done == 100:
            if i == 0:
                trainers[0].cancel()
            elif i == 1:
                trainers[1].set_live(eta=0.25, mini_batch_size=20)
    runs = per_run(seen)
    assert runs[0][-1].status == "stopped" and runs[0][-1].epochs_done == 0
    changes = [e for e in runs[1] if isinstance(e, SettingChanged)]
    assert [(c.name, c.old, c.new, c.images_done) for c in changes] == [
        ("eta", 3.0, 0.25, 100),
        ("mini_batch_size", 10, 20, 100),
    ]
    done1 = [e for e in runs[1] if isinstance(e, EpochDone)]
    assert [(e.eta, e.mini_batch_size) for e in done1] == [(0.25, 20), (0.25, 20)]
    assert runs[1][-1].status == "completed"
    # The third network never noticed: it trains as alone.
    _, events = alone(tiny_data, config, 3, progress_every=5)
    assert [comparable(e) for e in runs[2]] == [comparable(e) for e in events]
    # The second one's new settings act as they would alone: compare with a lone run
    # given the same changes at the same point.
    lone = Trainer(tiny_data, config, seed=2, progress_every=5)
    lone_events = []
    for event in lone.run():
        lone_events.append(event)
        if isinstance(event, BatchProgress) and event.epoch == 1 and event.images_done == 100:
            lone.set_live(eta=0.25, mini_batch_size=20)
    assert [comparable(e) for e in runs[1]] == [comparable(e) for e in lone_events]
    np.testing.assert_array_equal(trainers[1].network.params[0], lone.network.params[0])


def test_a_paused_network_waits_while_the_others_go_on(tiny_data):
    config = dataclasses.replace(BASE, epochs=1)
    trainers = [Trainer(tiny_data, config, seed=s, progress_every=5) for s in (1, 2)]
    trainers[0].pause()
    order = []
    for i, event in StackedTrainer(trainers).run():
        order.append((i, type(event).__name__))
        if i == 1 and isinstance(event, TrainingFinished):
            threading.Timer(0.05, trainers[0].resume).start()
    names0 = [n for i, n in order if i == 0]
    assert names0[:3] == ["TrainingStarted", "Paused", "Resumed"]
    assert order.index((1, "TrainingFinished")) < order.index((0, "Resumed"))
    assert names0[-1] == "TrainingFinished"
    # Paused before its first mini-batch and resumed later, it still trains as alone.
    lone = Trainer(tiny_data, config, seed=1, progress_every=5)
    list(lone.run())
    np.testing.assert_array_equal(trainers[0].network.params[0], lone.network.params[0])


def test_stack_size_and_refusals(tiny_data):
    trainers = [Trainer(tiny_data, BASE, seed=s) for s in (1, 2, 3)]
    runs = per_run(StackedTrainer(trainers, max_stack=1).run())
    for i, s in enumerate((1, 2, 3)):
        _, events = alone(tiny_data, BASE, s)
        done = [e.correct for e in runs[i] if isinstance(e, EpochDone)]
        assert done == [e.correct for e in events if isinstance(e, EpochDone)]
    with pytest.raises(ConfigError):
        StackedTrainer([])
    with pytest.raises(ConfigError):
        StackedTrainer([Trainer(tiny_data, dataclasses.replace(BASE, backprop="per-sample"))])
    with pytest.raises(ConfigError):
        StackedTrainer(trainers, max_stack=0)


def test_a_last_smaller_mini_batch_is_stacked_as_alone(tiny_data):
    # 495 images in mini-batches of 10: the 50th of each epoch has 5.
    config = dataclasses.replace(BASE, train_size=495, epochs=2)
    trainers = [Trainer(tiny_data, config, seed=s, progress_every=7) for s in (4, 5)]
    runs = per_run(StackedTrainer(trainers).run())
    for i, s in enumerate((4, 5)):
        single, events = alone(tiny_data, config, s)
        assert [comparable(e) for e in runs[i]] == [comparable(e) for e in events]
        for a, b in zip(trainers[i].network.params, single.network.params, strict=True):
            np.testing.assert_array_equal(a, b)


def test_networks_of_different_lengths_leave_in_turn_and_the_rest_train_as_alone(tiny_data):
    # One finishes after an epoch, one after two, one after three: each departure rebuilds
    # the stack between epochs, and the others' costs, accuracies and weights must not notice.
    configs = [dataclasses.replace(BASE, epochs=e) for e in (1, 3, 2)]
    seeds = [4, 5, 6]
    trainers = [
        Trainer(tiny_data, c, seed=s, progress_every=7) for c, s in zip(configs, seeds, strict=True)
    ]
    runs = per_run(StackedTrainer(trainers).run())
    for i, (config, seed) in enumerate(zip(configs, seeds, strict=True)):
        single, events = alone(tiny_data, config, seed)
        assert [comparable(e) for e in runs[i]] == [comparable(e) for e in events]
        for a, b in zip(trainers[i].network.params, single.network.params, strict=True):
            np.testing.assert_array_equal(a, b)
    assert [len([e for e in runs[i] if isinstance(e, EpochDone)]) for i in range(3)] == [1, 3, 2]


def _drive(trainer_events, controlled: Trainer):
    """The events of ``controlled``, resuming it once its stepped epoch is done."""
    seen = []
    for event in trainer_events:
        seen.append(event)
        if isinstance(event, EpochDone) and event.epoch == 1:
            controlled.resume()
    return seen


@pytest.mark.parametrize("speed", [None, 5000.0])
def test_a_stepped_or_slowed_network_leaves_and_keeps_its_controls(tiny_data, speed):
    # Paused, then three single mini-batches and the rest of the epoch by steps, then on:
    # stacked with another network, exactly the events (and numbers) of the same run alone.
    def controlled(trainer: Trainer) -> Trainer:
        trainer.pause()
        for what in ("batch", "batch", "batch", "epoch"):
            assert trainer.step(what)
        if speed is not None:
            trainer.set_speed(speed)
        return trainer

    lone = controlled(Trainer(tiny_data, BASE, seed=2, progress_every=7))
    expected = _drive(lone.run(), lone)
    stepped = controlled(Trainer(tiny_data, BASE, seed=2, progress_every=7))
    other = Trainer(tiny_data, BASE, seed=3, progress_every=7)
    events = per_run(
        (i, e) for i, e in _drive_stack(StackedTrainer([stepped, other]).run(), stepped)
    )
    assert [comparable(e) for e in events[0]] == [comparable(e) for e in expected]
    progress = [e.images_done for e in events[0] if isinstance(e, BatchProgress)]
    assert progress[:3] == [10, 20, 30]  # one event per stepped mini-batch
    np.testing.assert_array_equal(stepped.network.params[0], lone.network.params[0])
    # The other network never noticed.
    _, other_alone = alone(tiny_data, BASE, 3)
    assert [comparable(e) for e in events[1]] == [comparable(e) for e in other_alone]


def _drive_stack(items, controlled: Trainer):
    for i, event in items:
        yield i, event
        if i == 0 and isinstance(event, EpochDone) and event.epoch == 1:
            controlled.resume()
