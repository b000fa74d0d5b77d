"""The main screen's keys: one table, read by the screen, the help screen's test and the README's.

Which of them work (and show in the footer) in each state of a run is the table
in `nntui.tui.model.run_state`.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

# key, look-inside view, name on the help screen
INSIDE_KEYS = (
    ("p", "draw", "Draw"),
    ("c", "confusion", "Confusion"),
    ("m", "misclassified", "Mistakes"),
    ("w", "neurons", "Neurons"),
    ("l", "layers", "Layers"),
    ("g", "gallery", "Gallery digits"),
)

MAIN_KEYS: list[BindingType] = [
    Binding("s", "start", "Start"),
    # Space plays and pauses, like a media player's key: Start when nothing runs.
    Binding("space", "start", "Start", show=False),
    Binding("space", "pause", "Pause"),
    Binding("space", "resume", "Resume"),
    Binding("t", "edit('eta')", "η"),  # the book's symbol: the footer is full at 80 columns
    Binding("E", "edit('epochs')", "Epochs"),
    Binding("x", "stop", "Stop"),
    Binding("r", "reset", "Reset", show=False),  # on `?`: the footer fits 80 columns
    # Step by step: shown while paused or before the first start.
    Binding("full_stop", "step('batch')", "1 batch"),
    Binding("e", "step('epoch')", "1 epoch"),
    Binding("n", "new_sample", "Resample"),
    Binding("d", "toggle_digits", "Digits"),
    # The views to look inside (`screens.inside`) are on `?`: the footer keeps to what a
    # run needs, so that it fits in 80 columns.
    *(Binding(key, f"inside('{view}')", name, show=False) for key, view, name in INSIDE_KEYS),
    Binding("R", "runs", "Runs", show=False),
    # `S` twice: the first shows in the footer where there is room and no run under way
    # (run_state.SWEEP_SHOWN); where it is hidden, the second still opens the sweeps.
    Binding("S", "sweep('footer')", "Sweep"),
    Binding("S", "sweep", "Sweep", show=False),
    # Not in the footer, which has room at 80 columns only for what a run needs: the
    # help screen lists them.
    Binding("b", "baselines", "Baselines", show=False),
    Binding("a", "art_style", "Art style", show=False),
    Binding("plus,equals_sign", "speed(1)", "Faster", show=False),
    Binding("minus", "speed(-1)", "Slower", show=False),
    Binding("escape", "leave_field", "Leave field", show=False),
]
