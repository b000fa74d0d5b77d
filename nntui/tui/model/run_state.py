"""What the dashboard lets you do in each state of a run: one table for keys and buttons.

The main screen's `check_action` answers Textual from `availability`, and the
`Controls` buttons enable themselves from `button_enabled`, so a key and its
button can never disagree.
"""

from __future__ import annotations

from typing import Literal, get_args

RunState = Literal["loading", "ready", "running", "paused", "stopping", "finished", "no-data"]
STATES: frozenset[RunState] = frozenset(get_args(RunState))

# action -> (states where it is enabled, states where its key shows but is disabled).
# In every other state the key is hidden from the footer.
RUN_ACTIONS: dict[str, tuple[frozenset[RunState], frozenset[RunState]]] = {
    "start": (frozenset({"ready", "finished"}), frozenset()),
    # Space is Start, Pause or Resume: only the one that applies shows in the footer.
    "pause": (frozenset({"running"}), frozenset()),
    "resume": (frozenset({"paused"}), frozenset()),
    "stop": (frozenset({"running", "paused"}), frozenset()),
    "reset": (frozenset({"ready", "running", "paused", "finished"}), frozenset()),
}
# The pause button is also the resume button.
BUTTON_ACTIONS: dict[str, tuple[str, ...]] = {
    "start": ("start",),
    "pause": ("pause", "resume"),
    "stop": ("stop",),
    "reset": ("reset",),
}


def availability(action: str, state: RunState) -> bool | None:
    """Textual's answer for a run action: True enabled, None shown disabled, False hidden.

    Raises KeyError for an action that is not a run action.
    """
    enabled, shown = RUN_ACTIONS[action]
    if state in enabled:
        return True
    return None if state in shown else False


def button_enabled(button: str, state: RunState) -> bool:
    """Whether the button with this id can be pressed in ``state``."""
    return any(availability(action, state) for action in BUTTON_ACTIONS[button])


# Where the footer shows `S` (the sweep screen): when no run is under way, since a sweep takes
# every core but one (and while paused the step keys fill the footer's 80 columns). The key
# itself works in every state.
SWEEP_SHOWN: frozenset[RunState] = frozenset({"loading", "no-data", "ready", "finished"})

# The actions that need a network to act on (Textual hides a key whose check says False).
SESSION_ACTIONS = frozenset({"new_sample", "inside", "runs"})


def key_availability(
    action: str, state: RunState, *, has_session: bool, stepping: bool, small: bool
) -> bool | None:
    """Textual's answer for any of the dashboard's keys, as `availability` gives for run actions.

    ``stepping``: a step is under way; ``small``: the terminal is too small to show
    the digits beside the charts, so that ``d`` switches between them.
    """
    if action in RUN_ACTIONS:
        return availability(action, state)
    if action == "step":
        # Hidden unless they apply; also shown while stepping: a press then is queued
        # (`Trainer.step`), not lost.
        return has_session and state in ("ready", "paused", "finished")
    if action == "toggle_digits":
        return small
    if action in SESSION_ACTIONS:
        return has_session
    if action == "sweep_in_footer":
        return state in SWEEP_SHOWN
    if action == "edit":  # the live settings: before and during a run alike
        return state in ("ready", "running", "paused", "finished")
    return True
