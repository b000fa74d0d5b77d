"""The two live charts: accuracy per epoch, and the training cost within the current epoch.

Both are `PlotextPlot`s that keep their points as plain lists and rebuild the
plot only when Textual renders them. New points ask for a redraw, which
`nntui.tui.widgets.throttle.RedrawThrottle` spaces out: a plot costs a few
milliseconds, and epochs can end several times a second. plotext's coloured output goes to
the screen as
ready-styled runs (`nntui.tui.widgets.strips`), not through a Rich `Text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

from rich.text import Text
from textual_plotext import PlotextPlot

from nntui.engine.analysis import BOOK_ACCURACY
from nntui.tui.widgets.strips import RunsVisual, ansi_runs
from nntui.tui.widgets.throttle import REDRAW_INTERVAL, RedrawThrottle

# Curves of several runs: plotext's name and Rich's for the same colour (red is the book's line).
COLOURS = (
    ("cyan", "cyan"),
    ("orange", "dark_orange"),
    ("green", "green"),
    ("magenta", "magenta"),
    ("blue", "blue"),
    ("yellow", "yellow"),
    ("gray", "grey50"),
)
BASELINE_COLOURS = ("yellow", "magenta", "cyan")  # random guess, average darkness, SVM
MARK_COLOUR = "orange"  # where eta or m changed, or where a run resumed
TRAIN_COLOUR = "blue"  # accuracy on the training sample
Mark = tuple[float, str]  # x position on the chart, label


def draw_marks(plt: Any, marks: list[Mark] | tuple[Mark, ...], top: float) -> None:
    """Vertical lines at each mark's x, labelled at the top of the plot."""
    for x, label in marks:
        plt.vline(x, MARK_COLOUR)
        plt.text(label, x, top, color=MARK_COLOUR)


ZOOMED_REDRAW_INTERVAL = 0.5  # the cost chart, stepping or slowed down: every batch counts
# plotext maps values to rows with float arithmetic; far beyond this (a run that
# diverged, eta 1e308) its scale overflows to inf or NaN and it divides by zero.
PLOT_LIMIT = 1e12


def legend(labels: Sequence[str]) -> Text:
    """A legend of several curves in `COLOURS`, for below the chart.

    Not plotext's own legend: it would hide the top of the curves.
    """
    text = Text()
    for n, label in enumerate(labels):
        text.append("━━ ", style=COLOURS[n % len(COLOURS)][1]).append(label + "   ")
    return text


class ThrottledPlot(RedrawThrottle, PlotextPlot):
    """A plot redrawn at most every ``redraw_interval`` seconds (`RedrawThrottle`)."""

    ALLOW_SELECT = False  # a picture: see `nntui.tui.widgets.strips`

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.auto_links = False

    def redraw(self) -> None:
        self.update_titles()  # a new border title repaints the widget: only here, throttled
        self.refresh()

    def on_mount(self) -> None:
        self.update_titles()

    def update_titles(self) -> None:
        """Set the border title and subtitle from the points."""

    def render(self) -> Any:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        try:
            self.draw()
            # As `PlotextPlot.render`, but without the round trip through a Rich `Text`.
            width, height = self.size
            plt.plotsize(width, height)
            plt._set_size(width, height)
            plt.theme(self._get_plotext_theme_name(self.app.theme))
            return RunsVisual(ansi_runs(plt.build()))
        except (ArithmeticError, ValueError, IndexError):
            # plotext has edge cases of its own (a tiny widget, a degenerate
            # scale); a chart that cannot be drawn is left blank, the app runs on.
            return Text("(cannot plot these values)", style="dim")

    def draw(self) -> None:
        """Put the current points into ``self.plt``."""
        raise NotImplementedError


