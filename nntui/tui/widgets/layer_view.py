"""The hidden layers of the network for one image, each as a strip of shaded cells.

`show` takes plain tuples (one per hidden layer), made by
`nntui.tui.model.inside.layer_values`; the widget only draws them. The
outputs are drawn beside it by `ActivationBars`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from nntui.render.activations import activation_strip

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
