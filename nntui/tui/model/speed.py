"""The dashboard's speed limit: `+` and `-` step through a few mini-batches per second."""

from __future__ import annotations

# None: full speed. Slower to the right.
SPEEDS: tuple[float | None, ...] = (None, 1000.0, 300.0, 100.0, 30.0, 10.0, 3.0, 1.0)


def next_speed(current: float | None, direction: int) -> float | None:
    """The speed one step faster (``direction`` 1) or slower (-1), kept within `SPEEDS`.

    A speed not in `SPEEDS` counts as full speed.
    """
    i = SPEEDS.index(current) if current in SPEEDS else 0
    return SPEEDS[min(max(i - direction, 0), len(SPEEDS) - 1)]
