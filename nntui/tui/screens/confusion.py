"""The confusion matrix and each digit's accuracy on the evaluation set, after the latest epoch.

Move the cursor (arrows or mouse) to a cell to see its digits underneath;
``enter`` pages through them one by one with the network's outputs.

    app.push_screen(ConfusionScreen(session))
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Static

from nntui.tui.model.inside import cell, confusion, digit_samples
from nntui.tui.screens.base import InsideScreen
from nntui.tui.screens.misclassified import DigitPagerScreen
from nntui.tui.widgets.confusion_grid import ConfusionGrid
from nntui.tui.widgets.gallery import DigitGallery
from nntui.tui.widgets.key_bar import KeyBar

CELL_DIGITS = 12  # at most this many of a cell's digits are drawn under the grid


class ConfusionScreen(InsideScreen):
    """The 10x10 counts of (true digit, guess), per-digit accuracy, and a cell's digits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_cell", "Page through"),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="confusion-top"):
            yield ConfusionGrid()
            yield Static(id="cell-info")
        yield DigitGallery()
        yield KeyBar()

    def on_mount(self) -> None:
        grid = self.query_one(ConfusionGrid)
        grid.border_title = "true ↓  guess →"
        grid.focus()
        super().on_mount()

    @property
    def selected(self) -> tuple[int, int]:
        return self.query_one(ConfusionGrid).cursor

    @property
    def cell_indices(self) -> tuple[int, ...]:
        """Evaluation-set indices of the images in the selected cell."""
        return cell(self.subject, *self.selected)

    def update_view(self) -> None:
        grid = self.query_one(ConfusionGrid)
        matrix = confusion(self.subject)
        if matrix is None:
            grid.border_subtitle = "no evaluation data"
        else:
            grid.show(matrix.counts, matrix.accuracy)
            grid.border_subtitle = (
                f"{matrix.correct:,} / {matrix.total:,} right "
                f"({100 * matrix.correct / max(1, matrix.total):.2f}%)"
            )
        self._show_cell()

    @on(ConfusionGrid.Highlighted)
    def _highlighted(self) -> None:
        self._show_cell()

    def _show_cell(self) -> None:
        true, guess = self.selected
        grid = self.query_one(ConfusionGrid)
        indices = self.cell_indices
        row_total = sum(grid.counts[true]) if grid.counts else 0
        if true == guess:
            what = f"were right ({100 * len(indices) / max(1, row_total):.1f}%)."
        else:
            what = f"were taken for a {guess}."
        info = [
            f"[b]{self.subject.title}[/]",
            "",
            f"[b]{len(indices):,}[/] of the {row_total:,} images of a {true}",
            what,
        ]
        if grid.counts:
            column = sum(row[guess] for row in grid.counts)
            info.append(f"{column:,} images were called {guess}.")
        info += ["", "[dim]arrows or mouse: pick a cell[/]", "[dim]enter: page through them[/]"]
        self.query_one("#cell-info", Static).update("\n".join(info))
        cards = digit_samples(self.subject, indices[:CELL_DIGITS])
        gallery = self.query_one(DigitGallery)
        gallery.show(cards, 1)
        shown = f"the first {len(cards)} of " if len(cards) < len(indices) else ""
        images = f"{len(indices):,} image{'' if len(indices) == 1 else 's'}"
        gallery.border_title = f"True {true}, guess {guess}: {shown}{images}"
        gallery.border_subtitle = "label→guess"

    def action_open_cell(self) -> None:
        indices = self.cell_indices
        if indices:
            true, guess = self.selected
            self.app.push_screen(
                DigitPagerScreen(self.subject, indices, title=f"True {true}, guess {guess}")
            )
