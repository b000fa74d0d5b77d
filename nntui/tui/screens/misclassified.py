"""Page through digits one at a time: the picture, its label, the guess and all ten outputs.

`MisclassifiedScreen` pages through every evaluation image the network gets
wrong at the latest epoch (the list is taken again after each epoch);
`DigitPagerScreen` through any given images, such as one cell of the
confusion matrix. ``left``/``right`` step, ``pageup``/``pagedown`` jump ten,
``home``/``end`` go to the ends.

    app.push_screen(MisclassifiedScreen(session))
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from nntui.render.digit_art import half_blocks
from nntui.tui.model.inside import DigitSample, Subject, digit_layers, digit_samples, wrong
from nntui.tui.model.session import Session
from nntui.tui.screens.base import InsideScreen
from nntui.tui.widgets.activation_bars import ActivationBars
from nntui.tui.widgets.gallery import DigitGallery
from nntui.tui.widgets.key_bar import KeyBar
from nntui.tui.widgets.layer_view import HiddenStrips

STRIP_DIGITS = 12  # the ones after the current digit, under it, on tall terminals


class DigitPagerScreen(InsideScreen):
    """One digit of ``indices`` (into the evaluation set) at a time, with its outputs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,p", "step(-1)", "Previous"),
        Binding("right,n", "step(1)", "Next"),
        Binding("pageup", "step(-10)", "-10", show=False),
        Binding("pagedown", "step(10)", "+10", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]
    # The strip of the next digits shows only where there is room for it.
    # (Not ClassVar: Textual declares it `ClassVar[...] | None`, an instance variable to mypy.)
    VERTICAL_BREAKPOINTS: list[tuple[int, str]] | None = [(0, "-short"), (34, "-tall")]  # noqa: RUF012

    def __init__(
        self, source: Session | Subject, indices: tuple[int, ...] = (), *, title: str = "Digits"
    ) -> None:
        super().__init__(source)
        self.indices = indices
        self.position = 0
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Horizontal(id="pager-body"):
            yield Static(id="digit")
            with Vertical(id="digit-outputs"):
                yield ActivationBars()
                yield Static(id="digit-info")
        yield HiddenStrips(id="pager-hidden")
        yield Static(id="pager-status")
        yield DigitGallery(id="pager-strip")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#digit-outputs").border_title = "Outputs"
        super().on_mount()

    def current_indices(self) -> tuple[int, ...]:
        """The images to page through, read again after each epoch."""
        return self.indices

    def update_view(self) -> None:
        index = self.indices[self.position] if self.indices else None
        self.indices = self.current_indices()
        # Stay on the same image if it is still in the list.
        if index in self.indices:
            self.position = self.indices.index(index)
        self.position = min(self.position, max(0, len(self.indices) - 1))
        self._show()

    def action_step(self, by: int) -> None:
        self._go(self.position + by)

    def action_first(self) -> None:
        self._go(0)

    def action_last(self) -> None:
        self._go(len(self.indices) - 1)

    def _go(self, position: int) -> None:
        self.position = min(max(position, 0), max(0, len(self.indices) - 1))
        self._show()

    def _show(self) -> None:
        digit = self.query_one("#digit", Static)
        bars = self.query_one(ActivationBars)
        info = self.query_one("#digit-info", Static)
        status = self.query_one("#pager-status", Static)
        strip = 1 + (STRIP_DIGITS if self.has_class("-tall") else 0)
        views = digit_samples(self.subject, self.indices[self.position : self.position + strip])
        self._strip(views[1:])
        count = len(self.indices)
        status.update(
            f"{self.title_text}: {count:,} images  [dim]({self.subject.title})  "
            "←/→ step, pgup/pgdn ±10, home/end[/]"
        )
        if not views:
            digit.update("[dim]No digits here.[/]")
            digit.border_title = self.title_text
            digit.border_subtitle = ""
            bars.show(None)
            self.query_one(HiddenStrips).show(())
            info.update("")
            return
        v = views[0]
        digit.update(half_blocks(v.image))
        digit.border_title = f"{self.position + 1:,} of {count:,}"
        digit.border_subtitle = f"image {v.index:,}"
        bars.show(v.activations, truth=v.label)
        layers = digit_layers(self.subject, v.index)
        self.query_one(HiddenStrips).show(layers[:-1] if layers else ())
        verdict = "[green]right[/]" if v.prediction == v.label else "[red]wrong[/]"
        outputs = f"output {v.label}: {v.activations[v.label]:.2f}"
        if v.prediction != v.label:  # a right guess would name the same output twice
            outputs += f", output {v.prediction}: {v.activations[v.prediction]:.2f}"
        info.update(
            f"label [b]{v.label}[/], guess [b]{v.prediction}[/]: {verdict}\n[dim]{outputs}[/]"
        )

    def _strip(self, cards: tuple[DigitSample, ...]) -> None:
        gallery = self.query_one(DigitGallery)
        gallery.show(cards, 1)
        gallery.border_title = "Next" if cards else "No more"
        gallery.border_subtitle = "label→guess"


class MisclassifiedScreen(DigitPagerScreen):
    """Every evaluation image the network gets wrong, one at a time."""

    def __init__(self, source: Session | Subject) -> None:
        super().__init__(source, title="Misclassified")

    def current_indices(self) -> tuple[int, ...]:
        return wrong(self.subject)
