"""The one formatter for times, durations and percentages, shared by the CLI and the dashboard."""

from __future__ import annotations

import pytest

from nntui.render.formats import clock, duration, percent


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0:00"), (75.2, "1:15"), (59.6, "1:00"), (3725, "1:02:05"), (-3, "0:00"), (None, "-")],
)
def test_clock(seconds, shown):
    assert clock(seconds) == shown


@pytest.mark.parametrize(("seconds", "shown"), [(9.4, "9s"), (75.2, "1m 15s"), (600, "10m 00s")])
def test_duration(seconds, shown):
    assert duration(seconds) == shown


def test_percent():
    assert percent(0.9542) == "95.42%"
    assert percent(None) == "-"
