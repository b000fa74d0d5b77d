"""One table says which run actions work in which state, for keys and buttons alike."""

from __future__ import annotations

import pytest

from nntui.tui.model.run_state import STATES, availability, button_enabled


def test_start_only_when_no_run_is_going_on():
    assert {s for s in STATES if availability("start", s)} == {"ready", "finished"}
    # Textual hides a key whose check is False (None would grey it out): not there at all.
    assert availability("start", "running") is False


def test_space_pauses_a_running_run_and_resumes_a_paused_one():
    # Only the one that applies shows: the footer has room for it at 80 columns.
    assert availability("pause", "running") is True
    assert availability("pause", "paused") is False
    assert availability("resume", "paused") is True
    assert availability("resume", "running") is False
    assert availability("pause", "ready") is False


def test_nothing_works_while_loading_or_stopping():
    for state in ("loading", "no-data", "stopping"):
        assert not any(button_enabled(b, state) for b in ("start", "pause", "stop", "reset"))


@pytest.mark.parametrize("state", sorted(STATES))
def test_each_button_agrees_with_its_keys(state):
    assert button_enabled("start", state) == bool(availability("start", state))
    assert button_enabled("stop", state) == bool(availability("stop", state))
    assert button_enabled("reset", state) == bool(availability("reset", state))
    pause_or_resume = availability("pause", state) or availability("resume", state)
    assert button_enabled("pause", state) == bool(pause_or_resume)
