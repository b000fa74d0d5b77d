"""Calibrate the stuck-output hint: seeds 1-8 of [784,30,10] and [784,100,10], the book's config.

For each run (eta 3.0, m 10, 30 epochs, 50,000 training images, evaluated on
the 10,000 test images, as `nntui train --seed S` would) it prints the peak
accuracy, the digits never predicted at the end, the first epoch from which
a digit was never predicted through to the end, and whether
`nntui.engine.layers.stuck_output_hint` fires at the last epoch (and, for
false alarms, at any epoch). A good hint fires on the runs held back below
~90% and on none of the others.

    python benchmarks/stuck_outputs.py --data /work/shared/data/mnist.pkl.gz

About 5-10 minutes on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import time

import _common

from nntui.engine.config import TrainConfig
from nntui.engine.events import EpochDone
from nntui.engine.layers import layer_activations, never_predicted, saturation, stuck_output_hint
from nntui.engine.training import Trainer


def one_run(data, hidden: int, seed: int, epochs: int) -> dict:
    config = TrainConfig(sizes=(784, hidden, 10), epochs=epochs, seed=seed)
    trainer = Trainer(data, config)
    labels = trainer.eval_set.labels
    accuracies, missing, fired_at = [], [], []
    for event in trainer.run():
        if isinstance(event, EpochDone):
            accuracies.append(event.accuracy)
            gone = never_predicted(event.predictions, labels)
            missing.append(gone)
            if stuck_output_hint(gone, event.epoch):
                fired_at.append(event.epoch)
    net = trainer.network
    acts = layer_activations(net.weights, net.biases, trainer.eval_set.images)
    stuck_out, _ = saturation(acts[-1])
    _, hidden_sat = saturation(acts[0])
    # From which epoch on the final set of missing digits stayed missing.
    since = None
    for i in range(len(missing) - 1, -1, -1):
        if missing[i] and set(missing[-1]) <= set(missing[i]):
            since = i + 1
        else:
            break
    peak = max(accuracies)
    return {
        "peak": peak,
        "peak_epoch": accuracies.index(peak) + 1,
        "final": accuracies[-1],
        "missing": missing[-1],
        "since": since if missing[-1] else None,
        "fires_last": bool(stuck_output_hint(missing[-1], len(missing))),
        "fired_at": fired_at,
        "stuck_out": stuck_out,
        "hidden_sat": hidden_sat,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_data_option(parser)
    _common.add_threads_option(parser, default=1)
    parser.add_argument("--seeds", default="1-8", help="range of seeds, e.g. 1-8")
    parser.add_argument("--hidden", default="30,100", help="hidden layer sizes to try")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    lo, hi = (int(s) for s in args.seeds.split("-"))
    data, source = _common.load_data(args.data)
    with _common.blas_threads(args.threads):
        for line in _common.environment_lines():
            print(line)
        print(f"data: {source}")
        print()
        print(
            "| net | seed | peak (epoch) | final | never predicted | since epoch | "
            "hint at end | hint fired at epochs | stuck outputs | hidden saturated |"
        )
        print("|---|---:|---:|---:|---|---:|---|---|---:|---:|")
        for hidden in (int(h) for h in args.hidden.split(",")):
            for seed in range(lo, hi + 1):
                start = time.perf_counter()
                r = one_run(data, hidden, seed, args.epochs)
                fired = r["fired_at"]
                fired_text = "-" if not fired else f"{fired[0]}-{fired[-1]} ({len(fired)})"
                print(
                    f"| [784,{hidden},10] | {seed} | {100 * r['peak']:.2f}% ({r['peak_epoch']}) | "
                    f"{100 * r['final']:.2f}% | {', '.join(map(str, r['missing'])) or '-'} | "
                    f"{r['since'] or '-'} | {'yes' if r['fires_last'] else 'no'} | {fired_text} | "
                    f"{100 * r['stuck_out']:.0f}% | {100 * r['hidden_sat']:.0f}% |",
                    flush=True,
                )
                del start
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
