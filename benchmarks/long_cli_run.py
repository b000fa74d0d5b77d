"""A long `nntui train` run: does a kept run's cost per epoch stay constant?

    python benchmarks/long_cli_run.py                  # 2000 epochs of one image, m = 1
    python benchmarks/long_cli_run.py --epochs 500

Runs ``nntui train --epochs N --train-size 1 -m 1`` on small synthetic data,
once keeping the run in a fresh runs directory (as every run is kept) and once
with the runs directory unwritable (so nothing is kept), and prints the wall
time of each and the difference: what keeping the run costs. With the cost per
epoch constant that difference grows linearly with N, not with its square, so
the script also prints the time per epoch for N/4 and N epochs.
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
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakedata import write_book_pickle  # noqa: E402


def timed_run(data: Path, epochs: int, runs_dir: Path) -> float:
    command = [sys.executable, "-m", "nntui", "train", "--data", str(data), "--seed", "1"]
    command += ["--epochs", str(epochs), "--train-size", "1", "-m", "1"]
    env = os.environ | {"NNTUI_RUNS": str(runs_dir)}
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = write_book_pickle(root / "mnist.pkl.gz", 500, 100, 100)
        blocked = root / "not-a-dir"
        blocked.write_text("a file where the runs directory should be: nothing is kept\n")
        print(f"nntui train --epochs N --train-size 1 -m 1 (load: {os.getloadavg()[0]:.1f})")
        for epochs in (args.epochs // 4, args.epochs):
            kept = timed_run(data, epochs, root / f"runs-{epochs}")
            bare = timed_run(data, epochs, blocked / "runs")
            print(
                f"  N={epochs:5d}: kept {kept:6.1f} s, not kept {bare:6.1f} s, "
                f"keeping costs {1000 * (kept - bare) / epochs:6.2f} ms/epoch"
            )


if __name__ == "__main__":
    main()
