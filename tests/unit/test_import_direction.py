"""The package layout is the architecture: every import points down, and the core has no terminal.

Layers from the ground up: engine, store, data, sweep, render, tui, cli. `render` is what both the
CLI and the dashboard draw (digit art, run statuses, times), so the CLI needs nothing from `tui`
but the app's entry point. A module may import its own
layer and the ones below it, never one above; this walks every module of the package
(imports inside functions included), so a new module is checked without being listed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nntui

PACKAGE = Path(nntui.__file__).resolve().parent
LAYERS = ["engine", "store", "data", "sweep", "render", "tui", "cli"]
# The headless core: plain Python and NumPy.
CORE = {"engine", "store", "data", "sweep"}
TERMINAL = {"textual", "rich", "typer", "textual_plotext", "plotext"}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module name `path` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    inside = PACKAGE in path.resolve().parents
    package = module_name(path).split(".") if inside else []
    if inside and path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def layer_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "nntui" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return parts[1]


def test_every_module_sits_in_a_layer():
    loose = [
        module_name(p)
        for p in modules()
        if layer_of(module_name(p)) is None and module_name(p) not in ("nntui", "nntui.__main__")
    ]
    assert loose == []


@pytest.mark.parametrize("path", modules(), ids=lambda p: module_name(p))
def test_imports_point_down(path: Path):
    here = layer_of(module_name(path))
    if here is None:  # nntui/__init__.py, __main__.py: the entry points
        return
    upward = sorted(
        name
        for name in imports(path)
        if (there := layer_of(name)) is not None and LAYERS.index(there) > LAYERS.index(here)
    )
    assert upward == [], f"{module_name(path)} ({here}) imports from a higher layer"


@pytest.mark.parametrize(
    "path",
    [p for p in modules() if layer_of(module_name(p)) in CORE],
    ids=lambda p: module_name(p),
)
def test_the_core_never_imports_a_terminal_library(path: Path):
    assert sorted(n for n in imports(path) if n.split(".")[0] in TERMINAL) == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "tui" / "model").rglob("*.py")), ids=str)
def test_the_dashboards_model_has_no_widgets(path: Path):
    """`tui/model` is the dashboard's state: testable without Textual, and below the widgets."""
    assert sorted(n for n in imports(path) if n.split(".")[0] == "textual") == []
    assert (
        sorted(
            n
            for n in imports(path)
            if n.startswith("nntui.tui.") and not n.startswith("nntui.tui.model")
        )
        == []
    )


def test_the_checker_sees_an_upward_import(tmp_path: Path):
    """The walk above must be able to fail: an engine module importing the TUI is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from nntui.tui.app import NntuiApp\n")
    assert layer_of("nntui.tui.app") == "tui"
    assert "nntui.tui.app" in imports(bad)


def test_importing_the_core_loads_no_terminal_library():
    """At run time too: the whole core imports without Textual, Rich or Typer in sys.modules."""
    core = [module_name(p) for p in modules() if layer_of(module_name(p)) in CORE]
    code = (
        "import sys\n"
        f"for m in {core!r}: __import__(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(TERMINAL)!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# The app's entry point: the one thing the CLI may take from the dashboard.
CLI_MAY_IMPORT_FROM_TUI = {"nntui.tui.app", "nntui.tui.app.run_dashboard"}


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "cli").rglob("*.py")), ids=lambda p: module_name(p)
)
def test_the_cli_takes_only_the_entry_point_from_the_dashboard(path: Path):
    taken = {n for n in imports(path) if n == "nntui.tui" or n.startswith("nntui.tui.")}
    assert sorted(taken - CLI_MAY_IMPORT_FROM_TUI) == []
