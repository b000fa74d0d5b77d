"""``nntui runs``: the training runs kept in the runs store, as a table or JSON.

The work happens in `nntui.store.runs`; this command only prints. Results go to stdout,
notes to stderr.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from nntui.cli.console import err_console, results_table, stdout_console
from nntui.engine.config import format_sizes
from nntui.engine.errors import ConfigError
from nntui.store.runs import RunInfo, RunStore


def runs(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the runs as JSON, with every epoch's record.")
    ] = False,
    sweep: Annotated[
        str | None,
        typer.Option(
            metavar="SWEEP", help="Show one sweep's summary again (its id from 'nntui sweep')."
        ),
    ] = None,
    delete: Annotated[
        bool, typer.Option("--delete", help="With --sweep: delete that sweep's runs.")
    ] = False,
) -> None:
    """List the training runs kept in the runs directory, oldest first.

    The directory is $NNTUI_RUNS, else ~/.local/share/nntui/runs. A run's name,
    or the start of one, can be given to 'nntui eval' and 'nntui predict'.
    Runs of a sweep show its id; --sweep ID shows that sweep's summary.
    """
    if delete and sweep is None:
        raise ConfigError("--delete needs --sweep ID (which sweep's runs to delete)")
    if sweep is not None:
        from nntui.cli.sweep import runs_of_sweep

        runs_of_sweep(sweep, delete, as_json)
        return
    store = RunStore()
    skipped: list[str] = []
    infos = store.list(skipped)
    for line in skipped:
        err_console.print(f"note: {line}", markup=False, soft_wrap=True)
    if as_json:
        print(json.dumps([_run_json(r) for r in infos], indent=2))
        return
    if not infos:
        err_console.print(
            f"No runs yet in {store.root}. 'nntui train' keeps each run there.", markup=False
        )
        return
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
        best = r.best
        table.add_row(
            r.name,
            format_sizes(c.sizes),
            f"{c.eta:g}",
            str(c.mini_batch_size),
            f"{r.epochs_done}/{c.epochs}",
            f"{100 * best['correct'] / best['total']:.2f}%" if best and best["total"] else "-",
            r.status,
            *([r.sweep or ""] if sweeps else []),
        )
    stdout_console().print(table)


def _run_json(r: RunInfo) -> dict[str, Any]:
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
        "epochs": list(r.history),
    }
