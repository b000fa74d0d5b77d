"""Is the dashboard responsive while it trains, and does it cost the trainer much?

Runs the book's configuration ([784, 30, 10], eta 3.0, m = 10, 50,000 images)
for ``--epochs`` epochs, ``--rounds`` times each way, taking turns:

* headless: the `Trainer` driven by a plain loop, as ``nntui train`` does (BLAS
  threads as the machine sets them);
* in the app: the real dashboard in a real terminal (a tmux pane of ``--size``),
  started from this script with ``--child``. While it trains, the child records

  - event-loop lag: an asyncio task sleeps 10 ms over and over; lag is how
    much later than asked it wakes up;
  - key-press latency: this script presses ``n`` (new gallery digits) every
    0.3 s through tmux; latency runs from the moment Textual's driver turned
    the bytes into a key event to the moment the frame showing the new digits
    had been written to the terminal (`call_after_refresh`);
  - throughput: training images per second of each epoch (`EpochDone.train_seconds`).

Throughput ignores each run's first epoch (warm-up). Targets from the issue:
lag p95 <= 30 ms, key press on screen within 50 ms, app >= 85% of headless.

    NNTUI_DATA=/path/to/mnist.pkl.gz python benchmarks/tui_responsiveness.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import REPO, add_data_option, environment_lines, load_data
from threadpoolctl import threadpool_limits

from nntui.config import TrainConfig
from nntui.events import EpochDone
from nntui.training import Trainer

PROBE_INTERVAL = 0.010  # seconds the lag probe asks to sleep
KEY_INTERVAL = 0.3  # seconds between two presses of `n`


def config_for(epochs: int) -> TrainConfig:
    return TrainConfig(epochs=epochs, seed=1)


def images_per_second(epochs: list[tuple[int, float]]) -> list[float]:
    """Per-epoch throughput from (training images, seconds), without the warm-up epoch."""
    return [n / s for n, s in epochs[1:]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- headless ---------------------------------------------------------------------------


def run_headless(data, epochs: int, blas_threads: int | None = None) -> list[tuple[int, float]]:
    """``nntui train``'s loop; ``blas_threads=1`` is what the app allows itself."""
    trainer = Trainer(data, config_for(epochs))
    with threadpool_limits(blas_threads):
        return [
            (trainer.config.train_size, e.train_seconds)
            for e in trainer.run()
            if isinstance(e, EpochDone)
        ]


# --- the app, in a tmux pane --------------------------------------------------------------


def run_in_tmux(data_path: str, epochs: int, size: tuple[int, int]) -> dict:
    tmux = shutil.which("tmux")
    if tmux is None:
        sys.exit("tmux is needed to run the dashboard in a real terminal")
    socket = f"nntui-bench-{uuid.uuid4().hex[:8]}"
    out = Path(tempfile.mkdtemp(prefix="nntui-bench-")) / "result.json"
    child = [sys.executable, str(Path(__file__).resolve()), "--child", "--out", str(out)]
    child += ["--data", data_path, "--epochs", str(epochs)]
    command = "env -u COLUMNS -u LINES " + " ".join(map(shlex.quote, child))
    width, height = size
    subprocess.run(
        [tmux, "-L", socket, "new", "-d", "-x", str(width), "-y", str(height), command],
        check=True,
    )
    try:
        deadline = time.monotonic() + 60 + 5 * epochs
        while not out.exists():
            if time.monotonic() > deadline:
                sys.exit("the dashboard did not finish in time")
            time.sleep(KEY_INTERVAL)
            subprocess.run([tmux, "-L", socket, "send-keys", "n"], capture_output=True)
        time.sleep(0.2)  # let the child finish writing
        return json.loads(out.read_text())
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True)


