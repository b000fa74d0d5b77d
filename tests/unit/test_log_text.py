"""The dashboard's log lines, from plain values."""

from __future__ import annotations

from nntui.engine.config import TrainConfig
from nntui.engine.events import Paused, SettingChanged, TrainingFinished, TrainingStarted
from nntui.tui.model import log_text


def test_counts_agree_with_their_nouns():
    assert log_text.count(1, "epoch") == "1 epoch"
    assert log_text.count(0, "epoch") == "0 epochs"
    assert log_text.count(30, "epoch") == "30 epochs"


def test_a_run_starts_or_continues():
    config = TrainConfig(eta=0.5, mini_batch_size=20, epochs=1, eval_on="validation")
    fresh = TrainingStarted(config, seed=1, train_size=50_000, eval_size=10_000, first_epoch=1)
    assert log_text.started(fresh) == (
        "Training: eta 0.5, mini-batch 20, 1 epoch, 50,000 images, validation set",
        "cyan",
    )
    more = TrainingStarted(config, seed=1, train_size=500, eval_size=100, first_epoch=4)
    assert log_text.started(more)[0].startswith("Continuing: ")


def test_a_live_change_names_the_setting_and_where_it_applies():
    event = SettingChanged(epoch=2, images_done=12_340, name="mini_batch_size", old=10, new=25)
    text, style = log_text.setting_changed(event)
    assert text == "mini-batch size 10 → 25 from image 12,340 of epoch 2" and style == "yellow"
    eta = SettingChanged(epoch=1, images_done=0, name="eta", old=3.0, new=0.5)
    assert log_text.setting_changed(eta)[0].startswith("eta 3 → 0.5 ")


def test_pauses_and_endings():
    assert log_text.paused(Paused(3, 1_500)) == ("Paused in epoch 3 at image 1,500", "dim")
    done = TrainingFinished("completed", 1, 9_542, 10_000, 1.0, "")
    assert log_text.finished(done) == ("Done: 1 epoch, best 9542 / 10000", "bold green")
    stopped = TrainingFinished("stopped", 2, 0, 100, 1.0, "stopped by the user")
    assert log_text.finished(stopped) == ("Stopped after epoch 2", "yellow")
    diverged = TrainingFinished("diverged", 0, 0, 100, 1.0, "the weights became NaN")
    assert log_text.finished(diverged) == ("Diverged: the weights became NaN", "bold red")


def test_networks_are_named_by_their_layer_sizes():
    assert log_text.new_network((784, 30, 10), 7)[0] == "New network 784,30,10, seed 7"
    assert log_text.loaded("run a", (784, 10), 1)[0] == (
        "Loaded run a: 784,10, 1 epoch trained; s trains it further"
    )
    assert log_text.data_size(500)[0] == "The data has 500 training images"
