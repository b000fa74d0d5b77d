"""Every layer of the network for one image: hidden layers as strips, the outputs as bars.

`show` takes plain tuples (one per layer, the last being the ten outputs),
made by `nntui.tui.model.inspect.layer_values`; the widget only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from nntui.tui.render.activations import activation_strip
from nntui.tui.widgets.activation_bars import ActivationBars

LEGEND = "· 0 (off)  dark … bright  █ 1 (on)"


class HiddenStrips(Static):
    """The hidden layers' activations, one titled strip per layer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.hidden: tuple[tuple[float, ...], ...] = ()

    def show(self, layers: Sequence[Sequence[float]]) -> None:
        self.hidden = tuple(tuple(layer) for layer in layers)
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        if not self.hidden:
            return Text("No image picked.", style="dim")
        width = max(1, self.content_size.width)
        parts: list[RenderableType] = []
        for i, values in enumerate(self.hidden, start=1):
            name = "Hidden layer" if len(self.hidden) == 1 else f"Hidden layer {i}"
            firing = sum(v > 0.5 for v in values)
            parts.append(Text(f"{name}: {len(values)} neurons, {firing} above 0.5", style="bold"))
            parts.append(activation_strip(values, width))
        parts.append(Text(LEGEND, style="dim"))
        return Group(*parts)


class LayerView(Vertical):
    """All layers for one image: `HiddenStrips` over the output `ActivationBars`."""

    DEFAULT_CSS = """
    LayerView { height: auto; }
    LayerView HiddenStrips { height: auto; }
    LayerView ActivationBars { margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield HiddenStrips()
        yield ActivationBars()

    def show(self, layers: Sequence[Sequence[float]] | None, truth: int | None = None) -> None:
        """Show every layer's activations (the last is the 10 outputs); None clears."""
        strips = self.query_one(HiddenStrips)
        bars = self.query_one(ActivationBars)
        if not layers:
            strips.show(())
            bars.show(None)
            return
        strips.show(layers[:-1])
        bars.show(tuple(float(v) for v in layers[-1]), truth)
