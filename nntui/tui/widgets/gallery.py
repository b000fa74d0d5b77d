"""A gallery of test digits with their labels and the network's current guesses.

The screen hands over `DigitSample`s (`nntui.tui.model.inspect`); the gallery
draws each image once (`nntui.tui.render.digit_art`) and keeps the drawings
while the same images come back epoch after epoch. It shows the 28x14
half-block pictures when they all fit, and the 14x7 braille ones otherwise.
Each drawing is turned into styled runs once (`nntui.tui.widgets.strips`):
after an epoch only the captions are new. With ``mark_changes`` a card whose
guess differs from the one on screen before is marked ✱.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console, RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from nntui.tui.model.inspect import DigitSample
from nntui.tui.model.session import GALLERY_SIZE
from nntui.tui.render.digit_art import ART_SIZE, ArtStyle, braille, half_blocks
from nntui.tui.widgets.strips import Line, Run, RunsVisual, text_runs


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

    def __init__(self, *, mark_changes: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cards: tuple[DigitSample, ...] = ()
        self.changed: frozenset[int] = frozenset()  # indices whose guess changed, when marked
        self.epoch: int | None = None
        self._mark_changes = mark_changes
        self._before: dict[int, int] = {}  # index -> guess of the epoch shown before this one
        self._art: dict[int, tuple[Text, Text]] = {}  # index -> (half blocks, braille)
        self._runs: dict[tuple[int, ArtStyle], tuple[Text, list[Line]]] = {}

    def on_mount(self) -> None:
        self.border_title = "Digits"
        self.border_subtitle = "label→guess  ✱ changed  n: new sample"

    def show(
        self, cards: tuple[DigitSample, ...], epoch: int, *, new_network: bool = False
    ) -> None:
        """Show these digits, predicted after ``epoch`` (0: by the untrained network).

        ``new_network``: the guesses come from another network than the ones on
        screen (reset, loaded), so none is marked as changed.
        """
        relayout = len(cards) != len(self.cards)
        if new_network:
            self._before = {}
        elif epoch != self.epoch:
            # Compared with the guesses on screen: the previous epoch's, unless epochs come
            # faster than the gallery is redrawn. Redrawing the same epoch keeps the marks.
            self._before = {card.index: card.prediction for card in self.cards}
        if self._mark_changes:
            self.changed = frozenset(
                c.index for c in cards if self._before.get(c.index, c.prediction) != c.prediction
            )
        shown = {card.index for card in cards}
        self._runs = {key: runs for key, runs in self._runs.items() if key[0] in shown}
        self._art = {
            c.index: self._art.get(c.index) or (half_blocks(c.image), braille(c.image))
            for c in cards
        }
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
            captions = Text(gap[0]).join(_caption(c, c.index in self.changed, art_w) for c in row)
            lines.append(indent + text_runs(captions, console)[0])
        return RunsVisual(lines)

    def _art_runs(self, card: DigitSample, style: ArtStyle, console: Console) -> list[Line]:
        """A card's drawing as runs, made once per image: only the captions change."""
        half, small = self._art[card.index]
        art = half if style == "half" else small
        cached = self._runs.get((card.index, style))
        if cached is None or cached[0] is not art:
            cached = self._runs[card.index, style] = (art, text_runs(art, console))
        return cached[1]


def _caption(card: DigitSample, changed: bool, width: int) -> Text:
    mark = "✓" if card.correct else "✗"
    text = Text(
        f"{card.label}→{card.prediction} {mark}", style="bold green" if card.correct else "bold red"
    )
    if changed:
        text.append(" ✱", style="bold yellow")
    text.align("center", width)
    return text
