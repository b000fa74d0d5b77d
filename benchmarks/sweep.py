"""`nntui sweep` against the same runs one after another, and against a real Dask cluster.

1. Wall time of 4 runs of the book's config (15 epochs, 50,000 images, seeds 1-4):
   `nntui sweep --workers 2` against four `nntui train` one after another (target <= 0.65x).
2. The fixed cost of a sweep, measured on its own: importing Dask, starting the
   local cluster, sending the data to the workers, closing (target <= 3 s).
3. The same sweep through `--scheduler` to `dask scheduler` + two `dask worker`
   processes on 127.0.0.1: every epoch's count of correct answers compared with the
   local sweep, bit for bit.
4. With --chapter1: `nntui sweep --preset chapter1 --seeds 3`, its summary table (long),
   with --stack 1 (one run per worker at a time, as before stacking) and the default stack.
5. With --eight: issue 22's case, 8 runs of [784, 30, 10] (eta 2,3 x seeds 1-4, 10 epochs,
   50,000 images) with 2 workers, --stack 1 and the default stack, against the same 8
   `nntui train` one after another (target <= 0.38x with stacks); median of alternating turns.
   --stacked-only runs 4 and 5 alone.

    python benchmarks/sweep.py --data /path/to/mnist.pkl.gz [--epochs 15] [--chapter1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

BIN = Path(sys.executable).parent
NNTUI = str(BIN / "nntui")
DASK = str(BIN / "dask")


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stderr[-2000:]}")
    return seconds, result


def timed_cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the process and all it waited for:
    a sweep's worker processes too). CPU time is what a loaded machine disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, _ = timed(cmd, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def fixed_cost(data_path: str) -> dict[str, float]:
    """Import, cluster start, data to two workers, close: measured in a fresh process."""
    code = f"""
import json, time
t0 = time.perf_counter()
import distributed
from nntui.sweep.runner import Sweep
from nntui.sweep.payload import pack
t1 = time.perf_counter()
if __name__ == "__main__":  # the worker processes import this file again: keep them light
    from nntui.data.mnist import load_mnist
    data = load_mnist({data_path!r})
    sweep = Sweep([], data, sweep_id="bench", workers=2)
    t2 = time.perf_counter()
    sweep.connect()
    t3 = time.perf_counter()
    # As the sweep does on this machine: images from the cache go as a file reference.
    future = sweep._client.scatter(
        pack(data, 50_000, ["test"], local=True), broadcast=True, hash=False
    )
    t4 = time.perf_counter()
    sweep.close()
    t5 = time.perf_counter()
    print(json.dumps({{"import": t1 - t0, "cluster start": t3 - t2, "data to workers": t4 - t3,
                      "close": t5 - t4}}))
