"""Processes for the system tests: nntui run without a terminal; watching pids through /proc."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def dashboard_on_pipes(data: Path, new_session: bool = False) -> subprocess.CompletedProcess[str]:
    """``nntui --data DATA`` with stdin from /dev/null and its output captured: no terminal.

    ``new_session``: not even a controlling terminal the process could open.
    """
    return subprocess.run(
        [sys.executable, "-m", "nntui", "--data", str(data)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=new_session,
    )


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent (in a container init may never reap it)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def gone_within(pid: int, seconds: float) -> bool:
    """Whether ``pid`` stops being `alive` within ``seconds`` (looked at every 0.1 s)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return not alive(pid)
