"""``nntui train``: the book's run, headless, with a progress bar on a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from nntui.cli import train_seeds
from nntui.cli.console import EXIT_SIGNAL, DataOption, Output, err_console
from nntui.cli.data import load_data_with_progress
from nntui.cli.signals import stop_on_signals
from nntui.data import cache
from nntui.engine.config import (
    TrainConfig,
    check_memory,
    check_sizes,
    format_sizes,
    parse_hidden,
    parse_sizes,
)
from nntui.engine.errors import ConfigError, ModelFileError
from nntui.engine.events import (
    BatchProgress,
    EpochDone,
    SettingChanged,
    TrainingEvent,
    TrainingFinished,
    TrainingStarted,
)
from nntui.engine.layers import held_back_digits, stuck_output_hint
from nntui.engine.training import Trainer
from nntui.store.metrics import check_metrics_path, check_writable, epoch_record, write_metrics
from nntui.store.model_file import SavedModel, load_model, save_model
from nntui.store.recorder import RunRecorder
from nntui.store.runs import Run, find_model

EXAMPLES = """
Examples:

  nntui train                                  # the book: [784,30,10], eta 3.0, 30 epochs, m=10

  nntui train --hidden 100                     # the book's 100 hidden neurons (96.59%)

  nntui train --eta 0.001 --epochs 5           # too small a learning rate: it crawls

  nntui train --train-size 5000 --epochs 3     # a quick look on a subset

  nntui train --save net.npz --metrics run.csv # keep the model and the history

  nntui train --resume net.npz --epochs 10     # ten more epochs of a saved model

  nntui train --seeds 3 --epochs 10            # seeds 1, 2, 3 side by side: how runs vary

  nntui train --seed-list 1,7,9 --save 'net-{seed}.npz'   # one model file per seed

