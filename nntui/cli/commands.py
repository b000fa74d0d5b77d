"""The ``nntui`` command line: the dashboard by default, and subcommands for headless work."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, NamedTuple

import typer
import typer.main
from typer.models import CommandInfo, TyperInfo

from nntui import __version__
from nntui.cli.console import DataOption, OneLineErrors, fail

try:  # typer >= 0.25 carries its own copy of click
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer uses click itself
    import click  # type: ignore[no-redef]


class _Lazy(NamedTuple):
    module: str
    attribute: str  # a command function, or a Typer sub-app
    short_help: str  # shown by `nntui --help` without importing the module
    epilog: str | None = None  # name of a module attribute holding the epilog


# The subcommands, in the order `nntui --help` lists them. Their modules pull in
# numpy, Rich's progress bars and the rest: they are imported only when a
# command runs or shows its own help, so `nntui --help` stays quick. The short
# help repeats the first line of each docstring (a test checks they agree).
LAZY_COMMANDS = {
    "train": _Lazy(
        "nntui.cli.train",
        "train",
        'Train the network headless and print the book\'s "Epoch j: n / 10000" lines.',
        "EXAMPLES",
    ),
    "sweep": _Lazy(
        "nntui.cli.sweep",
        "sweep",
        "Train many networks at once and compare them: a grid of settings times seeds.",
        "EXAMPLES",
    ),
    "runs": _Lazy(
        "nntui.cli.runs",
        "runs",
        "List the training runs kept in the runs directory, oldest first.",
    ),
    "eval": _Lazy(
        "nntui.cli.eval",
        "eval_",
        "Evaluate a saved network: accuracy, confusion matrix and accuracy per digit.",
    ),
    "predict": _Lazy(
        "nntui.cli.predict",
        "predict",
        "Classify a handwritten digit in a PNG or PGM file, showing the network's output.",
    ),
    "data": _Lazy(
        "nntui.cli.data",
        "data_app",
        "Download, inspect and import the MNIST data nntui trains on.",
    ),
    "baseline": _Lazy(
        "nntui.cli.baseline",
        "baseline_app",
        "The chapter's baselines to compare the network with (the SVM takes minutes).",
    ),
}


class LazyGroup(OneLineErrors):
    """nntui's command group, building each subcommand the first time it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY_COMMANDS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                rows.append((name, loaded.get_short_help_str(limit)))
            else:
                rows.append(
                    (
                        name,
                        click.utils.make_default_short_help(LAZY_COMMANDS[name].short_help, limit),
                    )
                )
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def load_command(name: str) -> click.Command:
    """Import the module of subcommand `name` and build its click command."""
    spec = LAZY_COMMANDS[name]
    module = importlib.import_module(spec.module)
    target = getattr(module, spec.attribute)
    if isinstance(target, typer.Typer):
        # As `add_typer` would build it: plain help for its commands, like the others'.
        return typer.main.get_group_from_info(
            TyperInfo(target),
            pretty_exceptions_short=app.pretty_exceptions_short,
            suggest_commands=app.suggest_commands,
            rich_markup_mode=None,
        )
    info = CommandInfo(
        name=name,
        callback=target,
        epilog=getattr(module, spec.epilog) if spec.epilog else None,
    )
    return typer.main.get_command_from_info(
        info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=None
    )


app = typer.Typer(
    name="nntui",
    cls=LazyGroup,
    help="Watch the network of Chapter 1 of Neural Networks and Deep Learning learn to read "
    "handwritten digits, live in your terminal.",
    epilog="Run 'nntui' alone for the dashboard, or 'nntui train' for a headless run.",
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


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
    from nntui.store.model_file import load_model
    from nntui.store.runs import find_model

    # Checked before the dashboard opens, so a bad path is one line and exit code 2.
    saved = (load_model(find_model(str(resume))), str(resume)) if resume else None
    # Looked up in `nntui.cli` when called, where the entry point's fast path uses it too.
    from nntui import cli

    if not cli.interactive():
        fail(
            "the dashboard needs an interactive terminal (stdin, stdout and stderr); "
            "use `nntui train` for a headless run (see `nntui --help`)"
        )
    # Imported here so that `nntui train` never pays for loading Textual.
    from nntui.tui.app import run_dashboard

    code = run_dashboard(data_path=data, saved=saved)
    if code:
        raise typer.Exit(code)


def main() -> None:
    """Parse the command line and run what it asks for."""
    app()
