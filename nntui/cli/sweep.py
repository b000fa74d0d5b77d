"""``nntui sweep``: many runs at once, on worker processes here or on a Dask cluster.

The work happens in `nntui.sweep`; this module parses the options, shows the
runs as they train (a live table on a terminal, one line per epoch when piped)
and prints the summary. Dask is imported by `nntui.sweep.runner` only when a
sweep actually runs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import termios
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from nntui.cli.console import (
    EXIT_SIGNAL,
    DataOption,
    Output,
    err_console,
    print_error,
    results_table,
    stdout_console,
)
from nntui.cli.data import load_data_with_progress
from nntui.cli.signals import STOP_SIGNALS, stop_on_signals
from nntui.data import cache
from nntui.engine.errors import ConfigError
from nntui.render.formats import clock, percent
from nntui.render.status import STATUS_STYLE
from nntui.store.runs import RunStore
from nntui.sweep.events import (
    RunEnded,
    RunEpoch,
    RunStarted,
    SweepEvent,
    SweepFinished,
    SweepState,
)
from nntui.sweep.grid import (
    MAX_RUNS,
    PRESETS,
    Axes,
    RunSpec,
    build_runs,
    check_runs_fit,
    estimate_seconds,
    estimate_wall_seconds,
    hidden_label,
)
from nntui.sweep.manifest import (
    Continuation,
    Manifest,
    drop_unfinished,
    load_manifest,
    new_sweep_id,
    plan_continue,
    resolve_sweep,
    runs_to_continue,
    save_manifest,
    stored_runs,
)

if TYPE_CHECKING:
    from nntui.sweep.recorder import SweepRecorder

from nntui.sweep.summary import (
    ConfigSummary,
    RunResult,
    check_output_path,
    from_run_info,
    summarize,
    write_csv,
    write_json,
)

EXAMPLES = f"""
Examples:

\b
  nntui sweep --eta 0.5,3,10 --hidden 30,100 --epochs 10 --seeds 3
                              # 2 networks x 3 etas x 3 seeds = 18 runs
  nntui sweep --hidden 30,100,100-30,0 -m 10,50 --seed-list 1,7,9
                              # 100-30: two hidden layers; 0: none
  nntui sweep --preset chapter1 --seeds 3      # the chapter, the book beside it
  nntui sweep --preset chapter1 --dry-run      # the runs and a time estimate
  nntui sweep --eta 1,3 --scheduler tcp://10.0.0.5:8786   # on a Dask cluster
  nntui sweep --continue sw-20261201-221005    # what an interrupted sweep left
  nntui runs --sweep sw-20261201-221005        # its summary again
  nntui runs --sweep sw-20261201-221005 --delete          # remove its runs