def child(data_path: str, epochs: int, out: Path) -> None:
    """Runs inside the tmux pane: the real dashboard, instrumented."""
    from textual import events
    from textual._time import get_time

    from nntui.mnist import load_mnist
    from nntui.tui.app import NntuiApp
    from nntui.tui.screens.main import MainScreen

    lags: list[float] = []
    latencies: list[float] = []

    class BenchApp(NntuiApp):
        key_time = 0.0

        async def on_event(self, event: events.Event) -> None:
            if isinstance(event, events.Key):
                self.key_time = event.time  # set when the driver parsed the key
            await super().on_event(event)

        def on_mount(self) -> None:
            screen = self.screen
            assert isinstance(screen, MainScreen)
            new_sample = screen.action_new_sample

            def timed_new_sample() -> None:
                pressed = self.key_time
                new_sample()
                if screen.state == "running":
                    screen.call_after_refresh(lambda: latencies.append(get_time() - pressed))

            screen.action_new_sample = timed_new_sample  # type: ignore[method-assign]
            self._probe = asyncio.get_running_loop().create_task(self.probe(screen))
            self.set_timer(0.5, screen.action_start)

        async def probe(self, screen: MainScreen) -> None:
            while True:
                asked = time.perf_counter()
                await asyncio.sleep(PROBE_INTERVAL)
                late = time.perf_counter() - asked - PROBE_INTERVAL
                if screen.state == "running":
                    lags.append(late)
                elif screen.state == "finished":
                    history = screen.session.history
                    result = {
                        "lags": lags,
                        "latencies": latencies,
                        "epochs": [
                            (screen.session.trainer.config.train_size, e.train_seconds)
                            for e in history
                        ],
                    }
                    tmp = out.with_suffix(".tmp")
                    tmp.write_text(json.dumps(result))
                    tmp.replace(out)
                    self.exit()
                    return

    data = load_mnist(data_path)
    BenchApp(data=data, config=config_for(epochs)).run()


# --- the report ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_option(parser)
    parser.add_argument("--epochs", type=int, default=8, help="epochs per run (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="runs each way (default 2)")
    parser.add_argument("--size", default="120x40", help="terminal size (default 120x40)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.data, args.epochs, args.out)
        return

    data, where = load_data(args.data)
    data_path = args.data or os.environ.get("NNTUI_DATA")
    if not data_path:
        sys.exit("pass --data PATH or set NNTUI_DATA: the dashboard child loads the same file")
    width, height = (int(n) for n in args.size.split("x"))
    print("\n".join(environment_lines()))
    print(f"data: {where}; {args.epochs} epochs of the book's config, {args.rounds} rounds")

    headless: list[float] = []
    headless_1: list[float] = []
    app: list[float] = []
    lags: list[float] = []
    latencies: list[float] = []
    for round_ in range(1, args.rounds + 1):
        h = images_per_second(run_headless(data, args.epochs))
        h1 = images_per_second(run_headless(data, args.epochs, blas_threads=1))
        result = run_in_tmux(data_path, args.epochs, (width, height))
        a = images_per_second([tuple(e) for e in result["epochs"]])
        print(
            f"round {round_}: headless {statistics.median(h):,.0f} img/s "
            f"(1 BLAS thread {statistics.median(h1):,.0f}), "
            f"app {statistics.median(a):,.0f} img/s, {len(result['lags'])} lag samples, "
            f"{len(result['latencies'])} key presses"
        )
        headless += h
        headless_1 += h1
        app += a
        lags += result["lags"]
        latencies += result["latencies"]

    ms = 1000
    print(f"\nin the app at {width}x{height}, while training:")
    print(
        f"  event-loop lag      p50 {percentile(lags, 50) * ms:5.1f} ms   "
        f"p95 {percentile(lags, 95) * ms:5.1f} ms   max {max(lags) * ms:5.1f} ms   "
        f"(n={len(lags)}, target p95 <= 30 ms)"
    )
    if latencies:
        print(
            f"  key press to screen p50 {percentile(latencies, 50) * ms:5.1f} ms   "
            f"p95 {percentile(latencies, 95) * ms:5.1f} ms   "
            f"max {max(latencies) * ms:5.1f} ms   (n={len(latencies)}, target <= 50 ms)"
        )
    ratio = statistics.median(app) / statistics.median(headless)
    print(
        f"  throughput          app {statistics.median(app):,.0f} img/s, "
        f"headless {statistics.median(headless):,.0f} img/s: {ratio:.0%} (target >= 85%)"
    )
    ratio_1 = statistics.median(app) / statistics.median(headless_1)
    print(
        f"                      headless with BLAS held to 1 thread as in the app "
        f"{statistics.median(headless_1):,.0f} img/s: app at {ratio_1:.0%}"
    )


if __name__ == "__main__":
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    main()
