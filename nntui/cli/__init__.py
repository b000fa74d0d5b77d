"""The ``nntui`` command: the dashboard by default, and subcommands for headless work.

The commands themselves are in `nntui.cli.commands`. This module is the console
script's entry point and is kept light: ``nntui`` alone, in a terminal, opens the
dashboard without loading the command-line parser (typer and its click, about a
sixth of a second of every start). Everything else, ``--help`` included, goes
through the parser. ``from nntui.cli import app`` still gives the typer app.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

EXIT_USAGE = 2
EXIT_SIGINT = 130
# What textual-serve puts in TEXTUAL_DRIVER for each dashboard `nntui serve` starts. The
# same as `nntui.tui.browser.WEB_DRIVER` (cli/ imports nothing from tui/ but the app, so it
# is repeated here; a test checks that both agree with textual-serve).
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"


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


def in_browser_tab() -> bool:
    """True in a dashboard that `nntui serve` started for a browser tab.

    There keys and screen go through textual-serve's pipes instead of a terminal.
    """
    return os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER


def main() -> None:
    """Entry point of the ``nntui`` console script."""
    try:
        if len(sys.argv) == 1 and interactive():
            _dashboard()
        from nntui.cli.commands import main as parse_and_run

        parse_and_run()
    except KeyboardInterrupt:
        # A Ctrl-C in the first moments, while Python still loads the command (the
        # commands handle it themselves once they run): the same line, not a traceback.
        print("nntui: error: interrupted", file=sys.stderr)
        sys.exit(EXIT_SIGINT)


def _dashboard() -> NoReturn:
    """What `nntui.cli.commands.dashboard` does with no options, without the parser."""
    from nntui.engine.errors import NntuiError
    from nntui.tui.app import run_dashboard

    # The parser's one-line errors (`nntui.cli.console`), for the two a bare start can meet.
    try:
        code = run_dashboard()
    except NntuiError as exc:
        print(f"nntui: error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print("nntui: error: interrupted", file=sys.stderr)
        sys.exit(EXIT_SIGINT)
    sys.exit(code)


def __getattr__(name: str) -> Any:
    # `from nntui.cli import app` and the command table, loaded when first asked for.
    # (import_module: a from-import here would ask this function for "commands" again.)
    import importlib

    if name.startswith("__"):
        raise AttributeError(name)
    commands = importlib.import_module("nntui.cli.commands")
    try:
        return getattr(commands, name)
    except AttributeError:
        raise AttributeError(f"module 'nntui.cli' has no attribute {name!r}") from None
