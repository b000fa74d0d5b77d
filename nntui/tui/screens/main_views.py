"""What the main screen shows: each method updates every widget one change touches.

`MainScreen` asks `RunControl` what a key or a message does to the run, and
this what it does to the screen, so that neither grows into the other. The
heavy panels (the two charts and the gallery, `RedrawThrottle`s) take turns
while a run goes on: one drawn per progress message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode

from nntui.engine.config import TrainConfig
from nntui.engine.events import BatchProgress, EpochDone, Paused, SettingChanged
from nntui.tui.model import log_text
from nntui.tui.model.run_control import Status
from nntui.tui.model.run_state import RunState
from nntui.tui.widgets.charts import AccuracyChart, CostChart
from nntui.tui.widgets.controls import Controls
from nntui.tui.widgets.data_panel import DataPanel
from nntui.tui.widgets.epoch_log import EpochLog
from nntui.tui.widgets.gallery import Cards, DigitGallery
from nntui.tui.widgets.key_bar import KeyBar
from nntui.tui.widgets.params import HyperParams
from nntui.tui.widgets.progress import EpochProgress
from nntui.tui.widgets.throttle import RedrawThrottle, redraw_longest_waiting


def compose_main(
    config: TrainConfig, *, timings: bool, has_data: bool, cards: Callable[[], Cards | None]
) -> ComposeResult:
    """The main screen's widgets: settings, controls, progress and log; data, charts, digits."""
    with Horizontal(id="body"):
        with Vertical(id="sidebar"):
            yield HyperParams(config, cursor_blink=timings, speeds=timings, id="params")
            yield Controls(id="controls")
            yield EpochProgress(show_timings=timings, id="progress")
            yield EpochLog(show_timings=timings, id="log")
        with Vertical(id="main", classes="" if has_data else "-no-data"):
            yield DataPanel(id="data")
            with Horizontal(id="charts"):
                yield AccuracyChart(id="accuracy")
                yield CostChart(id="cost")
            yield DigitGallery(mark_changes=True, source=cards, id="gallery")
    yield KeyBar()


class MainViews:
    """The main screen's widgets, found once it is mounted."""

    def __init__(self, screen: DOMNode, *, timings: bool) -> None:
        query = screen.query_one
        self.main = query("#main")
        self.params = query(HyperParams)
        self.controls = query(Controls)
        self.progress = query(EpochProgress)
        self.log_view = query(EpochLog)
        self.data = query(DataPanel)
        self.accuracy = query(AccuracyChart)
        self.cost = query(CostChart)
        self.gallery = query(DigitGallery)
        self._timings = timings  # off in snapshot tests: they would differ each run

    @property
    def heavy_panels(self) -> tuple[RedrawThrottle, ...]:
        """The panels whose redraw takes the UI thread 10 ms or more on a slow machine."""
        return self.accuracy, self.cost, self.gallery

    def read_config(self, verb: str) -> TrainConfig | None:
        """The config in the inputs, or None after saying why ``verb`` was refused."""
        config, error, field = self.params.read()
        if config is None:
            self.say(Status(f"{verb} refused: {error}", warning=True))
            if field is not None:
                self.params.focus_field(field)
        return config

    def say(self, status: Status | None) -> None:
        if status is not None:
            self.controls.set_status(status.text, warning=status.warning)

    def log(self, line: tuple[str, str]) -> None:
        self.log_view.add(*line)

    def state(self, state: RunState) -> None:
        self.controls.state = state
        self.params.running = state in ("running", "paused", "stopping")
        self.main.set_class(state in ("loading", "no-data"), "-no-data")

    def new_network(
        self, config: TrainConfig, speed: float | None, sizes: Any, seed: int | None
    ) -> None:
        """Reset: empty charts for a run of ``config``, and the new network (if one was made)."""
        for chart in (self.accuracy, self.cost):
            chart.clear()
        self.accuracy.set_run(config.epochs, config.eval_on)
        self.progress.show_idle("Not started")
        self.progress.show_speed_limit(speed)
        if sizes is not None:
            self.log(log_text.new_network(sizes, seed))
            self.gallery.show_network(new_network=True)

    def run_started(self, last_epoch: int, eval_on: str, *, fresh: bool) -> None:
        """A run began; ``fresh``: on a network made for it (new sizes or seed)."""
        if fresh:
            self.gallery.show_network(new_network=True)
        for panel in self.heavy_panels:
            panel.hold = True  # from now on, and the charts below take their turns
        self.accuracy.set_run(last_epoch, eval_on)
        self.cost.clear()
        self.progress.last_epoch_seconds = None

    def loaded(self, config: TrainConfig, curve: Any, done: int, what: str) -> None:
        """A saved network became the session's, after ``done`` epochs (``curve``)."""
        self.params.show_config(config)
        self.accuracy.show_earlier(curve, done, done + config.epochs, config.eval_on)
        self.cost.clear()
        self.log(log_text.loaded(what, config.sizes, done))
        self.gallery.show_network(new_network=True)

    def batch(self, p: BatchProgress, costs: Any, *, slow: bool, idle: bool) -> None:
        """Progress; ``slow``: stepping or slowed down; ``idle``: no key is being answered."""
        self.cost.zoom = slow  # first: it sets how often the chart redraws
        self.cost.set_points(p.epoch, p.images_total, costs)
        if slow:  # the trainer publishes each step: show it
            self.gallery.show_network()
        self.progress.show_batch(p)
        if idle:  # else the key's frame comes first
            redraw_longest_waiting(self.heavy_panels)

    def epoch(self, event: EpochDone, speeds: dict[str, float], hint: str | None) -> None:
        if self._timings:
            self.params.show_speeds(speeds)
        self.progress.last_epoch_seconds = event.train_seconds + event.eval_seconds
        self.log_view.epoch(event.book_line(), event.train_seconds)
        train = None if event.train_accuracy is None else 100 * event.train_accuracy
        self.accuracy.add_point(event.epoch, 100 * event.accuracy, train)
        self.gallery.show_network()
        if hint is not None:
            self.log((hint, "yellow"))

    def setting_changed(self, e: SettingChanged, last_epoch: int | None, train_size: int) -> None:
        """A live change took effect: a line, and a mark on the charts (or their new end)."""
        self.log(log_text.setting_changed(e))
        if e.name == "epochs":
            if last_epoch is not None:
                self.accuracy.set_run(last_epoch, self.accuracy.eval_name)
                self.progress.show_last_epoch(last_epoch)  # also while paused
                # The trainer may have kept more epochs than asked (the one under way).
                self.params.show_applied("epochs", int(e.new))
            return
        label = f"η={e.new:g}" if e.name == "eta" else f"m={int(e.new)}"
        self.accuracy.add_mark(e.epoch - 1 + e.images_done / max(1, train_size), label)
        self.cost.add_mark(e.epoch, e.images_done, label)

    def paused(self, event: Paused, *, ended_step: bool) -> None:
        """The network where the pause (or the step) left it; a step's end is not logged."""
        if ended_step:
            self.gallery.show_network(now=True)
        else:
            self.log(log_text.paused(event))
        for panel in self.heavy_panels:
            if panel.waiting_since is not None:
                panel.request_redraw(now=True)

    def ended(self, error: BaseException | None, failed: bool) -> None:
        """The run's worker ended: every panel shows the network as the run left it."""
        if failed:
            self.log(log_text.failed(error))
        for panel in self.heavy_panels:
            panel.hold = False
            panel.request_redraw(now=True)
        self.log_view.flush()
