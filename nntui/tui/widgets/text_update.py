"""Changing a `Static`'s text without laying the whole screen out again when its height stays.

``Static.update`` lays the screen out again by default, in case the new text
takes another number of lines. That costs the UI thread 15-30 ms on a slow
2-core machine, and a key pressed meanwhile waits for it; most updates of a
status line or a note keep the number of lines.
"""

from __future__ import annotations

from typing import cast

from textual.css.scalar import Unit
from textual.css.styles import RulesMap
from textual.visual import VisualType
from textual.widgets import Static


def lines_taken(static: Static, width: int) -> int:
    """The lines ``static`` takes at ``width`` columns: its text's, or its min-height if more."""
    # What Textual's own `Widget` passes; its annotation asks for the `RulesMap` it wraps.
    lines = static.visual.get_height(cast("RulesMap", static.styles), width)
    least = static.styles.min_height
    if least is not None and least.unit == Unit.CELLS:
        lines = max(lines, int(least.value))
    return lines


def update_text(static: Static, content: VisualType) -> None:
    """``static.update(content)``, with a new layout only if the number of lines changes."""
    width = static.content_size.width
    before = lines_taken(static, width) if width > 0 else None
    static.update(content, layout=False)
    if before is None or lines_taken(static, width) != before:
        static.refresh(layout=True)
