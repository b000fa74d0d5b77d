"""Seconds per training epoch of the Chapter 1 network, four ways.

One epoch is the book's: 50,000 training images, mini-batches of m = 10,
eta = 3.0, for [784, 30, 10] and [784, 100, 10]. Every method trains one
untimed warm-up epoch, then ``--repeats`` timed epochs; the methods take turns
epoch by epoch, so a burst of load from elsewhere hits them alike. The table
shows the best epoch of each (the least disturbed), the log line the median.

(a) nntui's matrix backprop as the real `Trainer` runs it (shuffling, gathering
    mini-batches, the lock, progress events every 100 mini-batches): the
    ``train_seconds`` of each `EpochDone`, so evaluation is not counted. Also
    `Network.update_mini_batch_with_ones` in a bare loop, gathering mini-batches as the
    Trainer does, to show what the Trainer adds.
(b) a tight NumPy loop written out below for one hidden layer: the same maths
    and float32, preallocated buffers, no abstraction. The floor to compare (a) with.
    (a) and (b) run in float64 too.
(c) nntui's per-sample backprop (the book's loop over `backprop_single`), float32
    and float64, through the same `Trainer` on the first ``--sample-images``
    training images, scaled to 50,000.
(d) the book's own network.py (float64, its sigmoid, a list of (x, y) column
    vectors), as tests/book_reference.py reads it, on ``--sample-images`` images, scaled to 50,000.

    python benchmarks/speed.py --data /path/to/mnist.pkl.gz [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator

import _common
import numpy as np

from nntui.engine.config import Backprop, TrainConfig, format_sizes
from nntui.engine.dataset import MnistData
from nntui.engine.events import EpochDone
from nntui.engine.network import Network
from nntui.engine.training import Trainer, one_hot, with_ones
from tests.book_reference import BookNetwork

NETWORKS = ((784, 30, 10), (784, 100, 10))
EPOCH_IMAGES = 50_000  # the book's training set
M = 10  # mini-batch size
ETA = 3.0
SEED = 1


# Each timer yields the seconds of one 50,000-image epoch per next(), endlessly or
# for at least 1 + repeats epochs; the first is the warm-up.
Timer = Callable[[MnistData, tuple[int, ...], int, int], Iterator[float]]


def nntui_trainer(
    data: MnistData,
    sizes: tuple[int, ...],
    repeats: int,
    n: int,
    backprop: Backprop = "matrix",
    dtype: type[np.floating] = np.float32,
) -> Iterator[float]:
    """The real Trainer on the first n images: train_seconds per epoch, scaled to 50,000."""
    config = TrainConfig(sizes, 1 + repeats, M, ETA, SEED, n, "test", backprop)
    trainer = Trainer(data, config, network=Network(sizes, seed=SEED, dtype=dtype))
    for event in trainer.run():
        if isinstance(event, EpochDone):
            yield event.train_seconds * EPOCH_IMAGES / n


def nntui_matrix(data: MnistData, sizes: tuple[int, ...], repeats: int, _: int) -> Iterator[float]:
    return nntui_trainer(data, sizes, repeats, EPOCH_IMAGES)


def nntui_matrix64(
    data: MnistData, sizes: tuple[int, ...], repeats: int, _: int
) -> Iterator[float]:
    return nntui_trainer(data, sizes, repeats, EPOCH_IMAGES, dtype=np.float64)


def reference64(data: MnistData, sizes: tuple[int, ...], repeats: int, n: int) -> Iterator[float]:
    return reference(data, sizes, repeats, n, np.float64)


def nntui_per_sample(
    data: MnistData, sizes: tuple[int, ...], repeats: int, n: int
) -> Iterator[float]:
    return nntui_trainer(data, sizes, repeats, n, "per-sample")


def nntui_per_sample64(
    data: MnistData, sizes: tuple[int, ...], repeats: int, n: int
) -> Iterator[float]:
    return nntui_trainer(data, sizes, repeats, n, "per-sample", np.float64)


def nntui_bare(data: MnistData, sizes: tuple[int, ...], _: int, __: int) -> Iterator[float]:
    """`Network.update_mini_batch` over shuffled, gathered mini-batches, as the Trainer
    calls it, without the Trainer's pause/cancel checks, lock and progress events."""
    net = Network(sizes, seed=SEED)
    X = with_ones(data.training.images[:EPOCH_IMAGES], np.dtype(np.float32))  # (n, 785)
    Y = one_hot(data.training.labels[:EPOCH_IMAGES])  # (n, 10)
    xb, yb = np.empty((M, X.shape[1]), np.float32), np.empty((M, 10), np.float32)
    rng = np.random.default_rng(SEED)
    while True:
        perm = rng.permutation(EPOCH_IMAGES)
        start = time.perf_counter()
        for k in range(0, EPOCH_IMAGES, M):
            idx = perm[k : k + M]
            X.take(idx, axis=0, out=xb, mode="clip")
            Y.take(idx, axis=0, out=yb, mode="clip")
            net.update_mini_batch_with_ones(xb.T, yb.T, ETA)
        yield time.perf_counter() - start


