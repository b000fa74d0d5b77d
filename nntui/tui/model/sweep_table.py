"""The sweep screen's table as plain data: one `Row` per run, from the live state or the store.

No Textual here: the screen draws the rows, sorted by `sort_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nntui.store.runs import RunInfo
from nntui.sweep.events import SweepRun
from nntui.sweep.grid import config_key, hidden_label

COLUMNS = ("settings", "seed", "epochs", "last", "best", "time", "status")


@dataclass(frozen=True)
class Row:
    """One run as the table shows it, from the live state or from the store."""

    key: str
    settings: str
    seed: int
    epochs_done: int
    epochs: int
    last: float | None
    best: float | None
    seconds: float
    status: str
    curve: tuple[float, ...]

    def sort_key(self, column: str) -> Any:
        """What ``column`` sorts this row by; no result (None) sorts below every result."""
        return {
            "settings": self.settings,
            "seed": self.seed,
            "epochs": self.epochs_done,
            "last": -1.0 if self.last is None else self.last,
            "best": -1.0 if self.best is None else self.best,
            "time": self.seconds,
            "status": self.status,
        }[column]


def _settings(sizes: tuple[int, ...], eta: float, m: int) -> str:
    return f"h {hidden_label(sizes)} η {eta:g} m {m}"


def row_from_state(run: SweepRun) -> Row:
    """The row of a run of the sweep under way."""
    c = run.spec.config
    return Row(
        run.spec.key,
        _settings(c.sizes, c.eta, c.mini_batch_size),
        run.spec.seed,
        run.epochs_done,
        c.epochs,
        run.last,
        run.best,
        run.seconds,
        run.status,
        tuple(r["accuracy"] for r in run.history),
    )


def row_from_info(info: RunInfo) -> Row:
    """The row of a run read back from the runs store (a sweep followed)."""
    c = info.config
    curve = tuple(a for _, a in info.curve)
    seconds = sum(r.get("train_seconds", 0.0) + r.get("eval_seconds", 0.0) for r in info.history)
    return Row(
        config_key(c),
        _settings(c.sizes, c.eta, c.mini_batch_size),
        info.seed if info.seed is not None else 0,
        info.epochs_done,
        c.epochs,
        curve[-1] if curve else None,
        max(curve) if curve else None,
        seconds,
        info.status,
        curve,
    )


def sort_rows(rows: list[Row], column: str) -> list[Row]:
    """The rows by ``column``: numbers largest first, words in order; then by seed."""
    descending = column in ("epochs", "last", "best", "time")
    return sorted(
        rows,
        key=lambda r: (r.sort_key(column), -r.seed if descending else r.seed),
        reverse=descending,
    )