Each axis is a comma-separated list; the runs are every combination times the
seeds. Without --scheduler the runs share this machine's cores, one worker
process each (--workers). Every run is kept in the runs store with the sweep's
id. More than {MAX_RUNS:,} runs need --yes.
"""

# Live table: redraws per second, and the most rows shown (the rest are summed up in a line).
REFRESH_PER_SECOND = 4
MAX_TABLE_ROWS = 30


def sweep(
    ctx: typer.Context,
    eta: Annotated[
        str | None, typer.Option(help="Learning rates to try, e.g. 0.5,3,10. [book: 3]")
    ] = None,
    hidden: Annotated[
        str | None,
        typer.Option(
            help="Hidden layers to try, e.g. 30,100,100-30,0 (a dash joins the layers of one "
            "network, 0: none). [book: 30]"
        ),
    ] = None,
    mini_batch_size: Annotated[
        str | None,
        typer.Option("--mini-batch-size", "-m", help="Mini-batch sizes to try, e.g. 10,50."),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", "-e", help="Epochs of every run. [30]")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option(help="Run each configuration with seeds 1..N. [1]")
    ] = None,
    seed_list: Annotated[
        str | None, typer.Option(help="Run each configuration with these seeds, e.g. 1,7,9.")
    ] = None,
    train_size: Annotated[
        int | None, typer.Option(help="Train on the first N training images. [50000]")
    ] = None,
    eval_on: Annotated[
        str | None, typer.Option(help="Evaluate on 'test' (the book) or 'validation'.")
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            help="A named set of experiments: chapter1 (the chapter's five), with the book's "
            "figures in the summary."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes on this machine, one run each. [the cores]"),
    ] = None,
    stack: Annotated[
        int | None,
        typer.Option(
            help="Train up to K runs of the same shape together on a worker, faster than one "
            "by one; 1 for one run per worker at a time. [8]"
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Send the runs to a running Dask cluster at this address, "
            "e.g. tcp://10.0.0.5:8786."
        ),
    ] = None,
    continue_: Annotated[
        str | None,
        typer.Option(
            "--continue",
            metavar="SWEEP",
            help="Run only the runs an earlier sweep did not finish (stopped, failed, never "
            "started).",
        ),
    ] = None,
    restart: Annotated[
        bool,
        typer.Option(
            "--restart",
            help="With --continue: train the stopped and failed runs again from epoch 1, "
            "instead of from their last saved model.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also show Dask's own log lines (on stderr).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the runs and the time they would take; exit.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help=f"Allow more than {MAX_RUNS:,} runs.")] = False,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the summary and every run's history here (.json)."),
    ] = None,
    csv_path: Annotated[
        Path | None,
        typer.Option("--csv", help="Write the summary and every run's history here (.csv)."),
    ] = None,
    data: DataOption = None,
) -> None:
    """Train many networks at once and compare them: a grid of settings times seeds.

    Runs on worker processes of this machine (a Dask LocalCluster, one thread
    each) or, with --scheduler, on an existing Dask cluster. On a terminal a
    live table shows every run, best first; when piped, one line per finished
    epoch. At the end a summary per configuration: best accuracy min / median /
    max over the seeds, epochs to reach it, seconds per epoch. Ctrl-C stops
    every run after its current mini-batch and keeps what they did.
    """
    if data is None and isinstance(ctx.obj, dict):
        data = ctx.obj.get("data")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be 1 or more, got {workers}")
    if stack is not None and stack < 1:
        raise ConfigError(f"--stack must be 1 or more, got {stack}")
    if workers is not None and scheduler is not None:
        raise ConfigError("--workers is for this machine; a --scheduler's cluster has its own")
    if json_path is not None:
        check_output_path(json_path, ".json")
    if csv_path is not None:
        check_output_path(csv_path, ".csv")
    store = RunStore(warn=_note)
    axes = Axes(
        eta=eta,
        hidden=hidden,
        mini_batch_size=mini_batch_size,
        epochs=epochs,
        seeds=seeds,
        seed_list=seed_list,
        train_size=train_size,
        eval_on=eval_on,
        preset=preset,
    )
    if restart and continue_ is None:
        raise ConfigError("--restart goes with --continue SWEEP")
    if continue_ is not None:
        if axes != Axes():
            raise ConfigError("--continue runs the sweep as it was; give no axes or preset")
        sweep_id = resolve_sweep(store, continue_)
        manifest, runs = runs_to_continue(store, sweep_id)
        if not runs:
            err_console.print(f"Sweep {sweep_id}: every run has finished; nothing to continue.")
            _print_summary(
                stdout_console(), sweep_id, _stored_results(store, sweep_id), manifest.preset
            )
            return
        preset_name = manifest.preset
    else:
        runs = build_runs(axes, allow_many=yes)
        sweep_id = new_sweep_id()
        manifest = Manifest(sweep_id, datetime.now().astimezone().isoformat(), tuple(runs), preset)
        preset_name = preset

    from nntui.sweep.runner import check_scheduler_address, default_workers

    if scheduler is not None:
        scheduler = check_scheduler_address(scheduler)
    n_workers = workers if workers is not None else default_workers()
    if dry_run:
        _print_dry_run(runs, n_workers, scheduler)
        return

    from nntui.sweep.recorder import SweepRecorder
    from nntui.sweep.runner import SCHEDULER_LOST, Sweep
    from nntui.sweep.stack_task import DEFAULT_STACK

    plans = plan_continue(store, sweep_id, list(runs), restart) if continue_ is not None else []
    if plans:
        runs = [p.spec for p in plans]  # a continued run trains only its missing epochs
        err_console.print(f"Sweep {sweep_id}: taking up {len(plans)} runs", markup=False)
        for plan in plans:
            err_console.print(f"  {plan.describe()}", markup=False, highlight=False)
    recorder = SweepRecorder(sweep_id, store, warn=_warn)
    dataset_box: list = []
    # The cluster starts (worker processes spawn) while this process reads the data.
    loader = threading.Thread(
        target=lambda: dataset_box.append(_load(data)), name="nntui-load", daemon=True
    )
    # Started with the stop signals blocked, as every thread made before the cluster: they
    # are to reach the main thread, once the cluster has started (`Sweep.connect`).
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        loader.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    runner = Sweep(
        runs,
        None,  # type: ignore[arg-type]  # set below, once loaded
        sweep_id=sweep_id,
        workers=n_workers,
        scheduler=scheduler,
        recorder=recorder,
        stack=stack if stack is not None else DEFAULT_STACK,
        verbose=verbose,
        resume={p.spec.index: r for p in plans if (r := p.resume()) is not None},
    )
    # From here on Ctrl-C or SIGTERM stops the sweep in order, the cluster's start included.
    output = Output()
    # Ctrl-C twice: abort. After a hang-up nothing more is written: the terminal is gone.
    with stop_on_signals(
        runner.stop,
        output,
        "\nStopping every run after its mini-batch (Ctrl-C again to abort)...",
    ) as stop:
        try:
            with _terminal_signals_held(lambda signum: os.kill(os.getpid(), signum)):
                runner.connect()
        finally:
            loader.join()
        if not dataset_box or isinstance(dataset_box[0], BaseException):
            runner.close()
            error = dataset_box[0] if dataset_box else RuntimeError("the data did not load")
            raise error
        runner.data = dataset_box[0]
        # Runs on a decoded-data cache found damaged (checked in the background) stop, as
        # failed: the workers map the same files. `--continue` trains them on the rebuilt one.
        cache.on_damage(runner.data, lambda _reason: runner.fail(cache.DAMAGED))
        try:
            check_runs_fit(runs, runner.data)
        except ConfigError as exc:
            runner.close()
            raise ConfigError(f"{exc}; give a smaller --train-size") from None
        if continue_ is None:
            save_manifest(store, manifest)
        else:
            _take_up(store, sweep_id, plans, recorder)

        out = stdout_console(report_closed=True)
        err_console.print(
            f"Sweep {sweep_id}: {len(runs)} runs on {runner.workers} workers "
            f"({'scheduler ' + scheduler if scheduler else 'this machine'})",
            markup=False,
            highlight=False,
        )
        state = SweepState()
        view: _View = _LiveView(out) if out.is_terminal else _PlainView(output)
        with view:
            for event in runner.events():
                state.apply(event)
                view.handle(event, state)
    results = [
        RunResult(r.spec.config, r.spec.seed, r.status, tuple(r.history), r.message, r.run_name)
        for r in state.runs
    ]
    if continue_ is not None:  # the summary covers the whole sweep, not just this part
        results = _stored_results(store, sweep_id)
    with output.on_stdout():
        _print_summary(out, sweep_id, results, preset_name)
    _print_timings(runner.timings)
    summaries = summarize(results, preset_name)
    if json_path is not None:
        write_json(json_path, sweep_id, summaries, results)
    if csv_path is not None:
        write_csv(csv_path, sweep_id, summaries, results)
    if stop.signum is not None:
        err_console.print(
            f"Stopped. 'nntui sweep --continue {sweep_id}' runs what is missing.", markup=False
        )
        raise typer.Exit(EXIT_SIGNAL[stop.signum])
    failed = sum(1 for r in results if r.status == "failed")
    if runner.lost:
        lost = sum(1 for r in state.runs if r.message == SCHEDULER_LOST)
        print_error(
            f"lost the Dask scheduler{' at ' + scheduler if scheduler else ''}: {lost} runs "
            f"failed, their epochs kept; 'nntui sweep --continue {sweep_id}' takes them up"
        )
        raise typer.Exit(1)
    if failed:
        print_error(f"{failed} of {len(results)} runs failed (see the summary)")
        raise typer.Exit(1)
    if output.lost:  # the runs are kept, but what was asked for on stdout is not all there
        raise typer.Exit(1)


def _take_up(
    store: RunStore, sweep_id: str, plans: list[Continuation], recorder: SweepRecorder
) -> None:
    """Before a continued sweep runs: records of runs that start again go, the others reopen."""
    drop_unfinished(store, sweep_id, [p.spec for p in plans if p.saved is None])
    continued = {}
    for plan in plans:
        if plan.saved is not None and plan.stored is not None:
            continued[plan.spec.index] = store.reopen(plan.stored, plan.saved.history)
    recorder.take_up(continued)


def _load(data: Path | None) -> object:
    try:
        return load_data_with_progress(data, err_console)
    except BaseException as exc:  # handed to the main thread, which raises it
        return exc


def _note(line: str) -> None:
    """An index note (no WAL, a rebuilt index): printed as it comes, as `nntui runs` does."""
    err_console.print(line, markup=False, soft_wrap=True)


def _warn(message: str) -> None:
    err_console.print(f"nntui: warning: {message}", markup=False, soft_wrap=True)


def _settings(spec: RunSpec) -> str:
    c = spec.config
    return f"hidden {hidden_label(c.sizes)} eta {c.eta:g} m {c.mini_batch_size}"


def _print_dry_run(runs: Sequence[RunSpec], workers: int, scheduler: str | None) -> None:
    out = stdout_console()
    table = results_table()
    for name, justify in (
        ("#", "right"),
        ("sizes", "left"),
        ("eta", "right"),
        ("m", "right"),
        ("epochs", "right"),
        ("train", "right"),
        ("seed", "right"),
        ("estimate", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for spec in runs:
        c = spec.config
        table.add_row(
            str(spec.index + 1),
            ",".join(map(str, c.sizes)),
            f"{c.eta:g}",
            str(c.mini_batch_size),
            str(c.epochs),
            f"{c.train_size:,}",
            str(spec.seed),
            clock(estimate_seconds(c)),
        )
    out.print(table)
    where = f"the cluster at {scheduler}" if scheduler else f"{workers} workers on this machine"
    out.print(
        f"{len(runs)} runs; about {clock(estimate_wall_seconds(runs, workers))} on {where} "
        "(a rough estimate; add a second or two to start the workers)."
    )


class _View:
    def __enter__(self) -> _View:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def handle(self, event: SweepEvent, state: SweepState) -> None:
        raise NotImplementedError


class _PlainView(_View):
    """Piped: one line per finished epoch on stdout; retries and failures on stderr."""

    def __init__(self, output: Output) -> None:
        self.output = output  # a reader gone or a full disk: the sweep goes on, says so once

    def handle(self, event: SweepEvent, state: SweepState) -> None:
        if isinstance(event, RunEpoch):
            run = state.runs[event.index]
            r = event.record
            self.output.line(
                f"run {event.index + 1}/{len(state.runs)} {_settings(run.spec)} "
                f"seed {run.spec.seed}: Epoch {r['epoch']}: {r['correct']} / {r['total']}"
            )
        elif isinstance(event, RunStarted) and event.attempt > 1:
            _warn(f"run {event.index + 1}: its worker was lost; started again from epoch 1")
        elif isinstance(event, RunEnded) and event.status in ("failed", "diverged"):
            _warn(f"run {event.index + 1}: {event.status}: {event.message}")


class _LiveView(_View):
    """On a terminal: a table of every run, best first, redrawn a few times a second."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.live = Live(console=out, refresh_per_second=REFRESH_PER_SECOND, transient=False)
        self.state: SweepState | None = None

    def __enter__(self) -> _LiveView:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.state is not None:
            self.live.update(self._render(self.state))
        self.live.stop()

    def handle(self, event: SweepEvent, state: SweepState) -> None:
        self.state = state
        if isinstance(event, RunEpoch | RunEnded | RunStarted | SweepFinished):
            self.live.update(self._render(state))

    def _render(self, state: SweepState) -> Group:
        done = state.epochs_done
        total = state.epochs_total or 1
        ended = sum(1 for r in state.runs if r.status not in ("queued", "running"))
        left = state.seconds_left()
        header = Text.assemble(
            (f"Sweep {state.sweep} ", "bold"),
            f"{ended}/{len(state.runs)} runs, {done}/{total} epochs ({100 * done / total:.0f}%), "
            f"{state.workers} workers, elapsed {clock(state.elapsed)}",
            f", ETA {clock(left)}" if left is not None and state.finished is None else "",
        )
        table = results_table()
        table.add_column("#", justify="right")
        table.add_column("settings")
        for number in ("seed", "epoch", "last", "best"):
            table.add_column(number, justify="right")
        table.add_column("status")
        height = max(5, self.out.size.height - 6)
        ranked = state.ranked()
        shown = ranked[: min(MAX_TABLE_ROWS, height)]
        for r in shown:
            status = r.status if not r.message or r.status == "completed" else r.message
            if r.status == "failed":
                status = f"failed: {r.message}"
            table.add_row(
                str(r.spec.index + 1),
                _settings(r.spec),
                str(r.spec.seed),
                f"{r.epochs_done}/{r.spec.config.epochs}",
                percent(r.last),
                percent(r.best),
                Text(status, style=STATUS_STYLE.get(r.status, "")),
            )
        parts: list = [header, table]
        if len(ranked) > len(shown):
            parts.append(Text(f"... and {len(ranked) - len(shown)} more runs", style="dim"))
        return Group(*parts)


