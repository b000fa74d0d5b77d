"""The number of epochs as a live setting: raised or lowered while the run goes on."""

from __future__ import annotations

import numpy as np
import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ConfigError
from nntui.engine.events import (
    BatchProgress,
    EpochDone,
    Paused,
    SettingChanged,
    TrainingFinished,
)
from nntui.engine.training import Trainer

SMALL = TrainConfig(epochs=3, mini_batch_size=10, eta=3.0, seed=1, train_size=200)


def run_with(trainer: Trainer, when, **change) -> list:
    """Run to the end, calling set_live(**change) at the first event for which `when` holds."""
    seen, applied = [], False
    for event in trainer.run():
        seen.append(event)
        if not applied and when(event):
            trainer.set_live(**change)
            applied = True
    assert applied
    return seen


def mid_epoch(k: int):
    return lambda e: isinstance(e, BatchProgress) and e.epoch == k and e.images_done == 100


def test_raised_mid_run_the_run_trains_exactly_the_new_number(tiny_data):
    trainer = Trainer(tiny_data, SMALL, progress_every=5)
    seen = run_with(trainer, mid_epoch(2), epochs=5)
    done = [e for e in seen if isinstance(e, EpochDone)]
    assert [e.epoch for e in done] == [1, 2, 3, 4, 5]
    assert [e.epochs for e in done] == [3, 5, 5, 5, 5]  # the progress bar's k/N
    change = next(e for e in seen if isinstance(e, SettingChanged))
    assert (change.name, change.old, change.new, change.epoch) == ("epochs", 3, 5, 2)
    after = [e for e in seen if isinstance(e, BatchProgress) and e.epoch == 2][-1]
    assert after.epochs == 5  # applied at once, within the epoch
    finished = seen[-1]
    assert isinstance(finished, TrainingFinished) and finished.status == "completed"
    assert finished.epochs_done == 5 and trainer.epochs == 5


def test_lowered_to_the_epoch_in_progress_the_run_ends_after_it(tiny_data):
    trainer = Trainer(tiny_data, SMALL.with_changes(epochs=30), progress_every=5)
    seen = run_with(trainer, mid_epoch(2), epochs=2)
    done = [e for e in seen if isinstance(e, EpochDone)]
    assert [e.epoch for e in done] == [1, 2]
    assert seen[-1].status == "completed" and seen[-1].epochs_done == 2


def test_lowered_between_epochs_the_run_stops_there(tiny_data):
    trainer = Trainer(tiny_data, SMALL.with_changes(epochs=10), progress_every=5)
    seen = run_with(trainer, lambda e: isinstance(e, EpochDone) and e.epoch == 3, epochs=3)
    assert [e.epoch for e in seen if isinstance(e, EpochDone)] == [1, 2, 3]
    change = next(e for e in seen if isinstance(e, SettingChanged))
    assert (change.old, change.new, change.epoch, change.images_done) == (10, 3, 4, 0)
    assert seen[-1].epochs_done == 3


def test_never_below_the_epoch_in_progress(tiny_data):
    trainer = Trainer(tiny_data, SMALL.with_changes(epochs=10), progress_every=5)
    assert trainer.least_epochs == 1
    for event in trainer.run():
        if isinstance(event, BatchProgress) and event.epoch == 3:
            assert trainer.least_epochs == 3
            with pytest.raises(ConfigError, match="at least 3"):
                trainer.set_live(epochs=2)
            with pytest.raises(ConfigError):
                trainer.set_live(epochs=0)
            assert trainer.epochs == 10
            trainer.cancel()


def test_a_resumed_run_counts_its_own_epochs(tiny_data):
    first = Trainer(tiny_data, SMALL.with_changes(epochs=2))
    list(first.run())
    rest = Trainer(
        tiny_data,
        SMALL.with_changes(epochs=1),
        network=first.network,
        seed=1,
        first_epoch=3,
        progress_every=5,
    )
    seen = run_with(rest, mid_epoch(3), epochs=2)
    done = [e for e in seen if isinstance(e, EpochDone)]
    assert [(e.epoch, e.epochs) for e in done] == [(3, 4), (4, 4)]


def test_the_same_run_with_epochs_raised_equals_one_planned_that_long(tiny_data):
    planned = Trainer(tiny_data, SMALL.with_changes(epochs=4))
    list(planned.run())
    raised = Trainer(tiny_data, SMALL.with_changes(epochs=2), progress_every=5)
    run_with(raised, mid_epoch(1), epochs=4)
    # Same shuffles, same updates: the extra epochs are not a different run.
    np.testing.assert_array_equal(raised.network.weights[0], planned.network.weights[0])


def test_changed_while_paused_it_is_reported_at_once_and_nothing_trains(tiny_data):
    """The consumer of a paused run is blocked in it: the change comes from another thread,
    as the dashboard's does, and is reported before the run resumes."""
    import threading

    trainer = Trainer(tiny_data, SMALL, progress_every=5)
    # Should the change not be reported while paused, the run resumes anyway, and fails below.
    fallback = threading.Timer(10.0, trainer.resume)
    seen = []
    for event in trainer.run():
        seen.append(event)
        if mid_epoch(2)(event):
            trainer.pause()
        elif isinstance(event, Paused):
            threading.Thread(target=trainer.set_live, kwargs={"epochs": 5, "eta": 1.0}).start()
            fallback.start()
        elif isinstance(event, SettingChanged) and event.name == "epochs":
            fallback.cancel()
            threading.Thread(target=trainer.resume).start()
    fallback.cancel()
    kinds = [type(e).__name__ for e in seen]
    at = kinds.index("Paused")
    assert kinds[at : at + 4] == ["Paused", "SettingChanged", "SettingChanged", "Resumed"]
    changes = {e.name: (e.old, e.new, e.epoch, e.images_done) for e in seen[at + 1 : at + 3]}
    assert changes == {"eta": (3.0, 1.0, 2, 100), "epochs": (3, 5, 2, 100)}
    assert [e.epoch for e in seen if isinstance(e, EpochDone)] == [1, 2, 3, 4, 5]
    assert isinstance(seen[-1], TrainingFinished) and seen[-1].status == "completed"
