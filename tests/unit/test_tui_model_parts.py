"""The dashboard's pure parts: ETA, speed steps, key table, sweep rows, error reasons."""

from __future__ import annotations

import errno

import pytest

from nntui.engine.errors import reason
from nntui.engine.events import BatchProgress
from nntui.tui.model.run_state import STATES, key_availability
from nntui.tui.model.speed import SPEEDS, next_speed
from nntui.tui.model.sweep_table import Row, sort_rows
from nntui.tui.widgets.progress import remaining_seconds


def progress(done: int, epoch: int = 1, per_second: float = 100.0) -> BatchProgress:
    return BatchProgress(
        epoch=epoch,
        epochs=3,
        images_done=done,
        images_total=1_000,
        running_cost=0.1,
        images_per_second=per_second,
        epoch_elapsed=1.0,
        elapsed=1.0,
    )


def test_the_eta_counts_the_rest_of_this_epoch_and_the_others_at_the_last_ones_pace() -> None:
    # 600 images left at 100/s, then two more epochs of 1,000 images at the same speed...
    assert remaining_seconds(progress(400), None) == pytest.approx(6 + 2 * 10)
    # ...or as long as the last epoch took, evaluation included, once one has ended.
    assert remaining_seconds(progress(400, epoch=2), 12.0) == pytest.approx(6 + 12)
    assert remaining_seconds(progress(400, per_second=0), 12.0) is None


def test_speed_steps_stop_at_both_ends() -> None:
    assert next_speed(None, -1) == SPEEDS[1]
    assert next_speed(None, 1) is None
    assert next_speed(SPEEDS[-1], -1) == SPEEDS[-1]
    assert next_speed(SPEEDS[2], 1) == SPEEDS[1]
    assert next_speed(7.0, -1) == SPEEDS[1]  # not a step: counts as full speed


def test_the_step_keys_hide_while_a_run_goes_on_and_stay_live_while_a_step_is_under_way() -> None:
    def step(state: str, **kw: bool) -> bool | None:
        args = {"has_session": True, "stepping": False, "small": False} | kw
        return key_availability("step", state, **args)  # type: ignore[arg-type]

    assert step("ready") is True
    assert step("running") is False
    assert step("paused", stepping=True) is True  # a press then is queued, not dropped
    assert step("ready", has_session=False) is False
    assert (
        key_availability("start", "running", has_session=True, stepping=False, small=False) is False
    )
    assert key_availability("toggle_digits", "ready", has_session=True, stepping=False, small=True)


def test_the_sweep_key_shows_when_no_run_is_under_way_and_works_in_every_state() -> None:
    def key(action: str, state: str) -> bool | None:
        return key_availability(action, state, has_session=True, stepping=False, small=False)  # type: ignore[arg-type]

    shown = {s for s in STATES if key("sweep_in_footer", s)}
    assert shown == {"loading", "no-data", "ready", "finished"}
    assert all(key("sweep", s) is True for s in STATES)


def row(seed: int, best: float | None, settings: str = "h 30") -> Row:
    return Row("k", settings, seed, 1, 2, best, best, 1.0, "completed", ())


def test_sweep_rows_sort_numbers_largest_first_and_no_result_last() -> None:
    rows = [row(1, 0.9), row(2, None), row(3, 0.95)]
    assert [r.seed for r in sort_rows(rows, "best")] == [3, 1, 2]
    assert [r.seed for r in sort_rows(rows, "seed")] == [1, 2, 3]


def test_reason_is_one_short_line() -> None:
    assert reason(OSError(errno.ENOENT, "No such file or directory", "x")) == (
        "No such file or directory"
    )
    assert reason(ValueError("first\nsecond")) == "first"
    assert reason(EOFError()) == "EOFError"
    assert len(reason(ValueError("x" * 500))) == 120
