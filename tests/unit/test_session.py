"""The dashboard's session: Start after a finished run trains the same network further."""

from __future__ import annotations

import numpy as np

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.events import EpochDone
from nntui.engine.training import Trainer
from nntui.tui.model.session import Session


def _train(session: Session, config: TrainConfig) -> None:
    for event in session.start(config).run():
        if isinstance(event, EpochDone):
            session.record(event, config)


def test_training_further_continues_the_shuffles_like_one_straight_run(tiny_data: MnistData):
    config = TrainConfig(sizes=(784, 8, 10), epochs=2, seed=3, train_size=200)
    session = Session(tiny_data, sample_seed=0)
    session.reset(config)
    _train(session, config)
    carried = session.trainer.shuffle_state
    _train(session, config)  # two more epochs: 3 and 4
    assert [e.epoch for e in session.history] == [1, 2, 3, 4]

    straight = Trainer(tiny_data, config.with_changes(epochs=4))
    list(straight.run())
    for a, b in zip(session.network.weights, straight.network.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert carried != session.trainer.shuffle_state  # the second run moved the generator on


def test_a_network_too_big_for_the_memory_is_refused_before_it_is_made(
    tiny_data: MnistData, monkeypatch
):
    import pytest

    from nntui.engine import config as config_module
    from nntui.engine.errors import ConfigError

    monkeypatch.setattr(config_module, "available_memory", lambda: 64 * 2**20)  # 64 MB left
    session = Session(tiny_data, sample_seed=0)
    big = TrainConfig(sizes=(784, 3000, 3000, 10), epochs=1, train_size=200)
    assert "GB of memory" in (session.why_not_start(big) or "")
    with pytest.raises(ConfigError, match="memory"):
        session.reset(big)
    assert session.network is None  # nothing was allocated


def test_the_snapshot_never_runs_ahead_of_the_epochs_the_screen_has_heard_of(
    tiny_data: MnistData,
):
    session = Session(tiny_data, sample_seed=0)
    config = TrainConfig(sizes=(784, 10, 10), epochs=2, train_size=200, seed=3)
    trainer = session.start(config)
    heard = []  # (event, the trainer's snapshot as the event came), as the worker posts them
    for event in trainer.run():
        if isinstance(event, EpochDone):
            heard.append((event, trainer.snapshot))
    assert trainer.snapshot.epoch == 2  # the trainer has finished both epochs...
    assert session.snapshot.epoch == 0 and session.history == []  # ...the screen heard of none
    session.record(heard[0][0], config, heard[0][1])  # ...then of epoch 1 only
    assert session.snapshot is heard[0][1] and session.snapshot.epoch == 1
    assert session.history == [heard[0][0]] and session.epochs_done == 1
    session.record(heard[1][0], config, heard[1][1])
    assert session.snapshot is trainer.snapshot and session.snapshot.epoch == 2


def test_the_sessions_history_is_the_trainers_one_list(tiny_data: MnistData):
    """One history: the session's epochs are the trainer's, as far as they were heard of."""
    session = Session(tiny_data, sample_seed=0)
    config = TrainConfig(sizes=(784, 10, 10), epochs=2, train_size=200, seed=3)
    _train(session, config)
    assert session.history == session.trainer.history
    assert all(a is b for a, b in zip(session.history, session.trainer.history, strict=True))
    session.reset(config)
    assert session.history == [] and session.epochs_done == 0