Every run is also kept in the runs directory ('nntui runs' lists them).
"""


class EvalSet(StrEnum):
    test = "test"
    validation = "validation"


def train(
    ctx: typer.Context,
    sizes: Annotated[
        str | None,
        typer.Option(help="Neurons per layer, input first: 784,30,10 (the book's network)."),
    ] = None,
    hidden: Annotated[
        str | None,
        typer.Option(help="Only the hidden layers, e.g. 30 or 100 or 100,30; 0 for none."),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", "-e", help="Passes over the training set. [book: 30]")
    ] = None,
    mini_batch_size: Annotated[
        int | None,
        typer.Option("--mini-batch-size", "-m", help="Images per gradient step, m. [book: 10]"),
    ] = None,
    eta: Annotated[
        float | None, typer.Option(help="Learning rate eta, greater than 0. [book: 3.0]")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for the initial weights and the shuffles. [random]")
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            help="Train seeds 1..N side by side in one process, each kept as its own run."
        ),
    ] = None,
    seed_list: Annotated[
        str | None,
        typer.Option(help="Train these seeds side by side, e.g. 1,7,9 (like --seeds)."),
    ] = None,
    train_size: Annotated[
        int | None,
        typer.Option(help="Train on the first N of the 50,000 training images. [50000]"),
    ] = None,
    eval_on: Annotated[
        EvalSet | None,
        typer.Option(help="Evaluate each epoch on the test set (as the book does) or validation."),
    ] = None,
    per_sample: Annotated[
        bool,
        typer.Option(
            "--per-sample", help="Use the book's per-sample backprop loop (slow, for comparison)."
        ),
    ] = False,
    save: Annotated[
        Path | None, typer.Option(help="Save the trained network here (.npz), also on Ctrl-C.")
    ] = None,
    metrics: Annotated[
        Path | None,
        typer.Option(help="Write the per-epoch history here, as .json or .csv, also on Ctrl-C."),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Continue a saved model: a .npz file or a run name from 'nntui runs' "
            "(its config unless overridden)."
        ),
    ] = None,
    data: DataOption = None,
) -> None:
    """Train the network headless and print the book's "Epoch j: n / 10000" lines.

    With no options this is Chapter 1's run: Network([784, 30, 10]), 30 epochs,
    mini-batches of 10, eta = 3.0, evaluated on the 10,000 test images. On a
    terminal a progress bar shows each epoch; when piped, only the epoch lines
    are printed. Ctrl-C, SIGTERM or a hang-up (SIGHUP) stop after the current
    mini-batch and still write --save, --metrics and the kept run (exit codes
    130, 143, 129). If stdout is closed (`| head -1`) or full, printing stops
    but training goes on to the end and everything is saved; the exit code is
    1 only if lines were lost to an error (a full disk), 0 for a closed pipe.
    """
    if data is None and isinstance(ctx.obj, dict):
        data = ctx.obj.get("data")
    many = train_seeds.seed_list(seeds, seed_list)
    if many is not None:
        train_seeds.check_many(
            seed=seed, resume=resume, per_sample=per_sample, save=save, metrics=metrics
        )
    plan = _resolve(
        sizes=sizes,
        hidden=hidden,
        overrides={
            "epochs": epochs,
            "mini_batch_size": mini_batch_size,
            "eta": eta,
            "seed": seed,
            "train_size": train_size,
            "eval_on": eval_on.value if eval_on else None,
        },
        per_sample=per_sample,
        save=save if many is None else None,  # checked seed by seed
        metrics=metrics if many is None else None,
        resume=resume,
        data=data,
    )
    if many is not None:
        code = train_seeds.train_many(plan.config, many, save=save, metrics=metrics, data=plan.data)
    else:
        code = _write(plan, _run(plan))
    if code:
        raise typer.Exit(code)


@dataclass
class _Plan:
    """What a run will do, every option checked: the first step of `train`."""

    config: TrainConfig
    saved: SavedModel | None
    save: Path | None
    metrics: Path | None
    resume: Path | None
    data: Path | None


@dataclass
class _Outcome:
    """What a run did: the second step, whose results the third writes out."""

    trainer: Trainer
    records: list[dict[str, Any]]
    finished: TrainingFinished | None
    recorder: RunRecorder
    signum: int | None
    output: Output
    last_epoch: EpochDone | None = None  # for the hint about a stuck output neuron

    @property
    def status(self) -> str:
        return self.finished.status if self.finished else "stopped"


def _resolve(
    *,
    sizes: str | None,
    hidden: str | None,
    overrides: dict[str, Any],
    per_sample: bool,
    save: Path | None,
    metrics: Path | None,
    resume: Path | None,
    data: Path | None,
) -> _Plan:
    """Check every option and the model to resume; raise `NntuiError` before any work."""
    if sizes is not None and hidden is not None:
        raise ConfigError("give --sizes or --hidden, not both")
    layer_sizes = parse_sizes(sizes) if sizes is not None else None
    if hidden is not None:
        layer_sizes = parse_hidden(hidden)
    model_path = find_model(str(resume), warn=Output().warn) if resume is not None else None
    saved = load_model(model_path) if model_path is not None else None
    base = _base_config(saved, layer_sizes, model_path)
    changes: dict[str, Any] = dict(overrides, sizes=layer_sizes)
    changes["backprop"] = "per-sample" if per_sample else None
    if saved is not None and base.backprop == "per-sample" and not per_sample:
        changes["backprop"] = "matrix"
    config = base.with_changes(**{k: v for k, v in changes.items() if v is not None})
    config.validate()
    if warning := check_memory(config):
        Output().warn(warning)
    if save is not None:
        check_writable(save, "model file")
    if metrics is not None:
        check_metrics_path(metrics)
    return _Plan(config, saved, save, metrics, resume, data)


def _run(plan: _Plan) -> _Outcome:
    """Load the data and train, printing as it goes; never raises for a dead stdout."""
    config, saved = plan.config, plan.saved
    dataset = load_data_with_progress(plan.data, err_console)
    trainer_seed = config.seed if config.seed is not None else (saved.seed if saved else None)
    trainer = Trainer(
        dataset,
        config,
        network=saved.network if saved else None,
        seed=trainer_seed,
        first_epoch=saved.epochs_done + 1 if saved else 1,
        # The saved generator only continues the saved seed's shuffles.
        shuffle_state=saved.shuffle_state if saved and saved.seed == trainer_seed else None,
    )
    # A cache whose arrays fail their background checksum stops the run, kept as failed.
    cache.on_damage(dataset, lambda _reason: trainer.fail(cache.DAMAGED))
    records: list[dict[str, Any]] = list(saved.history) if saved else []
    output = Output()
    recorder = RunRecorder(
        config,
        trainer.seed,
        warn=output.warn,
        history=records,
        resumed_from=str(plan.resume) if plan.resume else None,
    )
    out = Console(highlight=False)
    report = _TerminalReport(out, output) if out.is_terminal else _PlainReport(out, output)
    finished: TrainingFinished | None = None
    last_epoch: EpochDone | None = None
    with stop_on_signals(
        trainer.cancel,
        output,
        "\nStopping after this mini-batch (Ctrl-C again to abort, unsaved)...",
    ) as stop:
        try:
            for event in trainer.run():
                report.handle(event)
                recorder.handle(event, trainer.network, trainer.shuffle_state)
                if isinstance(event, EpochDone):
                    records.append(epoch_record(event))
                    last_epoch = event
                elif isinstance(event, TrainingFinished):
                    finished = event
        finally:
            report.close()
            # Whatever ended the loop, the kept run is never left "running".
            recorder.close(trainer.network, shuffle_state=trainer.shuffle_state)
    return _Outcome(trainer, records, finished, recorder, stop.signum, output, last_epoch)


def _write(plan: _Plan, outcome: _Outcome) -> int:
    """Write --save and --metrics, print the summary; return the exit code."""
    trainer, records = outcome.trainer, outcome.records
    code = 0
    saved_to, metrics_to = plan.save, plan.metrics  # the summary names only files written
    if plan.save is not None and not _written(plan.save, "the model", outcome.output, lambda p: (
        save_model(
            p,
            trainer.network,
            config=plan.config,
            seed=trainer.seed,
            history=records,
            shuffle_state=trainer.shuffle_state,
        )
    )):  # fmt: skip
        code, saved_to = 1, None
    if plan.metrics is not None and not _written(plan.metrics, "the metrics", outcome.output, (
        lambda p: write_metrics(
            p, config=plan.config, seed=trainer.seed, history=records, status=outcome.status
        )
    )):  # fmt: skip
        code, metrics_to = 1, None
    run = outcome.recorder.run
    with outcome.output.on_stderr():
        _summary(plan.config, trainer.seed, records, outcome.finished, saved_to, metrics_to, run)
    last = outcome.last_epoch
    if last is not None:
        missing = held_back_digits(last.predictions, trainer.eval_set.labels)
        hint = stuck_output_hint(missing, last.epoch)
        if hint:
            outcome.output.note(hint)
    if outcome.signum is not None:
        return EXIT_SIGNAL.get(outcome.signum, 1)
    if code or outcome.output.lost or outcome.status in ("diverged", "failed"):
        return 1
    return 0


def _written(path: Path, what: str, output: Output, write: Callable[[Path], None]) -> bool:
    """A full disk or a vanished directory: say so in one line, leave no partial file."""
    try:
        write(path)
    except OSError as exc:
        output.error(f"could not write {what} to {path}: {exc.strerror or exc}")
        return False
    return True


def _base_config(
    saved: SavedModel | None, layer_sizes: tuple[int, ...] | None, path: Path | None
) -> TrainConfig:
    if saved is None:
        return TrainConfig()
    net_sizes = tuple(saved.network.sizes)
    try:  # a network of another architecture (say 4 inputs) cannot learn MNIST
        check_sizes(net_sizes)
    except ConfigError as exc:
        raise ModelFileError(f"{path}: cannot train this network on MNIST: {exc}") from None
    if layer_sizes is not None and layer_sizes != net_sizes:
        raise ConfigError(
            f"the saved model has layer sizes {format_sizes(net_sizes)}; "
            "--sizes/--hidden cannot change them when resuming"
        )
    return (saved.config or TrainConfig()).with_changes(sizes=net_sizes)


class _PlainReport:
    """Piped output: the book's lines on stdout, nothing that animates."""

    def __init__(self, out: Console, output: Output) -> None:
        self.out = out
        self.output = output

    def handle(self, event: TrainingEvent) -> None:
        if isinstance(event, TrainingStarted):
            with self.output.on_stderr():
                _describe_start(event)
        elif isinstance(event, EpochDone):
            self.output.line(event.book_line())
        elif isinstance(event, SettingChanged):
            self.output.note(f"{event.name} changed from {event.old:g} to {event.new:g}")
        elif isinstance(event, TrainingFinished) and event.status in ("diverged", "failed"):
            self.output.error(event.message)

    def close(self) -> None:
        pass


