"""``nntui book``: a Python console where the chapter's lines work as typed.

Inside it ``import network`` and ``import mnist_loader`` give nntui's modules
(`nntui.book.network`, `nntui.book.mnist_loader`), also when the current
folder has a ``network.py`` of its own: the banner says when it hides one.
Nothing is put on any other Python's path: the two names are aliases in this
process's ``sys.modules`` only.

On a terminal the console is interactive, with a short banner. Reading a
pipe or a file (``nntui book < session.py``) it runs the statements in
order as the interactive console would (an expression's value is printed),
without prompts, and stops at the first error with exit code 1.
"""

from __future__ import annotations

import code
import contextlib
import importlib
import importlib.machinery
import linecache
import os
import select
import signal
import sys
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TextIO

from nntui import __version__
from nntui.engine.errors import NntuiError

BOOK_MODULES = ("network", "mnist_loader")

SESSION = """\
import mnist_loader
training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
import network
net = network.Network([784, 30, 10])
net.SGD(training_data, 30, 10, 3.0, test_data=test_data)"""

EXIT_ERROR = 1
EXIT_SIGINT = 130
READ_PIECE = 1 << 16  # characters read at a time, so a line without end cannot fill memory
MAX_LINE = 64 << 20  # characters; far beyond any line of Python source
EXIT_SIGPIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader quit


def shadowed(folder: Path) -> list[str]:
    """The book's module names that ``folder`` also holds (``network.py``, a package...)."""
    return [
        name
        for name in BOOK_MODULES
        if importlib.machinery.PathFinder.find_spec(name, [str(folder)]) is not None
    ]


def install_aliases(folder: Path) -> dict[str, Any]:
    """Make ``import network`` and ``import mnist_loader`` give nntui's modules here.

    Like Python's own console, the current folder goes first on ``sys.path``,
    so a learner's other modules import as usual; the two book names are
    already in ``sys.modules`` and so win over files of the same name there.
    Returns the console's namespace.
    """
    for name in BOOK_MODULES:
        sys.modules[name] = importlib.import_module(f"nntui.book.{name}")
    if str(folder) not in sys.path and "" not in sys.path:
        sys.path.insert(0, "")
    return {"__name__": "__console__", "__doc__": None, "__builtins__": __builtins__}


def banner(hidden: Iterable[str]) -> str:
    """The lines shown when the console opens on a terminal."""
    py = ".".join(str(n) for n in sys.version_info[:3])
    lines = [
        f"nntui {__version__} book session (Python {py}): the chapter's modules, in Python 3.",
        "Type as in the book:",
        *(f"  >>> {line}" for line in SESSION.splitlines()),
        "Add watch=True to SGD to watch it train in the dashboard. Ctrl-D leaves.",
    ]
    lines += [
        f"Note: ./{name}.py is not used here: `import {name}` gives nntui's {name}."
        for name in hidden
    ]
    return "\n".join(lines)


class _BookConsole(code.InteractiveConsole):
    """Python's console, but nntui's refusals of bad input show the learner's lines only.

    ``net.SGD(..., eta=-1)`` raises a one-sentence `ValueError` from a check
    inside nntui; the frames of nntui's own modules between the learner's line
    and that check say nothing to the learner, so they are left out, as
    Python leaves out the frames of its built-in functions. Any other error
    (a bug, a NumPy error) keeps its whole traceback.
    """

    def showtraceback(self) -> None:
        kind, value, tb = sys.exc_info()
        if value is None or tb is None or not _is_refusal(value, tb):
            super().showtraceback()
            return
        sys.last_type, sys.last_value, sys.last_traceback = kind, value, tb
        report = traceback.TracebackException.from_exception(value)
        report.stack = traceback.StackSummary.from_list(
            [f for f in report.stack[1:] if not _in_nntui(f.filename)]  # [0]: the console's
        )
        self.write("".join(report.format()))


def _is_refusal(exc: BaseException, tb: TracebackType) -> bool:
    """A deliberate refusal (a ValueError, TypeError or nntui error from a ``raise`` in
    nntui), or Ctrl-C.

    Not an error NumPy raised while nntui called it: that one keeps its frames.
    """
    if isinstance(exc, KeyboardInterrupt):
        return True  # where in nntui's loop Ctrl-C landed says nothing to the learner
    if not isinstance(exc, (ValueError, TypeError, NntuiError)):
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    line = linecache.getline(filename, tb.tb_lineno).strip()
    return _in_nntui(filename) and line.startswith("raise ")


def _in_nntui(filename: str) -> bool:
    return Path(filename).is_relative_to(_NNTUI_DIR)


_NNTUI_DIR = Path(__file__).resolve().parent.parent


class _PipedConsole(_BookConsole):
    """The interactive console's rules (one statement at a time), fed from a stream."""

    failed = False
    reader_gone = False  # stdout is a pipe whose reader quit (``| head -1``)
    interrupted = False  # Ctrl-C during a statement (the console catches it there)

    def showtraceback(self) -> None:
        self.failed = True
        if isinstance(sys.exc_info()[1], KeyboardInterrupt):
            self.interrupted = True  # a signal, not the session's error: said in one line
            return
        if isinstance(sys.exc_info()[1], BrokenPipeError) and _stdout_broken():
            self.reader_gone = True  # not the session's fault: nobody reads it any more
            return
        super().showtraceback()

    def showsyntaxerror(self, filename: str | None = None, **kwargs: Any) -> None:
        self.failed = True
        super().showsyntaxerror(filename, **kwargs)


