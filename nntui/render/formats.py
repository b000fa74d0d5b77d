"""Plain-text formats shared by the CLI and the dashboard: clock times, durations, percentages."""

from __future__ import annotations


def clock(seconds: float | None) -> str:
    """A clock reading: ``75.2`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"``, ``None`` -> ``"-"``."""
    if seconds is None:
        return "-"
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def duration(seconds: float) -> str:
    """A duration in words, for a sentence: ``75.2`` -> ``"1m 15s"``, ``9`` -> ``"9s"``."""
    minutes, secs = divmod(max(0, round(seconds)), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def percent(fraction: float | None) -> str:
    """``0.9542`` -> ``"95.42%"``; ``None`` (nothing measured yet) -> ``"-"``."""
    return "-" if fraction is None else f"{100 * fraction:.2f}%"
