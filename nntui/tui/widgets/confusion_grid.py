"""The confusion matrix as a 10x10 grid of counts, with each digit's accuracy underneath.

Row ``i`` is the images of digit ``i``, column ``j`` what the network said, so
the green diagonal is the right answers and every red cell a kind of mistake,
redder the more often it is made. The bottom row is each digit's accuracy in percent
(its diagonal cell over its row's total), under that digit's column. The arrow keys
or the mouse move the cursor; each move posts `ConfusionGrid.Highlighted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

DIGITS = 10
LABEL_W = 5  # "  3 │"
CELL_W = 5  # " 1135"
HEADER_ROWS = 1

Counts = tuple[tuple[int, ...], ...]


def _off_diagonal_style(count: int, worst: int) -> Style:
    if count == 0:
        return Style(dim=True)
    share = count / worst if worst else 0.0
    level = 60 + round(140 * share)  # a darker red for rarer mistakes
    return Style(color="white", bgcolor=f"rgb({level},20,30)", bold=share > 0.5)


class ConfusionGrid(Widget, can_focus=True):
    """Counts of (true digit, guess) pairs; a cursor picks a cell."""

    DEFAULT_CSS = f"""
    ConfusionGrid {{
        width: {LABEL_W + DIGITS * CELL_W};
        height: {HEADER_ROWS + DIGITS + 1};
    }}
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
    ]

    cursor: reactive[tuple[int, int]] = reactive((0, 0))

    @dataclass
    class Highlighted(Message):
        """The cursor moved to the cell (true digit, predicted digit)."""

        grid: ConfusionGrid
        true: int
        predicted: int

        @property
        def control(self) -> ConfusionGrid:
            return self.grid

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts: Counts | None = None
        self.accuracy: tuple[float | None, ...] = (None,) * DIGITS

    def show(self, counts: Counts, accuracy: tuple[float | None, ...]) -> None:
        """Show a confusion matrix ``counts[true][predicted]`` and each digit's accuracy."""
        if len(counts) != DIGITS or any(len(row) != DIGITS for row in counts):
            raise ValueError("expected a 10x10 confusion matrix")
        self.counts, self.accuracy = counts, accuracy
        self.refresh()

    def count(self, true: int, predicted: int) -> int:
        return 0 if self.counts is None else self.counts[true][predicted]

    def watch_cursor(self, cursor: tuple[int, int]) -> None:
        self.post_message(self.Highlighted(self, *cursor))

    def action_move(self, rows: int, cols: int) -> None:
        r, c = self.cursor
        self.cursor = ((r + rows) % DIGITS, (c + cols) % DIGITS)

    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The (true, predicted) cell at content offset (x, y), if any."""
        row, col = y - HEADER_ROWS, (x - LABEL_W) // CELL_W
        if x < LABEL_W or not (0 <= row < DIGITS and 0 <= col < DIGITS):
            return None
        return row, col

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        cell = None if offset is None else self.cell_at(offset.x, offset.y)
        if cell is not None:
            self.focus()
            self.cursor = cell

    def render(self) -> RenderableType:
        counts = self.counts
        cur_r, cur_c = self.cursor
        lines = []
        header = Text(" " * LABEL_W, no_wrap=True)
        for d in range(DIGITS):
            header.append(f"{d:>{CELL_W}}", style="bold underline" if d == cur_c else "bold")
        lines.append(header)
        worst = 0
        if counts is not None:
            worst = max(counts[r][c] for r in range(DIGITS) for c in range(DIGITS) if r != c)
        for r in range(DIGITS):
            line = Text(no_wrap=True)
            line.append(f"{r:>3}", style="bold underline" if r == cur_r else "bold")
            line.append(" │")
            for c in range(DIGITS):
                n = None if counts is None else counts[r][c]
                if n is None:
                    text, style = "-", Style(dim=True)
                elif r == c:
                    text, style = str(n), Style(color="black", bgcolor="green3", bold=True)
                else:
                    text, style = (str(n) if n else "·"), _off_diagonal_style(n, worst)
                if (r, c) == (cur_r, cur_c) and self.has_focus:
                    style += Style(reverse=True)
                elif (r, c) == (cur_r, cur_c):
                    style += Style(underline=True)
                line.append(f"{text:>{CELL_W}}", style=style)
            lines.append(line)
        acc = Text("acc%│", style="bold", no_wrap=True)
        for a in self.accuracy:
            acc.append(f"{_percent(a):>{CELL_W}}", style="green")
        lines.append(acc)
        return Text("\n", no_wrap=True, overflow="crop").join(lines)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


def _percent(fraction: float | None) -> str:
    """A digit's accuracy in four characters: ``97.3``, ``100``, or ``-`` with no images."""
    if fraction is None:
        return "-"
    return "100" if fraction >= 0.9995 else f"{100 * fraction:.1f}"
