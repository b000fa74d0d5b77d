"""Inside the layers, epoch by epoch: stuck neurons, saturation, gradient size, weight norm.

Four small charts, one line per layer (hidden layers, then the output layer),
read from the `EpochDone.layers` the trainer measured after each epoch. A
sentence on top says what the numbers mean; a stuck output neuron (a digit
never predicted) is named underneath with what to try.

    app.push_screen(LayersScreen(session))
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Static

from nntui.engine.events import EpochDone
from nntui.engine.layers import held_back_digits, stuck_output_hint
from nntui.tui.model.session import Session
from nntui.tui.screens.base import CSS, POLL_INTERVAL
from nntui.tui.widgets.charts import ThrottledPlot, _int_ticks
from nntui.tui.widgets.key_bar import KeyBar

EXPLAIN = (
    "Saturated: outputs below 0.01 or above 0.99, where sigma' is tiny and the neuron barely "
    "learns (Chapter 3). Stuck: neurons saturated on 99% of the images, the same answer "
    "for every digit. Gradient: RMS of ∂C/∂w over sampled mini-batches. Norm: size of the "
    "weights."
)
EXPLAIN_SHORT = (
    "Saturated: outputs < 0.01 or > 0.99 (sigma' tiny, slow learning, Chapter 3). "
    "Stuck: saturated on 99% of images."
)
LAYER_COLOURS = ("cyan", "green", "magenta", "yellow", "red")

# metric: (title, attribute of LayerStats, as percent)
METRICS: dict[str, tuple[str, str, bool]] = {
    "stuck": ("Stuck neurons %", "stuck", True),
    "saturated": ("Saturated activations %", "saturated", True),
    "gradient": ("Gradient RMS |∂C/∂w|", "grad_rms", False),
    "norm": ("Weight norm ‖w‖", "weight_norm", False),
}


def layer_name(layer: int, layers: int) -> str:
    """``hidden`` / ``hidden 2`` / ``output`` for layer numbers 1..layers."""
    if layer == layers:
        return "output"
    return "hidden" if layers == 2 else f"hidden {layer}"


class LayerStatPlot(ThrottledPlot):
    """One statistic per epoch, a line per layer."""

    def __init__(self, metric: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metric = metric
        self.epochs: list[int] = []
        self.series: list[list[float]] = []  # per layer, one value per epoch

    def set_history(self, history: list[EpochDone]) -> None:
        _, attr, percent = METRICS[self.metric]
        rows = [e for e in history if e.layers]
        self.epochs = [e.epoch for e in rows]
        count = len(rows[-1].layers) if rows else 0
        self.series = [
            [getattr(e.layers[i], attr) * (100 if percent else 1) for e in rows]
            for i in range(count)
        ]
        self.request_redraw(now=True)

    def update_titles(self) -> None:
        title, _, percent = METRICS[self.metric]
        self.border_title = title
        if self.series and self.series[0]:
            n = len(self.series)
            last = [s[-1] for s in self.series]
            shown = [
                f"{layer_name(i + 1, n)} {v:.0f}" if percent else f"{layer_name(i + 1, n)} {v:.3g}"
                for i, v in enumerate(last)
            ]
            self.border_subtitle = " · ".join(shown)
        else:
            self.border_subtitle = "after the first epoch"

    def draw(self) -> None:
        plt = self.plt
        _, _, percent = METRICS[self.metric]
        values = [v for s in self.series for v in s if math.isfinite(v)]
        for i, s in enumerate(self.series):
            points = [(x, y) for x, y in zip(self.epochs, s, strict=True) if math.isfinite(y)]
            if points:
                xs, ys = zip(*points, strict=True)
                colour = LAYER_COLOURS[i % len(LAYER_COLOURS)]
                plt.plot(list(xs), list(ys), marker="braille", color=colour)
        if percent:
            plt.ylim(0, 100)
        elif values:
            plt.ylim(0, max(values) * 1.1 or 1.0)
        first = self.epochs[0] if self.epochs else 1
        last = max(self.epochs[-1] if self.epochs else 1, first + 1)
        plt.xlim(first, last)
        epochs = _int_ticks(first, last, max(2, self.size.width // 10))
        plt.xticks(cast("list[float]", epochs))  # plotext's stubs ask for floats; ints draw as ints
        if self.size.height >= 12:  # on short screens the rows are worth more than the label
            plt.xlabel("epoch")


class LayersScreen(Screen[None]):
    """Per-epoch statistics of every layer, for the session's network as it trains."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._seen: object = None

    def compose(self) -> ComposeResult:
        yield Static(EXPLAIN, id="layers-explain")
        with Grid(id="layers-grid"):
            for metric in METRICS:
                yield LayerStatPlot(metric, id=f"layers-{metric}")
        yield Static(id="layers-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(POLL_INTERVAL, self.poll)
        self.poll()

    def on_resize(self) -> None:
        short = self.size.width < 100 or self.size.height < 30
        self.query_one("#layers-explain", Static).update(EXPLAIN_SHORT if short else EXPLAIN)

    def on_screen_resume(self) -> None:
        self.poll()

    def poll(self) -> None:
        s = self.session
        version = (id(s.network), len(s.history))
        if version == self._seen:
            return
        self._seen = version
        history = list(s.history)
        for plot in self.query(LayerStatPlot):
            plot.set_history(history)
        self.query_one("#layers-status", Static).update(self._status(history))

    def _status(self, history: list[EpochDone]) -> str:
        if not history or not history[-1].layers:
            return "[dim]The numbers appear after the first epoch (or step an epoch).[/]"
        last = history[-1]
        n = len(last.layers)
        legend = "  ".join(
            f"[{LAYER_COLOURS[i % len(LAYER_COLOURS)]}]━[/] {layer_name(i + 1, n)}"
            for i in range(n)
        )
        split = self.session.data.split(self.session.eval_on)
        hint = stuck_output_hint(held_back_digits(last.predictions, split.labels), last.epoch)
        text = f"{legend}   after epoch {last.epoch}"
        if hint:
            text += f"\n[bold yellow]{hint}[/]"
        return text