def run_piped(stream: TextIO, namespace: dict[str, Any]) -> int:
    """Run the statements read from ``stream`` in order; the exit code.

    0 when all ran, 1 at the first error (and at input that is not UTF-8, or
    that ends inside a statement, as ``python < file`` would), 130 on Ctrl-C,
    141 (as if killed by SIGPIPE) when the reader of stdout quit. ``exit()``
    and ``sys.exit(n)`` end it with their own code.
    """
    console = _PipedConsole(namespace, filename="<stdin>")
    try:
        number = 0
        for line in _lines(stream):
            number += 1
            console.push(line.rstrip("\n"))
            if console.failed:
                break
        else:
            # The end of input ends a statement left open, like a blank line; one
            # that still needs more (an open bracket) is a syntax error, as in Python.
            if console.push("") and console.buffer:
                _show_unfinished(console)
    except KeyboardInterrupt:  # while reading a line
        console.interrupted = True
    except _NotSource as exc:
        print(f"nntui book: line {number + 1} of the input {exc}", file=sys.stderr)
        return EXIT_ERROR
    if console.interrupted:
        print("nntui book: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    if console.reader_gone:
        _silence_stdout()
        return EXIT_SIGPIPE
    return EXIT_ERROR if console.failed else 0


class _NotSource(Exception):
    """Input that cannot be Python source: the message says why, after "line N of the input"."""


def _lines(stream: TextIO) -> Iterator[str]:
    """The stream's lines, or `_NotSource` for the first that cannot be Python source.

    Read a piece at a time, so that ``nntui book < /dev/zero`` (NUL bytes, no
    newline ever) fails at once instead of filling the memory with one line.
    """
    while True:
        pieces: list[str] = []
        size = 0
        while not pieces or not pieces[-1].endswith("\n"):
            try:
                piece = stream.readline(READ_PIECE)
            except UnicodeDecodeError:  # a strict stream
                raise _NotSource(_NOT_UTF8) from None
            if not piece:
                break
            if "\0" in piece:
                raise _NotSource("holds a NUL byte, which Python source cannot")
            size += len(piece)
            if size > MAX_LINE:
                raise _NotSource(f"is longer than {MAX_LINE // 2**20} MB: not Python source")
            pieces.append(piece)
        if not pieces:
            return
        line = "".join(pieces)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # bytes a surrogateescape stream could not decode
            raise _NotSource(_NOT_UTF8) from None
        yield line


_NOT_UTF8 = "is not UTF-8 text; Python source must be UTF-8"


def _show_unfinished(console: _PipedConsole) -> None:
    source = "\n".join(console.buffer)
    console.resetbuffer()
    try:
        compile(source + "\n", console.filename, "exec")
    except SyntaxError:
        console.showsyntaxerror(console.filename)
    else:  # pragma: no cover - compile_command said it was incomplete
        console.failed = True


def _stdout_broken() -> bool:
    """True if stdout is a pipe with no reader left (a write would fail with EPIPE)."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no fd (a StringIO), no poll (Windows)
        return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's flush at exit does not fail on the dead pipe."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def run_interactive(namespace: dict[str, Any], hidden: list[str]) -> int:
    """The console on a terminal, with line editing and history where readline exists."""
    try:
        import readline  # noqa: F401 - importing it gives input() line editing

        _complete_names(namespace)
    except ImportError:  # pragma: no cover - Windows without pyreadline
        pass
    console = _BookConsole(namespace, filename="<console>")
    with _modes_back_when_killed():
        console.interact(banner=banner(hidden), exitmsg="")
    return 0


@contextlib.contextmanager
def _modes_back_when_killed() -> Iterator[None]:
    """Let SIGTERM or SIGHUP end the console with the terminal's modes as they were.

    Killed at the prompt, the process would leave the terminal as readline set
    it, without echo or line editing, for the shell that comes back. Only
    signals left at their default are taken, and they still end the process.
    """
    try:
        import termios

        fd = sys.stdin.fileno()
        modes = termios.tcgetattr(fd)
    except Exception:  # no termios (Windows), or not a terminal after all
        yield
        return

    def end(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError, termios.error):  # a hung-up terminal
            termios.tcsetattr(fd, termios.TCSADRAIN, modes)
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    taken = [s for s in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(s) is signal.SIG_DFL]
    for signum in taken:
        signal.signal(signum, end)
    try:
        yield
    finally:
        for signum in taken:
            if signal.getsignal(signum) is end:  # the learner may have set their own since
                signal.signal(signum, signal.SIG_DFL)


def _complete_names(namespace: dict[str, Any]) -> None:
    import readline
    import rlcompleter

    readline.set_completer(rlcompleter.Completer(namespace).complete)
    readline.parse_and_bind("tab: complete")


def main(
    stdin: TextIO | None = None, interactive: bool | None = None, folder: Path | None = None
) -> int:
    """Open the book's session on ``stdin`` (a terminal or not); return the exit code."""
    stream = stdin if stdin is not None else sys.stdin
    try:
        here = folder if folder is not None else Path.cwd()
    except OSError:  # the current folder was deleted: nothing there to hide
        here = Path("/nonexistent")
    hidden = shadowed(here)
    namespace = install_aliases(here)
    # Tracebacks as Python's console shows them: the CLI's hook (typer's) would
    # show the console's own frames too.
    sys.excepthook = sys.__excepthook__
    if interactive is None:
        interactive = stream.isatty()
    if interactive:
        return run_interactive(namespace, hidden)
    if stdin is None:
        # Bytes that are not UTF-8 reach `run_piped` as surrogates, so it can say
        # which line holds them, whatever the locale's error handler.
        with contextlib.suppress(AttributeError, ValueError):
            sys.stdin.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
    for name in hidden:
        print(
            f"nntui book: note: ./{name}.py is not used: `import {name}` gives nntui's {name}",
            file=sys.stderr,
        )
    return run_piped(stream, namespace)
