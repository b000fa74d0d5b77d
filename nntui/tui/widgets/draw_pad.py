"""A 28x28 drawing pad: draw a digit with the mouse, white ink on black like MNIST.

The pad is 28 columns x 14 rows of half blocks, so each terminal cell holds
two square pixels, one above the other. The brush is a round pen with a soft
edge, dragged along the segment between two mouse reports so that a fast
stroke has no gaps. In terminals that report the pointer in pixels (SGR-Pixels,
mode 1016) the brush lands on the half of the cell under the pointer; in the
others, on the middle of the cell.

The pixels are plain floats, and every change posts `DrawPad.Changed` with all
784 of them; the screen centres, scales and classifies the drawing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.console import RenderableType
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

from nntui.render.digit_art import half_blocks

SIDE = 28  # pixels a side, as MNIST
BRUSH_CORE = 0.9  # pixels: full ink within this distance of the pen's path
BRUSH_EDGE = 1.1  # pixels: then fading to nothing over this distance
UNDO_DEPTH = 50  # strokes kept for undo

Pixels = tuple[float, ...]


def stroke_ink(distance: float) -> float:
    """How much ink the pen leaves on a pixel whose centre is ``distance`` from its path."""
    return min(1.0, max(0.0, 1.0 - (distance - BRUSH_CORE) / BRUSH_EDGE))


def _distance_to_segment(px: float, py: float, a: tuple[float, float], b: tuple[float, float]):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


class DrawPad(Widget, can_focus=True):
    """Draw with the left mouse button; ``c`` clears, ``u`` undoes the last stroke."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "clear", "Clear"),
        Binding("u", "undo", "Undo"),
    ]

    @dataclass
    class Changed(Message):
        """The drawing changed: all 784 pixels, row by row, in [0, 1]."""

        pad: DrawPad
        pixels: Pixels

        @property
        def control(self) -> DrawPad:
            return self.pad

        def can_replace(self, message: Message) -> bool:
            # The newest drawing supersedes one still queued: mouse moves come fast.
            return isinstance(message, DrawPad.Changed) and message.pad is self.pad

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._pixels: list[float] = [0.0] * (SIDE * SIDE)
        self._undo: list[list[float]] = []
        self._last: tuple[float, float] | None = None  # the pen, in pixel coordinates

    @property
    def pixels(self) -> Pixels:
        return tuple(self._pixels)

    @property
    def blank(self) -> bool:
        return not any(self._pixels)

    def render(self) -> RenderableType:
        # digit_art turns the flat tuple into its (28, 28) array itself.
        return half_blocks(np.asarray(self.pixels))

    # Drawing ---------------------------------------------------------------------

    def set_pixels(self, pixels: Pixels) -> None:
        """Replace the drawing (as one undoable stroke)."""
        if len(pixels) != SIDE * SIDE:
            raise ValueError(f"expected {SIDE * SIDE} pixels, got {len(pixels)}")
        self._push_undo()
        self._pixels = [min(1.0, max(0.0, float(p))) for p in pixels]
        self._changed()

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Draw one stroke through ``points`` (x, y) in pixel coordinates (for keys and tests)."""
        if not points:
            return
        self._push_undo()
        previous = points[0]
        for point in points:
            self._ink(previous, point)
            previous = point
        self._changed()

    def action_clear(self) -> None:
        if not self.blank:
            self._push_undo()
            self._pixels = [0.0] * (SIDE * SIDE)
            self._changed()

    def action_undo(self) -> None:
        if self._undo:
            self._pixels = self._undo.pop()
            self._changed()

    def _push_undo(self) -> None:
        self._undo.append(list(self._pixels))
        del self._undo[:-UNDO_DEPTH]

    def _ink(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        """Lay ink along the segment a-b; ink only ever darkens a pixel, as a pen does."""
        reach = BRUSH_CORE + BRUSH_EDGE
        x0 = max(0, int(min(a[0], b[0]) - reach))
        x1 = min(SIDE - 1, int(max(a[0], b[0]) + reach))
        y0 = max(0, int(min(a[1], b[1]) - reach))
        y1 = min(SIDE - 1, int(max(a[1], b[1]) + reach))
        pixels = self._pixels
        for row in range(y0, y1 + 1):
            for col in range(x0, x1 + 1):
                ink = stroke_ink(_distance_to_segment(col + 0.5, row + 0.5, a, b))
                i = row * SIDE + col
                if ink > pixels[i]:
                    pixels[i] = ink

    def _changed(self) -> None:
        self.refresh()
        self.post_message(self.Changed(self, self.pixels))

    # The mouse -----------------------------------------------------------------------

    def _pen(self, event: events.MouseEvent) -> tuple[float, float]:
        """The pointer in pixel coordinates: x in [0, 28), y in [0, 28), two rows a cell."""
        left, top = self.gutter.top_left
        x = event.pointer_x - left
        y = event.pointer_y - top
        # Without pixel reports the pointer is a whole cell: aim at its middle.
        if x == int(x) and y == int(y):
            x, y = x + 0.5, y + 0.5
        return (min(max(x, 0.0), SIDE - 0.01), min(max(2 * y, 0.0), SIDE - 0.01))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1 or event.get_content_offset(self) is None:
            return
        self.focus()
        self.capture_mouse()
        self._push_undo()
        self._last = self._pen(event)
        self._ink(self._last, self._last)
        self._changed()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._last is None:
            return
        if event.button != 1:  # the release happened outside the terminal
            self._end_stroke()
            return
        pen = self._pen(event)
        self._ink(self._last, pen)
        self._last = pen
        self._changed()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._end_stroke()

    def _end_stroke(self) -> None:
        if self._last is not None:
            self._last = None
            self.release_mouse()

    def on_click(self, event: events.Click) -> None:
        event.stop()  # the stroke was drawn on mouse down
