"""Where the CLI writes, and how it fails: one line on stderr, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from nntui.engine.errors import NntuiError

try:  # typer >= 0.25 carries its own copy of click, with Abort in typer.exceptions
    from typer._click import exceptions as click_exceptions
    from typer.exceptions import Abort
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef]
    from click.exceptions import Abort  # type: ignore[no-redef,assignment]

# Diagnostics, progress and summaries go to stderr so stdout carries only the
# book's "Epoch j: n / 10000" lines and can be piped or redirected cleanly.
err_console = Console(stderr=True, highlight=False)

# The --data option, shared by the dashboard and `nntui train`.
DataOption = Annotated[
    Path | None,
    typer.Option(
        help="MNIST file to use: the book's .pkl.gz, Keras .npz or IDX. [default: found or fetched]"
    ),
]

EXIT_USAGE = 2  # bad arguments or files, like every Unix tool
EXIT_SIGINT = 130  # 128 + SIGINT
EXIT_SIGTERM = 143  # 128 + SIGTERM


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``nntui: error: message`` on one line and exit with ``code``."""
    print_error(message)
    raise typer.Exit(code)


def print_error(message: str) -> None:
    text = " ".join(str(message).split())  # one line, whatever the message held
    err_console.print(f"nntui: error: {text}", markup=False, soft_wrap=True)


class OneLineErrors(TyperGroup):
    """The command group: usage errors and `NntuiError` become one line and exit code 2.

    Click would print a usage box over several lines; users of the book want to
    see at a glance which value was wrong and what is allowed.
    """

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_exceptions.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            print_error(f"{exc.format_message()}{hint}")
            sys.exit(EXIT_USAGE)
        except click_exceptions.ClickException as exc:
            print_error(exc.format_message())
            sys.exit(exc.exit_code)
        except NntuiError as exc:
            print_error(str(exc))
            sys.exit(EXIT_USAGE)
        except (KeyboardInterrupt, Abort):
            print_error("interrupted")
            sys.exit(EXIT_SIGINT)
        sys.exit(code if isinstance(code, int) else 0)
