"""The dashboard's run as a state machine, driven without Textual: keys in, states and lines out.

The training thread is played by iterating `Trainer.run()` here, and its messages by
the ``heard_*`` calls the screen makes for them.
"""

from __future__ import annotations

import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.errors import ConfigError, NntuiError
from nntui.engine.events import BatchProgress, EpochDone, Paused, SettingChanged, TrainingFinished
from nntui.tui.model import run_control
from nntui.tui.model.run_control import RunControl

CONFIG = TrainConfig(sizes=(784, 10, 10), epochs=2, train_size=200, seed=3, mini_batch_size=10)


def opened(data: MnistData, config: TrainConfig = CONFIG) -> RunControl:
    run = RunControl(config, sample_seed=0)
    run.open(data, config)
    assert run.reset(config) is run_control.NEW_NETWORK
    return run


def train_to_the_end(run: RunControl, live: dict[str, float] | None = None) -> TrainingFinished:
    """What the worker and the screen do together: run the trainer, report each event.

    ``live``: settings typed in once the run is under way (after its first event).
    """
    assert run.trainer is not None
    finished = None
    for n, event in enumerate(run.trainer.run()):
        if n == 0 and live:
            for name, value in live.items():
                assert run.set_live(name, value)
        if isinstance(event, EpochDone):
            run.heard_epoch(event, run.trainer.snapshot)
        elif isinstance(event, SettingChanged):
            run.heard_setting(event)
        elif isinstance(event, TrainingFinished):
            run.heard_finish(event, run.trainer.snapshot)
            finished = event
    assert finished is not None
    return finished


def test_before_the_data_only_loading_and_no_data(tiny_data: MnistData):
    run = RunControl(CONFIG)
    assert run.state == "loading" and not run.can_start()
    assert run.no_data().warning and run.state == "no-data"
    run.loading()
    assert run.state == "loading"


def test_open_fits_the_training_set_to_the_data(tiny_data: MnistData):
    run = RunControl(CONFIG)
    fitted = run.open(tiny_data, CONFIG.with_changes(train_size=50_000))
    assert fitted.train_size == len(tiny_data.training)
    assert run.state == "ready" and run.session is not None and run.can_start()


def test_a_run_from_start_to_finish(tiny_data: MnistData):
    run = opened(tiny_data)
    assert run.start(CONFIG) is run_control.TRAINING
    assert run.state == "running" and run.trainer is not None and not run.can_start()
    finished = train_to_the_end(run)
    assert run.ended(finished) is run_control.FINISHED
    assert run.state == "finished" and run.trainer is None and run.can_start()
    assert run.session is not None and [e.epoch for e in run.session.history] == [1, 2]
    assert run.session.snapshot is not None and run.session.snapshot.epoch == 2


def test_pause_resume_stop_apply_only_in_their_states(tiny_data: MnistData):
    run = opened(tiny_data)
    assert run.pause() is None and run.resume() is None and run.stop() is None  # ready
    run.start(CONFIG)
    assert run.resume() is None  # running: nothing to resume
    assert run.pause() is run_control.PAUSED and run.state == "paused"
    assert run.pause() is None
    assert run.resume() is run_control.TRAINING and run.state == "running"
    assert run.stop() is run_control.STOPPING and run.state == "stopping"
    assert run.trainer is not None and run.trainer.cancelled
    assert run.stop() is None


def test_a_step_from_ready_starts_paused_and_ends_at_the_pause(tiny_data: MnistData):
    run = opened(tiny_data)
    assert run.start(CONFIG, step="batch") is run_control.STEPPING
    assert run.state == "paused" and run.stepping
    assert run.step("batch")  # a second press while stepping is queued, not lost
    assert run.trainer is not None
    batches = 0
    for event in run.trainer.run():
        batches += isinstance(event, BatchProgress)
        if isinstance(event, Paused):
            assert run.heard_pause(run.trainer.snapshot)  # the end of the steps: not logged
            break
    assert batches == 2  # both presses trained a mini-batch, then the run paused
    assert not run.stepping
    assert run.step("epoch") and run.stepping
    run.trainer.cancel()