class _TerminalReport(_PlainReport):
    """On a terminal: a Rich progress bar per epoch, the book's lines above it."""

    def __init__(self, out: Console, output: Output) -> None:
        super().__init__(out, output)
        self.progress = Progress(
            TextColumn("[bold]Epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[speed]} img/s"),
            TextColumn("cost {task.fields[cost]}"),
            TimeRemainingColumn(),
            console=out,
            transient=True,
        )
        self.task: Any = None

    def handle(self, event: TrainingEvent) -> None:
        if self.output.stdout_error is not None or self.output.hung_up:
            self.close()
            super().handle(event)  # the epoch lines are dropped; warnings still show
            return
        with self.output.on_stdout():
            self._draw(event)

    def _draw(self, event: TrainingEvent) -> None:
        if isinstance(event, TrainingStarted):
            with self.output.on_stderr():
                _describe_start(event)
            self.progress.start()
            self.task = self.progress.add_task(
                "train", total=event.train_size, epoch="", speed="-", cost="-"
            )
        elif isinstance(event, BatchProgress):
            self.progress.update(
                self.task,
                completed=event.images_done,
                epoch=f"{event.epoch}/{event.epochs}",
                speed=f"{event.images_per_second:,.0f}",
                cost=f"{event.running_cost:.4f}",
            )
        elif isinstance(event, EpochDone):
            self.progress.console.print(
                f"{event.book_line()}  [dim]{100 * event.accuracy:6.2f}%  "
                f"cost {event.train_cost:.4f}  {event.train_seconds:.2f} s[/dim]"
            )
            self.progress.reset(self.task, total=self.progress.tasks[0].total)
        elif isinstance(event, SettingChanged):
            self.progress.console.print(f"{event.name} changed from {event.old:g} to {event.new:g}")
        elif isinstance(event, TrainingFinished):
            self.close()
            if event.status in ("diverged", "failed"):
                self.output.error(event.message)

    def close(self) -> None:
        with contextlib.suppress(OSError), self.output.on_stderr():
            self.progress.stop()


