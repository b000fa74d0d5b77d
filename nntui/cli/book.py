"""``nntui book``: the chapter's Python session, where ``import network`` works as typed."""

from __future__ import annotations

import os
import sys

import typer

from nntui.cli.console import DataOption, fail

EXAMPLES = """Examples:

  nntui book                      # then type the chapter's lines

  nntui book < session.py         # run a scripted session, no prompts
"""


def book(ctx: typer.Context, data: DataOption = None) -> None:
    """A Python shell where the chapter's lines work: import network, net.SGD(...)."""
    if data is None and isinstance(ctx.obj, dict):
        data = ctx.obj.get("data")
    if sys.stdin is None:
        fail("nntui book reads Python from standard input, and it is closed")
    from nntui.book.shell import main
    from nntui.data.datastore import ENV_VAR, find_data

    if data is not None:
        find_data(data)  # a path that holds no MNIST fails here, in one line
        # mnist_loader looks where the rest of nntui does: $NNTUI_DATA first.
        os.environ[ENV_VAR] = str(data)
    code = main()
    if code:
        raise typer.Exit(code)
