"""The engine knows nothing about terminals: importing it loads neither Textual nor Rich."""

from __future__ import annotations

import subprocess
import sys

ENGINE = [
    "nntui.engine.network",
    "nntui.engine.training",
    "nntui.engine.events",
    "nntui.engine.config",
    "nntui.engine.dataset",
    "nntui.data.mnist",
    "nntui.data.download",
    "nntui.data.datastore",
    "nntui.store.model_file",
    "nntui.store.metrics",
    "nntui.store.runs",
    "nntui.engine.analysis",
    "nntui.data.digits",
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
