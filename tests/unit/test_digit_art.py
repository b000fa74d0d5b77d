"""The terminal drawings of a 28x28 digit, checked cell by cell against the pixels."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nntui.render.digit_art import (
    ART_SIZE,
    ASCII_RAMP,
    SHADES,
    ascii_art,
    braille,
    digit_art,
    half_blocks,
)


def stroke() -> np.ndarray:
    """A vertical bar two pixels wide in columns 10-11, rows 4-23, full intensity."""
    image = np.zeros((28, 28), np.float32)
    image[4:24, 10:12] = 1.0
    return image


def test_half_blocks_are_28_columns_by_14_lines() -> None:
    lines = half_blocks(stroke()).plain.split("\n")
    assert len(lines) == 14 and all(len(line) == 28 for line in lines)
    assert ART_SIZE["half"] == (28, 14)


def test_each_half_block_cell_shows_its_two_pixels_in_grey() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((28, 28)).astype(np.float32)
    text = half_blocks(image)
    styles = {o: span.style for span in text.spans for o in range(span.start, span.end)}
    levels = np.rint(image * (SHADES - 1)).astype(int)

    def grey(level: int) -> int:  # from the paper (16) to white (255)
        return round(16 + level / (SHADES - 1) * (255 - 16))

    for row in range(14):
        for col in range(28):
            offset = row * 29 + col  # 28 cells and a newline per line
            style = styles[offset]
            top, bottom = levels[2 * row, col], levels[2 * row + 1, col]
            assert style.bgcolor.triplet.red == grey(bottom)
            if top != bottom:
                assert text.plain[offset] == "▀"
                assert style.color.triplet.red == grey(top)
            else:
                assert text.plain[offset] == " "


def test_braille_is_14_columns_by_7_lines_with_a_dot_per_bright_pixel() -> None:
    image = stroke()
    lines = braille(image).plain.split("\n")
    assert len(lines) == 7 and all(len(line) == 14 for line in lines)
    assert ART_SIZE["braille"] == (14, 7)
    # Columns 10-11 are the left and right dot columns of cell 5; rows 4-23 fill cells 1-5.
    for r, line in enumerate(lines):
        expected = "⣿" if 1 <= r <= 5 else " "
        assert line[5] == expected
        assert set(line[:5] + line[6:]) == {" "}


def test_braille_dots_follow_the_unicode_numbering() -> None:
    image = np.zeros((28, 28), np.float32)
    image[0, 0] = 1.0  # dot 1
    image[3, 1] = 1.0  # dot 8
    assert braille(image).plain.split("\n")[0][0] == chr(0x2800 | 0x01 | 0x80)


def test_a_blank_image_draws_nothing() -> None:
    assert set(braille(np.zeros((28, 28))).plain) <= {" ", "\n"}
    assert set(half_blocks(np.zeros(784)).plain) <= {" ", "\n"}  # flat 784 pixels work too


def test_digit_art_checks_its_arguments() -> None:
    assert digit_art(stroke(), "braille").plain == braille(stroke()).plain
    with pytest.raises(ValueError, match="28x28"):
        half_blocks(np.zeros((10, 10)))
    with pytest.raises(ValueError, match="unknown digit style"):
        digit_art(stroke(), "sixel")  # type: ignore[arg-type]


def test_ascii_art_uses_the_ramp_two_characters_per_pixel_column() -> None:
    image = np.zeros((28, 28), np.float32)
    image[0, 0] = 1.0  # one pixel of full ink in the top-left corner
    image[27, 26:28] = 0.5  # half ink, bottom right
    full = ascii_art(image, scale=1).plain.split("\n")
    assert len(full) == 28 and {len(row) for row in full} == {56}
    assert full[0].startswith("@@ ") and full[27].endswith("====")
    assert set("".join(full)) <= set(ASCII_RAMP)
    small = ascii_art(image, scale=2).plain.split("\n")  # 2x2 blocks, averaged
    assert len(small) == 14 and {len(row) for row in small} == {28}
    assert small[0][:2] == "::"  # a quarter of the block inked: level 2 of 9
    assert digit_art(image, "ascii").plain == ascii_art(image).plain
    assert all(ord(c) < 128 for c in ascii_art(image).plain)


def test_digit_art_does_not_import_textual() -> None:
    code = "import sys, nntui.render.digit_art; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_neighbouring_cells_of_one_style_are_one_run() -> None:
    """Paper is most of a digit: a blank line is one run, the stroke's line three."""
    from nntui.render.digit_art import braille_runs, half_block_runs, runs_text

    image = stroke()
    half = half_block_runs(image)
    assert all(len(line) == 1 for line in half[:2])  # rows 0-3: paper only
    assert [len(text) for text, _ in half[5]] == [10, 2, 16]  # paper, the bar, paper
    assert runs_text(half).plain == half_blocks(image).plain
    dots = braille_runs(image)
    assert [text for text, _ in dots[3]] == [" " * 5, "⣿", " " * 8]