def _stored_results(store: RunStore, sweep_id: str) -> list[RunResult]:
    return [from_run_info(r) for r in stored_runs(store, sweep_id)]


def _print_summary(
    out: Console, sweep_id: str, results: Sequence[RunResult], preset: str | None
) -> list[ConfigSummary]:
    summaries = summarize(results, preset)
    out.print(summary_table(sweep_id, summaries, preset))
    return summaries


def summary_table(sweep_id: str, summaries: Sequence[ConfigSummary], preset: str | None) -> Table:
    """The summary per configuration, best median first; the book's column for a preset."""
    table = results_table(f"Sweep {sweep_id}: best accuracy over seeds")
    table.add_column("configuration")
    table.add_column("runs", justify="right")
    table.add_column("min", justify="right")
    table.add_column("median", justify="right")
    table.add_column("max", justify="right")
    table.add_column("epochs to best", justify="right")
    table.add_column("s/epoch", justify="right")
    book = preset in PRESETS
    if book:
        table.add_column("book")
        table.add_column("within min-max")
    for s in summaries:
        statuses = ", ".join(f"{n} {k}" for k, n in sorted(s.statuses.items()))
        row = [
            s.key,
            f"{s.runs} ({statuses})" if set(s.statuses) != {"completed"} else str(s.runs),
            percent(s.best_min),
            percent(s.best_median),
            percent(s.best_max),
            "-" if s.epochs_to_best is None else f"{s.epochs_to_best:g}",
            "-" if s.seconds_per_epoch is None else f"{s.seconds_per_epoch:.2f}",
        ]
        if book:
            within = s.book_within
            row += [
                s.book or "-",
                "-" if within is None else ("yes" if within else "NO: outside"),
            ]
        table.add_row(*row)
    return table