"""
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "fixed_cost.py"
        script.write_text(code)
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def correct_by_run(path: Path) -> dict[tuple, list[int]]:
    doc = json.loads(path.read_text())
    return {
        (tuple(r["config"]["sizes"]), r["config"]["eta"], r["seed"]): [
            e["correct"] for e in r["epochs"]
        ]
        for r in doc["runs"]
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_scheduler(args: list[str], env: dict[str, str], logs: Path) -> tuple[float, Path]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=(logs / "scheduler.log").open("w"),
        )
    ]
    worker_env = {**env, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for i in range(2):
        procs.append(
            subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=(logs / f"worker{i}.log").open("w"),
                env=worker_env,
            )
        )
    try:
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        out = logs / "remote.json"
        seconds, _ = timed([NNTUI, "sweep", *args, "--scheduler", address, "--json", str(out)], env)
        return seconds, out
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _common.add_data_option(parser)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--chapter1", action="store_true", help="also the chapter1 preset, 3 seeds")
    parser.add_argument("--skip-serial", action="store_true", help="skip the nntui train runs")
    parser.add_argument(
        "--fixed-only", action="store_true", help="only the fixed cost, REPEAT times"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--ratio-repeats", type=int, default=3, help="turns of sweep against serial (default 3)"
    )
    parser.add_argument("--eight", action="store_true", help="the 8-run case of issue 22")
    parser.add_argument(
        "--stacked-only", action="store_true", help="only --eight and --chapter1 (issue 22)"
    )
    args = parser.parse_args()
    data_path = args.data or os.environ.get("NNTUI_DATA")
    if not data_path:
        sys.exit("give --data PATH or set NNTUI_DATA")
    _common.print_environment()
    print()
    work = Path(tempfile.mkdtemp(prefix="nntui-sweep-bench-"))
    env = {**os.environ, "NNTUI_RUNS": str(work / "runs"), "NNTUI_DATA": data_path}
    seeds = list(range(1, args.runs + 1))
    book = ["--hidden", "30", "--eta", "3", "-m", "10", "--epochs", str(args.epochs)]

    if args.stacked_only:
        if args.eight:
            eight_runs(env, args.ratio_repeats)
        if args.chapter1:
            chapter1(env, work)
        print(f"(files in {work})")
        return
    for _ in range(args.repeat if args.fixed_only else 1):
        cost = fixed_cost(data_path)
        print(
            "fixed cost of a sweep (fresh process, 2 local workers; "
            f"load {os.getloadavg()[0]:.2f}):"
        )
        for k, v in cost.items():
            print(f"  {k:16} {v:6.2f} s")
        print(f"  {'total':16} {sum(cost.values()):6.2f} s   (target <= 3 s)")
        print()
    if args.fixed_only:
        return

    sweep_args = [*book, "--seed-list", ",".join(map(str, seeds))]
    local_json = work / "local.json"
    ratios = []
    # Sweep and serial runs take turns, so that a slow spell of this (virtual) machine
    # falls on both alike; the median ratio is the figure.
    for turn in range(1, args.ratio_repeats + 1):
        sweep_s, result = timed(
            [NNTUI, "sweep", *sweep_args, "--workers", "2", "--json", str(local_json)], env
        )
        fixed = re.search(r"fixed cost: .*", result.stderr)
        print(
            f"[{turn}] nntui sweep, {args.runs} runs x {args.epochs} epochs, 2 workers: "
            f"{sweep_s:7.1f} s"
        )
        print(f"  ({fixed.group(0) if fixed else 'no fixed-cost line'}; load {_load()})")
        if args.skip_serial:
            continue
        serial_s = 0.0
        for seed in seeds:
            s, _ = timed([NNTUI, "train", *book, "--seed", str(seed)], env)
            serial_s += s
            print(f"  nntui train --seed {seed}: {s:6.1f} s (load {_load()})")
        ratios.append(sweep_s / serial_s)
        print(f"[{turn}] {args.runs} x nntui train one after another: {serial_s:7.1f} s")
        print(f"[{turn}] ratio sweep / serial: {ratios[-1]:.2f}")
    if ratios:
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        print(
            f"ratio sweep / serial, median of {len(ratios)}: {statistics.median(ratios):.2f} "
            f"({shown})   (target <= 0.65)"
        )
    print()

    remote_s, remote_json = with_scheduler(sweep_args, env, work)
    local, remote = correct_by_run(local_json), correct_by_run(remote_json)
    same = local == remote
    print(f"nntui sweep --scheduler (dask scheduler + 2 dask workers): {remote_s:.1f} s")
    print(
        f"  every epoch's correct count equal to the local sweep's: {same} "
        f"({len(local)} runs x {args.epochs} epochs)"
    )
    for key in sorted(local):
        print(f"  {key}: best {max(local[key])} / 10000 local, {max(remote.get(key, [0]))} remote")
    print()

    if args.eight:
        eight_runs(env, args.ratio_repeats)
    if args.chapter1:
        chapter1(env, work)
    print(f"(files in {work})")


def eight_runs(env: dict[str, str], turns: int) -> None:
    """Issue 22's case: 8 runs, 2 workers, with and without stacks, against serial runs.

    Wall and CPU seconds of each; on a shared machine the CPU ratio is the steadier one.
    """
    config = ["--hidden", "30", "-m", "10", "--epochs", "10", "--train-size", "50000"]
    etas, seeds = (2, 3), (1, 2, 3, 4)
    grid = [*config, "--eta", ",".join(map(str, etas)), "--seed-list", ",".join(map(str, seeds))]
    cases = {
        "default --stack": [NNTUI, "sweep", *grid, "--workers", "2"],
        "--stack 1": [NNTUI, "sweep", *grid, "--workers", "2", "--stack", "1"],
    }
    ratios: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for turn in range(1, turns + 1):
        measured = {}
        for name, cmd in cases.items():
            measured[name] = timed_cpu(cmd, env)
            wall, cpu = measured[name]
            print(f"[{turn}] sweep, 8 runs, 2 workers, {name:<15}: {wall:6.1f} s wall, "
                  f"{cpu:6.1f} s CPU (load {_load()})")  # fmt: skip
        serial_wall = serial_cpu = 0.0
        for eta in etas:
            for seed in seeds:
                wall, cpu = timed_cpu(
                    [NNTUI, "train", *config, "--eta", str(eta), "--seed", str(seed)], env
                )
                serial_wall += wall
                serial_cpu += cpu
        print(f"[{turn}] 8 x nntui train one after another: {serial_wall:6.1f} s wall, "
              f"{serial_cpu:6.1f} s CPU (load {_load()})")  # fmt: skip
        for name, (wall, cpu) in measured.items():
            ratios[name].append((wall / serial_wall, cpu / serial_cpu))
            print(f"[{turn}] {name}: wall ratio {wall / serial_wall:.2f}, "
                  f"CPU ratio {cpu / serial_cpu:.2f}")  # fmt: skip
    for name, rs in ratios.items():
        walls = ", ".join(f"{w:.2f}" for w, _ in rs)
        cpus = ", ".join(f"{c:.2f}" for _, c in rs)
        target = " (target <= 0.38)" if name == "default --stack" else ""
        print(f"8 runs, {name} / serial, median of {len(rs)}: wall "
              f"{statistics.median(w for w, _ in rs):.2f} ({walls}){target}; CPU "
              f"{statistics.median(c for _, c in rs):.2f} ({cpus}); with 2 idle cores the "
              "wall ratio could reach half the CPU ratio")  # fmt: skip
    print()


def chapter1(env: dict[str, str], work: Path) -> None:
    """`nntui sweep --preset chapter1 --seeds 3`, before (--stack 1) and after (default)."""
    for label, extra in (("--stack 1", ["--stack", "1"]), ("default --stack", [])):
        out = work / f"chapter1{'-1' if extra else ''}.json"
        wall, cpu = timed_cpu(
            [NNTUI, "sweep", "--preset", "chapter1", "--seeds", "3", *extra, "--json", str(out)],
            env,
        )
        print(
            f"nntui sweep --preset chapter1 --seeds 3, {label}: {wall:.0f} s wall, "
            f"{cpu:.0f} s CPU (load {_load()})",
            flush=True,
        )


if __name__ == "__main__":
    main()