def test_reset_during_a_run_waits_for_its_end(tiny_data: MnistData):
    run = opened(tiny_data)
    run.start(CONFIG)
    assert run.reset(CONFIG) is run_control.STOPPING
    assert run.reset_after_run and run.state == "stopping"
    finished = train_to_the_end(run)
    assert run.ended(finished) is None  # the screen resets now
    assert not run.reset_after_run
    assert run.reset(CONFIG) is run_control.NEW_NETWORK and run.state == "ready"


def test_a_refused_reset_raises_and_keeps_the_state(tiny_data: MnistData):
    run = opened(tiny_data)
    with pytest.raises(ConfigError):
        run.reset(CONFIG.with_changes(train_size=10 * len(tiny_data.training)))
    assert run.state == "ready"


def test_a_start_the_session_refuses_raises(tiny_data: MnistData):
    run = opened(tiny_data)
    run.start(CONFIG)
    run.ended(train_to_the_end(run))
    with pytest.raises(NntuiError, match="layers"):  # a trained network keeps its sizes
        run.start(CONFIG.with_changes(sizes=(784, 20, 10)))
    assert run.state == "finished"


def test_the_runs_config_follows_live_changes(tiny_data: MnistData):
    run = opened(tiny_data)
    assert not run.set_live("eta", 0.5)  # no run: nothing to change
    run.start(CONFIG)
    train_to_the_end(run, live={"eta": 0.5, "epochs": 3})
    assert run.config.eta == 0.5 and run.config.epochs == 3
    assert run.session is not None and len(run.session.history) == 3


def test_a_live_epochs_change_gives_the_new_last_epoch(tiny_data: MnistData):
    run = opened(tiny_data)
    run.start(CONFIG)
    event = SettingChanged(name="epochs", old=2, new=5, epoch=1, images_done=0)
    assert run.heard_setting(event) == 5
    assert run.config.epochs == 5
    eta = SettingChanged(name="eta", old=3.0, new=1.5, epoch=1, images_done=100)
    assert run.heard_setting(eta) is None and run.config.eta == 1.5
    assert run.trainer is not None
    run.trainer.cancel()


def test_a_diverged_run_says_so(tiny_data: MnistData):
    run = opened(tiny_data)
    run.start(CONFIG)
    assert run.trainer is not None
    run.trainer.cancel()
    event = TrainingFinished(
        status="diverged", epochs_done=1, best_correct=0, total=100, elapsed=1.0, message="NaN"
    )
    run.heard_finish(event, None)
    assert run.session is not None and run.session.diverged
    assert run.ended(event) is run_control.DIVERGED


def test_the_speed_limit_steps_and_reaches_the_trainer(tiny_data: MnistData):
    run = opened(tiny_data)
    assert run.speed is None
    slower = run.change_speed(-1)
    assert slower is not None and run.speed == slower
    run.start(CONFIG)
    assert run.trainer is not None and run.trainer.batches_per_second == slower
    run.change_speed(+1)
    assert run.trainer.batches_per_second == run.speed
    run.trainer.cancel()


def test_keys_follow_the_state(tiny_data: MnistData):
    run = RunControl(CONFIG)
    assert run.allows("start", small=False) is False  # loading
    assert run.allows("inside", small=False) is False  # no network to look inside
    run.open(tiny_data, CONFIG)
    run.reset(CONFIG)
    assert run.allows("start", small=False) is True
    assert run.allows("inside", small=False) is True
    assert run.allows("toggle_digits", small=True) is True
    assert run.allows("toggle_digits", small=False) is False


def test_the_svm_joins_the_baselines_on_the_test_set(tiny_data: MnistData):
    run = opened(tiny_data)
    assert "SVM (book, not reproduced)" in run.baselines({"random guess": 0.1})
    run.svm_correct = 9_435
    shown = run.baselines({"random guess": 0.1})
    assert shown["random guess"] == pytest.approx(10.0)
    assert shown["SVM"] == pytest.approx(94.35)
