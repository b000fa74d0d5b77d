"""The engine knows nothing about terminals: importing it loads neither Textual nor Rich."""

from __future__ import annotations

import subprocess
import sys

ENGINE = [
    "nntui.network",
    "nntui.training",
    "nntui.events",
    "nntui.config",
    "nntui.dataset",
    "nntui.mnist",
    "nntui.download",
    "nntui.datastore",
    "nntui.model_file",
    "nntui.metrics",
    "nntui.runs",
    "nntui.analysis",
    "nntui.digits",
]


def test_engine_modules_import_without_textual_or_rich():
    code = (
        "import sys\n"
        f"for m in {ENGINE!r}: __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'typer'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
