"""What each hidden neuron looks for: its 784 input weights drawn as a 28x28 heat map.

Red pixels excite the neuron, blue ones inhibit it. The maps are read again
after each epoch. ``z`` switches between full-size (28x14) and half-size
(14x7) maps; ``s`` between a scale per neuron and one shared by all.

    app.push_screen(NeuronsScreen(session))
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll

from nntui.tui.model.inside import neuron_weights
from nntui.tui.screens.base import InsideScreen
from nntui.tui.widgets.heatmap import HeatmapGrid
from nntui.tui.widgets.key_bar import KeyBar

FULL_SIZE_MIN_MAPS = 4  # full-size maps by default only if this many fit in a row


class NeuronsScreen(InsideScreen):
    """A heat map of input weights per hidden neuron, scrolling when they do not all fit."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("z", "zoom", "Size"),
        Binding("s", "scale", "Scale"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="neurons-scroll"):
            yield HeatmapGrid()
        yield KeyBar()

    def on_mount(self) -> None:
        grid = self.query_one(HeatmapGrid)
        # Full-size maps when four fit side by side (from 119 columns), else half-size.
        grid.zoom = "full" if self.size.width >= FULL_SIZE_MIN_MAPS * 29 + 3 else "small"
        self.query_one("#neurons-scroll").focus()
        super().on_mount()

    def update_view(self) -> None:
        grid = self.query_one(HeatmapGrid)
        grid.show(neuron_weights(self.subject))
        self._titles()

    def action_zoom(self) -> None:
        grid = self.query_one(HeatmapGrid)
        grid.zoom = "small" if grid.zoom == "full" else "full"

    def action_scale(self) -> None:
        grid = self.query_one(HeatmapGrid)
        grid.shared = not grid.shared
        self._titles()

    def _titles(self) -> None:
        grid = self.query_one(HeatmapGrid)
        box = self.query_one("#neurons-scroll")
        box.border_title = f"{grid.count} hidden neurons: input weights ({self.subject.title})"
        scale = "one scale for all" if grid.shared else "each to its own largest weight"
        box.border_subtitle = f"red +, blue -, {scale}"
