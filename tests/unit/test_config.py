"""Hyperparameter checks shared by the CLI and the dashboard: one clear line each."""

from __future__ import annotations

import pytest

from nntui.engine import config as c
from nntui.engine.errors import ConfigError


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (c.parse_sizes, "784,30,10", (784, 30, 10)),
        (c.parse_sizes, " 784, 100 ,10 ", (784, 100, 10)),
        (c.parse_sizes, "784,10", (784, 10)),
        (c.parse_hidden, "30", (784, 30, 10)),
        (c.parse_hidden, "100,30", (784, 100, 30, 10)),
        (c.parse_hidden, "0", (784, 10)),
        (c.parse_eta, "3.0", 3.0),
        (c.parse_eta, "1e-3", 0.001),
        (c.parse_epochs, "30", 30),
        (c.parse_train_size, "50_000", 50_000),
        (c.parse_seed, "", None),
        (c.parse_seed, "42", 42),
    ],
)
def test_good_values_parse(parse, text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (c.parse_sizes, "784,,10", "separated by commas"),
        (c.parse_sizes, "783,30,10", "first layer must have 784"),
        (c.parse_sizes, "784,30,9", "last layer must have 10"),
        (c.parse_sizes, "784", "at least an input and an output layer"),
        (c.parse_sizes, "784,0,10", "hidden layer must have 1 to 10000"),
        (c.parse_sizes, "784,1000000,10", "hidden layer must have 1 to 10000"),
        (c.parse_sizes, "784,x,10", "whole number"),
        (c.parse_eta, "abc", "eta must be a number greater than 0"),
        (c.parse_eta, "0", "greater than 0"),
        (c.parse_eta, "-1", "greater than 0"),
        (c.parse_eta, "nan", "greater than 0"),
        (c.parse_eta, "inf", "greater than 0"),
        (c.parse_epochs, "0", "epochs must be from 1 to 10000"),
        (c.parse_epochs, "1000000000", "epochs must be from 1 to 10000"),
        (c.parse_epochs, "2.5", "whole number"),
        (c.parse_train_size, "0", "from 1 to 50,000"),
        (c.parse_train_size, "50001", "from 1 to 50,000"),
        (c.parse_seed, "-1", "seed must be"),
    ],
)
def test_bad_values_get_one_specific_line(parse, text, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse(text)
    assert "\n" not in str(info.value)


def test_mini_batch_size_is_checked_against_the_training_set_size():
    assert c.parse_mini_batch_size("10", 100) == 10
    with pytest.raises(ConfigError, match=r"from 1 to the training-set size \(100\), got 101"):
        c.parse_mini_batch_size("101", 100)
    with pytest.raises(ConfigError, match="got 0"):
        c.parse_mini_batch_size("0")


def test_config_defaults_are_the_books_and_round_trip():
    cfg = c.TrainConfig()
    assert (cfg.sizes, cfg.eta, cfg.epochs, cfg.mini_batch_size) == ((784, 30, 10), 3.0, 30, 10)
    assert cfg.validate() is cfg
    assert c.TrainConfig.from_dict(cfg.to_dict() | {"unknown": 1}) == cfg
    with pytest.raises(ConfigError, match="mini-batch size"):
        cfg.with_changes(train_size=5, mini_batch_size=10).validate()
