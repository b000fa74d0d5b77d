"""How `nntui sweep --stack K` groups a sweep's runs into stacks."""

from __future__ import annotations

import pytest

from nntui.sweep.grid import Axes, build_runs
from nntui.sweep.stack_task import run_cost, stacks


def sizes_of(groups):
    return [len(g) for g in groups]


def test_runs_of_one_shape_share_stacks_without_leaving_workers_idle():
    runs = build_runs(Axes(eta="2,3", seeds=4, epochs=1))  # 8 runs of [784, 30, 10]
    assert sizes_of(stacks(runs, 8, workers=2)) == [4, 4]  # not one stack of 8 and an idle worker
    assert sizes_of(stacks(runs, 8, workers=1)) == [8]
    assert sizes_of(stacks(runs, 3, workers=1)) == [3, 3, 2]
    assert sizes_of(stacks(runs, 1, workers=2)) == [1] * 8  # --stack 1: today's sweep
    flat = [s.index for g in stacks(runs, 3, workers=1) for s in g]
    assert sorted(flat) == list(range(8))


def test_only_runs_of_the_same_sizes_mini_batch_and_train_size_are_stacked():
    runs = build_runs(Axes(hidden="30,100", mini_batch_size="10,20", seeds=2, epochs=1))
    groups = stacks(runs, 8, workers=1)
    assert sizes_of(groups) == [2, 2, 2, 2]
    for g in groups:
        keys = {(s.config.sizes, s.config.mini_batch_size, s.config.train_size) for s in g}
        assert len(keys) == 1
    # Largest first, which spreads them best over the workers.
    costs = [sum(run_cost(s.config) for s in g) for g in groups]
    assert costs == sorted(costs, reverse=True)
    assert groups[0][0].config.sizes == (784, 100, 10)  # and m = 10: the most mini-batches


def test_a_group_larger_than_a_workers_share_is_split():
    # The chapter's preset with 3 seeds: 6 runs of [784, 30, 10], 6 of [784, 100, 10] and
    # 3 of [784, 10]. One stack of six [784, 100, 10] would outlast everything else.
    runs = build_runs(Axes(preset="chapter1", seeds=3))
    groups = stacks(runs, 8, workers=2)
    by_hidden = {}
    for g in groups:
        by_hidden.setdefault(tuple(g[0].config.sizes), []).append(len(g))
    assert by_hidden[(784, 100, 10)] == [3, 3]
    assert by_hidden[(784, 30, 10)] == [6]
    assert by_hidden[(784, 10)] == [3]
    assert sum(len(g) for g in groups) == len(runs) == 15


def test_a_stack_of_zero_is_refused():
    with pytest.raises(ValueError):
        stacks(build_runs(Axes(seeds=2, epochs=1)), 0, workers=1)


def test_the_cli_refuses_a_stack_below_one_in_one_line(tiny_data_file):
    from typer.testing import CliRunner

    from nntui.cli import app

    result = CliRunner().invoke(
        app, ["sweep", "--data", str(tiny_data_file), "--stack", "0", "--dry-run"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == "nntui: error: --stack must be 1 or more, got 0"
