"""Helpers for the tests of `nntui train`: through typer's CliRunner, or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from nntui.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def epoch_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Epoch ")]


def train_process(cwd: Path, data_file: Path, *args: str) -> subprocess.Popen[str]:
    """``nntui train --data DATA_FILE ARGS`` as a process in ``cwd``, its output in pipes."""
    return subprocess.Popen(
        [sys.executable, "-m", "nntui", "train", "--data", str(data_file), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        cwd=cwd,
    )


def signal_after_epochs(proc: subprocess.Popen[str], epochs: int, signum: int) -> str:
    """Send ``signum`` once ``epochs`` epoch lines are out (60 s at most); return stderr."""
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 60
    while len(seen) < epochs and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("Epoch "):
            seen.append(line)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    return err
