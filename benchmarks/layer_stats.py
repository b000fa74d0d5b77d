"""What the per-layer statistics and the training accuracy cost, against an epoch's training.

On the book's config (50,000 images, m = 10, eta = 3.0) for [784,30,10] and
[784,100,10], interleaved over a few repeats, best of each:

- epoch: one epoch of bare `update_mini_batch` calls (the Trainer's loop without events);
- gradient sampling: the `GradientMeter.add` calls of one epoch (one mini-batch in 50);
- evaluation alone: `Network.predict` on the 10,000 test images (what the Trainer did before);
- evaluation + layer stats: `layer_activations` + argmax + `layer_stats` (what it does now);
- layer stats from activations: `layer_stats` on the evaluation's activations;
- training accuracy: `Network.evaluate` on the 10,000-image training sample.

The layer statistics' cost is (layer stats from activations + gradient sampling):
the forward pass they need is the evaluation's. The target is at most 5% of an epoch.

    python benchmarks/layer_stats.py --data /work/shared/data/mnist.pkl.gz
"""

from __future__ import annotations

import argparse
import time

import _common
import numpy as np

from nntui.engine.layers import GradientMeter, layer_activations, layer_stats
from nntui.engine.network import Network
from nntui.engine.training import GRADIENT_SAMPLE_EVERY, one_hot


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(data, hidden: int, repeats: int) -> dict[str, float]:
    net = Network([784, hidden, 10], seed=1)
    x_all, y_all = data.training.images, one_hot(data.training.labels)
    test, sample = data.test, data.training
    sample_x, sample_y = sample.images[:10_000], sample.labels[:10_000]
    m, eta, n = 10, 3.0, len(x_all)
    xb, yb = np.empty((m, 784), np.float32), np.empty((m, 10), np.float32)
    rng = np.random.default_rng(0)
    meter = GradientMeter(2, GRADIENT_SAMPLE_EVERY)

    def epoch() -> None:
        perm = rng.permutation(n)
        for i in range(0, n, m):
            x_all.take(perm[i : i + m], axis=0, out=xb)
            y_all.take(perm[i : i + m], axis=0, out=yb)
            net.update_mini_batch(xb.T, yb.T, eta)

    def gradients() -> None:
        # The same number of samples as an epoch takes, on the live buffers.
        for _ in range(n // m // GRADIENT_SAMPLE_EVERY):
            meter.add(net.last_weight_updates(m), eta)

    def eval_alone() -> None:
        net.predict(test.images)

    def eval_with_stats() -> None:
        acts = layer_activations(net.weights, net.biases, test.images)
        np.argmax(acts[-1], axis=1)
        layer_stats(net.weights, acts, meter.rms())

    def train_accuracy() -> None:
        net.evaluate(sample_x, sample_y)

    acts = layer_activations(net.weights, net.biases, test.images)

    def stats_alone() -> None:
        layer_stats(net.weights, acts, meter.rms())

    parts = {
        "epoch": epoch,
        "gradient sampling": gradients,
        "evaluation alone": eval_alone,
        "evaluation + layer stats": eval_with_stats,
        "layer stats from activations": stats_alone,
        "training accuracy": train_accuracy,
    }
    epoch()  # warm-up: buffers, caches
    best = dict.fromkeys(parts, float("inf"))
    for _ in range(repeats):
        for name, fn in parts.items():
            best[name] = min(best[name], timed(fn))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_data_option(parser)
    _common.add_threads_option(parser, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    data, source = _common.load_data(args.data)
    with _common.blas_threads(args.threads):
        _common.print_environment(source)
        for hidden in (30, 100):
            t = measure(data, hidden, args.repeats)
            # The forward pass is the evaluation's own: what is added is the statistics
            # computed from its activations, and the gradient samples. (The difference of
            # the two evaluation rows says the same but drowns in noise on a busy machine.)
            stats = t["layer stats from activations"] + t["gradient sampling"]
            print(f"\n[784,{hidden},10], best of {args.repeats}:")
            for name, seconds in t.items():
                print(f"  {name:26s} {1000 * seconds:8.1f} ms")
            print(
                f"  layer statistics cost      {1000 * stats:8.1f} ms = "
                f"{100 * stats / t['epoch']:.1f}% of an epoch (target <= 5%)"
            )
            print(
                f"  training accuracy cost     {1000 * t['training accuracy']:8.1f} ms = "
                f"{100 * t['training accuracy'] / t['epoch']:.1f}% of an epoch"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
