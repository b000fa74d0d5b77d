"""A gallery of test digits with their labels and the network's current guesses.

The gallery is given `DigitSample`s (`nntui.tui.model.inside`): by `show`, or, following
a training network, from its ``source`` when `RedrawThrottle` lets it redraw
(`show_network`). It draws each image once, as lines of styled runs
(`nntui.render.digit_art`), and keeps the drawings while the same images come back epoch
after epoch: after an epoch only the captions are new (drawn by `nntui.tui.widgets.strips`).
It shows the 28x14 half-block pictures when they all fit, and the 14x7 braille ones
otherwise. With ``mark_changes`` a card whose guess differs from the one on screen before
is marked ✱.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size

from nntui.render.digit_art import ART_SIZE, ArtStyle, art_runs
from nntui.tui.model.inside import DigitSample
from nntui.tui.model.session import GALLERY_SIZE
from nntui.tui.widgets.strips import Line, Run, RunsVisual, text_runs
from nntui.tui.widgets.throttle import RedrawThrottle

# Top guesses ("7 .98  1 .12  9 .05") need this many columns: under half blocks and ASCII.
TOP_GUESSES_MIN_WIDTH = 19
StyleChoice = Literal["auto", "half", "braille", "ascii"]
STYLE_CYCLE: tuple[StyleChoice, ...] = ("auto", "half", "braille", "ascii")
STYLE_NAMES = {"auto": "automatic", "half": "half blocks", "braille": "braille", "ascii": "ASCII"}
Cards = tuple[tuple[DigitSample, ...], int]  # the cards, and the epoch their guesses are of


def _art_size(style: str) -> tuple[int, int]:
    return ART_SIZE[style]  # type: ignore[index]


def _gaps(style: str) -> tuple[int, int]:
    """Blank columns between cards, and blank lines between rows of cards."""
    return (1, 0) if style == "braille" else (2, 1)


def caption_lines(style: str) -> int:
    """Lines under each picture: the label-to-guess line, and the top guesses where they fit."""
    return 2 if _art_size(style)[0] >= TOP_GUESSES_MIN_WIDTH else 1


def height_needed(style: str, count: int, width: int) -> int | None:
    """Lines that ``count`` cards drawn in ``style`` take at ``width``; None if none fits."""
    art_w, art_h = _art_size(style)
    col_gap, row_gap = _gaps(style)
    per_row = (width + col_gap) // (art_w + col_gap)
    if per_row < 1:
        return None
    rows = math.ceil(count / per_row)
    return rows * (art_h + caption_lines(style)) + (rows - 1) * row_gap


def fits(style: str, count: int, width: int, height: int) -> bool:
    """Whether ``count`` cards drawn in ``style`` fit in ``width`` x ``height`` cells."""
    needed = height_needed(style, count, width)
    return needed is not None and needed <= height


def top_guesses(activations: tuple[float, ...], k: int = 3) -> tuple[tuple[int, float], ...]:
    """The ``k`` most active outputs as (digit, activation), highest first."""
    ranked = sorted(range(len(activations)), key=lambda d: -activations[d])
    return tuple((d, activations[d]) for d in ranked[:k])


class DigitGallery(RedrawThrottle):
    """Cards in rows, each a picture over ``label→guess``, green when right and red when wrong.

    ``source`` gives the cards of the network as the screen last heard of it, or None
    before there is one.
    """

    ALLOW_SELECT = False  # pictures: see `nntui.tui.widgets.strips`

    def __init__(
        self,
        *,
        mark_changes: bool = False,
        source: Callable[[], Cards | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._source = source
        self._new_network = False
        self.cards: tuple[DigitSample, ...] = ()
        self.changed: frozenset[int] = frozenset()  # indices whose guess changed, when marked
        self.epoch: int | None = None
        self._mark_changes = mark_changes
        self._before: dict[int, int] = {}  # index -> guess of the epoch shown before this one
        # (index, style) -> (the image's pixels, its drawing): an index stands for another
        # image once the evaluation set changes, so the pixels are checked too.
        self._runs: dict[tuple[int, str], tuple[bytes, list[Line]]] = {}
        self.style_choice: StyleChoice = "auto"  # `cycle_style` steps through STYLE_CYCLE

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
        self.cards, self.epoch = cards, epoch
        right = sum(card.correct for card in cards)
        when = "untrained network" if epoch == 0 else f"after epoch {epoch}"
        self.border_title = f"Digits, {when}: {right}/{len(cards)} right"
        self.refresh(layout=relayout)

    def show_network(self, *, new_network: bool = False, now: bool = False) -> None:
        """The network changed: show its cards from ``source`` when the throttle allows.

        ``new_network`` (reset, loaded, a fresh one at a start) draws at once and
        marks no guess as changed; so does ``now`` (a pause, a step's end, the end).
        """
        self._new_network |= new_network
        self.request_redraw(now=now or new_network)

    def redraw(self) -> None:
        cards = None if self._source is None else self._source()
        if cards is not None:
            self.show(*cards, new_network=self._new_network)
            self._new_network = False

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
            return height_needed(self.style_choice, count, width) or 1
        half = height_needed("half", count, width)
        if half is not None and half <= viewport.height * 0.6:
            return half
        return height_needed("braille", count, width) or 1

    @property
    def art_style(self) -> ArtStyle:
        """The chosen style; automatically half blocks when every card fits so, else braille."""
        if self.style_choice != "auto":
            return self.style_choice
        width, height = self.size
        return "half" if fits("half", len(self.cards), width, height) else "braille"

    def render(self) -> RenderResult:
        if not self.cards:
            return Text("Waiting for the data…", style="dim")
        style = self.art_style
        art_w, art_h = _art_size(style)
        tops = caption_lines(style) == 2
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
            arts = [self._art_runs(card, style) for card in row]
            if start:
                lines.extend([] for _ in range(row_gap))
            for i in range(art_h):
                line = list(indent)
                for j, art in enumerate(arts):
                    line += [gap, *art[i]] if j else art[i]
                lines.append(line)
            captions = Text(gap[0]).join(_caption(c, c.index in self.changed, art_w) for c in row)
            lines.append(indent + text_runs(captions, console)[0])
            if tops:
                guesses = Text(gap[0]).join(_top_guesses(c, art_w) for c in row)
                lines.append(indent + text_runs(guesses, console)[0])
        return RunsVisual(lines)

    def _art_runs(self, card: DigitSample, style: ArtStyle) -> list[Line]:
        """A card's drawing as runs, made once per image and style: only the captions change."""
        pixels = card.picture_key()
        cached = self._runs.get((card.index, style))
        if cached is None or cached[0] != pixels:
            cached = self._runs[card.index, style] = (pixels, art_runs(card.image, style))
        return cached[1]


def _top_guesses(card: DigitSample, width: int) -> Text:
    """``7 .98  1 .12  9 .05``: the three most active outputs, the first in bold."""
    text = Text()
    for i, (digit, value) in enumerate(top_guesses(card.activations)):
        if i:
            text.append("  ")
        shown = f"{value:.2f}".lstrip("0") if value < 0.995 else "1.0"
        text.append(f"{digit} {shown}", style="bold" if i == 0 else "dim")
    text.align("center", width)
    return text


def _caption(card: DigitSample, changed: bool, width: int) -> Text:
    mark = "✓" if card.correct else "✗"
    text = Text(
        f"{card.label}→{card.prediction} {mark}", style="bold green" if card.correct else "bold red"
    )
    if changed:
        text.append(" ✱", style="bold yellow")
    text.align("center", width)
    return text
