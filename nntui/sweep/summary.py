"""A sweep's results grouped by configuration, and written to JSON or CSV.

For each configuration (network, eta, m) over its seeds: the best accuracy of
each run, as min / median / max; the epoch at which a run reached its best
(median over seeds); the seconds per epoch (median); and, for a preset, the
book's figure and whether it lies within the min-max.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nntui.engine.config import TrainConfig, format_sizes
from nntui.engine.errors import ConfigError
from nntui.store.atomic import atomic_write
from nntui.store.metrics import check_writable
from nntui.store.runs import RunInfo
from nntui.sweep.grid import BOOK_ACCURACY, PRESETS, config_key

FORMATS = (".json", ".csv")


@dataclass(frozen=True)
class RunResult:
    """One run of a sweep, finished or not: from the live state or from the runs store."""

    config: TrainConfig
    seed: int | None
    status: str
    history: tuple[dict[str, Any], ...] = field(repr=False)
    note: str = ""
    name: str | None = None  # the run's folder in the store

    @property
    def key(self) -> str:
        return config_key(self.config)

    @property
    def best(self) -> dict[str, Any] | None:
        return max(self.history, key=lambda r: r["correct"], default=None)


@dataclass(frozen=True)
class ConfigSummary:
    key: str
    config: TrainConfig  # seed left out
    runs: int
    with_epochs: int  # runs that finished at least one epoch
    statuses: dict[str, int]
    best_min: float | None
    best_median: float | None
    best_max: float | None
    epochs_to_best: float | None  # median over seeds
    seconds_per_epoch: float | None  # median over every epoch of every run
    book: str | None = None  # the book's figure in its words, for a preset
    book_accuracy: float | None = None

    @property
    def book_within(self) -> bool | None:
        """Whether the book's figure lies within min-max over seeds (None: nothing to compare)."""
        if self.book_accuracy is None or self.best_min is None or self.best_max is None:
            return None
        return self.best_min <= self.book_accuracy <= self.best_max

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.key,
            "sizes": list(self.config.sizes),
            "eta": self.config.eta,
            "mini_batch_size": self.config.mini_batch_size,
            "epochs": self.config.epochs,
            "runs": self.runs,
            "statuses": self.statuses,
            "best_min": self.best_min,
            "best_median": self.best_median,
            "best_max": self.best_max,
            "epochs_to_best": self.epochs_to_best,
            "seconds_per_epoch": self.seconds_per_epoch,
            "book": self.book,
            "book_within_min_max": self.book_within,
        }


def from_run_info(info: RunInfo) -> RunResult:
    """A run kept in the store, as a `RunResult`."""
    return RunResult(info.config, info.seed, info.status, info.history, info.note or "", info.name)


def summarize(results: Sequence[RunResult], preset: str | None = None) -> list[ConfigSummary]:
    """One `ConfigSummary` per configuration, best median first (no epoch at all: last)."""
    groups: dict[str, list[RunResult]] = {}
    for r in results:
        groups.setdefault(r.key, []).append(r)
    book_words = PRESETS[preset].book if preset in PRESETS else {}
    out = []
    for key, runs in groups.items():
        bests = [b for r in runs if (b := r.best) is not None]
        accuracies = [b["correct"] / b["total"] for b in bests if b["total"]]
        seconds = [
            e["train_seconds"] + e["eval_seconds"]
            for r in runs
            for e in r.history
            if "train_seconds" in e and "eval_seconds" in e
        ]
        statuses: dict[str, int] = {}
        for r in runs:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        out.append(
            ConfigSummary(
                key=key,
                config=runs[0].config.with_changes(seed=None),
                runs=len(runs),
                with_epochs=len(bests),
                statuses=statuses,
                best_min=min(accuracies) if accuracies else None,
                best_median=statistics.median(accuracies) if accuracies else None,
                best_max=max(accuracies) if accuracies else None,
                epochs_to_best=statistics.median(b["epoch"] for b in bests) if bests else None,
                seconds_per_epoch=statistics.median(seconds) if seconds else None,
                book=book_words.get(key) if book_words else None,
                book_accuracy=BOOK_ACCURACY.get(key) if book_words else None,
            )
        )
    out.sort(key=lambda s: (s.best_median is None, -(s.best_median or 0.0)))
    return out


def check_output_path(path: str | os.PathLike[str], suffix: str) -> Path:
    """A --json or --csv path we can write, checked before any training time is spent."""
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise ConfigError(f"--{suffix[1:]} file must end in {suffix}, got {str(p)!r}")
    return check_writable(p, "")


def write_json(
    path: str | os.PathLike[str],
    sweep: str,
    summaries: Sequence[ConfigSummary],
    results: Sequence[RunResult],
) -> None:
    """``{"sweep", "summary": [...], "runs": [{config, seed, status, epochs}]}``, atomically."""
    doc = {
        "sweep": sweep,
        "summary": [s.to_dict() for s in summaries],
        "runs": [
            {
                "config": r.config.to_dict(),
                "seed": r.seed,
                "status": r.status,
                "note": r.note,
                "run": r.name,
                "epochs": list(r.history),
            }
            for r in results
        ],
    }
    with atomic_write(Path(path), "w") as f:
        f.write(json.dumps(doc, indent=2) + "\n")


SUMMARY_FIELDS = [
    "best_min",
    "best_median",
    "best_max",
    "epochs_to_best",
    "seconds_per_epoch",
    "runs",
    "book",
]
EPOCH_FIELDS = [
    "seed",
    "status",
    "epoch",
    "correct",
    "total",
    "accuracy",
    "train_cost",
    "train_seconds",
    "eval_seconds",
]


def write_csv(
    path: str | os.PathLike[str],
    sweep: str,
    summaries: Sequence[ConfigSummary],
    results: Sequence[RunResult],
) -> None:
    """One table, atomically: a ``summary`` row per configuration, then an ``epoch`` row per
    epoch of every run. The ``kind`` column tells them apart, so one filter gives either.
    """
    buf = io.StringIO()
    fields = ["kind", "sweep", "config", "sizes", "eta", "mini_batch_size"]
    fields += SUMMARY_FIELDS + EPOCH_FIELDS
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()

    def common(config: TrainConfig) -> dict[str, Any]:
        return {
            "sweep": sweep,
            "config": config_key(config),
            "sizes": format_sizes(config.sizes, "-"),
            "eta": config.eta,
            "mini_batch_size": config.mini_batch_size,
        }

    for s in summaries:
        writer.writerow({"kind": "summary", **s.to_dict(), **common(s.config)})
    for r in results:
        for e in r.history:
            writer.writerow(
                {"kind": "epoch", **common(r.config), "seed": r.seed, "status": r.status, **e}
            )
    with atomic_write(Path(path), "w") as f:
        f.write(buf.getvalue())
