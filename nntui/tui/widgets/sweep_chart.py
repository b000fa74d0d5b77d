"""Every run of a sweep on one chart: one colour per configuration, a band over its seeds.

For each configuration the chart draws the lowest and the highest accuracy
over its seeds at each epoch as two dotted lines (the band) and their median
as a solid line, so the spread from seed to seed is seen at a glance.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from nntui.tui.widgets.charts import BOOK_ACCURACY, COLOURS, ThrottledPlot

Curve = Sequence[float]  # accuracy (0..1) after epochs 1, 2, ...


def band(curves: Sequence[Curve]) -> tuple[list[int], list[float], list[float], list[float]]:
    """Epochs, and the min, median and max over ``curves`` at each (percent).

    An epoch counts once at least one curve has reached it, so a band grows as
    its runs train.
    """
    longest = max((len(c) for c in curves), default=0)
    epochs, lo, mid, hi = [], [], [], []
    for i in range(longest):
        values = [100 * c[i] for c in curves if len(c) > i]
        epochs.append(i + 1)
        lo.append(min(values))
        mid.append(statistics.median(values))
        hi.append(max(values))
    return epochs, lo, mid, hi


class SweepChart(ThrottledPlot):
    """Accuracy per epoch of every configuration of a sweep, with the book's 95.42% dashed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups: dict[str, list[Curve]] = {}  # key -> one curve per seed, in legend order
        self.last_epoch = 1

    def show(self, groups: dict[str, list[Curve]], last_epoch: int) -> None:
        """Plot these curves: configuration key -> the curves of its seeds."""
        self.groups, self.last_epoch = groups, max(1, last_epoch)
        self.request_redraw()

    def update_titles(self) -> None:
        self.border_title = "Accuracy per epoch"
        self.border_subtitle = f"band: min-max over seeds · ┄ book {BOOK_ACCURACY}%"

    def draw(self) -> None:
        plt = self.plt
        last = max(2, self.last_epoch)
        lowest = BOOK_ACCURACY
        plt.plot([1, last], [BOOK_ACCURACY] * 2, marker="┄", color="red")
        for n, curves in enumerate(self.groups.values()):
            epochs, lo, mid, hi = band(curves)
            if not epochs:
                continue
            colour = COLOURS[n % len(COLOURS)][0]
            lowest = min(lowest, *lo)
            if len(curves) > 1:
                plt.plot(epochs, lo, marker="dot", color=colour)
                plt.plot(epochs, hi, marker="dot", color=colour)
            plt.plot(epochs, mid, marker="braille", color=colour)
        plt.xlim(1, last)
        step = max(1, round(last / 8))
        plt.xticks(list(range(1, last + 1, step)))
        bottom = max(0.0, min(lowest, 90.0) - 2)
        plt.ylim(bottom, 100)
        tick = 10 if 100 - bottom > 30 else 2
        plt.yticks([t for t in range(0, 101, tick) if t >= bottom])
        plt.xlabel("epoch")
        plt.ylabel("accuracy %")
