"""The book's session on nntui's ``network`` module against the book's own algorithm.

For each seed: ``random.seed(s); np.random.seed(s)``, then the chapter's call
``net.SGD(training_data, EPOCHS, 10, 3.0, test_data=test_data)`` on [784, 30, 10],
once with `nntui.book.network` and once with a Python 3 reading of the book's
network.py (tests/book_reference.py: per-sample backprop, float64), each on its
own copy of the same training list. Printed: both runs' ``Epoch j`` lines and
how far apart they are (the issue asks for at most 10 images per line over the
first 3 epochs), each call's wall time (conversion and evaluation included; nntui's
call runs before and after the book's, and the mean of the two is timed)
and their ratio, and where nntui's time goes (conversion, shuffles, mini-batches,
evaluation). The two calls alternate, so load from elsewhere hits both alike.

``--control`` also runs the book's algorithm a second time with the sigmoid
written as (1 + tanh(z/2)) / 2: the same function, rounded differently in the
last bit. How far its lines land from the book's shows how far any float64
implementation that is not bit-for-bit the book's can be expected to land.

    python benchmarks/book_api.py --data /path/to/mnist.pkl.gz [--seeds 1,2] [--epochs 3]
        [--dtype float32] [--threads 1] [--control] [--exact]

``--exact`` also runs ``SGD(..., exact=True)`` (the book's per-sample roundings,
`nntui.engine.exact`) for each seed: its lines, their gaps from the book's (0
when it is bit for bit the book's run), its CPU time and its ratio to the book's.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
from contextlib import redirect_stdout
from dataclasses import dataclass

import _common
import numpy as np

import tests.book_reference as reference
from nntui.book import mnist_loader, network
from nntui.book.network import BookRun, _mini_batches
from nntui.book.pairs import labelled_arrays, training_images
from tests.book_reference import BookNetwork

SIZES = [784, 30, 10]
M, ETA = 10, 3.0


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds on the clock
    cpu: float  # seconds of this process's CPU: with one BLAS thread, what load elsewhere spares

    def __add__(self, other: Timing) -> Timing:
        return Timing(self.wall + other.wall, self.cpu + other.cpu)

    def __truediv__(self, k: float) -> Timing:
        return Timing(self.wall / k, self.cpu / k)


def timed_call(
    make: type,
    seed: int,
    training: list,
    test: list,
    epochs: int,
    sgd: dict[str, object] | None = None,
    **kw: object,
) -> tuple[list[str], Timing]:
    random.seed(seed)
    np.random.seed(seed)
    net = make(SIZES, **kw)
    data = list(training)  # each run shuffles its own copy, from the same order
    out = io.StringIO()
    wall, cpu = time.perf_counter(), time.process_time()
    with redirect_stdout(out):
        net.SGD(data, epochs, M, ETA, test_data=test, **(sgd or {}))
    spent = Timing(time.perf_counter() - wall, time.process_time() - cpu)
    return out.getvalue().splitlines(), spent


class TanhBookNetwork(BookNetwork):
    """The book's algorithm with sigma rounded differently: the control run."""

    def SGD(self, *args: object, **kw: object) -> None:  # type: ignore[override]
        exp_form = reference.sigmoid
        reference.sigmoid = lambda z: 0.5 + 0.5 * np.tanh(0.5 * z)
        try:
            super().SGD(*args, **kw)  # type: ignore[arg-type]
        finally:
            reference.sigmoid = exp_form


def gaps(a: list[str], b: list[str]) -> list[int]:
    return [abs(int(x.split()[2]) - int(y.split()[2])) for x, y in zip(a, b, strict=True)]


