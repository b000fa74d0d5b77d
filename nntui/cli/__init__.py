"""The ``nntui`` command: the dashboard by default, and subcommands for headless work."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from nntui import __version__
from nntui.cli.baseline import baseline_app
from nntui.cli.console import DataOption, OneLineErrors, fail
from nntui.cli.data import data_app
from nntui.cli.models import eval_, predict, runs
from nntui.cli.sweep import EXAMPLES as SWEEP_EXAMPLES
from nntui.cli.sweep import sweep
from nntui.cli.train import EXAMPLES, train
from nntui.store.model_file import load_model
from nntui.store.runs import find_model

app = typer.Typer(
    name="nntui",
    cls=OneLineErrors,
    help="Watch the network of Chapter 1 of Neural Networks and Deep Learning learn to read "
    "handwritten digits, live in your terminal.",
    epilog="Run 'nntui' alone for the dashboard, or 'nntui train' for a headless run.",
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.command(epilog=EXAMPLES)(train)
app.command(epilog=SWEEP_EXAMPLES)(sweep)
app.add_typer(data_app)
app.add_typer(baseline_app)
app.command()(runs)
app.command("eval")(eval_)
app.command()(predict)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nntui {__version__}")
        raise typer.Exit()


@app.callback()
def dashboard(
    ctx: typer.Context,
    data: DataOption = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Open the dashboard with a saved model (a .npz or a run name from "
            "'nntui runs'), to train it further or look inside it."
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Open the training dashboard (when no command is given)."""
    ctx.obj = {"data": data}  # so `nntui --data PATH train` works like `nntui train --data PATH`
    if ctx.invoked_subcommand is not None:
        return
    # Checked before the dashboard opens, so a bad path is one line and exit code 2.
    saved = (load_model(find_model(str(resume))), str(resume)) if resume else None
    if not interactive():
        fail(
            "the dashboard needs an interactive terminal (stdin, stdout and stderr); "
            "use `nntui train` for a headless run (see `nntui --help`)"
        )
    # Imported here so that `nntui train` never pays for loading Textual.
    from nntui.tui.app import run_dashboard

    code = run_dashboard(data_path=data, saved=saved)
    if code:
        raise typer.Exit(code)


def interactive() -> bool:
    """True if keys can be read from a terminal and the screen drawn on one.

    Without this `nntui </dev/null` draws but ignores every key, `nntui | cat`
    draws at 80x24, and with no terminal at all the dashboard waits forever.
    """
    streams = (sys.stdin, sys.stdout, sys.stderr)
    try:
        return all(s is not None and s.isatty() for s in streams)
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def main() -> None:
    """Entry point of the ``nntui`` console script."""
    app()
