"""A long run: does keeping it in the runs store cost the same at epoch 2,000 as at epoch 2?

    python benchmarks/long_cli_run.py                  # 2000 epochs
    python benchmarks/long_cli_run.py --epochs 500 --nntui /path/to/old/checkout

Two measurements:

1. What `RunRecorder` does per epoch (append the record, write the model when
   due), timed in this process for each of N epochs of a 784-30-10 network;
   prints the mean over the first and the last tenth. Constant cost means the
   two are alike; cost that grows with the history makes the last far larger.
2. ``nntui train --epochs N --train-size 1 -m 1`` end to end, kept (as every
   run is) and not kept (the runs directory unwritable). On a loaded machine
   the evaluation's BLAS calls dominate both and the difference is noisy, so
   (1) is the figure to trust.

``--nntui`` imports nntui from another checkout, to measure an older version.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def per_epoch_costs(epochs: int, root: Path) -> list[float]:
    from nntui.engine.config import TrainConfig
    from nntui.engine.network import Network
    from nntui.store.runs import RunStore

    config = TrainConfig(epochs=epochs, train_size=1, mini_batch_size=1, seed=1)
    run = RunStore(root).create(config, 1)
    network = Network(config.sizes, seed=1)
    costs = []
    for epoch in range(1, epochs + 1):
        record = {"epoch": epoch, "correct": 10, "total": 100, "accuracy": 0.1,
                  "train_cost": 0.5, "train_seconds": 0.001, "eval_seconds": 0.001}  # fmt: skip
        start = time.perf_counter()
        run.record_epoch(record, network)
        costs.append(time.perf_counter() - start)
    run.finish("completed", network)
    return costs


def timed_cli(data: Path, epochs: int, runs_dir: Path, pythonpath: str) -> float:
    command = [sys.executable, "-m", "nntui", "train", "--data", str(data), "--seed", "1"]
    command += ["--epochs", str(epochs), "--train-size", "1", "-m", "1"]
    env = os.environ | {"NNTUI_RUNS": str(runs_dir), "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    # cwd: `python -m` puts the working directory first on sys.path, before PYTHONPATH.
    subprocess.run(
        command,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=data.parent,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--nntui", type=Path, default=REPO, help="checkout to import nntui from")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end runs")
    args = parser.parse_args()
    sys.path.insert(0, str(args.nntui))
    sys.path.append(str(REPO))  # for tests.fakedata, after the nntui asked for
    import nntui
    from tests.fakedata import write_book_pickle

    print(f"nntui from {Path(nntui.__file__).parent}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        costs = per_epoch_costs(args.epochs, root / "store")
        tenth = max(1, len(costs) // 10)
        first, last = costs[:tenth], costs[-tenth:]
        print(
            f"keeping a run, per epoch: first {tenth} epochs {1000 * sum(first) / tenth:.3f} ms, "
            f"last {tenth} epochs {1000 * sum(last) / tenth:.3f} ms, "
            f"all {args.epochs} epochs {sum(costs):.2f} s"
        )
        if args.no_cli:
            return
        data = write_book_pickle(root / "mnist.pkl.gz", 500, 100, 100)
        blocked = root / "not-a-dir"
        blocked.write_text("a file where the runs directory should be: nothing is kept\n")
        path = os.pathsep.join([str(args.nntui), os.environ.get("PYTHONPATH", "")])
        kept = timed_cli(data, args.epochs, root / "runs", path)
        bare = timed_cli(data, args.epochs, blocked / "runs", path)
        print(
            f"nntui train --epochs {args.epochs} --train-size 1 -m 1: kept {kept:.1f} s, "
            f"not kept {bare:.1f} s"
        )


if __name__ == "__main__":
    main()
