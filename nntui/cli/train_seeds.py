"""``nntui train --seeds N`` / ``--seed-list 1,7,9``: several seeds side by side, one process.

The book notes that runs vary from one random initialisation to the next; this
shows it in one command. The seeds train together in one stack
(`nntui.engine.stacked`), which on one core takes less time than training them
one after another, and each seed is still a run of its own: its own ``Epoch j``
lines, its own kept run, its own ``--save``/``--metrics`` file when the path
holds ``{seed}``. A summary of the spread ends it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from nntui.cli.console import EXIT_SIGNAL, Output, err_console
from nntui.cli.data import load_data_with_progress
from nntui.cli.signals import stop_on_signals
from nntui.engine.config import TrainConfig
from nntui.engine.errors import ConfigError
from nntui.engine.events import EpochDone, SettingChanged, TrainingFinished, TrainingStarted
from nntui.engine.layers import held_back_digits, stuck_output_hint
from nntui.engine.stacked import StackedTrainer
from nntui.engine.training import Trainer
from nntui.store.metrics import check_metrics_path, check_writable, epoch_record, write_metrics
from nntui.store.model_file import save_model
from nntui.store.recorder import RunRecorder

PLACEHOLDER = "{seed}"
# More seeds than this in one process is a sweep's job (and a typo's worth of memory).
MAX_SEEDS = 64


def seed_list(seeds: int | None, listed: str | None) -> list[int] | None:
    """The seeds asked for by --seeds N (1..N) or --seed-list, or None for neither."""
    if seeds is None and listed is None:
        return None
    if seeds is not None and listed is not None:
        raise ConfigError("give --seeds or --seed-list, not both")
    if listed is not None:
        from nntui.sweep.grid import parse_axis, parse_seed_item  # no Dask: grid is plain

        values = parse_axis(listed, "--seed-list", "like 1,7,9", parse_seed_item)
    else:
        assert seeds is not None
        if seeds < 1:
            raise ConfigError(f"--seeds must be 1 or more (seeds 1..N), got {seeds}")
        values = list(range(1, seeds + 1))
    if len(values) > MAX_SEEDS:
        raise ConfigError(
            f"{len(values)} seeds is more than {MAX_SEEDS} in one process; use 'nntui sweep'"
        )
    return values


def check_many(
    *,
    seed: int | None,
    resume: Path | None,
    per_sample: bool,
    save: Path | None,
    metrics: Path | None,
) -> None:
    """Refuse, in one line, what several seeds at once cannot do."""
    if seed is not None:
        raise ConfigError("--seed is one seed: give --seeds or --seed-list instead, not both")
    if resume is not None:
        raise ConfigError("--resume continues one run: it cannot be used with several seeds")
    if per_sample:
        raise ConfigError(
            "--per-sample cannot be used with several seeds (they train as one stack, by matrix)"
        )
    for path, option in ((save, "--save"), (metrics, "--metrics")):
        if path is not None and PLACEHOLDER not in str(path):
            raise ConfigError(
                f"{option} {path}: with several seeds the path must hold {PLACEHOLDER}, "
                f"like net-{PLACEHOLDER}.npz, so that each seed gets its own file"
            )


def for_seed(path: Path | None, seed: int) -> Path | None:
    return Path(str(path).replace(PLACEHOLDER, str(seed))) if path is not None else None


@dataclass
class _SeedRun:
    seed: int
    trainer: Trainer
    recorder: RunRecorder
    records: list[dict[str, Any]] = field(default_factory=list)
    finished: TrainingFinished | None = None
    last_epoch: EpochDone | None = None

    @property
    def status(self) -> str:
        return self.finished.status if self.finished else "stopped"


def train_many(
    config: TrainConfig,
    seeds: list[int],
    *,
    save: Path | None,
    metrics: Path | None,
    data: Path | None,
) -> int:
    """Train ``config`` once per seed, stacked; print, save and keep each. The exit code."""
    for s in seeds:
        if save is not None:
            check_writable(for_seed(save, s), "model file")  # type: ignore[arg-type]
        if metrics is not None:
            check_metrics_path(for_seed(metrics, s))  # type: ignore[arg-type]
    dataset = load_data_with_progress(data, err_console)
    output = Output()
    runs: list[_SeedRun] = []
    for s in seeds:
        c = config.with_changes(seed=s)
        trainer = Trainer(dataset, c, seed=s)
        runs.append(_SeedRun(s, trainer, RunRecorder(c, s, warn=output.warn, history=[])))
    stack = StackedTrainer([r.trainer for r in runs])

    def stop() -> None:
        for r in runs:
            r.trainer.cancel()

    note = "\nStopping every seed after this mini-batch (Ctrl-C again to abort, unsaved)..."
    started = False
    with stop_on_signals(stop, output, note) as stopped:
        try:
            for i, event in stack.run():
                r = runs[i]
                r.recorder.handle(event, r.trainer.network, r.trainer.shuffle_state)
                if isinstance(event, TrainingStarted) and not started:
                    started = True
                    with output.on_stderr():
                        _describe_start(event, seeds)
                elif isinstance(event, EpochDone):
                    r.records.append(epoch_record(event))
                    r.last_epoch = event
                    output.line(f"{event.book_line()}  seed {r.seed}")
                elif isinstance(event, SettingChanged):
                    output.note(
                        f"seed {r.seed}: {event.name} changed from {event.old:g} to {event.new:g}"
                    )
                elif isinstance(event, TrainingFinished):
                    r.finished = event
                    if event.status == "diverged":
                        output.error(f"seed {r.seed}: {event.message}")
        finally:
            for r in runs:
                r.recorder.close(r.trainer.network, shuffle_state=r.trainer.shuffle_state)
    code = 0
    for r in runs:
        if not _write_files(r, config, save, metrics, output):
            code = 1
    with output.on_stderr():
        _summary(runs, save, metrics)
    hints = _stuck(runs)
    if hints:
        output.note(hints)
    if stopped.signum is not None:
        return EXIT_SIGNAL.get(stopped.signum, 1)
    if code or output.lost or any(r.status == "diverged" for r in runs):
        return 1
    return 0


def _write_files(
    r: _SeedRun, config: TrainConfig, save: Path | None, metrics: Path | None, output: Output
) -> bool:
    ok = True
    c = config.with_changes(seed=r.seed)
    path = for_seed(save, r.seed)
    if path is not None:
        try:
            save_model(
                path,
                r.trainer.network,
                config=c,
                seed=r.seed,
                history=r.records,
                shuffle_state=r.trainer.shuffle_state,
            )
        except OSError as exc:
            output.error(f"could not write the model to {path}: {exc.strerror or exc}")
            ok = False
    path = for_seed(metrics, r.seed)
    if path is not None:
        try:
            write_metrics(path, config=c, seed=r.seed, history=r.records, status=r.status)
        except OSError as exc:
            output.error(f"could not write the metrics to {path}: {exc.strerror or exc}")
            ok = False
    return ok


def _describe_start(event: TrainingStarted, seeds: list[int]) -> None:
    c = event.config
    err_console.print(
        f"Network({list(c.sizes)}): eta {c.eta:g}, mini-batch {c.mini_batch_size}, "
        f"{c.epochs} epoch{'s' if c.epochs != 1 else ''}, {event.train_size:,} training images, "
        f"{c.eval_on} set of {event.eval_size:,}, seeds {', '.join(map(str, seeds))} "
        "side by side",
        markup=False,
        soft_wrap=True,
    )


def spread(best: list[int]) -> tuple[int, float, int]:
    """(min, median, max) of the seeds' best counts."""
    return min(best), statistics.median(best), max(best)


