"""``nntui runs`` and ``nntui delete``: the runs store, as a table or JSON, and tidying it.

The work happens in `nntui.store.runs` and its index (`nntui.store.index`); these
commands only print. Results go to stdout, notes to stderr. The table shows a page
(the newest `DEFAULT_LIMIT` runs unless told otherwise): drawing 20,000 rows with
Rich alone takes seconds, and nobody reads them on a terminal. ``--json`` streams
every run, one at a time, so its memory does not grow with the store.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from nntui.cli.console import err_console, results_table, stdout_console
from nntui.engine.config import format_sizes
from nntui.engine.errors import ConfigError, ModelFileError, reason
from nntui.store.index import COLUMNS, Filter, parse_filter, sort_column
from nntui.store.runs import RunInfo, RunStore

DEFAULT_LIMIT = 40  # rows of the table when neither --limit nor --all is given
EXIT_PIPE = 141  # what a shell reports for a process whose reader went away (128 + SIGPIPE)
# Sorted by these, the table starts with the largest: the best runs, the newest.
LARGEST_FIRST = {"started", "eta", "m", "epochs", "best", "last", "seed"}
COLUMN_NAMES = ", ".join(COLUMNS)


def runs(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the runs as JSON, with every epoch's record (all runs, streamed)."
        ),
    ] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help=f"Show every run, not only the first {DEFAULT_LIMIT}.")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            help=f"Show at most N runs. [default: {DEFAULT_LIMIT} in the table, all with --json]",
            show_default=False,
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            metavar="COLUMN",
            help=f"Sort by one of: {COLUMN_NAMES}. Numbers and times largest first.",
        ),
    ] = "started",
    reverse: Annotated[
        bool, typer.Option("--reverse", help="Sort the other way (oldest, smallest first).")
    ] = False,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            metavar="COLUMN OP VALUE",
            help="Keep the runs where this holds, e.g. status=completed, best>=95%, sizes~30, "
            "eta<1; OP is one of = != < <= > >= ~ (contains). Repeat to combine.",
            show_default=False,
        ),
    ] = None,
    sweep: Annotated[
        str | None,
        typer.Option(
            metavar="SWEEP", help="Show one sweep's summary again (its id from 'nntui sweep')."
        ),
    ] = None,
    delete: Annotated[
        bool, typer.Option("--delete", help="With --sweep: delete that sweep's runs.")
    ] = False,
    reindex: Annotated[
        bool,
        typer.Option(
            "--reindex",
            help="Read every run folder again into the runs index first (say, after "
            "editing finished runs by hand).",
        ),
    ] = False,
) -> None:
    """List the training runs kept in the runs directory, newest first.

    The directory is $NNTUI_RUNS, else ~/.local/share/nntui/runs. A run's name,
    or the start of one, can be given to 'nntui eval' and 'nntui predict'.
    Runs of a sweep show its id; --sweep ID shows that sweep's summary.
    --json prints every run (oldest first, one per line) with its epochs.
    """
    if delete and sweep is None:
        raise ConfigError("--delete needs --sweep ID (which sweep's runs to delete)")
    parsed = [parse_filter(f) for f in filters or ()]
    column = sort_column(sort)
    if show_all and limit is not None:
        raise ConfigError("--all and --limit say different things: give one")
    if sweep is not None:
        from nntui.cli.sweep import runs_of_sweep

        runs_of_sweep(sweep, delete, as_json)
        return
    store = RunStore(warn=_note)
    _check_readable(store)
    if reindex:
        n = store.reindex()
        if n is None:  # the note above says why
            err_console.print("nntui: error: the runs index was not rebuilt", markup=False)
            raise typer.Exit(1)
        err_console.print(f"Rebuilt the runs index: {n:,} runs.", markup=False)
    every = store.count()  # brings the index up to date with the folders first
    for line in store.skipped():
        _note(f"note: {line}")
    if as_json:
        # Oldest first, as a log is read, unless a sort was asked for.
        descending = _descending(column, reverse) if sort != "started" else reverse
        _stream_json(store.iter(parsed, column, descending, limit, sync=False))
        return
    shown = None if show_all else (limit or DEFAULT_LIMIT)
    _table(store, every, parsed, column, _descending(column, reverse), shown)


def _check_readable(store: RunStore) -> None:
    """A runs directory we may not read is an error, not "No runs yet" with exit 0."""
    try:
        with os.scandir(store.root):
            pass
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ModelFileError(
            f"{store.root}: cannot read the runs directory ({reason(exc)})"
        ) from None


def _descending(column: str, reverse: bool) -> bool:
    return (column in LARGEST_FIRST) != reverse


def _note(line: str) -> None:
    err_console.print(line, markup=False, soft_wrap=True)


def _table(
    store: RunStore,
    every: int,
    filters: list[Filter],
    column: str,
    descending: bool,
    limit: int | None,
) -> None:
    total = store.count(filters, sync=False) if filters else every
    if not total:
        if every:
            err_console.print(f"No run matches the filter ({every:,} runs in all).", markup=False)
        else:
            err_console.print(
                f"No runs yet in {store.root}. 'nntui train' keeps each run there.", markup=False
            )
        return
    infos = store.query(filters, column, descending, limit, sync=False)
    table = results_table(f"Runs in {store.root}")
    # The name is what 'nntui eval' takes, so it is never cut; the rest may be.
    table.add_column("name", no_wrap=True, min_width=max(len(r.name) for r in infos))
    table.add_column("sizes")
    for number in ("eta", "m", "epochs", "best"):
        table.add_column(number, justify="right")
    table.add_column("status")
    sweeps = any(r.sweep for r in infos)
    if sweeps:
        table.add_column("sweep")
    for r in infos:
        c = r.config
        best = r.best_accuracy
        table.add_row(
            r.name,
            format_sizes(c.sizes),
            f"{c.eta:g}",
            str(c.mini_batch_size),
            f"{r.epochs_done}/{c.epochs}",
            f"{100 * best:.2f}%" if best is not None else "-",
            r.status,
            *([r.sweep or ""] if sweeps else []),
        )
    stdout_console().print(table)
    rest = total - len(infos)
    if rest > 0:
        err_console.print(
            f"{rest:,} more {'run' if rest == 1 else 'runs'} not shown ({total:,} in all): "
            "--all shows every one, --limit N more, --filter and --sort choose which.",
            markup=False,
            soft_wrap=True,
        )


def _stream_json(infos: Iterable[RunInfo]) -> None:
    """A JSON array with one run per line, written one run at a time.

    One line per run (not ``indent=2``): Python's JSON encoder is C code only
    without indentation, and about ten times slower with it; a line per run also
    suits ``grep`` and line-by-line readers.
    """
    out = sys.stdout
    try:
        first = True
        for r in infos:
            out.write(("[\n" if first else ",\n") + json.dumps(_run_json(r)))
            first = False
        out.write("[]\n" if first else "\n]\n")
        out.flush()
    except BrokenPipeError:
        # The reader (say, `head`) has what it wanted; say nothing more, and do not let
        # Python's flush at exit complain about the closed pipe either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        raise typer.Exit(EXIT_PIPE) from None


def _run_json(r: RunInfo) -> dict[str, Any]:
    history = r.history  # read now, for this run only
    best = r.best
    return {
        "name": r.name,
        "path": str(r.path),
        "config": r.config.to_dict(),
        "seed": r.seed,
        "status": r.status,
        "started": r.started,
        "finished": r.finished,
        "resumed_from": r.resumed_from,
        "sweep": r.sweep,
        "note": r.note,
        "epochs_done": r.epochs_done,
        "best_correct": best["correct"] if best else None,
        "best_accuracy": r.best_accuracy,
        "model": str(r.model_path) if r.model_path else None,
        "epochs": list(history),
    }


def delete(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="RUN",
            help="Runs to delete: names from 'nntui runs', or unique starts of them.",
            show_default=False,
        ),
    ] = None,
    sweep: Annotated[
        str | None,
        typer.Option(metavar="SWEEP", help="Delete every run of this sweep, and its list of runs."),
    ] = None,
) -> None:
    """Delete runs by name, or a whole sweep, from the runs store.

    A run's folder and its row in the runs index go together; a run still being
    trained is refused. Nothing is asked: what is gone is said on stderr.
    """
    if not names and sweep is None:
        raise ConfigError("say which runs to delete: RUN names, or --sweep ID")
    if sweep is not None:
        from nntui.cli.sweep import runs_of_sweep

        runs_of_sweep(sweep, True, False)
    if not names:
        return
    store = RunStore(warn=_note)
    infos = {info.name: info for info in (store.get(n) for n in names)}  # each one, or an error
    running = [i.name for i in infos.values() if i.status == "running"]
    if running:
        raise ConfigError(
            f"run {running[0]} is still being trained (by process {_pid(store, running[0])}); "
            "stop it first"
        )
    n = store.delete(infos.values())
    err_console.print(f"Deleted {n} {'run' if n == 1 else 'runs'}.", markup=False)


def _pid(store: RunStore, name: str) -> str:
    try:
        doc = json.loads((store.root / name / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "?"
    pid = doc.get("pid") if isinstance(doc, dict) else None
    return str(pid) if isinstance(pid, int) else "?"
