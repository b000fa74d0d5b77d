"""Draw a digit and watch the network's ten outputs answer, live.

The pad (left) is what you draw; the middle shows it as the network sees it,
centred by its centre of mass and scaled into a 20x20 box as MNIST's digits
are (`nntui.data.digits.center_and_scale`); the bars (right) are the outputs.
While training goes on, the drawing is fed forward again at every poll, so
the bars move as the network learns.

    app.push_screen(DrawScreen(session))      # or DrawScreen(SavedSubject(...))
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from nntui.tui.model.inside import LiveSubject, guess_drawing
from nntui.tui.screens.base import InsideScreen
from nntui.tui.widgets.activation_bars import ActivationBars
from nntui.tui.widgets.draw_pad import DrawPad
from nntui.tui.widgets.key_bar import KeyBar
from nntui.tui.widgets.layer_view import HiddenStrips

HINT = "Draw a digit with the mouse: c clears, u undoes a stroke."


class DrawScreen(InsideScreen):
    """A drawing pad, the drawing as MNIST would have it, and the network's outputs."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="draw-body"):
            yield DrawPad(id="pad")
            yield Static(id="seen")
            with Vertical(id="answer"):
                yield ActivationBars(id="bars")
                yield Static(id="verdict")
        yield HiddenStrips(id="draw-hidden")
        yield Static(HINT, id="draw-status")
        yield KeyBar()

    def on_mount(self) -> None:
        pad = self.query_one(DrawPad)
        pad.border_title = "Draw"
        pad.border_subtitle = "c clear  u undo"
        self.query_one("#seen", Static).border_title = "Network sees"
        self.query_one("#answer").border_title = "Outputs"
        pad.focus()
        super().on_mount()
        self._guess()

    def update_view(self) -> None:
        self.query_one("#draw-status", Static).update(f"{HINT}  [dim]({self.subject.title})[/]")

    def tick(self) -> None:
        # A live network changes every mini-batch: ask it again, the answer may have moved.
        if isinstance(self.subject, LiveSubject) and not self.query_one(DrawPad).blank:
            self._guess()

    @on(DrawPad.Changed)
    def _drawn(self) -> None:
        self._guess()

    def _guess(self) -> None:
        guess = guess_drawing(self.subject, self.query_one(DrawPad).pixels)
        self.query_one("#seen", Static).update(guess.seen)
        bars = self.query_one(ActivationBars)
        bars.show(guess.activations)
        self.query_one(HiddenStrips).show(guess.hidden)
        verdict = self.query_one("#verdict", Static)
        if guess.activations is None:
            verdict.update("[dim]Nothing drawn yet.[/]")
        else:
            answer = bars.answer
            assert answer is not None  # there are activations
            verdict.update(f"It's a [b]{answer}[/] ({guess.activations[answer]:.2f})")
