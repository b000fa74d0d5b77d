"""Start, Pause/Resume, Stop and Reset, and a line saying what the dashboard is doing.

The buttons only post `Button.Pressed`; the screen runs the same actions as
the key bindings. Which buttons are enabled follows `state`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import Button, Static

from nntui.tui.model.run_state import RunState, button_enabled
from nntui.tui.widgets.text_update import update_text


class Controls(Vertical):
    """The run's buttons and its status line."""

    state: var[RunState] = var("loading", init=False)

    def compose(self) -> ComposeResult:
        with Horizontal(id="buttons"):
            yield Button("Start", id="start", variant="success", compact=True, tooltip="s")
            yield Button("Pause", id="pause", variant="warning", compact=True, tooltip="space")
            yield Button("Stop", id="stop", variant="error", compact=True, tooltip="x")
            yield Button("Reset", id="reset", variant="primary", compact=True, tooltip="r")
        yield Static("", id="status")

    def on_mount(self) -> None:
        self.watch_state(self.state)

    def watch_state(self, state: RunState) -> None:
        for button in self.query(Button):
            button.disabled = not button_enabled(button.id or "", state)
        self.query_one("#pause", Button).label = "Resume" if state == "paused" else "Pause"

    def set_status(self, text: str, *, warning: bool = False) -> None:
        """Say what is happening; a warning (a refused Start) stands out."""
        status = self.query_one("#status", Static)
        update_text(status, text)  # "Training…" after "Ready: …": no new layout at a start
        status.set_class(warning, "-warning")
