"""Hidden neurons as heat maps: each neuron's 784 input weights drawn as a 28x28 picture.

A hidden neuron computes sigma(w . x + b), so its weights say which pixels
excite it (red: positive), which inhibit it (blue: negative) and which it
ignores (white). Each map is scaled to its own largest weight, so every
neuron's pattern shows, however large its weights grew; ``shared`` scales all
maps to the largest weight of any, to compare neurons with each other.

Maps are 28x14 half blocks (``full``) or, averaged over 2x2 pixels, 14x7
(``small``), laid out in as many columns as the width allows; the widget is
as tall as its rows, so put it in a scrolling container.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

SIDE = 28
LEVELS = 8  # colour steps on each side of zero
GAP = 1  # blank columns between maps

Zoom = Literal["full", "small"]
MAP_SIZE: dict[Zoom, tuple[int, int]] = {"full": (SIDE, SIDE // 2), "small": (SIDE // 2, SIDE // 4)}

_BLUE = (33, 102, 172)
_WHITE = (247, 247, 247)
_RED = (178, 24, 43)


@lru_cache(maxsize=2 * LEVELS + 1)
def diverging(level: int) -> Color:
    """Blue (-LEVELS) through white (0) to red (+LEVELS)."""
    end = _RED if level > 0 else _BLUE
    t = abs(level) / LEVELS
    r, g, b = (round(w + t * (e - w)) for w, e in zip(_WHITE, end, strict=True))
    return Color.from_rgb(r, g, b)


@lru_cache(maxsize=(2 * LEVELS + 1) ** 2)
def _cell_style(top: int, bottom: int) -> Style:
    return Style(color=diverging(top), bgcolor=diverging(bottom))


def _levels(weights: tuple[float, ...], scale: float) -> list[int]:
    if scale <= 0:
        return [0] * len(weights)
    return [max(-LEVELS, min(LEVELS, round(w / scale * LEVELS))) for w in weights]


def _halve(weights: tuple[float, ...]) -> tuple[float, ...]:
    """Average 2x2 blocks: 28x28 weights to 14x14."""
    half = SIDE // 2
    return tuple(
        (
            weights[2 * r * SIDE + 2 * c]
            + weights[2 * r * SIDE + 2 * c + 1]
            + weights[(2 * r + 1) * SIDE + 2 * c]
            + weights[(2 * r + 1) * SIDE + 2 * c + 1]
        )
        / 4
        for r in range(half)
        for c in range(half)
    )


def weight_map(
    weights: tuple[float, ...], scale: float, zoom: Zoom = "full"
) -> list[list[Segment]]:
    """One neuron's map as lines of half-block segments, ``scale`` the weight drawn darkest."""
    if len(weights) != SIDE * SIDE:
        raise ValueError(f"expected {SIDE * SIDE} weights, got {len(weights)}")
    side = SIDE
    if zoom == "small":
        weights, side = _halve(weights), SIDE // 2
    levels = _levels(weights, scale)
    lines = []
    for row in range(0, side, 2):
        line = []
        for col in range(side):
            top, bottom = levels[row * side + col], levels[(row + 1) * side + col]
            line.append(Segment("▀" if top != bottom else " ", _cell_style(top, bottom)))
        lines.append(line)
    return lines


class HeatmapGrid(Widget):
    """A map per hidden neuron with its number underneath, wrapped to the width.

    It draws line by line (Textual's line API), so only the rows in view are
    drawn: a hundred full-size maps are 750 lines, of which a screen shows 40.
    """

    DEFAULT_CSS = """
    HeatmapGrid {
        height: auto;
    }
    """

    zoom: reactive[Zoom] = reactive("full", layout=True)
    shared: reactive[bool] = reactive(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.weights: tuple[tuple[float, ...], ...] = ()
        self._largest: list[float] = []
        self._maps: dict[tuple[int, Zoom, bool], list[list[Segment]]] = {}

    def show(self, weights: tuple[tuple[float, ...], ...]) -> None:
        """Show these neurons: one tuple of 784 input weights each."""
        self.weights = weights
        self._largest = [max((abs(w) for w in ws), default=0.0) for ws in weights]
        self._maps.clear()
        self.refresh(layout=True)

    @property
    def count(self) -> int:
        return len(self.weights)

    def per_row(self, width: int) -> int:
        map_w, _ = MAP_SIZE[self.zoom]
        return max(1, (width + GAP) // (map_w + GAP))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self.weights:
            return 1
        _, map_h = MAP_SIZE[self.zoom]
        rows = -(-self.count // self.per_row(width))
        return rows * (map_h + 1)

    def _map(self, neuron: int) -> list[list[Segment]]:
        """A neuron's map lines, drawn the first time they come into view."""
        key = (neuron, self.zoom, self.shared)
        if key not in self._maps:
            scale = max(self._largest) if self.shared else self._largest[neuron]
            self._maps[key] = weight_map(self.weights[neuron], scale, self.zoom)
        return self._maps[key]

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base = self.rich_style
        if not self.weights:
            text = "No network yet." if y == 0 else ""
            return Strip([Segment(text, base + Style(dim=True))]).crop_extend(0, width, base)
        map_w, map_h = MAP_SIZE[self.zoom]
        per_row = self.per_row(width)
        row, line = divmod(y, map_h + 1)
        neurons = range(row * per_row, min((row + 1) * per_row, self.count))
        if not neurons:
            return Strip.blank(width, base)
        used = min(per_row, self.count) * (map_w + GAP) - GAP
        segments = [Segment(" " * max(0, (width - used) // 2), base)]
        for n in neurons:
            if n != neurons.start:
                segments.append(Segment(" " * GAP, base))
            if line < map_h:
                segments.extend(self._map(n)[line])
            else:
                segments.append(Segment(f"{n:^{map_w}}", base + Style(bold=True)))
        return Strip(segments).crop_extend(0, width, base)
