"""A 28x28 MNIST image as terminal characters: Rich `Text`, no Textual.

Three drawings:

* `half_blocks`: 28 columns x 14 rows of ``▀``, each cell showing two pixels
  (the upper one in the foreground colour, the lower one in the background),
  in 16 shades of grey. The most faithful drawing, for roomy screens.
* `braille`: 14 columns x 7 rows of braille characters, each cell a 2x4 block
  of pixels drawn as dots where the ink is brighter than a threshold. A quarter
  of the area, for small terminals.
* `ascii_art`: plain ASCII from the intensity ramp `ASCII_RAMP`, two characters
  per pixel column so a digit keeps its shape (a terminal cell is about twice
  as tall as wide). At ``scale=2`` (the gallery) each character pair stands
  for a 2x2 block of pixels: 28 columns x 14 rows, the half blocks' size; at
  ``scale=1`` every pixel is drawn, 56 columns x 28 rows. For terminals and
  pipes that cannot show Unicode.

All are used by the dashboard's digit gallery and by ``nntui predict``. The
gallery, redrawn while training, takes them as lines of ``(text, style)`` runs
(`art_runs`), neighbouring cells of one style in one run: most of a digit is
paper, so a line is a handful of runs rather than 14 or 28 styled cells.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import groupby
from typing import Literal

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text

SIDE = 28  # MNIST images are 28x28 pixels
SHADES = 16  # grey levels of the half-block drawing
INK_THRESHOLD = 0.35  # a pixel brighter than this is a braille dot

ASCII_RAMP = " .:-=+*#%@"  # from paper to ink

ArtStyle = Literal["half", "braille", "ascii"]
Run = tuple[str, Style | None]  # text drawn in one style; None: the widget's own
Line = list[Run]
# Columns and rows each drawing takes in the terminal (ASCII at the gallery's scale 2).
ART_SIZE: dict[ArtStyle, tuple[int, int]] = {
    "half": (SIDE, SIDE // 2),
    "braille": (SIDE // 2, SIDE // 4),
    "ascii": (SIDE, SIDE // 2),
}

# Paper and ink: a near-black square with white strokes reads on dark and light themes alike.
_PAPER = (16, 16, 16)
_INK = (255, 255, 255)

# Braille dot bits (Unicode U+2800 block) by (row, column) inside a 4x2 cell.
_BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int32)


def _check(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image, dtype=np.float32)
    if a.shape == (SIDE * SIDE,):
        a = a.reshape(SIDE, SIDE)
    if a.shape != (SIDE, SIDE):
        raise ValueError(f"expected a 28x28 image (or 784 pixels), got shape {a.shape}")
    return np.nan_to_num(np.clip(a, 0.0, 1.0))


def _shades(image: np.ndarray, levels: int) -> np.ndarray:
    """Pixel intensities in [0, 1] as integer levels 0..levels-1."""
    return np.rint(image * (levels - 1)).astype(np.intp)


@lru_cache(maxsize=SHADES)
def _grey(level: int, levels: int = SHADES) -> Color:
    t = level / (levels - 1)
    r, g, b = (round(p + t * (i - p)) for p, i in zip(_PAPER, _INK, strict=True))
    return Color.from_rgb(r, g, b)


@lru_cache(maxsize=SHADES * SHADES)
def _cell_style(top: int, bottom: int) -> Style:
    return Style(color=_grey(top), bgcolor=_grey(bottom))


def half_block_runs(image: np.ndarray) -> list[Line]:
    """`half_blocks` as lines of (text, style) runs, for widgets that draw runs directly.

    Neighbouring cells of one style are one run: most of a digit is paper, so a
    line is a few runs rather than 28, and every later step (segments, the
    terminal's escape codes) is that much shorter.
    """
    levels = _shades(_check(image), SHADES)  # (28, 28)
    lines = []
    for top_row, bottom_row in zip(levels[0::2].tolist(), levels[1::2].tolist(), strict=True):
        line: Line = []
        for (top, bottom), cells in groupby(zip(top_row, bottom_row, strict=True)):
            # Two equal pixels need no glyph: a space in the background colour.
            glyph = "▀" if top != bottom else " "
            line.append((glyph * len(list(cells)), _cell_style(top, bottom)))
        lines.append(line)
    return lines


def half_blocks(image: np.ndarray) -> Text:
    """Draw a (28, 28) image in [0, 1] as 14 lines of 28 ``▀`` cells in shades of grey."""
    return runs_text(half_block_runs(image))


@lru_cache(maxsize=SHADES)
def _dot_style(level: int) -> Style:
    # Each cell is as bright as its brightest pixel, but never dimmer than mid-grey:
    # faint strokes look faint without vanishing.
    return Style(color=_grey(max(level, SHADES // 2)))


def braille_runs(image: np.ndarray, threshold: float = INK_THRESHOLD) -> list[Line]:
    """`braille` as lines of (text, style) runs, neighbouring cells of one style in one run."""
    a = _check(image)
    # (7 cell rows, 4 dot rows, 14 cell columns, 2 dot columns)
    cells = a.reshape(SIDE // 4, 4, SIDE // 2, 2)
    on = cells > threshold
    codes = np.einsum("rdce,de->rc", on.astype(np.int32), _BRAILLE_BITS)  # (7, 14)
    brightness = _shades(cells.max(axis=(1, 3)), SHADES)  # (7, 14)
    lines = []
    for code_row, level_row in zip(codes.tolist(), brightness.tolist(), strict=True):
        line: Line = []
        glyphs = [chr(0x2800 + code) if code else " " for code in code_row]
        styles = [
            _dot_style(level) if code else None
            for code, level in zip(code_row, level_row, strict=True)
        ]
        start = 0
        for style, group in groupby(styles):
            width = len(list(group))
            line.append(("".join(glyphs[start : start + width]), style))
            start += width
        lines.append(line)
    return lines


def braille(image: np.ndarray, threshold: float = INK_THRESHOLD) -> Text:
    """Draw a (28, 28) image as 7 lines of 14 braille cells, a dot per pixel above ``threshold``."""
    return runs_text(braille_runs(image, threshold))


def runs_text(lines: list[Line]) -> Text:
    """Lines of runs as one Rich `Text` (no wrapping: a picture is cropped, never folded)."""
    text = Text(no_wrap=True, overflow="crop")
    for i, line in enumerate(lines):
        if i:
            text.append("\n")
        for part, style in line:
            text.append(part, style)
    return text


def ascii_art(image: np.ndarray, scale: int = 2) -> Text:
    """Draw a (28, 28) image with `ASCII_RAMP`, two characters per (scale x scale) block.

    ``scale=2``: 14 lines of 28 characters; ``scale=1``: 28 lines of 56. No
    styles: the characters alone carry the picture.
    """
    if scale not in (1, 2):
        raise ValueError(f"ASCII art scale is 1 or 2, got {scale}")
    a = _check(image)
    side = SIDE // scale
    blocks = a.reshape(side, scale, side, scale).mean(axis=(1, 3))  # (side, side)
    levels = _shades(blocks, len(ASCII_RAMP))
    rows = ["".join(ASCII_RAMP[v] * 2 for v in row) for row in levels.tolist()]
    return Text("\n".join(rows), no_wrap=True, overflow="crop")


def digit_art(image: np.ndarray, style: ArtStyle = "half") -> Text:
    """Draw an image in a style: ``"half"`` (28x14 cells), ``"braille"`` (14x7), ``"ascii"``."""
    if style == "half":
        return half_blocks(image)
    if style == "braille":
        return braille(image)
    if style == "ascii":
        return ascii_art(image)
    raise ValueError(f"unknown digit style {style!r}: use 'half', 'braille' or 'ascii'")


def art_runs(image: np.ndarray, style: ArtStyle = "half") -> list[Line]:
    """`digit_art` as lines of (text, style) runs, for widgets that draw runs directly."""
    if style == "half":
        return half_block_runs(image)
    if style == "braille":
        return braille_runs(image)
    if style == "ascii":
        return [[(line, None)] for line in ascii_art(image).plain.split("\n")]
    raise ValueError(f"unknown digit style {style!r}: use 'half', 'braille' or 'ascii'")


def can_encode(encoding: str | None, text: str = "▀█⣿·") -> bool:
    """True if output in ``encoding`` can carry the block and braille characters."""
    try:
        text.encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