def _sigmoid_layer(w: np.ndarray, x: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out = sigma(w x + b)`` in place, with sigma(z) = 0.5 tanh(0.5 z) + 0.5."""
    np.matmul(w, x, out=out)
    out += b
    out *= 0.5
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5


def reference(
    data: MnistData,
    sizes: tuple[int, ...],
    _: int,
    __: int,
    f32: type[np.floating] = np.float32,
) -> Iterator[float]:
    """A tight float32 (or ``f32=np.float64``) loop for [784, h, 10], everything written out."""
    n_in, n_h, n_out = sizes
    rng = np.random.default_rng(SEED)
    w1 = rng.standard_normal((n_h, n_in)).astype(f32)
    b1 = rng.standard_normal((n_h, 1)).astype(f32)
    w2 = rng.standard_normal((n_out, n_h)).astype(f32)
    b2 = rng.standard_normal((n_out, 1)).astype(f32)
    X = np.asarray(data.training.images[:EPOCH_IMAGES], f32)  # (n, 784)
    Y = one_hot(data.training.labels[:EPOCH_IMAGES], f32)  # (n, 10)
    xb, yb = np.empty((M, n_in), f32), np.empty((M, n_out), f32)  # gathered mini-batch
    a1, d1, p1 = (np.empty((n_h, M), f32) for _ in range(3))  # z, then sigma(z), in place
    a2, d2, p2 = (np.empty((n_out, M), f32) for _ in range(3))
    nb1, nw1 = np.empty((n_h, 1), f32), np.empty((n_h, n_in), f32)
    nb2, nw2 = np.empty((n_out, 1), f32), np.empty((n_out, n_h), f32)
    scale = ETA / M
    while True:
        perm = rng.permutation(EPOCH_IMAGES)
        start = time.perf_counter()
        cost = 0.0
        for k in range(0, EPOCH_IMAGES, M):
            idx = perm[k : k + M]
            np.take(X, idx, axis=0, out=xb)
            np.take(Y, idx, axis=0, out=yb)
            x, y = xb.T, yb.T  # (784, m), (10, m): views
            _sigmoid_layer(w1, x, b1, out=a1)  # forward
            _sigmoid_layer(w2, a1, b2, out=a2)
            # output error, the running cost the Trainer reports, then eta/m once
            np.subtract(a2, y, out=d2)
            cost += 0.5 * float(np.vdot(d2, d2))
            np.subtract(1, a2, out=p2)
            p2 *= a2
            d2 *= p2
            d2 *= scale
            np.add.reduce(d2, axis=1, keepdims=True, out=nb2)  # np.sum, minus a wrapper
            np.matmul(d2, a1.T, out=nw2)
            np.matmul(w2.T, d2, out=d1)
            np.subtract(1, a1, out=p1)
            p1 *= a1
            d1 *= p1
            np.add.reduce(d1, axis=1, keepdims=True, out=nb1)
            np.matmul(d1, xb, out=nw1)
            w2 -= nw2
            b2 -= nb2
            w1 -= nw1
            b1 -= nb1
        seconds = time.perf_counter() - start
        if not np.isfinite(cost):
            raise RuntimeError("the reference loop diverged")
        yield seconds


# The book's network.py: tests/book_reference.py. -------------------------------------


def vectorized_result(j):
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def book(data: MnistData, sizes: tuple[int, ...], _: int, n: int) -> Iterator[float]:
    # As the book's load_data_wrapper: x is the file's float32 row as a (784, 1) column.
    training_data = [
        (np.reshape(x, (784, 1)), vectorized_result(y))
        for x, y in zip(data.training.images[:n], data.training.labels[:n], strict=True)
    ]
    np.random.seed(SEED)  # the book draws its parameters, and shuffles, from global state
    random.seed(SEED)
    net = BookNetwork(sizes)
    while True:
        start = time.perf_counter()
        net.SGD(training_data, 1, M, ETA, say=lambda _: None)
        yield (time.perf_counter() - start) * EPOCH_IMAGES / n


# The report. ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_data_option(parser)
    _common.add_threads_option(parser)
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per method (best)")
    parser.add_argument(
        "--sample-images",
        type=int,
        default=10_000,
        help="images the per-sample and book loops train on, scaled to 50,000 (default 10,000)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.sample_images <= EPOCH_IMAGES or args.repeats < 1:
        parser.error("--sample-images must be 1..50000 and --repeats at least 1")
    wall = time.perf_counter()
    data, source = _common.load_data(args.data)
    n = args.sample_images
    methods: list[tuple[str, Timer]] = [
        ("(a) nntui matrix, Trainer.run", nntui_matrix),
        ("(a) nntui matrix, bare update_mini_batch loop", nntui_bare),
        ("(b) tight NumPy reference", reference),
        ("(a) nntui matrix, Trainer.run, float64", nntui_matrix64),
        ("(b) tight NumPy reference, float64", reference64),
        (f"(c) nntui per-sample, float32 ({n:,} imgs, scaled)", nntui_per_sample),
        (f"(c) nntui per-sample, float64 ({n:,} imgs, scaled)", nntui_per_sample64),
        (f"(d) book's network.py, float64 ({n:,} imgs, scaled)", book),
    ]
    with _common.blas_threads(args.threads):
        _common.print_environment(source, args.threads, show_threads=True)
        print(f"seconds per 50,000-image epoch; best of {args.repeats} after one warm-up epoch")
        print()
        timers = {
            (name, sizes): timer(data, sizes, args.repeats, n)
            for name, timer in methods
            for sizes in NETWORKS
        }
        times: dict[tuple[str, tuple[int, ...]], list[float]] = {run: [] for run in timers}
        for round_ in range(1 + args.repeats):  # round 0 is the warm-up
            for run, timer in timers.items():
                seconds = next(timer)
                if round_:
                    times[run].append(seconds)
            print(f"  round {round_}/{args.repeats} done, {time.perf_counter() - wall:.0f} s")
        print()
        for (name, sizes), ts in times.items():
            each = " ".join(f"{t:.3f}" for t in ts)
            median = statistics.median(ts)
            print(f"  {name:<52} {sizes_label(sizes):<12} {each}  (median {median:.3f})")
        best = {run: min(t) for run, t in times.items()}
    print()
    print("| method | " + " | ".join(f"{sizes_label(s)} s/epoch" for s in NETWORKS) + " |")
    print("|---|" + "---:|" * len(NETWORKS))
    for name, _ in methods:
        print(f"| {name} | " + " | ".join(f"{best[name, s]:.3f}" for s in NETWORKS) + " |")
    a, bare, b, a64, b64, c32, c64, d = (name for name, _ in methods)
    ratios = [
        ("nntui matrix (Trainer) / reference, target <= 1.0", a, b, lambda r: r <= 1.0),
        (
            "float64: nntui matrix (Trainer) / reference, target <= 1.0",
            a64,
            b64,
            lambda r: r <= 1.0,
        ),
        ("nntui bare loop / reference", bare, b, None),
        ("per-sample float32 / nntui matrix, target >= 15", c32, a, lambda r: r >= 15),
        ("per-sample float64 / nntui matrix", c64, a, None),
        ("book / nntui matrix", d, a, None),
    ]
    for label, top, bottom, target in ratios:
        cells = []
        for s in NETWORKS:
            r = best[top, s] / best[bottom, s]
            verdict = "" if target is None else (" met" if target(r) else " **missed**")
            cells.append((f"{r:.3f}x" if r < 2 else f"{r:.1f}x") + verdict)
        print(f"| {label} | " + " | ".join(cells) + " |")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal wall time {time.perf_counter() - wall:.0f} s; load average at the end {load}")


def sizes_label(sizes: tuple[int, ...]) -> str:
    return "[" + format_sizes(sizes) + "]"


if __name__ == "__main__":
    main()
