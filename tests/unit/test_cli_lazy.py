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


def _bare_nntui(dashboard: str) -> list[str]:
    """Run the entry point as a bare ``nntui`` in a terminal, with ``dashboard`` standing in
    for the real one; return its output lines: exit code, then whether the parser loaded."""
    code = (
        "import sys\n"
        "import nntui.cli as cli, nntui.tui.app as tui_app\n"
        "from nntui.engine.errors import NntuiError\n"
        "cli.interactive = lambda: True\n"
        f"tui_app.run_dashboard = {dashboard}\n"
        "sys.argv = ['nntui']\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit as exc:\n"
        "    print(exc.code)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'click'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [*out.stdout.strip().splitlines(), out.stderr.strip()]


def test_a_bare_nntui_opens_the_dashboard_without_the_parser() -> None:
    assert _bare_nntui("lambda: 0") == ["0", "[]", ""]
    assert _bare_nntui("lambda: 1")[0] == "1"  # a crash in the dashboard never exits 0


def test_a_bare_nntui_still_makes_errors_one_line() -> None:
    code, loaded, err = _bare_nntui("lambda: (_ for _ in ()).throw(NntuiError('no\\nway'))")
    assert (code, loaded, err) == ("2", "[]", "nntui: error: no way")
