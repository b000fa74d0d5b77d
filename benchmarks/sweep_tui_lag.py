"""Event-loop lag of the dashboard's sweep screen while a sweep runs (target p95 <= 30 ms).

A headless Textual app shows `SweepScreen`, starts a sweep from its inputs on a
local cluster of one worker fewer than the cores (the screen's default), and an
asyncio task sleeps 10 ms over and over: its lateness is the lag. Headless, so
the terminal's own drawing is not counted (`tui_responsiveness.py` measures
that for the main screen in a real tmux pane).

    python benchmarks/sweep_tui_lag.py --data /path/to/mnist.pkl.gz [--train-size 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

import _common
from textual.app import App
from textual.widgets import Input

from nntui.store.runs import RunStore
from nntui.tui.screens.sweep import SweepScreen

PROBE = 0.010


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_data_option(parser)
    parser.add_argument("--train-size", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    data, where = _common.load_data(args.data)
    _common.print_environment(where)
    store = RunStore(tempfile.mkdtemp(prefix="nntui-sweep-lag-"))
    lags: list[float] = []
    result: dict[str, float] = {}

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(SweepScreen(data, store))
            self.run_worker(self.probe())

        async def probe(self) -> None:
            await asyncio.sleep(0.5)
            screen = self.screen
            assert isinstance(screen, SweepScreen)
            values = {
                "eta": "1,3",
                "hidden": "30",
                "epochs": str(args.epochs),
                "seeds": "2",
                "train": str(args.train_size),
            }
            for name, value in values.items():
                screen.query_one(f"#sweep-{name}", Input).value = value
            await asyncio.sleep(0.2)
            start = time.perf_counter()
            screen.action_start()
            while screen.state.finished is None:
                t = time.perf_counter()
                await asyncio.sleep(PROBE)
                lags.append(max(0.0, time.perf_counter() - t - PROBE))
                if time.perf_counter() - start > 600:
                    break
            result["seconds"] = time.perf_counter() - start
            result["workers"] = screen.n_workers
            self.exit()

    Host().run(headless=True, size=(120, 40))
    ms = 1000
    print(
        f"sweep of 4 runs x {args.epochs} epochs x {args.train_size:,} images on "
        f"{result.get('workers')} worker(s) from the screen: {result.get('seconds', 0):.1f} s, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"event-loop lag p50 {percentile(lags, 50) * ms:.1f} ms, "
        f"p95 {percentile(lags, 95) * ms:.1f} ms, max {max(lags) * ms:.1f} ms (n={len(lags)}); "
        "target p95 <= 30 ms"
    )


if __name__ == "__main__":
    main()
