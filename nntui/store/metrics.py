"""Per-epoch metrics of a run, as JSON or CSV, for plotting and comparing runs."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nntui.engine.config import TrainConfig, format_sizes
from nntui.engine.errors import ConfigError
from nntui.engine.events import EpochDone
from nntui.store.atomic import atomic_write, check_output_path

FORMATS = (".json", ".csv")


def epoch_record(e: EpochDone) -> dict[str, Any]:
    """One epoch as plain values (the predictions array is left out).

    Training accuracy (on the trainer's fixed training sample) and each
    layer's statistics (``layerN_stuck``, ``_saturated``, ``_grad_rms``,
    ``_weight_norm``, N = 1 for the first hidden layer, the last N the output
    layer) are there when the trainer measured them.
    """
    record: dict[str, Any] = {
        "epoch": e.epoch,
        "correct": e.correct,
        "total": e.total,
        "accuracy": round(e.accuracy, 6),
        "train_cost": round(e.train_cost, 6),
        "eta": e.eta,
        "mini_batch_size": e.mini_batch_size,
        "train_seconds": round(e.train_seconds, 4),
        "eval_seconds": round(e.eval_seconds, 4),
    }
    train_accuracy = e.train_accuracy
    if train_accuracy is not None:
        record["train_correct"] = e.train_correct
        record["train_total"] = e.train_total
        record["train_accuracy"] = round(train_accuracy, 6)
    for stats in e.layers:
        record.update(stats.to_record(f"layer{stats.layer}_"))
    return record


def check_metrics_path(path: str | os.PathLike[str]) -> Path:
    """Refuse a metrics path we could not write, before any training time is spent."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise ConfigError(f"metrics file must end in .json or .csv, got {str(p)!r}")
    return check_writable(p, "metrics file")


def check_writable(path: Path, what: str) -> Path:
    """A path we can create or replace: `nntui.store.atomic.check_output_path`."""
    check_output_path(path, what)
    return path


def write_metrics(
    path: str | os.PathLike[str],
    *,
    config: TrainConfig,
    seed: int,
    history: Sequence[dict[str, Any]],
    status: str,
) -> None:
    """Write the run's history to ``path`` atomically, as JSON or CSV by its extension.

    JSON holds ``{"config", "seed", "status", "epochs": [...]}``. CSV has one row
    per epoch with the config and seed repeated on every row, so each row stands
    on its own in a spreadsheet or a data frame.
    """
    p = Path(path)
    if p.suffix.lower() == ".csv":
        buf = io.StringIO()
        fixed = {
            "sizes": format_sizes(config.sizes, "-"),
            "seed": seed,
            "train_size": config.train_size,
            "eval_on": config.eval_on,
            "backprop": config.backprop,
        }
        fields = ["epoch", "correct", "total", "accuracy", "train_cost", "eta", "mini_batch_size"]
        fields += ["train_seconds", "eval_seconds"]
        # Epochs of an older run resumed here may lack the newer columns: they stay empty.
        for record in history:
            fields += [k for k in record if k not in fields]
        fields += list(fixed)
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", restval="")
        writer.writeheader()
        for record in history:
            writer.writerow({**record, **fixed})
        text = buf.getvalue()
    else:
        doc = {"config": config.to_dict(), "seed": seed, "status": status, "epochs": list(history)}
        text = json.dumps(doc, indent=2) + "\n"
    with atomic_write(p, "w") as f:
        f.write(text)
