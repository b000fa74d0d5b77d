"""A gallery of test digits with their labels and the network's current guesses.

The screen hands over `DigitCard`s whose drawings are already made (by
`nntui.tui.render.digit_art`); the gallery only arranges them. It draws the 28x14
half-block pictures when they all fit, and the 14x7 braille ones otherwise.
Each drawing is turned into styled runs once (`nntui.tui.widgets.strips`):
after an epoch only the captions are new.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.console import Console, RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from nntui.tui.render.digit_art import ART_SIZE, ArtStyle
from nntui.tui.widgets.strips import Line, Run, RunsVisual, text_runs

GALLERY_SIZE = 8  # cards to make room for before the first arrive


@dataclass(frozen=True)
class DigitCard:
    """One digit as the gallery shows it: plain values and two ready drawings."""

    index: int  # position in the evaluation set
    label: int
    prediction: int
    changed: bool  # the prediction differs from the one after the previous epoch
    half: Text  # 28 columns x 14 rows
    braille: Text  # 14 columns x 7 rows

    @property
    def correct(self) -> bool:
        return self.prediction == self.label


def _gaps(style: ArtStyle) -> tuple[int, int]:
    """Blank columns between cards, and blank lines between rows of cards."""
    return (2, 1) if style == "half" else (1, 0)


def height_needed(style: ArtStyle, count: int, width: int) -> int | None:
    """Lines that ``count`` cards drawn in ``style`` take at ``width``; None if none fits."""
    art_w, art_h = ART_SIZE[style]
    col_gap, row_gap = _gaps(style)
    per_row = (width + col_gap) // (art_w + col_gap)
    if per_row < 1:
        return None
    rows = math.ceil(count / per_row)
    return rows * (art_h + 1) + (rows - 1) * row_gap


def fits(style: ArtStyle, count: int, width: int, height: int) -> bool:
    """Whether ``count`` cards drawn in ``style`` fit in ``width`` x ``height`` cells."""
    needed = height_needed(style, count, width)
    return needed is not None and needed <= height


class DigitGallery(Widget):
    """Cards in rows, each a picture over ``label→guess``, green when right and red when wrong."""

    ALLOW_SELECT = False  # pictures: see `nntui.tui.widgets.strips`

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cards: tuple[DigitCard, ...] = ()
        self.epoch: int | None = None
        self._runs: dict[tuple[int, ArtStyle], tuple[Text, list[Line]]] = {}

    def on_mount(self) -> None:
        self.border_title = "Digits"
        self.border_subtitle = "label→guess  ✱ changed  n: new sample"

    def show(self, cards: tuple[DigitCard, ...], epoch: int) -> None:
        """Show these cards, predicted after ``epoch`` (0: by the untrained network)."""
        relayout = len(cards) != len(self.cards)
        shown = {card.index for card in cards}
        self._runs = {key: runs for key, runs in self._runs.items() if key[0] in shown}
        self.cards, self.epoch = cards, epoch
        right = sum(card.correct for card in cards)
        when = "untrained network" if epoch == 0 else f"after epoch {epoch}"
        self.border_title = f"Digits, {when}: {right}/{len(cards)} right"
        self.refresh(layout=relayout)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """With ``height: auto``: big digits if they take at most 60% of the screen."""
        count = len(self.cards) or GALLERY_SIZE
        half = height_needed("half", count, width)
        if half is not None and half <= viewport.height * 0.6:
            return half
        return height_needed("braille", count, width) or 1

    @property
    def art_style(self) -> ArtStyle:
        """Half blocks when every card fits at that size, braille otherwise."""
        width, height = self.size
        return "half" if fits("half", len(self.cards), width, height) else "braille"

    def render(self) -> RenderableType:
        if not self.cards:
            return Text("Waiting for the data…", style="dim")
        style = self.art_style
        art_w, art_h = ART_SIZE[style]
        col_gap, row_gap = _gaps(style)
        width = self.size.width
        per_row = max(1, (width + col_gap) // (art_w + col_gap))
        used = min(per_row, len(self.cards)) * (art_w + col_gap) - col_gap
        indent: list[Run] = [(" " * ((width - used) // 2), None)] if width > used else []
        gap: Run = (" " * col_gap, None)
        console = self.app.console
        lines: list[Line] = []
        for start in range(0, len(self.cards), per_row):
            row = self.cards[start : start + per_row]
            arts = [self._art_runs(card, style, console) for card in row]
            if start:
                lines.extend([] for _ in range(row_gap))
            for i in range(art_h):
                line = list(indent)
                for j, art in enumerate(arts):
                    line += [gap, *art[i]] if j else art[i]
                lines.append(line)
            captions = Text(gap[0]).join(_caption(c, art_w) for c in row)
            lines.append(indent + text_runs(captions, console)[0])
        return RunsVisual(lines)

    def _art_runs(self, card: DigitCard, style: ArtStyle, console: Console) -> list[Line]:
        """A card's drawing as runs, made once per image: only the captions change."""
        art = card.half if style == "half" else card.braille
        cached = self._runs.get((card.index, style))
        if cached is None or cached[0] is not art:
            cached = self._runs[card.index, style] = (art, text_runs(art, console))
        return cached[1]


def _caption(card: DigitCard, width: int) -> Text:
    mark = "✓" if card.correct else "✗"
    text = Text(
        f"{card.label}→{card.prediction} {mark}", style="bold green" if card.correct else "bold red"
    )
    if card.changed:
        text.append(" ✱", style="bold yellow")
    text.align("center", width)
    return text
