"""Where the CLI writes, and how it fails: one line on stderr, never a traceback."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from nntui.engine.errors import NntuiError
from nntui.engine.signals import TERMINATING_SIGNALS, exit_code

if TYPE_CHECKING:
    from rich.table import Table

try:  # typer >= 0.25 carries its own copy of click, with Abort in typer.exceptions
    from typer._click import exceptions as click_exceptions
    from typer.exceptions import Abort
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef]
    from click.exceptions import Abort  # type: ignore[assignment]

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
EXIT_SIGHUP = 129  # 128 + SIGHUP
# 128 + the number of whichever signal stopped the work (`nntui.engine.signals`).
EXIT_SIGNAL: dict[int, int] = {s: exit_code(s) for s in TERMINATING_SIGNALS}


class _ReportingConsole(Console):
    """Rich's console whose closed stdout raises `BrokenPipeError`, for `Output` to answer.

    Rich's own answer is to exit with status 1 on the spot, without a word: a sweep
    whose reader stopped reading (``| head -1``) would end as a failure, although
    every run is kept, whenever the reader let go only after the last epoch line.
    """

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def stdout_console(*, report_closed: bool = False) -> Console:
    """Rich on stdout. Piped, lines are as long as they need to be, not cut at 80 columns.

    With ``report_closed``, a closed stdout raises `BrokenPipeError` (write within
    `Output.on_stdout`); otherwise Rich exits with status 1.
    """
    kind = _ReportingConsole if report_closed else Console
    out = kind(highlight=False)
    if not out.is_terminal:
        out = kind(highlight=False, width=max(out.width, 160))
    return out


def results_table(title: str | None = None) -> Table:
    """A table of results as the CLI prints them: a rule under the header, no outer frame."""
    from rich import box
    from rich.table import Table  # on first use: `nntui --help` does not need it

    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        pad_edge=False,
    )


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``nntui: error: message`` on one line and exit with ``code``."""
    print_error(message)
    raise typer.Exit(code)


def print_error(message: str) -> None:
    text = " ".join(str(message).split())  # one line, whatever the message held
    err_console.print(f"nntui: error: {text}", markup=False, soft_wrap=True)


def _silence(fd: int) -> None:
    """Point ``fd`` at /dev/null, so later writes (and Python's flush at exit) succeed."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


class Output:
    """stdout and stderr of a long command, either of which may die while it runs.

    A reader that quits (``| head -1``) closes stdout (EPIPE); a full disk
    (``> /dev/full``) refuses it (ENOSPC); a closed terminal takes both. None
    of these is a reason to lose a run: the failed stream is pointed at
    /dev/null, a warning goes to stderr if stderr still works, and the command
    carries on. `lost` says whether lines were lost to an error rather than to
    a reader that stopped reading.
    """

    def __init__(self) -> None:
        self.stdout_error: OSError | None = None
        self.stderr_dead = False
        self.hung_up = False

    @property
    def lost(self) -> bool:
        """True if stdout failed for a reason other than its reader going away."""
        return self.stdout_error is not None and self.stdout_error.errno != errno.EPIPE

    def line(self, text: str) -> None:
        """Print one line on stdout, at once (a reader may be watching)."""
        if self.stdout_error is not None:
            return
        with self.on_stdout():
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    @contextlib.contextmanager
    def on_stdout(self) -> Iterator[None]:
        """Run a write to stdout; if stdout has failed, stop using it and say why once."""
        try:
            yield
        except OSError as exc:
            self._stdout_failed(exc)

    @contextlib.contextmanager
    def on_stderr(self) -> Iterator[None]:
        """Run a write to stderr; if stderr has failed, stop using it."""
        try:
            yield
        except (OSError, RuntimeError):  # RuntimeError: a signal handler re-entered a write
            if not self.stderr_dead:
                self.stderr_dead = True
                _silence(2)

    def _stdout_failed(self, exc: OSError) -> None:
        if self.stdout_error is not None:
            return
        self.stdout_error = exc
        _silence(1)
        if exc.errno == errno.EPIPE:
            self.warn("stdout was closed: no more epoch lines are printed; training goes on")
        else:
            reason = exc.strerror or str(exc)
            self.warn(f"cannot write to stdout ({reason}): training goes on, results are saved")

    def hang_up(self) -> None:
        """The terminal is gone (SIGHUP): write nowhere from now on."""
        self.hung_up = True
        for fd in (1, 2):
            _silence(fd)
        self.stderr_dead = True

    def note(self, text: str) -> None:
        """A plain line on stderr."""
        with self.on_stderr():
            err_console.print(text, markup=False, soft_wrap=True)

    def warn(self, message: str) -> None:
        """``nntui: warning: message`` on stderr."""
        self.note(f"nntui: warning: {message}")

    def error(self, message: str) -> None:
        """``nntui: error: message`` on stderr (the caller decides the exit code)."""
        with self.on_stderr():
            print_error(message)


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
        except OSError as exc:
            # The last net for a file problem no check foresaw: still one line, not a traceback.
            where = f"{exc.filename}: " if exc.filename else ""
            print_error(f"{where}{exc.strerror or exc}")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
