"""The ten output activations as labelled bars, the network's answer highlighted.

Outputs are sigmoids, so each bar is drawn on the fixed scale 0..1 (a bar is
"how much this neuron fires", not a share of a total). The most active output
is the network's answer and is drawn bold in yellow; a true label,
when known, is marked with ``◂ true`` so a wrong answer shows both.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

DIGITS = 10
_EIGHTHS = " ▏▎▍▌▋▊▉"  # partial blocks, in eighths of a cell


def bar(fraction: float, width: int) -> str:
    """A horizontal bar ``fraction`` (0..1) of ``width`` cells long, to an eighth of a cell."""
    if not math.isfinite(fraction):  # a diverged network's outputs are NaN: no bar
        fraction = 0.0
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[rest] if rest else "")
    return text.ljust(width)


class ActivationBars(Widget):
    """Ten rows ``d ████▌     0.62``, one per output neuron."""

    DEFAULT_CSS = """
    ActivationBars {
        height: 10;
        min-width: 16;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activations: tuple[float, ...] | None = None
        self.truth: int | None = None

    def show(self, activations: tuple[float, ...] | None, truth: int | None = None) -> None:
        """Show these 10 outputs (None: nothing to show yet); ``truth`` is the right digit."""
        if activations is not None and len(activations) != DIGITS:
            raise ValueError(f"expected {DIGITS} activations, got {len(activations)}")
        self.activations, self.truth = activations, truth
        self.refresh()

    @property
    def answer(self) -> int | None:
        """The most active output: the network's answer."""
        a = self.activations
        return None if a is None else max(range(DIGITS), key=a.__getitem__)

    def render(self) -> RenderableType:
        a = self.activations
        mark = "" if self.truth is None else " ◂ true"
        # "d " before the bar, " 0.00" after, room for the true-label mark.
        width = max(1, self.content_size.width - 2 - 5 - len(mark))
        answer = self.answer
        lines = []
        for d in range(DIGITS):
            value = 0.0 if a is None else a[d]
            best = d == answer
            line = Text(no_wrap=True, overflow="crop")
            line.append(f"{d} ", style="bold" if best else "")
            # Fixed colours that read on dark and light themes (Rich cannot use $accent).
            line.append(bar(value, width), style="bold bright_yellow" if best else "cyan")
            line.append(" --" if a is None else f" {value:.2f}", style="bold" if best else "dim")
            if d == self.truth:
                line.append(mark, style="bold green" if d == answer else "bold red")
            lines.append(line)
        return Text("\n", no_wrap=True, overflow="crop").join(lines)