def breakdown(training: list, test: list, epochs: int, dtype: type) -> dict[str, float]:
    """CPU seconds in each part of an nntui ``SGD`` call, measured piece by piece."""
    clock = time.process_time
    net = network.Network(SIZES, dtype=dtype)
    parts = dict.fromkeys(("convert", "shuffle", "gather", "kernel", "evaluate"), 0.0)
    t = clock()
    x, rows, y = training_images(training, 784, 10, net.dtype)
    tests = labelled_arrays(test, 784, 10, "test_data")
    parts["convert"] = clock() - t
    run = BookRun(net, list(training), x, y, M, ETA, tests, rows)
    update = net.engine.update_mini_batch_with_ones
    for _ in range(epochs):
        t = clock()
        order = run.shuffle()
        parts["shuffle"] += clock() - t
        batches = _mini_batches(order, x, y, M, net.dtype, rows)
        while True:
            t = clock()
            batch = next(batches, None)
            t2 = clock()
            parts["gather"] += t2 - t
            if batch is None:
                break
            update(batch[0].T, batch[1].T, ETA, keep_gradients=False)  # as SGD does
            parts["kernel"] += clock() - t2
        t = clock()
        run.correct()
        parts["evaluate"] += clock() - t
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_data_option(parser)
    _common.add_threads_option(parser)
    parser.add_argument("--seeds", default="1", help="comma-separated seeds (default 1)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument(
        "--control", action="store_true", help="also the book vs itself, tanh sigma"
    )
    parser.add_argument(
        "--exact", action="store_true", help="also SGD(..., exact=True): the book's roundings"
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    dtype = np.float64 if args.dtype == "float64" else np.float32
    t = time.perf_counter()
    training, _, test = mnist_loader.load_data_wrapper(args.data)
    print(f"load_data_wrapper: {time.perf_counter() - t:.2f} s, {len(training):,} training pairs")
    # The loader's arrays are memory-mapped: read every image once, so that no timed call
    # pays for paging the file in (the book's loader holds the data in memory), and warm
    # both code paths up on a slice.
    pages = sum(float(x.sum()) for x, _ in training)
    timed_call(network.Network, 0, training[:2000], test[:100], 1, dtype=dtype)
    timed_call(BookNetwork, 0, training[:200], test[:100], 1)
    if args.exact:
        timed_call(network.Network, 0, training[:2000], test[:100], 1, {"exact": True})
    print(f"data read once (checksum {pages:.0f}), both calls warmed up on a slice")
    ratios, wall_ratios, worst = [], [], 0
    exact_ratios: list[float] = []
    exact_worst = 0
    with _common.blas_threads(args.threads):
        for line in _common.environment_lines():
            print(line)
        for seed in seeds:
            ours, t_ours = timed_call(
                network.Network, seed, training, test, args.epochs, dtype=dtype
            )
            book, t_book = timed_call(BookNetwork, seed, training, test, args.epochs)
            # Again after the book's run, so that both bracket it: the mean of the two is timed.
            _, t_again = timed_call(network.Network, seed, training, test, args.epochs, dtype=dtype)
            t_before = t_ours
            t_ours = (t_ours + t_again) / 2
            ratios.append(t_book.cpu / t_ours.cpu)
            wall_ratios.append(t_book.wall / t_ours.wall)
            print(f"\nseed {seed}: nntui {args.dtype} | book's algorithm (float64) | gap")
            for a, b, gap in zip(ours, book, gaps(ours, book), strict=True):
                print(f"  {a:<24} | {b:<24} | {gap}")
            worst = max(worst, *gaps(ours, book))
            if args.control:
                control, _ = timed_call(TanhBookNetwork, seed, training, test, args.epochs)
                print(
                    f"  control, the book's with tanh sigma: {control}, gaps {gaps(control, book)}"
                )
            print(
                f"  CPU time: nntui {t_ours.cpu:.2f} s, book {t_book.cpu:.2f} s: "
                f"{t_book.cpu / t_ours.cpu:.1f}x; wall: nntui {t_ours.wall:.2f} s, "
                f"book {t_book.wall:.2f} s: {t_book.wall / t_ours.wall:.1f}x "
                f"(nntui's CPU before and after the book's: {t_before.cpu:.2f} s, "
                f"{t_again.cpu:.2f} s)"
            )
            if args.exact:
                exact, t_exact = timed_call(
                    network.Network, seed, training, test, args.epochs, {"exact": True}
                )
                exact_gaps = gaps(exact, book)
                exact_worst = max(exact_worst, *exact_gaps)
                exact_ratios.append(t_book.cpu / t_exact.cpu)
                same = "the same lines" if exact == book else "DIFFERENT lines"
                print(
                    f"  exact=True: {exact}, gaps {exact_gaps} ({same} as the book's); "
                    f"CPU {t_exact.cpu:.2f} s: {t_book.cpu / t_exact.cpu:.1f}x faster than "
                    f"the book, wall {t_exact.wall:.2f} s"
                )
        parts = breakdown(training, test, args.epochs, dtype)
    total = sum(parts.values())
    print(f"\nnntui's {args.epochs}-epoch call, piece by piece ({total:.2f} s of CPU):")
    for name, seconds in parts.items():
        print(f"  {name:<9} {seconds:6.2f} s  {100 * seconds / total:4.1f}%")
    print(
        f"\nspeed-up over the book's algorithm ({args.dtype}), in CPU time: "
        f"{min(ratios):.1f}x to {max(ratios):.1f}x (median {statistics.median(ratios):.1f}x); "
        f"wall: {min(wall_ratios):.1f}x to {max(wall_ratios):.1f}x. "
        f"Largest gap between the two runs' lines: {worst} images"
    )
    if exact_ratios:
        print(
            f"exact=True over the book's algorithm, in CPU time: {min(exact_ratios):.1f}x to "
            f"{max(exact_ratios):.1f}x (median {statistics.median(exact_ratios):.1f}x); "
            f"largest gap from the book's lines: {exact_worst} images"
        )


if __name__ == "__main__":
    main()
