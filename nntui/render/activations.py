"""A layer's activations as a strip of shaded cells: dark for 0, bright for 1.

The hidden layer of [784, 30, 10] is 30 numbers between 0 and 1; drawn side
by side as cells from near-black to white, a learner sees at a glance which
neurons fire for a digit and how many sit at 0 or 1 (saturated). Cells that
are saturated (below 0.01 or above 0.99) are drawn with a dot (`·`) or a
full block so the extremes stay visible on terminals with few colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from rich.color import Color
from rich.style import Style
from rich.text import Text

from nntui.engine.layers import SATURATED_HIGH, SATURATED_LOW

SHADES = 16
_DARK = (24, 24, 24)
_BRIGHT = (255, 214, 10)  # a warm yellow: "fires"


@lru_cache(maxsize=SHADES)
def _style(level: int) -> Style:
    t = level / (SHADES - 1)
    r, g, b = (round(d + t * (h - d)) for d, h in zip(_DARK, _BRIGHT, strict=True))
    fg = "grey70" if level < SHADES // 2 else "black"
    return Style(color=fg, bgcolor=Color.from_rgb(r, g, b))


def cell_width(count: int, width: int) -> int:
    """Columns per neuron: 2 when the whole layer then fits on one line of ``width``, else 1."""
    return 2 if count * 2 <= width else 1


def activation_strip(values: Sequence[float], width: int) -> Text:
    """Draw ``values`` (each 0..1) as shaded cells, wrapped to lines of at most ``width`` columns.

    NaN (a diverged network) is drawn as ``?``.
    """
    width = max(1, width)
    cw = cell_width(len(values), width)
    per_line = max(1, width // cw)
    lines = []
    for start in range(0, len(values), per_line):
        line = Text(no_wrap=True, overflow="crop")
        for v in values[start : start + per_line]:
            if not math.isfinite(v):
                line.append("?" * cw, style="bold red")
                continue
            v = min(max(v, 0.0), 1.0)
            glyph = "·" if v < SATURATED_LOW else ("█" if v > SATURATED_HIGH else " ")
            level = round(v * (SHADES - 1))
            line.append((glyph * cw), style=_style(level))
        lines.append(line)
    return Text("\n", no_wrap=True, overflow="crop").join(lines)


def strip_height(count: int, width: int) -> int:
    """Lines `activation_strip` takes for ``count`` values at ``width`` columns."""
    per_line = max(1, max(1, width) // cell_width(count, max(1, width)))
    return max(1, math.ceil(count / per_line))
