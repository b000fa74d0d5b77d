"""Every run in the runs directory; the accuracy curves of the chosen ones on one chart.

``space`` (or a click) puts a run's curve on the chart or takes it off, to
compare, say, eta 0.001 / 3 / 100, or 30 against 100 hidden neurons. The
highlighted run's saved network can be looked inside: ``p`` draw, ``c``
confusion matrix, ``m`` misclassified digits, ``w`` hidden neurons. ``t``
closes the screen with that run as its result, for the app to train it further.

    app.push_screen(RunsScreen(RunStore(), data=session.data), on_chosen)
    # on_chosen(info: RunInfo | None): None when closed with escape

The list is read again every `RELIST_INTERVAL` seconds, so a run being
recorded gains its new epochs on the chart.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection
from textual_plotext import PlotextPlot

from nntui.engine.analysis import BOOK_ACCURACY
from nntui.engine.config import format_sizes
from nntui.engine.dataset import MnistData
from nntui.engine.errors import ModelFileError
from nntui.store.runs import RunInfo, RunStore
from nntui.tui.model.inside import SavedSubject
from nntui.tui.screens.base import CSS
from nntui.tui.screens.inside import INSIDE_SCREENS, NEEDS_DATA
from nntui.tui.widgets.charts import COLOURS, legend
from nntui.tui.widgets.key_bar import KeyBar

RELIST_INTERVAL = 2.0  # seconds between two readings of the runs directory


def run_label(info: RunInfo) -> str:
    """One line for the list: best accuracy, layers and eta (m only when not the book's 10)."""
    best = info.best_accuracy
    score = f"{100 * best:5.1f}%" if best is not None else "   - "
    c = info.config
    batch = "" if c.mini_batch_size == 10 else f" m {c.mini_batch_size}"
    status = "" if info.status == "completed" else f" {info.status}"
    return f"{score} {format_sizes(c.sizes, '-')} eta {c.eta:g}{batch}{status}"


class RunsChart(PlotextPlot):
    """Accuracy per epoch of several runs, one colour each, with the book's 95.42%."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.curves: list[tuple[str, tuple[tuple[int, float], ...]]] = []

    def show(self, curves: list[tuple[str, tuple[tuple[int, float], ...]]]) -> None:
        """Plot these (legend, ((epoch, accuracy 0..1), ...)) curves."""
        self.curves = curves
        self.refresh()

    def render(self) -> Any:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        last = max((c[-1][0] for _, c in self.curves if c), default=1)
        plt.plot([1, max(last, 2)], [BOOK_ACCURACY] * 2, marker="┄", color="red")
        lowest = BOOK_ACCURACY
        for n, (_, curve) in enumerate(self.curves):
            if not curve:
                continue
            xs = [e for e, _ in curve]
            ys = [100 * a for _, a in curve]
            lowest = min(lowest, *ys)
            plt.plot(xs, ys, marker="braille", color=COLOURS[n % len(COLOURS)][0])
        plt.xlim(1, max(last, 2))
        step = max(1, round(last / 8))
        plt.xticks(list(range(1, max(last, 2) + 1, step)))
        bottom = max(0.0, lowest - 2)
        plt.ylim(bottom, 100)
        step = 10 if 100 - bottom > 30 else 2
        plt.yticks([t for t in range(0, 101, step) if t >= bottom])
        plt.xlabel("epoch")
        plt.ylabel("accuracy %")
        return super().render()


class RunsScreen(Screen[RunInfo | None]):
    """Choose runs to compare; look inside one or continue it."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("p", "inside('draw')", "Draw"),
        Binding("c", "inside('confusion')", "Confusion"),
        Binding("m", "inside('misclassified')", "Wrong"),
        Binding("w", "inside('neurons')", "Neurons"),
        Binding("t", "train", "Train further"),
    ]

    def __init__(self, store: RunStore | None = None, data: MnistData | None = None) -> None:
        super().__init__()
        self.store = store or RunStore()
        self.data = data
        self.runs: dict[str, RunInfo] = {}
        self._listed: tuple[tuple[str, int, str], ...] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="runs-body"):
            yield SelectionList[str](id="runs-list")
            with Vertical(id="runs-right"):
                yield RunsChart(id="runs-chart")
                yield Static(id="runs-legend")
        yield Static(id="run-details")
        yield KeyBar()

    def on_mount(self) -> None:
        runs = self.query_one("#runs-list", SelectionList)
        runs.border_title = "Runs"
        runs.border_subtitle = "space: show on chart"
        self.query_one(RunsChart).border_title = "Accuracy per epoch"
        self.query_one(RunsChart).border_subtitle = "┄ book 95.42%"
        self.relist()
        runs.focus()
        self.set_interval(RELIST_INTERVAL, self.relist)

    def relist(self) -> None:
        """Read the runs directory again; keep the choices and the highlight."""
        skipped: list[str] = []
        infos = self.store.list(skipped)
        listed = tuple((r.name, r.epochs_done, r.status) for r in infos)
        if listed == self._listed:
            return
        self._listed = listed
        self.runs = {r.name: r for r in infos}
        runs = self.query_one("#runs-list", SelectionList)
        chosen = set(runs.selected)
        highlighted = self.highlighted
        runs.clear_options()
        runs.add_options(
            [Selection(run_label(r), r.name, r.name in chosen) for r in reversed(infos)]
        )
        names = [r.name for r in reversed(infos)]
        if highlighted in names:
            runs.highlighted = names.index(highlighted)
        elif names:
            runs.highlighted = 0
        if not infos:
            self.query_one("#run-details", Static).update(
                f"No runs yet in {self.store.root}: each training run is kept there."
            )
        self._plot()
        self._details()

    @property
    def highlighted(self) -> str | None:
        runs = self.query_one("#runs-list", SelectionList)
        if runs.highlighted is None or runs.option_count == 0:
            return None
        return runs.get_option_at_index(runs.highlighted).value

    @property
    def chosen(self) -> list[str]:
        """The runs on the chart, oldest first."""
        selected = set(self.query_one("#runs-list", SelectionList).selected)
        return [name for name in self.runs if name in selected]

    @on(SelectionList.SelectedChanged)
    def _plot(self) -> None:
        curves = [(self.runs[n].label, self.runs[n].curve) for n in self.chosen]
        self.query_one(RunsChart).show(curves)
        self.query_one("#runs-legend", Static).update(
            legend([label for label, _ in curves]) if curves else "[dim]space: choose runs[/]"
        )

    @on(SelectionList.SelectionHighlighted)
    def _details(self) -> None:
        name = self.highlighted
        if name is None or name not in self.runs:
            return
        r = self.runs[name]
        c = r.config
        best = r.best
        lines = [
            f"[b]{r.name}[/]  {r.status}, {r.epochs_done} epochs"
            + (f", best {best['correct']:,} / {best['total']:,}" if best else ""),
            f"layers {format_sizes(c.sizes)}, eta {c.eta:g}, mini-batch "
            f"{c.mini_batch_size}, {c.train_size:,} images, seed {r.seed}, on the {c.eval_on} set"
            + (f", continued from {r.resumed_from}" if r.resumed_from else ""),
        ]
        self.query_one("#run-details", Static).update("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_train(self) -> None:
        name = self.highlighted
        if name is not None:
            self.dismiss(self.runs[name])

    def action_inside(self, view: str) -> None:
        name = self.highlighted
        if name is None:
            return
        info = self.runs[name]
        try:
            model = info.load()
        except ModelFileError as exc:
            self.notify(str(exc), severity="error")
            return
        subject = SavedSubject(model.network, info.name, self.data, info.config.eval_on)
        if view in NEEDS_DATA and self.data is None:
            self.notify("No data loaded: only draw and neurons work without it.")
            return
        screen = INSIDE_SCREENS[view](subject)
        self.app.push_screen(screen)