class AccuracyChart(ThrottledPlot):
    """Accuracy on the evaluation set after each epoch, with the book's 95.42% dashed.

    With ``full_scale`` the y axis runs from 0 to 100% and the chapter's
    baselines (random guessing, the average-darkness classifier) are drawn too,
    to see how far above them even the first epoch lands.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epochs: list[int] = []
        self.accuracy: list[float] = []  # percent
        self.last_epoch = 30  # the x axis runs to the end of the current run
        self.eval_name = "test"
        self.baselines: dict[str, float] = {}  # name -> percent
        self.full_scale = False
        self.train_epochs: list[int] = []
        self.train_accuracy: list[float] = []  # percent, on the training sample
        self.marks: list[Mark] = []  # x in epochs: 2.4 is 40% into epoch 3

    def set_baselines(self, baselines: dict[str, float]) -> None:
        """The chapter's baselines on this evaluation set, in percent."""
        self.baselines = dict(baselines)
        self.request_redraw(now=True)

    def toggle_full_scale(self) -> None:
        self.full_scale = not self.full_scale
        self.request_redraw(now=True)

    def set_run(self, last_epoch: int, eval_name: str) -> None:
        """A run started that will end at ``last_epoch``, evaluated on ``eval_name``."""
        self.last_epoch, self.eval_name = last_epoch, eval_name
        # Held (a run starting or going on), it takes its turn: the run's first frame is
        # heavy enough without the charts.
        self.request_redraw(now=not self.hold)

    def add_point(
        self, epoch: int, accuracy_percent: float, train_percent: float | None = None
    ) -> None:
        """An epoch's evaluation accuracy and, when measured, its training accuracy."""
        self.epochs.append(epoch)
        finite = accuracy_percent if math.isfinite(accuracy_percent) else 0.0
        self.accuracy.append(min(max(finite, 0.0), 100.0))
        if train_percent is not None:
            self.train_epochs.append(epoch)
            train = train_percent if math.isfinite(train_percent) else 0.0
            self.train_accuracy.append(min(max(train, 0.0), 100.0))
        self.request_redraw()

    def add_mark(self, x: float, label: str) -> None:
        """A vertical mark at ``x`` epochs (fractions within an epoch), labelled."""
        self.marks.append((x, label))
        self.request_redraw(now=True)

    def show_earlier(
        self,
        curve: Sequence[tuple[int, float]],
        epochs_done: int,
        last_epoch: int,
        eval_name: str,
    ) -> None:
        """Start over from a loaded network's earlier (epoch, fraction right), marked "resumed"."""
        self.clear()
        self.set_run(last_epoch, eval_name)
        for epoch, accuracy in curve:
            self.add_point(epoch, 100 * accuracy)
        if epochs_done:
            self.add_mark(epochs_done, "resumed")

    def clear(self) -> None:
        self.epochs.clear()
        self.accuracy.clear()
        self.train_epochs.clear()
        self.train_accuracy.clear()
        self.marks.clear()
        self.request_redraw(now=not self.hold)

    def update_titles(self) -> None:
        title = f"{self.eval_name.capitalize()} accuracy"
        if self.accuracy:
            title += f" {self.accuracy[-1]:.2f}% · epoch {self.epochs[-1]}"
        if self.train_accuracy:
            title += f" · training {self.train_accuracy[-1]:.2f}%"
        self.border_title = title
        lines = ["━ training"] if self.train_accuracy else []
        lines += [f"┄ book {BOOK_ACCURACY}%"]
        lines += [f"{name} {percent:.1f}%" for name, percent in self.baselines.items()]
        self.border_subtitle = " · ".join(lines)

    def draw(self) -> None:
        plt = self.plt
        first = 1
        last = max(self.last_epoch, self.epochs[-1] if self.epochs else 1, first + 1)
        ys = self.accuracy
        both = [*ys, *self.train_accuracy, BOOK_ACCURACY]
        lo = min(both) - 0.5
        hi = min(100.0, max(both) + 0.5)
        plt.plot([first, last], [BOOK_ACCURACY] * 2, marker="┄", color="red")
        if self.full_scale:
            lo, hi = 0.0, 100.0
            for percent, colour in zip(self.baselines.values(), BASELINE_COLOURS, strict=False):
                plt.plot([first, last], [percent] * 2, marker="┄", color=colour)
        if self.train_accuracy:
            plt.plot(self.train_epochs, self.train_accuracy, marker="braille", color=TRAIN_COLOUR)
        if ys:
            plt.plot(self.epochs, ys, marker="braille", color="green")
            plt.scatter(self.epochs, ys, marker="•", color="green")
        draw_marks(plt, [m for m in self.marks if first - 1 <= m[0] <= last], hi)
        plt.xlim(first, last)
        plt.ylim(lo, hi)
        epochs = _int_ticks(first, last, max(2, self.size.width // 10))
        plt.xticks(cast("list[float]", epochs))  # plotext's stubs ask for floats; ints draw as ints
        # Label the book's line, and the ends only where they cannot be mistaken for it.
        if self.full_scale:
            ticks = sorted({0.0, 100.0, BOOK_ACCURACY, *self.baselines.values()})
            plt.yticks(ticks, [f"{t:.0f}" for t in ticks])
        else:
            ticks = [t for t in (lo, hi) if abs(t - BOOK_ACCURACY) > (hi - lo) / 3]
            ticks = sorted([*ticks, BOOK_ACCURACY])
            labels = [f"{t:.2f}" if t == BOOK_ACCURACY else f"{t:.0f}" for t in ticks]
            plt.yticks(ticks, labels)
        plt.xlabel("epoch")
        plt.ylabel("accuracy %")


class CostChart(ThrottledPlot):
    """The quadratic cost C of the mini-batches of the current epoch, as it trains."""

    @property
    def redraw_interval(self) -> float:
        # At full speed, once a second is plenty for the cost within an epoch (and each
        # redraw costs the trainer); slowed down or stepping, every mini-batch counts.
        return ZOOMED_REDRAW_INTERVAL if self.zoom else REDRAW_INTERVAL

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epoch = 0
        self.images_total = 0
        self.points: tuple[tuple[int, float], ...] = ()  # (images done, mean cost so far)
        self.marks: list[tuple[int, int, str]] = []  # (epoch, images done, label)
        self.zoom = False  # set while stepping or slowed down: fit the axis to the points

    def set_points(
        self, epoch: int, images_total: int, points: tuple[tuple[int, float], ...]
    ) -> None:
        self.epoch, self.images_total, self.points = epoch, images_total, points
        self.request_redraw()

    def add_mark(self, epoch: int, images_done: int, label: str) -> None:
        """A vertical mark where a setting changed, shown while that epoch is on the chart."""
        self.marks.append((epoch, images_done, label))
        self.request_redraw(now=True)

    def clear(self) -> None:
        self.epoch, self.points = 0, ()
        self.marks.clear()
        self.request_redraw(now=not self.hold)  # as `AccuracyChart.set_run`

    def update_titles(self) -> None:
        if self.points:
            mean = self.points[-1][1]
            shown = f"{mean:.4f}" if math.isfinite(mean) else "not a number (diverged)"
            self.border_title = f"Cost in epoch {self.epoch}: mean {shown}"
        else:
            self.border_title = "Cost in the current epoch"
        step = self.points[0][0] if self.points else 1_000
        self.border_subtitle = f"mean C per {step:,} images"

    def draw(self) -> None:
        plt = self.plt
        # A diverged run's cost is inf or NaN: such points are left out, huge ones capped.
        shown = [
            (done / 1000, min(cost, PLOT_LIMIT))
            for (done, _), cost in zip(self.points, window_costs(self.points), strict=True)
            if math.isfinite(cost)
        ]
        xs, ys = [x for x, _ in shown], [y for _, y in shown]
        top = (max(ys) * 1.1 or 1.0) if xs else 0.1
        if xs:
            plt.plot(xs, ys, marker="braille", color="cyan")
        marks = [(done / 1000, label) for epoch, done, label in self.marks if epoch == self.epoch]
        draw_marks(plt, marks, top)
        plt.ylim(0, top)
        right = self.images_total / 1000
        done = self.points[-1][0] / 1000 if self.points else right
        # Stepping or slowed down, the first mini-batches would fill one column of the
        # epoch's axis: zoom in until a twentieth of the epoch is done.
        if self.zoom and 0 < done < right / 20:
            right = done * 1.5
        plt.xlim(0, max(right, 1e-3))
        plt.xlabel("thousand images this epoch")
        plt.ylabel("cost")


def window_costs(points: tuple[tuple[int, float], ...]) -> list[float]:
    """Mean cost over each stretch between two points, from running means over the epoch.

    The trainer reports the mean over everything so far; the difference of two
    running totals is the cost of the mini-batches in between, which shows the
    network improving within an epoch rather than a slowly settling average.
    """
    costs = []
    done_before, total_before = 0, 0.0
    for done, mean in points:
        total = mean * done
        costs.append((total - total_before) / (done - done_before) if done > done_before else mean)
        done_before, total_before = done, total
    return costs


def _int_ticks(first: int, last: int, count: int) -> list[int]:
    """About ``count`` whole-number ticks from ``first`` to ``last``, both included."""
    step = max(1, round((last - first) / max(1, count - 1)))
    ticks = list(range(first, last + 1, step))
    if ticks[-1] != last:
        if last - ticks[-1] < step / 2:
            ticks[-1] = last
        else:
            ticks.append(last)
    return ticks
