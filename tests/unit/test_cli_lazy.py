"""`nntui --help` lists every command without importing what only the commands need."""

from __future__ import annotations

import inspect
import subprocess
import sys

import typer.main

from nntui.cli import LAZY_COMMANDS, app, load_command


def test_each_lazy_short_help_is_the_commands_own() -> None:
    for name, spec in LAZY_COMMANDS.items():
        command = load_command(name)
        own = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
        assert spec.short_help == own, name


def test_the_group_lists_the_commands_in_order() -> None:
    group = typer.main.get_command(app)
    ctx = group.make_context("nntui", [], resilient_parsing=True)
    assert group.list_commands(ctx) == list(LAZY_COMMANDS)
    assert group.get_command(ctx, "train").name == "train"
    assert group.get_command(ctx, "nope") is None


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from nntui.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('numpy', 'textual', 'rich.progress', 'PIL', 'dask')\n"
        "print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in heavy or m == 'rich.progress'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert "Commands:" in out.stdout
    assert lines[-1] == "[]"
