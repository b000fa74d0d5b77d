"""Ready-styled lines for the widgets redrawn while training: no parsing, wrapping or markup.

A widget that returns a Rich `Text` from ``render`` has Textual turn every
span into a new style on every redraw. A plot is a few hundred spans, a
gallery of half-block digits a few thousand, and while training that work
takes the GIL from the trainer (benchmarks/README.md has the share of the
dashboard's CPU it took). `RunsVisual` takes lines of ``(text, rich style)`` runs instead and
only lays them over the widget's own style, with each combination made once.
`ansi_runs` reads plotext's output into such runs, `text_runs` a Rich `Text`.

The widgets using it draw pictures, not prose: their text is not selectable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from rich.ansi import AnsiDecoder
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

Run = tuple[str, RichStyle | None]  # text of one style; None: the widget's own style
Line = list[Run]

_SGR = re.compile(r"\x1b\[([0-9;]*)m")


@lru_cache(maxsize=256)
def _sgr_style(codes: str) -> RichStyle | None:
    """The style that a sequence of SGR codes (since the last reset) sets."""
    if not codes:
        return None
    text = AnsiDecoder().decode_line(codes + " ")
    return RichStyle.combine(
        span.style if isinstance(span.style, RichStyle) else RichStyle.parse(span.style)
        for span in text.spans
    )


def ansi_runs(ansi: str) -> list[Line]:
    """Lines of runs from text coloured with SGR escape codes only (as plotext writes)."""
    lines = []
    for source in ansi.splitlines():
        line: Line = []
        codes, position = "", 0
        for match in _SGR.finditer(source):
            if match.start() > position:
                line.append((source[position : match.start()], _sgr_style(codes)))
            params = match.group(1)
            codes = "" if params in ("", "0") else codes + match.group(0)
            position = match.end()
        if position < len(source):
            line.append((source[position:], _sgr_style(codes)))
        lines.append(line)
    return lines


def text_runs(text: Text, console: Console) -> list[Line]:
    """Lines of runs from a Rich `Text` (no wrapping: one line per ``\\n``)."""
    lines: list[Line] = [[]]
    for segment in text.render(console, end=""):
        parts = segment.text.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((part, segment.style))
    return lines


class RunsVisual(Visual):
    """Lines of runs, drawn over the widget's style, cropped or padded to the width."""

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        base = style.rich_style
        over, blank = _over(base), _blank(base)
        strips = []
        for line in self.lines[:height]:
            segments = [
                Segment(text, blank(run_style) if text.isspace() else over(run_style))
                for text, run_style in line
            ]
            strips.append(Strip(segments).crop_extend(0, width, base))
        return strips

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return max((sum(cell_len(text) for text, _ in line) for line in self.lines), default=0)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines)


@lru_cache(maxsize=16)
def _over(base: RichStyle) -> Callable[[RichStyle | None], RichStyle]:
    """``style`` laid over ``base``, each combination made once."""

    @lru_cache(maxsize=1024)
    def over(style: RichStyle | None) -> RichStyle:
        return base if style is None else base + style

    return over


@lru_cache(maxsize=16)
def _blank(base: RichStyle) -> Callable[[RichStyle | None], RichStyle]:
    """For spaces only the background shows: keeping no colour for the ink keeps blanks
    apart from the text next to them in exports such as the snapshot tests' SVGs."""
    over = _over(base)

    @lru_cache(maxsize=1024)
    def blank(style: RichStyle | None) -> RichStyle:
        full = over(style)
        if full.reverse or full.underline or full.strike or full.overline:
            return full  # the ink shows on spaces too
        return RichStyle(bgcolor=full.bgcolor)

    return blank
