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
from typing import Any, Literal

from rich.console import Console, RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from nntui.tui.render.digit_art import ART_SIZE
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
    activations: tuple[float, ...] = ()  # the 10 outputs, for the top guesses
    ascii: Text | None = None  # 28 columns x 14 rows of plain ASCII, if drawn

    @property
    def correct(self) -> bool:
        return self.prediction == self.label

    def top(self, k: int = 3) -> tuple[tuple[int, float], ...]:
        """The ``k`` most active outputs as (digit, activation), highest first."""
        ranked = sorted(range(len(self.activations)), key=lambda d: -self.activations[d])
        return tuple((d, self.activations[d]) for d in ranked[:k])


# Top guesses ("7 .98 1 .12 9 .05") need this many columns: the half-block card's width.
TOP_GUESSES_MIN_WIDTH = 19
StyleChoice = Literal["auto", "half", "braille", "ascii"]
STYLE_CYCLE: tuple[StyleChoice, ...] = ("auto", "half", "braille", "ascii")


def _gaps(style: str) -> tuple[int, int]:
    """Blank columns between cards, and blank lines between rows of cards."""
    return (1, 0) if style == "braille" else (2, 1)


def _art_size(style: str) -> tuple[int, int]:
    # ASCII art takes the half blocks' place: 28 x 14 cells.
    return ART_SIZE["half"] if style == "ascii" else ART_SIZE[style]  # type: ignore[index]


def caption_lines(style: str, cards: tuple[DigitCard, ...] = ()) -> int:
    """Lines under each picture: the label-to-guess line, and the top guesses where they fit."""
    wide = _art_size(style)[0] >= TOP_GUESSES_MIN_WIDTH
    return 2 if wide and any(c.activations for c in cards) else 1


def height_needed(style: str, count: int, width: int, captions: int = 1) -> int | None:
    """Lines that ``count`` cards drawn in ``style`` take at ``width``; None if none fits."""
    art_w, art_h = _art_size(style)
    col_gap, row_gap = _gaps(style)
    per_row = (width + col_gap) // (art_w + col_gap)
    if per_row < 1:
        return None
    rows = math.ceil(count / per_row)
    return rows * (art_h + captions) + (rows - 1) * row_gap


def fits(style: str, count: int, width: int, height: int, captions: int = 1) -> bool:
    """Whether ``count`` cards drawn in ``style`` fit in ``width`` x ``height`` cells."""
    needed = height_needed(style, count, width, captions)
    return needed is not None and needed <= height


class DigitGallery(Widget):
    """Cards in rows, each a picture over ``label→guess``, green when right and red when wrong."""

    ALLOW_SELECT = False  # pictures: see `nntui.tui.widgets.strips`

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cards: tuple[DigitCard, ...] = ()
        self.epoch: int | None = None
        self._runs: dict[tuple[int, str], tuple[Text, list[Line]]] = {}
        self.style_choice: StyleChoice = "auto"  # `cycle_style` steps through STYLE_CYCLE

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

    def cycle_style(self) -> StyleChoice:
        """Next drawing style: automatic, half blocks, braille, ASCII; returns the new one."""
        i = STYLE_CYCLE.index(self.style_choice)
        self.style_choice = STYLE_CYCLE[(i + 1) % len(STYLE_CYCLE)]
        self.refresh(layout=True)
        return self.style_choice

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """With ``height: auto``: big digits if they take at most 60% of the screen."""
        count = len(self.cards) or GALLERY_SIZE
        if self.style_choice != "auto":
            style = self.style_choice
            return height_needed(style, count, width, caption_lines(style, self.cards)) or 1
        half = height_needed("half", count, width, caption_lines("half", self.cards))
        if half is not None and half <= viewport.height * 0.6:
            return half
        return height_needed("braille", count, width) or 1

    @property
    def art_style(self) -> str:
        """The chosen style; automatically half blocks when every card fits so, else braille."""
        if self.style_choice != "auto":
            if self.style_choice == "ascii" and not any(c.ascii for c in self.cards):
                return "half"  # no ASCII drawings were made for these cards
            return self.style_choice
        width, height = self.size
        captions = caption_lines("half", self.cards)
        return "half" if fits("half", len(self.cards), width, height, captions) else "braille"

    def render(self) -> RenderableType:
        if not self.cards:
            return Text("Waiting for the data…", style="dim")
        style = self.art_style
        art_w, art_h = _art_size(style)
        tops = caption_lines(style, self.cards) == 2
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
            if tops:
                guesses = Text(gap[0]).join(_top_guesses(c, art_w) for c in row)
                lines.append(indent + text_runs(guesses, console)[0])
        return RunsVisual(lines)

    def _art_runs(self, card: DigitCard, style: str, console: Console) -> list[Line]:
        """A card's drawing as runs, made once per image: only the captions change."""
        art = {"half": card.half, "braille": card.braille}.get(style) or card.ascii or card.half
        cached = self._runs.get((card.index, style))
        if cached is None or cached[0] is not art:
            cached = self._runs[card.index, style] = (art, text_runs(art, console))
        return cached[1]


def _top_guesses(card: DigitCard, width: int) -> Text:
    """``7 .98 1 .12 9 .05``: the three most active outputs, the first in bold."""
    text = Text()
    for i, (digit, value) in enumerate(card.top(3)):
        if i:
            text.append("  ")
        shown = f"{value:.2f}".lstrip("0") if value < 1 else "1.0"
        text.append(f"{digit} {shown}", style="bold" if i == 0 else "dim")
    text.align("center", width)
    return text


def _caption(card: DigitCard, width: int) -> Text:
    mark = "✓" if card.correct else "✗"
    text = Text(
        f"{card.label}→{card.prediction} {mark}", style="bold green" if card.correct else "bold red"
    )
    if card.changed:
        text.append(" ✱", style="bold yellow")
    text.align("center", width)
    return text
