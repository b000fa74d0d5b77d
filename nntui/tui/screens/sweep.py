"""Sweeps in the dashboard: start one from inputs, or follow one started from the shell.

The inputs take the same axes as ``nntui sweep`` (``0.5,3,10``, ``30,100,100-30,0``)
and are checked as they are typed: the line under them says how many runs and
about how long, or what is wrong. ``ctrl+s`` starts the sweep on a local Dask
cluster with one worker fewer than the cores, so the dashboard keeps one.
``f`` follows the newest sweep in the runs store instead (say, one running in
another terminal), reading the store again every second. ``c`` continues an
interrupted sweep, the one on screen or else the newest with runs left, like
``nntui sweep --continue``: only its missing runs, under the same id, while the
table and chart show the whole sweep.

The chart shows every configuration in its own colour, the median over its
seeds as a line and the min-max over seeds as a dotted band; the table lists
every run and sorts by any column (click its header, or ``o`` for the next).

A Textual thread worker drives the sweep (`nntui.sweep.runner.Sweep.events`)
and only posts messages; the screen updates itself from them.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import Worker, get_current_worker

from nntui.engine.dataset import MnistData
from nntui.engine.errors import ConfigError, NntuiError
from nntui.render.formats import clock, percent
from nntui.render.status import STATUS_STYLE
from nntui.store.index import Filter
from nntui.store.runs import RunStore
from nntui.sweep.events import SweepFinished, SweepState
from nntui.sweep.grid import (
    Axes,
    RunSpec,
    build_runs,
    check_runs_fit,
    estimate_wall_seconds,
)
from nntui.sweep.manifest import sweep_ids
from nntui.tui import messages
from nntui.tui.model.sweep_table import (
    COLUMNS,
    Row,
    row_from_info,
    row_from_state,
    sort_rows,
)
from nntui.tui.widgets.charts import legend
from nntui.tui.widgets.key_bar import KeyBar
from nntui.tui.widgets.sweep_chart import Curve, SweepChart

FOLLOW_INTERVAL = 1.0  # seconds between two readings of the runs store when following
REDRAW_INTERVAL = 0.25  # seconds: a running sweep's table and chart redraw at most this often


def dashboard_workers() -> int:
    """One worker fewer than the cores, and at least one: the dashboard keeps a core."""
    return max(1, (os.cpu_count() or 1) - 1)


class SweepScreen(Screen[None]):
    """Start a sweep or follow one; every run's curve and a sortable table."""

    DEFAULT_CSS = """
    SweepScreen #sweep-form { height: auto; }
    SweepScreen #sweep-form Vertical { width: 1fr; height: auto; }
    SweepScreen #sweep-form Label { color: $text-muted; padding: 0 1; }
    SweepScreen #sweep-form Input { width: 1fr; }
    SweepScreen #sweep-form Input.-invalid { border: tall $error; }
    SweepScreen #sweep-check { height: 1; padding: 0 1; }
    SweepScreen #sweep-body { height: 1fr; }
    SweepScreen SweepChart {
        width: 1fr;
        border: round $primary;
        border-title-color: $text-primary;
        border-subtitle-color: $text-muted;
    }
    SweepScreen #sweep-right { width: 72; max-width: 65%; }
    SweepScreen DataTable {
        height: 1fr;
        border: round $primary;
        border-title-color: $text-primary;
    }
    SweepScreen #sweep-legend { height: auto; max-height: 3; padding: 0 1; }
    SweepScreen #sweep-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    # The table has the keys at first (f, o); tab or a click reaches the inputs.
    AUTO_FOCUS = "#sweep-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("ctrl+s", "start", "Start sweep", priority=True),
        Binding("ctrl+x", "stop", "Stop sweep", priority=True),
        Binding("f", "follow", "Follow newest"),
        Binding("c", "continue", "Continue"),
        Binding("o", "next_sort", "Sort"),
    ]

    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("eta", "eta", "3"),
        ("hidden", "hidden", "30"),
        ("m", "m", "10"),
        ("epochs", "epochs", "10"),
        ("seeds", "seeds", "2"),
        ("train", "train size", "10000"),
        ("workers", "workers", ""),
    )

    def __init__(
        self,
        data: MnistData | None = None,
        store: RunStore | None = None,
        *,
        follow: str | None = None,
        workers: int | None = None,
    ) -> None:
        super().__init__()
        self.data = data
        self.store = store or RunStore()
        self.following = follow
        self.n_workers = workers if workers is not None else dashboard_workers()
        self.state = SweepState()
        self.rows: list[Row] = []
        self.sort_column = "best"
        self.runs: list[RunSpec] | None = None
        self.sweep: Any = None  # nntui.sweep.runner.Sweep while one runs
        self.sweep_id: str | None = None  # the sweep started or continued here, if any
        self._earlier: list[Row] = []  # a continued sweep's runs that had already ended
        self._follow_timer: Any = None
        self._follow_version: tuple[int, int] | None = None
        self._rereading: Worker[None] | None = None
        # name -> ((epochs done, status), its row): only a changed run's epochs are read again
        self._follow_rows: dict[str, tuple[tuple[int, str], Row]] = {}
        self._dirty = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="sweep-form"):
            for name, label, value in self.FIELDS:
                with Vertical():
                    yield Label(label)
                    placeholder = str(self.n_workers) if name == "workers" else ""
                    yield Input(value=value, placeholder=placeholder, id=f"sweep-{name}")
        yield Static(id="sweep-check")
        with Horizontal(id="sweep-body"):
            yield SweepChart(id="sweep-chart")
            with Vertical(id="sweep-right"):
                yield DataTable(id="sweep-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="sweep-legend")
        yield Static(id="sweep-status")
        yield KeyBar()  # its keys fit in 80 columns

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        table.border_title = "Runs"
        self.check_inputs()
        # Events can come many times a second; the table and chart are rebuilt a few times.
        self.set_interval(REDRAW_INTERVAL, self._flush)
        if self.following is not None:
            self.follow(self.following)
        else:
            self._status(
                "ctrl+s starts a sweep; f follows the newest; c continues an interrupted one"
            )
        self.redraw()

    # The form. -------------------------------------------------------------------

    def _value(self, name: str) -> str:
        return self.query_one(f"#sweep-{name}", Input).value.strip()

    def axes(self) -> Axes:
        """The inputs as sweep axes; `ConfigError` for a field that is not a number."""

        def whole(name: str, what: str) -> int | None:
            text = self._value(name)
            if not text:
                return None
            try:
                return int(text.replace("_", "").replace(",", ""))
            except ValueError:
                raise ConfigError(f"{what} must be a whole number, got {text!r}") from None

        return Axes(
            eta=self._value("eta"),
            hidden=self._value("hidden"),
            mini_batch_size=self._value("m"),
            epochs=whole("epochs", "epochs"),
            seeds=whole("seeds", "seeds"),
            train_size=whole("train", "train size"),
        )

    @on(Input.Changed)
    def check_inputs(self) -> None:
        """Check the axes as they are typed; say how many runs and how long, or what is wrong."""
        check = self.query_one("#sweep-check", Static)
        for name, _, _ in self.FIELDS:
            self.query_one(f"#sweep-{name}", Input).remove_class("-invalid")
        try:
            workers = self._value("workers")
            self.n_workers = int(workers) if workers else dashboard_workers()
            if self.n_workers < 1:
                raise ConfigError(f"workers must be 1 or more, got {self.n_workers}")
            self.runs = build_runs(self.axes())
        except (ConfigError, ValueError) as exc:
            self.runs = None
            self._mark_invalid(str(exc))
            check.update(Text(f"✗ {exc}", style="bold red"))
            return
        seconds = estimate_wall_seconds(self.runs, self.n_workers)
        check.update(
            Text.assemble(
                ("✓ ", "green"),
                f"{_count(len(self.runs), 'run')}; about {clock(seconds)} on "
                f"{_count(self.n_workers, 'worker')}",
            )
        )

    def _mark_invalid(self, message: str) -> None:
        for name, field_words in (
            ("eta", "--eta"),
            ("hidden", "--hidden"),
            ("m", "-m"),
            ("m", "mini-batch"),
            ("epochs", "epochs"),
            ("seeds", "seeds"),
            ("train", "train"),
            ("workers", "workers"),
        ):
            if field_words in message:
                self.query_one(f"#sweep-{name}", Input).add_class("-invalid")
                return

    # Running a sweep. --------------------------------------------------------------

    def action_start(self) -> None:
        if not self._can_start():
            return
        if self.runs is None:
            self.notify("Fix the inputs first (the line under them says what is wrong).")
            return
        from nntui.sweep.manifest import Manifest, new_sweep_id, save_manifest

        sweep_id = new_sweep_id()
        try:
            check_runs_fit(self.runs, self.data)  # type: ignore[arg-type]  # _can_start
            save_manifest(self.store, Manifest(sweep_id, "", tuple(self.runs)))
        except NntuiError as exc:
            self.notify(str(exc), severity="error")
            return
        self._launch(sweep_id, self.runs)

    def action_continue(self) -> None:
        """Run the missing runs of the sweep on screen (or the newest unfinished one)."""
        if not self._can_start():
            return
        from nntui.sweep.manifest import (
            DONE,
            drop_unfinished,
            plan_continue,
            runs_to_continue,
            stored_runs,
            unfinished_sweeps,
        )

        sweep_id = self.following or self.sweep_id
        if sweep_id is None:
            unfinished = unfinished_sweeps(self.store)
            if not unfinished:
                self.notify("No sweep in the runs store has runs left to continue.")
                return
            sweep_id = unfinished[-1]
        try:
            _, runs = runs_to_continue(self.store, sweep_id)
            if runs:
                check_runs_fit(runs, self.data)  # type: ignore[arg-type]  # _can_start
        except NntuiError as exc:
            self.notify(str(exc), severity="error")
            return
        if not runs:
            self.notify(f"Sweep {sweep_id}: every run has finished; nothing to continue.")
            return
        # Stopped and failed runs go on from their last saved model; the others start again.
        plans = plan_continue(self.store, sweep_id, runs)
        drop_unfinished(self.store, sweep_id, [p.spec for p in plans if p.saved is None])
        continued = {
            p.spec.index: self.store.reopen(p.stored, p.saved.history)
            for p in plans
            if p.saved is not None and p.stored is not None
        }
        resume = {p.spec.index: r for p in plans if (r := p.resume()) is not None}
        earlier = [row_from_info(r) for r in stored_runs(self.store, sweep_id) if r.status in DONE]
        runs = [p.spec for p in plans]
        self._launch(sweep_id, runs, earlier=earlier, continued=continued, resume=resume)

    def _can_start(self) -> bool:
        """Whether a sweep may start now; if not, say why."""
        if self.sweep is not None:
            self.notify("A sweep is running; ctrl+x stops it.", severity="warning")
            return False
        if self.data is None:
            self.notify("The data is still loading.", severity="warning")
            return False
        return True

    def _launch(
        self,
        sweep_id: str,
        runs: list[RunSpec],
        *,
        earlier: list[Row] | None = None,
        continued: dict[int, Any] | None = None,
        resume: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        """Run ``runs`` as sweep ``sweep_id`` on a local cluster.

        ``earlier``: a continued sweep's runs that had ended, shown beside the new ones.
        """
        from nntui.sweep.recorder import SweepRecorder
        from nntui.sweep.runner import Sweep
        from nntui.sweep.stack_task import DEFAULT_STACK

        assert self.data is not None  # `_can_start` said so
        self._stop_following()
        recorder = SweepRecorder(sweep_id, self.store, warn=lambda text: None)
        recorder.take_up(continued or {})
        self.sweep = Sweep(
            runs,
            self.data,
            sweep_id=sweep_id,
            workers=self.n_workers,
            recorder=recorder,
            resume=resume,
            # Like runs trained together, as `nntui sweep` does (`nntui.engine.stacked`).
            stack=DEFAULT_STACK,
        )
        self.sweep_id = sweep_id
        self._earlier = earlier or []
        self.state = SweepState()
        self.rows = list(self._earlier)
        self.redraw()
        what = "starting" if earlier is None else f"continuing {_count(len(runs), 'run')}"
        self._status(f"Sweep {sweep_id}: {what} on {_count(self.n_workers, 'worker')}...")
        self._drive(self.sweep)

    @work(thread=True, exclusive=True, group="sweep")
    def _drive(self, sweep: Any) -> None:
        worker = get_current_worker()
        try:
            for event in sweep.events():
                if worker.is_cancelled:  # the screen went away: stop the runs, keep what they did
                    sweep.stop()
                self.post_message(messages.Sweep.Event(event))
        except NntuiError as exc:
            self.post_message(messages.Sweep.Failed(str(exc)))
        except Exception as exc:  # a cluster problem: say it, do not take the dashboard down
            self.post_message(messages.Sweep.Failed(f"the sweep failed: {exc}"))

    def on_sweep_event(self, message: messages.Sweep.Event) -> None:
        self.state.apply(message.event)
        self._dirty = True
        if isinstance(message.event, SweepFinished):
            self.sweep = None
            self._flush()

    def _flush(self) -> None:
        """Redraw from the sweep's state if it changed: at most every `REDRAW_INTERVAL`."""
        if self._dirty:
            self._dirty = False
            self.rows = self._earlier + [row_from_state(r) for r in self.state.runs]
            self.redraw()

    def on_sweep_failed(self, message: messages.Sweep.Failed) -> None:
        self.sweep = None
        self._status(message.text)
        self.notify(message.text, severity="error")

    def action_stop(self) -> None:
        if self.sweep is not None:
            self.sweep.stop()
            self._status("Stopping every run after its mini-batch...")

    def action_close(self) -> None:
        self.action_stop()
        self.dismiss(None)

    def on_unmount(self) -> None:
        if self.sweep is not None:
            self.sweep.stop()

    # Following a sweep from the store. ------------------------------------------------

    def action_follow(self) -> None:
        ids = sweep_ids(self.store) or self.store.sweeps()
        if not ids:
            self.notify("No sweep in the runs store yet.")
            return
        self.follow(ids[-1])

    def follow(self, sweep_id: str) -> None:
        """Show ``sweep_id`` from the store, and read the store again every second."""
        if sweep_id != self.following:
            self._follow_rows = {}
        self.following = sweep_id
        self.reread()
        if self._follow_timer is None:
            self._follow_timer = self.set_interval(FOLLOW_INTERVAL, self._reread_later)

    def _stop_following(self) -> None:
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        self.following = None

    def reread(self) -> None:
        """Read the followed sweep's runs from the store now, on the UI thread."""
        if self.following is None:
            return
        version, rows = self._read_rows(self.following)
        self._show_rows(self.following, version, rows)

    def _reread_later(self) -> None:
        busy = self._rereading is not None and not self._rereading.is_finished
        if self.following is not None and not busy:  # a slow reading is let finish
            self._rereading = self._reread_in_thread(self.following, self._follow_version)

    @work(thread=True, group="sweep-follow", exit_on_error=False)
    def _reread_in_thread(self, sweep_id: str, version: tuple[int, int] | None) -> None:
        # Bringing the index up to date costs a stat per run folder: not on the UI thread.
        self.store.count()
        now = self.store.version()
        if (now is not None and now == version) or get_current_worker().is_cancelled:
            return
        self.post_message(
            messages.Sweep.StoreReread(sweep_id, *self._read_rows(sweep_id, sync=False))
        )

    def _read_rows(
        self, sweep_id: str, *, sync: bool = True
    ) -> tuple[tuple[int, int] | None, list[Row]]:
        """The sweep's runs from the index; the epochs only of runs that changed."""
        infos = self.store.query([Filter("sweep", "=", sweep_id)], sync=sync)
        version = self.store.version()
        known = self._follow_rows
        fresh: dict[str, tuple[tuple[int, str], Row]] = {}
        for info in infos:
            key = (info.epochs_done, info.status)
            cached = known.get(info.name)
            fresh[info.name] = cached if cached and cached[0] == key else (key, row_from_info(info))
        self._follow_rows = fresh
        return version, [row for _, row in fresh.values()]

    def on_sweep_store_reread(self, message: messages.Sweep.StoreReread) -> None:
        self._show_rows(message.sweep, message.version, message.rows)

    def _show_rows(self, sweep_id: str, version: tuple[int, int] | None, rows: list[Row]) -> None:
        if sweep_id != self.following:
            return  # a reading of a sweep no longer followed
        self._follow_version = version
        self.rows = rows
        self.redraw()

    # Drawing. -------------------------------------------------------------------------

    def action_next_sort(self) -> None:
        self.sort_column = COLUMNS[(COLUMNS.index(self.sort_column) + 1) % len(COLUMNS)]
        self.redraw()

    @on(DataTable.HeaderSelected)
    def _sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        self.sort_column = str(event.column_key.value)
        self.redraw()

    def sorted_rows(self) -> list[Row]:
        """The rows by the sort column: numbers largest first, words in order."""
        return sort_rows(self.rows, self.sort_column)

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for r in self.sorted_rows():
            table.add_row(
                r.settings,
                str(r.seed),
                f"{r.epochs_done}/{r.epochs}",
                percent(r.last),
                percent(r.best),
                f"{r.seconds:.1f}s" if r.seconds < 100 else f"{r.seconds:.0f}s",
                Text(r.status, style=STATUS_STYLE.get(r.status, "")),
            )
        table.border_subtitle = f"sorted by {self.sort_column} · o: next column"
        groups: dict[str, list[Curve]] = {}
        for r in self.rows:
            groups.setdefault(r.key, []).append(r.curve)
        last = max((r.epochs for r in self.rows), default=1)
        self.query_one(SweepChart).show(groups, last)
        self.query_one("#sweep-legend", Static).update(legend(list(groups)))
        if self.rows:
            done = sum(r.epochs_done for r in self.rows)
            total = sum(r.epochs for r in self.rows) or 1
            ended = sum(1 for r in self.rows if r.status not in ("queued", "running"))
            name = self.following or self.sweep_id
            self._status(
                f"Sweep {name}: {ended}/{len(self.rows)} runs ended, "
                f"{done}/{total} epochs ({100 * done / total:.0f}%)"
                + (" · following the runs store" if self.following else "")
            )

    def _status(self, text: str) -> None:
        self.query_one("#sweep-status", Static).update(text)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
