"""Watching processes through /proc, for the tests that check nothing outlives nntui."""

from __future__ import annotations

import time


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
