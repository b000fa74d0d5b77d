"""The experiments of Chapter 1, rerun with nntui's Trainer next to the book's figures.

Every run is the book's ``net.SGD(training_data, 30, 10, eta, test_data=test_data)``:
30 epochs over the 50,000 training images, mini-batches of 10, accuracy on
the 10,000 test images after each epoch. Each experiment runs once per seed;
the table reports the best peak over the seeds (the book's 95.42% is the best
of three runs) and lists every seed's peak.

nntui counts epochs from 1, the book from 0: the book's "Epoch 28" is epoch 29 here.

    python benchmarks/book.py --data /path/to/mnist.pkl.gz [--quick] [--seeds 1,2,3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import _common

from nntui.engine.config import TrainConfig, format_sizes
from nntui.engine.dataset import MnistData
from nntui.engine.events import EpochDone, TrainingFinished
from nntui.engine.training import Trainer


@dataclass(frozen=True)
class Experiment:
    sizes: tuple[int, ...]
    eta: float
    book: str  # what the chapter reports, in its words and numbers

    @property
    def name(self) -> str:
        return f"[{format_sizes(self.sizes)}], eta {self.eta:g}"


# Chapter 1, "Implementing our network to classify digits". All: 30 epochs, m = 10.
EXPERIMENTS = (
    Experiment((784, 30, 10), 3.0, "95.42% (9542 at its Epoch 28; best of 3 runs)"),
    Experiment((784, 100, 10), 3.0, "96.59%"),
    Experiment((784, 100, 10), 0.001, "21.42% at its Epoch 29 (1139 at Epoch 0), still rising"),
    Experiment((784, 30, 10), 100.0, "10.09% at Epoch 0, 9.82% at Epoch 29"),
    Experiment((784, 10), 3.0, "none: the exercise asks what you get"),
)


@dataclass(frozen=True)
class Run:
    experiment: Experiment
    seed: int
    correct: tuple[int, ...]  # test images right after each epoch
    total: int
    status: str  # how TrainingFinished ended it: "completed" or "diverged"
    seconds: float  # wall time, evaluation included
    train_seconds: float

    @property
    def peak(self) -> int:
        return max(self.correct, default=0)

    @property
    def peak_epoch(self) -> int:
        return self.correct.index(self.peak) + 1 if self.correct else 0


def run(data: MnistData, experiment: Experiment, seed: int, epochs: int, verbose: bool) -> Run:
    config = TrainConfig(experiment.sizes, epochs, 10, experiment.eta, seed, eval_on="test")
    start = time.perf_counter()
    correct, total, train_seconds, status = [], 0, 0.0, "completed"
    for event in Trainer(data, config).run():
        if isinstance(event, EpochDone):
            correct.append(event.correct)
            total = event.total
            train_seconds += event.train_seconds
            if verbose:
                print(f"    {event.book_line()}", flush=True)
        elif isinstance(event, TrainingFinished):
            status = event.status
    return Run(
        experiment,
        seed,
        tuple(correct),
        total,
        status,
        time.perf_counter() - start,
        train_seconds,
    )


def percent(correct: int, total: int) -> str:
    return f"{100 * correct / total:.2f}%" if total else "-"


def peak_note(r: Run) -> str:
    note = f"seed {r.seed}" if r.status == "completed" else f"seed {r.seed}, {r.status}"
    return f"{percent(r.peak, r.total)} ({note})"


def table(runs: list[Run], epochs: int) -> list[str]:
    lines = [
        f"| experiment ({epochs} epochs, m = 10) | book | nntui best peak | epoch of peak "
        "| peak per seed | last epoch, best seed | seconds per run |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for experiment in EXPERIMENTS:
        mine = [r for r in runs if r.experiment == experiment]
        if not mine:
            continue
        best = max(mine, key=lambda r: r.peak)
        seeds = ", ".join(peak_note(r) for r in mine)
        last = percent(best.correct[-1], best.total) if best.correct else "-"
        seconds = sum(r.seconds for r in mine) / len(mine)
        lines.append(
            f"| {experiment.name} | {experiment.book} | {percent(best.peak, best.total)} "
            f"| {best.peak_epoch} | {seeds} | {last} | {seconds:.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_data_option(parser)
    parser.add_argument(
        "--seeds", default=None, help="comma-separated seeds (default 1,2,3; with --quick, 1)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs per run (default 30; with --quick, 3)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke check: 3 epochs, one seed")
    # One thread, like the dashboard: on a small machine that is doing anything else,
    # OpenBLAS's second thread waits for a core and an epoch can take ten times as long.
    _common.add_threads_option(parser, default=1)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every epoch")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in (args.seeds or ("1" if args.quick else "1,2,3")).split(",")]
    except ValueError:
        parser.error(f"--seeds must be whole numbers separated by commas, got {args.seeds!r}")
    epochs = args.epochs or (3 if args.quick else 30)
    if epochs < 1:
        parser.error(f"--epochs must be at least 1, got {epochs}")

    wall = time.perf_counter()
    data, source = _common.load_data(args.data)
    runs: list[Run] = []
    with _common.blas_threads(args.threads):
        _common.print_environment(source, args.threads, show_threads=True)
        print(f"{len(EXPERIMENTS)} experiments x seeds {seeds} x {epochs} epochs\n")
        try:
            for experiment in EXPERIMENTS:
                for seed in seeds:
                    print(f"  {experiment.name}, seed {seed}", flush=True)
                    r = run(data, experiment, seed, epochs, args.verbose)
                    runs.append(r)
                    print(
                        f"    peak {r.peak} / {r.total} ({percent(r.peak, r.total)}) "
                        f"at epoch {r.peak_epoch}, last {r.correct[-1] if r.correct else '-'}, "
                        f"{r.status}; {r.seconds:.1f} s ({r.train_seconds:.1f} s training)",
                        flush=True,
                    )
        except KeyboardInterrupt:
            print("\ninterrupted: the table has the runs that finished", file=sys.stderr)
    print()
    print("\n".join(table(runs, epochs)))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal wall time {time.perf_counter() - wall:.0f} s; load average at the end {load}")
    return 0 if len(runs) == len(EXPERIMENTS) * len(seeds) else 130


if __name__ == "__main__":
    sys.exit(main())
