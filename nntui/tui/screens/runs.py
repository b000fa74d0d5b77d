"""Every run in the runs directory; the accuracy curves of the chosen ones on one chart.

``space`` (or a click) puts a run's curve on the chart or takes it off, to
compare, say, eta 0.001 / 3 / 100, or 30 against 100 hidden neurons. The
highlighted run's saved network can be looked inside: ``p`` draw, ``c``
confusion matrix, ``m`` misclassified digits, ``w`` hidden neurons. ``t``
closes the screen with that run as its result, for the app to train it further.

    app.push_screen(RunsScreen(RunStore(), data=session.data), on_chosen)
    # on_chosen(info: RunInfo | None): None when closed with escape

The list comes from the runs index a page at a time (`PAGE` rows, newest
first; the next page when the highlight nears the end), and a run's epochs are
read only when its curve is drawn, so the screen opens as fast on 20,000 runs
as on 20. Every `RELIST_INTERVAL` seconds a thread worker brings the index up to
date and, if any run changed, reads the rows listed so far again: a run being
recorded gains its new epochs on the chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import Worker, get_current_worker
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
PAGE = 100  # rows read from the runs index at a time
AHEAD = 20  # the next page is read when the highlight comes this close to the last row


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

    @dataclass
    class Listed(Message, bubble=False):
        """The relisting worker read the runs again: the first ``len(infos)`` of ``total``."""

        version: tuple[int, int] | None
        total: int
        infos: list[RunInfo]
        notes: list[str]  # what the store said meanwhile (say, it rebuilt the index)

    def __init__(self, store: RunStore | None = None, data: MnistData | None = None) -> None:
        super().__init__()
        self.store = store or RunStore()
        self.data = data
        self.runs: dict[str, RunInfo] = {}  # the rows read so far, newest first
        self.total = 0  # runs in the store
        self._version: tuple[int, int] | None = None
        self._relisting: Worker[None] | None = None

    @property
    def loaded(self) -> int:
        """How many rows have been read from the index (the rest come as one scrolls)."""
        return len(self.runs)

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
        runs.border_subtitle = "space: show on chart"
        self.query_one(RunsChart).border_title = "Accuracy per epoch"
        self.query_one(RunsChart).border_subtitle = "┄ book 95.42%"
        # The first page on the UI thread, so that the screen opens listed: the index as it
        # is, a few milliseconds at any size. Bringing it up to date with the folders (a
        # stat per run, or a rebuild of the whole index the first time) is the worker's.
        self._show(*self._read(PAGE))
        runs.focus()
        self._relisting = self._relist(None, PAGE)
        self.set_interval(RELIST_INTERVAL, self.relist)

    def _read(self, limit: int) -> tuple[tuple[int, int] | None, int, list[RunInfo]]:
        total = self.store.count(sync=False)
        version = self.store.version()
        return version, total, self.store.query(descending=True, limit=limit, sync=False)

    def relist(self) -> None:
        """Read the runs again in a thread; the rows already listed, if any run changed."""
        if self._relisting is not None and not self._relisting.is_finished:
            return  # still at it (a big store on a busy machine): let it finish, not cancel it
        self._relisting = self._relist(self._version, max(PAGE, self.loaded))

    @work(thread=True, group="runs-relist", exit_on_error=False)
    def _relist(self, version: tuple[int, int] | None, limit: int) -> None:
        total = self.store.count()  # brings the index up to date with the folders
        now = self.store.version()
        if (now is not None and now == version) or get_current_worker().is_cancelled:
            return
        infos = self.store.query(descending=True, limit=limit, sync=False)
        self.post_message(self.Listed(now, total, infos, list(self.store.notes)))
        self.store.notes.clear()

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        self._show(message.version, message.total, message.infos)
        for note in message.notes:  # the index was rebuilt or repaired, say
            self.notify(note.removeprefix("note: "), timeout=8)

    def _show(self, version: tuple[int, int] | None, total: int, infos: list[RunInfo]) -> None:
        """List ``infos`` (newest first); keep the choices and the highlight."""
        self._version = version
        self.total = total
        runs = self.query_one("#runs-list", SelectionList)
        chosen = set(runs.selected)
        highlighted = self.highlighted
        self.runs = {r.name: r for r in infos}
        with self.app.batch_update():
            runs.clear_options()
            runs.add_options([Selection(run_label(r), r.name, r.name in chosen) for r in infos])
            names = list(self.runs)
            if highlighted in self.runs:
                runs.highlighted = names.index(highlighted)
            elif names:
                runs.highlighted = 0
        self._title()
        if not infos:
            self.query_one("#run-details", Static).update(
                f"No runs yet in {self.store.root}: each training run is kept there."
                if self.store.is_empty()
                else f"Reading the runs in {self.store.root}..."
            )
        self._plot()
        self._details()

    def _title(self) -> None:
        runs = self.query_one("#runs-list", SelectionList)
        shown = f"{self.loaded:,} of {self.total:,}" if self.loaded < self.total else ""
        runs.border_title = f"Runs {shown}".strip()

    def _more(self) -> None:
        """Append the next page of older runs."""
        infos = self.store.query(descending=True, limit=PAGE, offset=self.loaded, sync=False)
        # Runs made since the last relisting push rows down: skip those already listed.
        fresh = [r for r in infos if r.name not in self.runs]
        if not fresh:
            self.total = self.loaded  # the store has fewer runs than it had: no more pages
            self._title()
            return
        self.runs.update((r.name, r) for r in fresh)
        self.query_one("#runs-list", SelectionList).add_options(
            [Selection(run_label(r), r.name, False) for r in fresh]
        )
        self._title()

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
        return [name for name in reversed(self.runs) if name in selected]

    @on(SelectionList.SelectedChanged)
    def _plot(self) -> None:
        curves = [(self.runs[n].label, self.runs[n].curve) for n in self.chosen]
        self.query_one(RunsChart).show(curves)
        self.query_one("#runs-legend", Static).update(
            legend([label for label, _ in curves]) if curves else "[dim]space: choose runs[/]"
        )

    @on(SelectionList.SelectionHighlighted)
    def _details(self) -> None:
        runs = self.query_one("#runs-list", SelectionList)
        near_end = runs.highlighted is not None and runs.highlighted >= runs.option_count - AHEAD
        if near_end and self.loaded < self.total:
            self._more()
        name = self.highlighted
        if name is None or name not in self.runs:
            return
        r = self.runs[name]
        c = r.config
        best = r.summary  # from the index: moving the highlight reads no epochs
        lines = [
            f"[b]{r.name}[/]  {r.status}, {r.epochs_done} epochs"
            + (
                f", best {best.best_correct:,} / {best.best_total:,}"
                if best.best_correct is not None and best.best_total is not None
                else ""
            ),
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
