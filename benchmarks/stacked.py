"""Seconds per network-epoch of stacked training against K, on one core.

For each book shape, [784, 30, 10] and [784, 100, 10] (m = 10, eta 3), a lone
`Trainer.run` and `StackedTrainer` stacks of K = 1, 2, 4, 8, 16 networks (seeds
1..K) train ``--repeats`` timed epochs after one warm-up; the cases take turns
epoch by epoch, so load from elsewhere hits them alike. A stack's epoch time is
its ``train_seconds`` (evaluation not counted, as in benchmarks/speed.py),
divided by K; the thread's CPU time over the same stretch is shown too, since
other processes on a shared machine disturb it less. The table shows the best
epoch of each case, and the ratio to the lone run
(targets at K = 8: <= 0.6x for [784, 30, 10], <= 0.75x for [784, 100, 10]).

    python benchmarks/stacked.py --data /path/to/mnist.pkl.gz [--images 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator

import _common

from nntui.engine.config import TrainConfig, format_sizes
from nntui.engine.dataset import MnistData
from nntui.engine.events import BatchProgress, EpochDone, TrainingEvent
from nntui.engine.stacked import StackedTrainer
from nntui.engine.training import Trainer

NETWORKS = ((784, 30, 10), (784, 100, 10))
STACKS = (1, 2, 4, 8, 16)
M = 10
ETA = 3.0


def _cpu_per_epoch(
    events: Iterator[tuple[int, TrainingEvent]], k: int, n: int
) -> Iterator[tuple[float, float]]:
    """(wall, CPU) seconds per network-epoch, scaled to 50,000 images.

    Wall is the events' ``train_seconds``. CPU is this thread's CPU time from the
    end of one epoch's evaluations to the end of the next epoch's training, which
    other processes on a shared machine disturb much less (they still share caches).
    """
    cpu_start = time.thread_time()
    cpu_end = cpu_start
    finished = done = 0
    for _, event in events:
        if isinstance(event, BatchProgress) and event.images_done == event.images_total:
            finished += 1
            if finished == k:
                cpu_end = time.thread_time()
        elif isinstance(event, EpochDone):
            done += 1
            if done == k:
                scale = 50_000 / n / k
                yield event.train_seconds * scale * k / k, (cpu_end - cpu_start) * scale
                cpu_start = time.thread_time()
                finished = done = 0


def lone(
    data: MnistData, sizes: tuple[int, ...], epochs: int, n: int
) -> Iterator[tuple[float, float]]:
    """A lone Trainer.run."""
    config = TrainConfig(sizes, epochs, M, ETA, 1, n, "test")
    trainer = Trainer(data, config, progress_every=10**9)
    return _cpu_per_epoch(((0, e) for e in trainer.run()), 1, n)


def stacked(
    data: MnistData, sizes: tuple[int, ...], epochs: int, n: int, k: int
) -> Iterator[tuple[float, float]]:
    """K networks in one stack (seeds 1..K); the wall time is the stack's, over K."""
    config = TrainConfig(sizes, epochs, M, ETA, 1, n, "test")
    trainers = [Trainer(data, config, seed=seed, progress_every=10**9) for seed in range(1, k + 1)]
    return _cpu_per_epoch(StackedTrainer(trainers).run(), k, n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_data_option(parser)
    _common.add_threads_option(parser, default=1)
    parser.add_argument("--images", type=int, default=50_000, help="training images an epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per case (best)")
    parser.add_argument(
        "--stacks", default=",".join(map(str, STACKS)), help="the K to measure, e.g. 1,8"
    )
    args = parser.parse_args(argv)
    ks = [int(k) for k in args.stacks.split(",")]
    if not 1 <= args.images <= 50_000 or args.repeats < 1 or min(ks) < 1:
        parser.error("--images must be 1..50000, --repeats and every K at least 1")
    wall = time.perf_counter()
    data, source = _common.load_data(args.data)
    with _common.blas_threads(args.threads):
        for line in _common.environment_lines():
            print(line)
        print(f"data: {source}; {args.images:,} images an epoch, scaled to 50,000")
        print(f"BLAS threads: {args.threads or 'library default'} (--threads)")
        print(f"seconds per network-epoch; best of {args.repeats} after one warm-up epoch")
        cases: dict[tuple[tuple[int, ...], str], Iterator[tuple[float, float]]] = {}
        for sizes in NETWORKS:
            cases[sizes, "lone"] = lone(data, sizes, 1 + args.repeats, args.images)
            for k in ks:
                cases[sizes, f"K={k}"] = stacked(data, sizes, 1 + args.repeats, args.images, k)
        wall_s: dict[tuple[tuple[int, ...], str], list[float]] = {c: [] for c in cases}
        cpu_s: dict[tuple[tuple[int, ...], str], list[float]] = {c: [] for c in cases}
        for round_ in range(1 + args.repeats):
            for case, timer in cases.items():
                wall_t, cpu_t = next(timer)
                if round_:
                    wall_s[case].append(wall_t)
                    cpu_s[case].append(cpu_t)
            print(f"  round {round_}/{args.repeats} done, {time.perf_counter() - wall:.0f} s")
    print()
    for (sizes, name), ts in wall_s.items():
        each = " ".join(f"{t:.3f}" for t in ts)
        cpu = " ".join(f"{t:.3f}" for t in cpu_s[sizes, name])
        print(f"  [{format_sizes(sizes)}] {name:<6} wall {each}  cpu {cpu}")
    print()
    head = " | ".join(f"[{format_sizes(s)}] wall | ratio | CPU | ratio" for s in NETWORKS)
    print(f"| case | {head} |")
    print("|---|" + "---:|---:|---:|---:|" * len(NETWORKS))
    for name in ["lone", *(f"K={k}" for k in ks)]:
        cells = []
        for sizes in NETWORKS:
            for table in (wall_s, cpu_s):
                best = min(table[sizes, name])
                cells.append(f"{best:.3f} | {best / min(table[sizes, 'lone']):.2f}x")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if 8 in ks:
        for sizes, target in zip(NETWORKS, (0.6, 0.75), strict=True):
            for label, table in (("wall", wall_s), ("CPU", cpu_s)):
                r = min(table[sizes, "K=8"]) / min(table[sizes, "lone"])
                verdict = "met" if r <= target else "**missed**"
                print(
                    f"K = 8, [{format_sizes(sizes)}], {label}: {r:.2f}x of lone, "
                    f"target <= {target}: {verdict}"
                )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal wall time {time.perf_counter() - wall:.0f} s; load average at the end {load}")


if __name__ == "__main__":
    main()
