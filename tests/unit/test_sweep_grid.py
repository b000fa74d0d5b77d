"""The sweep's grid: axes as typed, their product times the seeds, and one-line errors."""

from __future__ import annotations

import pytest

from nntui.engine.errors import ConfigError
from nntui.sweep.grid import (
    BOOK_ACCURACY,
    CHAPTER1,
    MAX_RUNS,
    Axes,
    build_runs,
    config_key,
    estimate_seconds,
    estimate_wall_seconds,
    hidden_label,
    parse_hidden_item,
)


def test_the_product_of_the_axes_times_the_seeds():
    runs = build_runs(
        Axes(eta="0.5,3,10", hidden="30,100,100-30,0", mini_batch_size="10,50", seeds=3)
    )
    assert len(runs) == 3 * 4 * 2 * 3
    assert [r.index for r in runs] == list(range(len(runs)))
    assert {r.config.sizes for r in runs} == {
        (784, 30, 10),
        (784, 100, 10),
        (784, 100, 30, 10),
        (784, 10),
    }
    assert {r.config.eta for r in runs} == {0.5, 3.0, 10.0}
    assert {r.config.mini_batch_size for r in runs} == {10, 50}
    assert {r.seed for r in runs} == {1, 2, 3}
    # The seeds of one configuration are next to each other.
    assert [r.seed for r in runs[:3]] == [1, 2, 3]
    assert len({r.key for r in runs}) == 24
    assert len({(r.key, r.seed) for r in runs}) == len(runs)


def test_defaults_are_the_books_run_once():
    (run,) = build_runs(Axes())
    assert run.config.sizes == (784, 30, 10) and run.config.eta == 3.0
    assert run.config.mini_batch_size == 10 and run.config.epochs == 30 and run.seed == 1
    assert run.config.train_size == 50_000 and run.config.eval_on == "test"


def test_seed_list_epochs_train_size_and_eval_set():
    runs = build_runs(
        Axes(eta="3", seed_list="1,7,9", epochs=2, train_size=500, eval_on="validation")
    )
    assert [r.seed for r in runs] == [1, 7, 9]
    assert {(r.config.epochs, r.config.train_size, r.config.eval_on) for r in runs} == {
        (2, 500, "validation")
    }


def test_the_chapter1_preset():
    runs = build_runs(Axes(preset="chapter1", seeds=3))
    assert len(runs) == 5 * 3
    keys = list(dict.fromkeys(r.key for r in runs))
    assert keys == [
        "784-30-10 eta 3 m 10",
        "784-100-10 eta 3 m 10",
        "784-100-10 eta 0.001 m 10",
        "784-30-10 eta 100 m 10",
        "784-10 eta 3 m 10",
    ]
    assert {r.config.epochs for r in runs} == {30}
    assert set(CHAPTER1.book) == set(keys)
    assert set(BOOK_ACCURACY) <= set(keys)
    assert build_runs(Axes(preset="chapter1", epochs=2))[0].config.epochs == 2


@pytest.mark.parametrize(
    ("axes", "words"),
    [
        (Axes(eta="3,,x"), "empty item"),
        (Axes(eta="3,x"), "'x'"),
        (Axes(eta="0"), "greater than 0"),
        (Axes(eta=""), "is empty"),
        (Axes(hidden="-5"), "a dash joins"),
        (Axes(hidden="30-"), "a dash joins"),
        (Axes(hidden="30-x"), "not a whole number"),
        (Axes(hidden="20000"), "1 to"),
        (Axes(mini_batch_size="10,a"), "whole number"),
        (Axes(mini_batch_size="600", train_size=500), "mini-batch size"),
        (Axes(eta="3,3"), "twice"),
        (Axes(seeds=0), "empty"),
        (Axes(seed_list=""), "empty"),
        (Axes(seed_list="1,-2"), "seed"),
        (Axes(seeds=2, seed_list="1"), "not both"),
        (Axes(preset="nope"), "unknown preset"),
        (Axes(preset="chapter1", hidden="30"), "drop --hidden"),
        (Axes(eval_on="train"), "--eval-on"),
        (Axes(epochs=0), "epochs"),
        (Axes(train_size=0), "training-set size"),
    ],
)
def test_bad_axes_are_one_line(axes, words):
    with pytest.raises(ConfigError) as info:
        build_runs(axes)
    message = str(info.value)
    assert words in message
    assert "\n" not in message


def test_more_than_the_limit_needs_yes():
    axes = Axes(
        eta=",".join(str(e) for e in range(1, 11)), hidden="1,2,3,4,5,6,7,8,9,10,11", seeds=10
    )
    with pytest.raises(ConfigError, match="add --yes"):
        build_runs(axes)
    assert len(build_runs(axes, allow_many=True)) == 1100 > MAX_RUNS


def test_hidden_items_and_labels():
    assert parse_hidden_item("0") == (784, 10)
    assert parse_hidden_item("100-30") == (784, 100, 30, 10)
    assert hidden_label((784, 100, 30, 10)) == "100-30"
    assert hidden_label((784, 10)) == "0"
    assert config_key(build_runs(Axes(hidden="0"))[0].config) == "784-10 eta 3 m 10"


def test_estimates_grow_with_the_work():
    small, big = build_runs(Axes(hidden="30,100", epochs=10))
    assert 0 < estimate_seconds(small.config) < estimate_seconds(big.config)
    runs = build_runs(Axes(hidden="30", seeds=4))
    one = estimate_seconds(runs[0].config)
    assert estimate_wall_seconds(runs, 1) == pytest.approx(4 * one)
    assert estimate_wall_seconds(runs, 2) == pytest.approx(2 * one)
