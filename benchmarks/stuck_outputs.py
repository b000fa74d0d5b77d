"""Calibrate the stuck-output hint: seeds 1-8 of [784,30,10] and [784,100,10], the book's config.

Each run is what `nntui train --seed S [--hidden 100]` does: eta 3.0, m 10,
30 epochs, 50,000 training images, evaluated on the 10,000 test images.
After every epoch it keeps, per digit, how often it was predicted and how
many of its images were right, and the share of stuck output neurons. The
table shows per run: the peak accuracy, the digits the hint names at the end
(`nntui.engine.layers.held_back_digits`), and the epochs at which
`stuck_output_hint` fires. A good hint fires at the end of the runs held back
well below the book's figure, and on none of the others.

    python benchmarks/stuck_outputs.py --data /work/shared/data/mnist.pkl.gz --json runs.json
    python benchmarks/stuck_outputs.py --from-json runs.json      # the table again, no training

About 15 minutes on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import json

import _common
import numpy as np

from nntui.engine.analysis import confusion_matrix
from nntui.engine.config import TrainConfig
from nntui.engine.events import EpochDone
from nntui.engine.layers import held_back_from_counts, stuck_output_hint
from nntui.engine.training import Trainer


def one_run(data, hidden: int, seed: int, epochs: int) -> dict:
    config = TrainConfig(sizes=(784, hidden, 10), epochs=epochs, seed=seed)
    trainer = Trainer(data, config)
    labels = trainer.eval_set.labels
    rows = []
    for event in trainer.run():
        if isinstance(event, EpochDone):
            cm = confusion_matrix(labels, event.predictions)
            rows.append(
                {
                    "epoch": event.epoch,
                    "accuracy": event.accuracy,
                    "predicted": cm.sum(axis=0).tolist(),  # per digit: times guessed
                    "right": np.diagonal(cm).tolist(),
                    "shown": cm.sum(axis=1).tolist(),
                    "stuck_outputs": event.layers[-1].stuck,
                    "hidden_saturated": event.layers[0].saturated,
                }
            )
    return {"hidden": hidden, "seed": seed, "epochs": rows}


def table(runs: list[dict]) -> None:
    print(
        "| net | seed | peak (epoch) | final | held back at the end | hint at the end | "
        "hint fired at epochs | stuck outputs | hidden saturated |"
    )
    print("|---|---:|---:|---:|---|---|---|---:|---:|")
    for run in runs:
        rows = run["epochs"]
        acc = [r["accuracy"] for r in rows]
        peak = max(acc)
        fired = []
        for r in rows:
            digits = held_back_from_counts(r["right"], r["shown"])
            if stuck_output_hint(digits, r["epoch"]):
                fired.append(r["epoch"])
        last = rows[-1]
        end = held_back_from_counts(last["right"], last["shown"])
        fires_end = bool(stuck_output_hint(end, last["epoch"]))
        print(
            f"| [784,{run['hidden']},10] | {run['seed']} | {100 * peak:.2f}% "
            f"({acc.index(peak) + 1}) | {100 * acc[-1]:.2f}% | "
            f"{', '.join(map(str, end)) or '-'} | {'yes' if fires_end else 'no'} | "
            f"{_ranges(fired) or '-'} | {100 * last['stuck_outputs']:.0f}% | "
            f"{100 * last['hidden_saturated']:.0f}% |",
            flush=True,
        )


def _ranges(epochs: list[int]) -> str:
    parts, start = [], None
    for i, e in enumerate(epochs):
        if start is None:
            start = e
        if i + 1 == len(epochs) or epochs[i + 1] != e + 1:
            parts.append(f"{start}" if start == e else f"{start}-{e}")
            start = None
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_data_option(parser)
    _common.add_threads_option(parser, default=1)
    parser.add_argument("--seeds", default="1-8", help="range of seeds, e.g. 1-8")
    parser.add_argument("--hidden", default="30,100", help="hidden layer sizes to try")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--json", help="also write every epoch's counts to this file")
    parser.add_argument("--from-json", help="print the table from a file --json wrote")
    args = parser.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            table(json.load(f))
        return 0
    lo, hi = (int(s) for s in args.seeds.split("-"))
    data, source = _common.load_data(args.data)
    runs = []
    with _common.blas_threads(args.threads):
        _common.print_environment(source)
        for hidden in (int(h) for h in args.hidden.split(",")):
            for seed in range(lo, hi + 1):
                runs.append(one_run(data, hidden, seed, args.epochs))
                if args.json:
                    with open(args.json, "w") as f:
                        json.dump(runs, f)
                print(f"[784,{hidden},10] seed {seed} done", flush=True)
    print()
    table(runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
