"""Is the dashboard responsive while it trains, and does it cost the trainer much?

Runs the book's configuration ([784, 30, 10], eta 3.0, m = 10, 50,000 images,
seed 1) for ``--epochs`` epochs, ``--rounds`` times each way, taking turns:

* headless: the `Trainer` driven by a plain loop, as ``nntui train`` does,
  with the machine's default BLAS threads (what ``nntui train`` itself uses);
* the app, quiet: the real dashboard in a real terminal (a tmux pane of
  ``--size``), started from this script with ``--child``, training with nobody
  touching it. This is the throughput the target below is about. The same
  child process also trains headless, with BLAS held to one thread as the app
  holds it, just before it opens the dashboard and again just after: the same
  data in the same memory, seconds apart, so the app is compared with
  the mean of the two (a VM's speed drifts by a third within a minute, which a
  headless run in another process or at another time would take for the
  app's cost);
* the app, probed: the same, while the child also records

  - event-loop lag: an asyncio task sleeps 10 ms over and over; lag is how
    much later than asked it wakes up;
  - key-press latency: this script presses ``n`` (new gallery digits) every
    0.3 s through tmux; latency runs from the moment Textual's driver turned
    the bytes into a key event to the moment the frame showing the new digits
    had been written to the terminal (`call_after_refresh`).

  The probes cost the trainer too (100 wake-ups a second, and each ``n``
  predicts and redraws the gallery): their price is the gap between the quiet
  and the probed throughput, and the probe's own CPU time is reported.

Throughput is training images per second of each epoch (`EpochDone.train_seconds`,
which leaves out evaluation), ignoring each run's first epoch (warm-up). Each
app run also reports the CPU time of its UI thread and of the tmux server, per
second of training: tmux runs on the other core, the UI thread takes the GIL
from the trainer. The app keeps its runs in a temporary directory.

Targets (issue 10): lag p95 <= 20 ms, key press to screen p95 <= 50 ms,
app >= 85% of headless, UI thread CPU <= 100 ms per second of training with
nobody touching it.

    NNTUI_DATA=/path/to/mnist.pkl.gz python benchmarks/tui_responsiveness.py
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
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

from nntui.engine.config import TrainConfig
from nntui.engine.events import EpochDone
from nntui.engine.training import Trainer

PROBE_INTERVAL = 0.010  # seconds the lag probe asks to sleep
KEY_INTERVAL = 0.3  # seconds between two presses of `n`
POLL_INTERVAL = 0.1  # seconds between two looks at the child's files
# seconds between two looks at the quiet app's state: each look wakes its UI thread, which
# then takes the GIL from the trainer, so the measurement should look seldom.
QUIET_POLL_INTERVAL = 0.5


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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _threads_on_cpu() -> dict[int, float]:
    """Seconds each thread of this process has spent on a CPU so far (Linux /proc)."""
    seconds = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            seconds[int(task.name)] = int((task / "schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended, or a kernel without schedstat
    return seconds


def run_in_tmux(data_path: str, epochs: int, size: tuple[int, int], *, probed: bool) -> dict:
    tmux = shutil.which("tmux")
    if tmux is None:
        sys.exit("tmux is needed to run the dashboard in a real terminal")
    socket = f"nntui-bench-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="nntui-bench-"))
    out = work / "result.json"
    child = [sys.executable, str(Path(__file__).resolve()), "--child", "--out", str(out)]
    child += ["--data", data_path, "--epochs", str(epochs)]
    child += [] if probed else ["--quiet"]
    command = f"env -u COLUMNS -u LINES NNTUI_RUNS={shlex.quote(str(work / 'runs'))} "
    command += " ".join(map(shlex.quote, child))
    width, height = size
    subprocess.run(
        [tmux, "-L", socket, "new", "-d", "-x", str(width), "-y", str(height), command],
        check=True,
    )
    try:
        server = subprocess.run(
            [tmux, "-L", socket, "display", "-p", "#{pid}"], capture_output=True, text=True
        )
        server_pid = int(server.stdout.strip())
        deadline = time.monotonic() + 60 + 5 * epochs
        next_key = time.monotonic() + KEY_INTERVAL
        tmux_start = None
        while not out.exists():
            if time.monotonic() > deadline:
                sys.exit("the dashboard did not finish in time")
            time.sleep(POLL_INTERVAL)
            if tmux_start is None and (work / "started").exists():
                tmux_start = _cpu_seconds(server_pid)
            if probed and time.monotonic() >= next_key:
                next_key += KEY_INTERVAL
                subprocess.run([tmux, "-L", socket, "send-keys", "n"], capture_output=True)
        tmux_end = _cpu_seconds(server_pid)
        time.sleep(0.2)  # let the child finish writing
        result = json.loads(out.read_text())
        if tmux_start is not None:
            result["tmux_cpu"] = tmux_end - tmux_start
        return result
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True)


def _trainer_share(threads: list[dict[int, float]], steady: list[tuple[float, float]]) -> float:
    """The busiest thread's time on a CPU over the steady wall time: the trainer's."""
    if len(threads) < 2 or len(steady) < 2:
        return float("nan")
    first, last = threads
    busiest = max(last[tid] - first[tid] for tid in last if tid in first)
    return busiest / (steady[1][0] - steady[0][0])


def child(data_path: str, epochs: int, out: Path, *, quiet: bool) -> None:
    """Runs inside the tmux pane: the real dashboard, instrumented unless ``quiet``."""
    # Before Textual: as in ``nntui``, the dashboard's package sets Textual's frame rate,
    # which Textual reads once, when first imported.
    importlib.import_module("nntui.tui")
    from textual import constants as textual_constants
    from textual import events
    from textual._time import get_time

    from nntui.data.datastore import load_data
    from nntui.tui.app import NntuiApp
    from nntui.tui.screens.main import MainScreen

    lags: list[float] = []
    latencies: list[float] = []
    probe_cpu = 0.0  # seconds of the UI thread spent in the lag probe's own code
    started: tuple[float, float] | None = None  # (wall, UI-thread CPU) when training began
    # (wall, UI-thread CPU) when the first epoch had ended, and at the last look while the
    # run still went on: the steady state, without the start's and the end's redraws.
    steady: list[tuple[float, float]] = []
    # Each thread's time on a CPU at the same two moments: the trainer's share of the wall
    # time is how much of it the trainer ran, the rest it waited (for the GIL, mostly).
    threads: list[dict[int, float]] = []

    result: dict = {}

    def finish(screen: MainScreen) -> None:
        assert started is not None
        result.update(
            {
                "lags": lags,
                "latencies": latencies,
                "epochs": [
                    (screen.session.trainer.config.train_size, e.train_seconds)
                    for e in screen.session.history
                ],
                "wall": time.perf_counter() - started[0],
                "ui_cpu": time.thread_time() - started[1],
                "steady_wall": steady[-1][0] - steady[0][0] if len(steady) > 1 else 0.0,
                "steady_cpu": steady[-1][1] - steady[0][1] if len(steady) > 1 else 0.0,
                "trainer_on_cpu": _trainer_share(threads, steady),
                "probe_cpu": probe_cpu,
                "max_fps": textual_constants.MAX_FPS,  # as the dashboard set it, or TEXTUAL_FPS
            }
        )

    def check(screen: MainScreen) -> bool:
        """Note the start and the end of training; True once it has finished."""
        nonlocal started
        if screen.state == "running" and started is None:
            started = (time.perf_counter(), time.thread_time())
            (out.parent / "started").touch()
        elif screen.state == "running" and screen.session and screen.session.history:
            now = (time.perf_counter(), time.thread_time())
            steady[1:] = [now] if steady else []
            # Reading /proc for each thread costs a little: in the quiet runs only, which
            # look twice a second (the probed ones look a hundred times).
            if quiet:
                threads[1:] = [_threads_on_cpu()] if threads else []
            if not steady:
                steady.append(now)
                if quiet:
                    threads.append(_threads_on_cpu())
        elif screen.state == "finished" and started is not None:
            finish(screen)
            return True
        return False

    class BenchApp(NntuiApp):
        key_time = 0.0

        async def on_event(self, event: events.Event) -> None:
            if isinstance(event, events.Key):
                self.key_time = event.time  # set when the driver parsed the key
            await super().on_event(event)

        def on_mount(self) -> None:
            screen = self.screen
            assert isinstance(screen, MainScreen)
            self.set_timer(0.5, screen.action_start)
            if quiet:
                self._watch = self.set_interval(
                    QUIET_POLL_INTERVAL, lambda: self.quiet_check(screen)
                )
                return
            new_sample = screen.action_new_sample

            def timed_new_sample() -> None:
                pressed = self.key_time
                new_sample()
                if screen.state == "running":
                    screen.call_after_refresh(lambda: latencies.append(get_time() - pressed))

            screen.action_new_sample = timed_new_sample  # type: ignore[method-assign]
            self._probe = asyncio.get_running_loop().create_task(self.probe(screen))

        def quiet_check(self, screen: MainScreen) -> None:
            if check(screen):
                self.exit()

        async def probe(self, screen: MainScreen) -> None:
            nonlocal probe_cpu
            while True:
                asked = time.perf_counter()
                await asyncio.sleep(PROBE_INTERVAL)
                cpu = time.thread_time()
                late = time.perf_counter() - asked - PROBE_INTERVAL
                if screen.state == "running":
                    lags.append(late)
                if check(screen):
                    self.exit()
                    return
                probe_cpu += time.thread_time() - cpu

    # As ``nntui`` loads it (the decoded cache, memory-mapped), and the headless runs
    # train on the very same arrays.
    data = load_data(Path(data_path))
    if quiet:
        result["headless_before"] = run_headless(data, epochs, blas_threads=1)
    BenchApp(data=data, config=config_for(epochs)).run()
    if quiet:
        result["headless_after"] = run_headless(data, epochs, blas_threads=1)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(out)


# --- the report ---------------------------------------------------------------------------


def _ms_per_s(results: list[dict], key: str, wall: str = "wall") -> float:
    """CPU milliseconds per second of training, over the runs that measured ``key``."""
    runs = [r for r in results if key in r]
    return 1000 * sum(r[key] for r in runs) / max(1e-9, sum(r[wall] for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_option(parser)
    parser.add_argument("--epochs", type=int, default=8, help="epochs per run (default 8)")
    parser.add_argument("--rounds", type=int, default=5, help="runs each way (default 5)")
    parser.add_argument("--size", default="120x40", help="terminal size (default 120x40)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.data, args.epochs, args.out, quiet=args.quiet)
        return

    data, where = load_data(args.data)
    data_path = args.data or os.environ.get("NNTUI_DATA")
    if not data_path:
        sys.exit("pass --data PATH or set NNTUI_DATA: the dashboard child loads the same file")
    width, height = (int(n) for n in args.size.split("x"))
    print("\n".join(environment_lines()))
    print(f"data: {where}; {args.epochs} epochs of the book's config, {args.rounds} rounds")

    speeds: dict[str, list[float]] = {"headless_1": [], "headless": [], "quiet": [], "probed": []}
    runs: dict[str, list[dict]] = {"quiet": [], "probed": []}
    paired: list[float] = []  # each quiet app run over the mean of its child's headless runs
    for round_ in range(1, args.rounds + 1):
        speeds["headless"] += images_per_second(run_headless(data, args.epochs))
        for way in ("quiet", "probed"):
            result = run_in_tmux(data_path, args.epochs, (width, height), probed=way == "probed")
            runs[way].append(result)
            speeds[way] += images_per_second([tuple(e) for e in result["epochs"]])
            if way == "quiet":
                alone = [
                    statistics.median(images_per_second([tuple(e) for e in result[when]]))
                    for when in ("headless_before", "headless_after")
                ]
                speeds["headless_1"] += images_per_second(
                    [tuple(e) for e in result["headless_before"] + result["headless_after"]]
                )
                app = statistics.median(images_per_second([tuple(e) for e in result["epochs"]]))
                paired.append(app / statistics.mean(alone))
        latest = {way: statistics.median(v[-(args.epochs - 1) :]) for way, v in speeds.items()}
        print(
            f"round {round_}: headless {latest['headless']:,.0f}"
            f" img/s; in the app's process: headless before {alone[0]:,.0f}, app (quiet) "
            f"{app:,.0f}, headless after {alone[1]:,.0f} img/s: {paired[-1]:.0%};"
            f" app (probed) {latest['probed']:,.0f} img/s"
        )

    median = {way: statistics.median(v) for way, v in speeds.items()}
    base = median["headless_1"]
    rows = [
        ("headless, BLAS held to 1 thread, in the app's process", "headless_1"),
        ("headless, default BLAS threads (nntui train)", "headless"),
        ("app, nobody touching it", "quiet"),
        ("app, with lag probe and n every 0.3 s", "probed"),
    ]
    print(
        f"\nthroughput at {width}x{height}, median of {len(speeds['quiet'])} epochs each "
        "(warm-up epochs left out):"
    )
    for label, way in rows:
        print(f"  {label:<48} {median[way]:>9,.0f} img/s  {median[way] / base:5.0%}")
    ratio = statistics.median(paired)
    print(
        "  app / headless, round by round        "
        + ", ".join(f"{r:.0%}" for r in paired)
        + f"   (median {ratio:.0%}: each app run against the mean of the headless runs"
        " just before and just after it, in its own process)"
    )
    quiet, probed = runs["quiet"], runs["probed"]
    print("\nCPU per second of training (ms/s):")
    print(f"  UI thread, app alone, whole run     {_ms_per_s(quiet, 'ui_cpu'):6.0f}")
    steady_ui = _ms_per_s(quiet, "steady_cpu", "steady_wall")
    print(
        f"  UI thread, app alone, steady        {steady_ui:6.0f}"
        "   (after the first epoch, as the throughput; the whole run adds the redraws"
        " of the start and the end)"
    )
    shares = [r["trainer_on_cpu"] for r in quiet]
    shares = [share for share in shares if math.isfinite(share)]
    if shares:
        print(
            "  trainer thread, app alone, steady   "
            + ", ".join(f"{share:.0%}" for share in shares)
            + " of the time on a CPU (headless: all of it); the rest it waited for the GIL"
        )
    print(
        f"  UI thread, probed                   {_ms_per_s(probed, 'ui_cpu'):6.0f}"
        f"   of which the lag probe's own code {_ms_per_s(probed, 'probe_cpu'):.0f}"
    )
    print(
        f"  tmux server (the other core)        {_ms_per_s(quiet, 'tmux_cpu'):6.1f}"
        f" alone, {_ms_per_s(probed, 'tmux_cpu'):.1f} probed (10 ms clock ticks)"
    )

    lags = [lag for r in probed for lag in r["lags"]]
    latencies = [lat for r in probed for lat in r["latencies"]]
    ms = 1000
    rates = sorted({r.get("max_fps") for r in probed})
    print(f"\nresponsiveness while training (probed runs; frames at most {rates} a second):")
    print(
        f"  event-loop lag      p50 {percentile(lags, 50) * ms:5.1f} ms   "
        f"p95 {percentile(lags, 95) * ms:5.1f} ms   max {max(lags) * ms:5.1f} ms   (n={len(lags)})"
    )
    if latencies:
        print(
            f"  key press to screen p50 {percentile(latencies, 50) * ms:5.1f} ms   "
            f"p95 {percentile(latencies, 95) * ms:5.1f} ms   "
            f"max {max(latencies) * ms:5.1f} ms   (n={len(latencies)})"
        )

    checks = [("app >= 85% of headless, median of rounds", f"{ratio:.0%}", ratio >= 0.85)]
    checks.append(("UI thread CPU, steady <= 100 ms/s", f"{steady_ui:.0f} ms/s", steady_ui <= 100))
    lag95 = percentile(lags, 95)
    checks.append(("event-loop lag p95 <= 20 ms", f"{lag95 * ms:.1f} ms", lag95 <= 0.020))
    if latencies:
        key95 = percentile(latencies, 95)
        checks.append(("key press to screen p95 <= 50 ms", f"{key95 * ms:.1f} ms", key95 <= 0.050))
    print("\ntargets:")
    for label, value, ok in checks:
        print(f"  {label:<44} {value:>8}  {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    main()