def _print_timings(timings: dict[str, float]) -> None:
    if timings:
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
        err_console.print(f"fixed cost: {parts}", style="dim", markup=False, highlight=False)


@contextlib.contextmanager
def _terminal_signals_held(deliver: Callable[[int], object]) -> Iterator[None]:
    """While the block runs the terminal sends no signal; what it would have sent comes after.

    The runner ignores SIGINT and SIGHUP while the local workers start (so that
    they inherit that, `nntui.sweep.runner`); sent then, either would be lost.
    With the terminal's ISIG (and ICANON, so a byte can be read without a
    newline) off, Ctrl-C is a byte in the input instead, read when the block ends
    and delivered as SIGINT; a terminal that hung up meanwhile fails to take its
    settings back (EIO), delivered as SIGHUP. Not a terminal: nothing is done.
    """
    try:
        fd = sys.stdin.fileno()
        before = termios.tcgetattr(fd)
        # In the background (`nntui sweep &`) changing the terminal would stop the process.
        foreground = os.tcgetpgrp(fd) == os.getpgrp()
    except (OSError, ValueError, AttributeError, termios.error):
        foreground = False
    if not foreground or before[6][termios.VINTR] in (b"\0", b"\xff"):  # no Ctrl-C key
        yield
        return
    mode = [*before[:6], list(before[6])]
    mode[3] &= ~(termios.ISIG | termios.ICANON)
    mode[6][termios.VMIN], mode[6][termios.VTIME] = 0, 0  # a read returns what is there
    typed, hung_up = b"", False
    try:
        termios.tcsetattr(fd, termios.TCSANOW, mode)
        yield
    finally:
        with contextlib.suppress(OSError):
            while chunk := os.read(fd, 4096):
                typed += chunk
        try:
            termios.tcsetattr(fd, termios.TCSANOW, before)
        except (OSError, termios.error) as exc:
            hung_up = exc.args[:1] == (errno.EIO,)
    if hung_up:
        deliver(signal.SIGHUP)
    elif before[6][termios.VINTR] in typed:
        deliver(signal.SIGINT)


def runs_of_sweep(sweep: str, delete: bool, as_json: bool) -> None:
    """``nntui runs --sweep ID``: the sweep's summary again, or (``--delete``) remove its runs."""
    from nntui.sweep.manifest import delete_sweep

    store = RunStore(warn=_note)
    sweep_id = resolve_sweep(store, sweep)
    if delete:
        n = delete_sweep(store, sweep_id)
        err_console.print(f"Deleted sweep {sweep_id}: {n} runs.", markup=False)
        return
    try:
        preset = load_manifest(store, sweep_id).preset
    except Exception:  # the runs still tell their story without the manifest
        preset = None
    results = _stored_results(store, sweep_id)
    if as_json:
        import json

        summaries = summarize(results, preset)
        print(
            json.dumps({"sweep": sweep_id, "summary": [s.to_dict() for s in summaries]}, indent=2)
        )
        return
    _print_summary(stdout_console(), sweep_id, results, preset)