def _describe_start(event: TrainingStarted) -> None:
    c = event.config
    resumed = f", resuming at epoch {event.first_epoch}" if event.first_epoch > 1 else ""
    err_console.print(
        f"Network({list(c.sizes)}): eta {c.eta:g}, mini-batch {c.mini_batch_size}, "
        f"{_epochs(c.epochs)}, {event.train_size:,} training images, "
        f"{c.eval_on} set of {event.eval_size:,}, {c.backprop} backprop, "
        f"seed {event.seed}{resumed}",
        markup=False,
        soft_wrap=True,
    )


def _summary(
    config: TrainConfig,
    seed: int,
    records: list[dict[str, Any]],
    finished: TrainingFinished | None,
    save: Path | None,
    metrics: Path | None,
    run: Run | None,
) -> None:
    table = Table(title="Summary", show_header=False, box=None, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    status: str = finished.status if finished else "stopped"
    if finished is not None and status == "failed":
        status = f"failed: {finished.message}"
    table.add_row("status", status)
    if records:
        best = max(records, key=lambda r: r["correct"])
        last = records[-1]
        share = f"{100 * best['accuracy']:.2f}%"
        table.add_row(
            "best", f"{best['correct']} / {best['total']} ({share}), epoch {best['epoch']}"
        )
        table.add_row("last", f"{last['correct']} / {last['total']}, epoch {last['epoch']}")
        if last.get("train_accuracy") is not None:
            table.add_row(
                "training accuracy",
                f"{100 * last['train_accuracy']:.2f}% on {last['train_total']:,} training images, "
                f"epoch {last['epoch']}",
            )
        seconds = sum(r["train_seconds"] for r in records)
        table.add_row("training time", f"{seconds:.1f} s for {_epochs(len(records))}")
    else:
        table.add_row("epochs", "none completed")
    table.add_row("seed", f"{seed} (repeat with --seed {seed})")
    if save is not None:
        table.add_row("model", str(save))
    if metrics is not None:
        table.add_row("metrics", str(metrics))
    if run is not None:
        table.add_row("run", f"{run.name} (see 'nntui runs')")
    err_console.print(table)


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"