def _summary(runs: list[_SeedRun], save: Path | None, metrics: Path | None) -> None:
    table = Table(title="Seeds", box=None, title_justify="left")
    for name in ("seed", "status", "best", "epoch", "last", "run"):
        table.add_column(name, justify="right" if name in ("seed", "epoch") else "left")
    best_counts: list[int] = []
    total = 0
    for r in runs:
        run = r.recorder.run
        if r.records:
            best = max(r.records, key=lambda rec: rec["correct"])
            last = r.records[-1]
            best_counts.append(best["correct"])
            total = best["total"]
            table.add_row(
                str(r.seed),
                r.status,
                f"{best['correct']} / {best['total']}",
                str(best["epoch"]),
                f"{last['correct']}",
                run.name if run else "-",
            )
        else:
            table.add_row(str(r.seed), r.status, "-", "-", "-", run.name if run else "-")
    err_console.print(table)
    if best_counts:
        low, mid, high = spread(best_counts)
        err_console.print(
            f"best over {len(best_counts)} seed{'s' if len(best_counts) != 1 else ''}: "
            f"min {low} / median {mid:g} / max {high} (of {total}); "
            f"a spread of {high - low} images",
            markup=False,
        )
    if save is not None:
        err_console.print(f"models: {save}", markup=False)
    if metrics is not None:
        err_console.print(f"metrics: {metrics}", markup=False)


def _stuck(runs: list[_SeedRun]) -> str | None:
    """The seeds whose last epoch has a stuck output neuron, with the usual hint."""
    lines = []
    for r in runs:
        last = r.last_epoch
        if last is None:
            continue
        missing = held_back_digits(last.predictions, r.trainer.eval_set.labels)
        hint = stuck_output_hint(missing, last.epoch)
        if hint:
            lines.append(f"seed {r.seed}: {hint}")
    return "\n".join(lines) if lines else None
