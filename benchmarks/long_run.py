"""200 epochs in the real dashboard, headless: memory (RSS) and event-loop lag as it trains.

    python benchmarks/long_run.py                       # real MNIST if found, else synthetic
    NNTUI_DATA=/path/mnist.pkl.gz python benchmarks/long_run.py --train-size 1000

Prints RSS at epochs 10, 50, 100 and 200, and how late a 10 ms timer on the UI
thread fires (p50 / p95 / max): that lateness is what a key press would wait.
The target is p95 <= 30 ms and an RSS that stops growing after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nntui.engine.config import TrainConfig  # noqa: E402
from nntui.engine.dataset import MnistData  # noqa: E402

TICK = 0.01  # seconds between two timer callbacks
CHECKPOINTS = (10, 50, 100, 200)


def rss_mib() -> float:
    """Resident set size now (not the peak), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def load(train_size: int) -> tuple[MnistData, str]:
    from nntui.data.datastore import find_data
    from nntui.data.mnist import load_mnist
    from nntui.engine.errors import NntuiError

    try:
        found = find_data(None)  # --data is NNTUI_DATA here; never downloads
    except NntuiError:
        found = None
    if found is not None:
        return load_mnist(found), str(found)
    from tests.fakedata import expected_data

    n_train = max(500, train_size - train_size % 5)  # the fakes hold out n_train / 5
    return expected_data(n_train, n_train // 5, 1_000), "synthetic blob digits"


async def run(data: MnistData, config: TrainConfig, size: tuple[int, int]) -> None:
    from nntui.tui.app import NntuiApp
    from nntui.tui.widgets.charts import AccuracyChart
    from nntui.tui.widgets.epoch_log import EpochLog

    app = NntuiApp(data=data, config=config, deterministic=True)
    ticks: list[float] = []
    rss: dict[int, float] = {}
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        app.set_interval(TICK, lambda: ticks.append(time.perf_counter()))

        def sample() -> None:  # the first look at or after each checkpoint epoch
            done = len(screen.session.history) if screen.session else 0
            for epoch in CHECKPOINTS:
                if done >= epoch and epoch not in rss:
                    rss[epoch] = rss_mib()

        app.set_interval(0.005, sample)
        before = rss_mib()
        start = time.perf_counter()
        await pilot.press("s")
        while screen.state != "finished":
            await asyncio.sleep(0.1)
        seconds = time.perf_counter() - start
        await pilot.pause()
        sample()
        log = app.query_one(EpochLog)
        points = len(app.query_one(AccuracyChart).epochs)
        lines, held = len(log.lines_written), len(log.lines)

    lags = sorted(max(0.0, b - a - TICK) * 1000 for a, b in itertools.pairwise(ticks))
    print(f"trained {config.epochs} epochs in {seconds:.1f} s")
    print(f"RSS before start {before:.1f} MiB")
    for epoch in CHECKPOINTS:
        print(f"RSS at epoch {epoch:>3}: {rss.get(epoch, float('nan')):.1f} MiB")
    print(
        f"event-loop lag over {len(lags)} ticks: p50 {lags[len(lags) // 2]:.1f} ms, "
        f"p95 {lags[int(0.95 * len(lags))]:.1f} ms, max {lags[-1]:.1f} ms"
    )
    print(f"log: {lines} lines written, {held} held by the widget; accuracy chart: {points} points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--train-size", type=int, default=1_000)
    parser.add_argument("--size", default="120x40", help="terminal size, WxH")
    args = parser.parse_args()
    data, where = load(args.train_size)
    train_size = min(args.train_size, len(data.training))
    config = TrainConfig(epochs=args.epochs, train_size=train_size, seed=1)
    w, h = (int(n) for n in args.size.split("x"))
    print(f"data: {where}; {train_size:,} training images, {len(data.test):,} test images")
    print(f"pid {os.getpid()}, terminal {w}x{h}, Network({list(config.sizes)}), eta {config.eta:g}")
    asyncio.run(run(data, config, (w, h)))


if __name__ == "__main__":
    main()
