"""The runs store at scale: listing, JSON, the dashboard's runs screen, a sweep's recording.

Builds stores of ``--sizes`` runs (default 2,000 and 20,000) of 30 epochs each,
written directly as files (copies of one 30-epoch run whose records have the
per-layer statistics a real run keeps), as an nntui without the index would
have left them. Then, as whole processes, with wall time and peak RSS
(``os.wait4``'s ``ru_maxrss``):

* ``nntui runs --reindex`` once: the index built from every folder (a one-off);
* ``nntui runs`` (the default listing: newest 40 and a count of the rest);
* ``nntui runs --sort best --filter status=completed --limit 20``;
* ``nntui runs --json > /dev/null`` (every run, with every epoch);
* the dashboard's runs screen (``R``): a process that pushes `RunsScreen` in
  Textual's headless test harness and times it until its first page is listed,
  and until its worker has checked the index against the folders, then
  presses ``pagedown`` until 1,000 rows are loaded (ten pages read on the
  way) and gives the mean seconds per key.

And the recording of a sweep of ``--sweep-runs`` (default 1,000) tiny runs
(3 epochs each, a 784-5-10 network) through `SweepRecorder`, the client-side
writer every sweep uses, into the largest store: seconds per run for each
hundred, so that a slowdown as the store grows shows as a rising column.

With ``--real-sweep N`` it does only this instead: a real ``nntui sweep`` of N
tiny runs (784-2-10, 1 epoch on 50 images, evaluated on the 10,000 validation
images; 2 workers of a Dask LocalCluster) into the largest store, then the
seconds per run for each hundred, from the runs' finish times in the index
(``run.json``'s ``finished``, to the second), and the sweep's runs deleted.

    python benchmarks/runs_store.py                  # about 2 minutes on a quiet machine
    python benchmarks/runs_store.py --sizes 2000     # quicker
    python benchmarks/runs_store.py --sizes 20000 --keep DIR --real-sweep 1000 \\
        --data /path/to/mnist.pkl.gz                 # about 20 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, environment_lines

EPOCHS = 30


def _nntui() -> list[str]:
    exe = Path(sys.executable).with_name("nntui")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nntui"]


def _record(epoch: int) -> dict[str, object]:
    """An epoch record shaped like `epoch_record`'s, with per-layer statistics."""
    correct = 9000 + 10 * epoch + (epoch * 37) % 50
    record: dict[str, object] = {
        "epoch": epoch,
        "correct": correct,
        "total": 10000,
        "accuracy": correct / 10000,
        "train_cost": round(0.5 / epoch, 6),
        "eta": 3.0,
        "mini_batch_size": 10,
        "train_seconds": 1.2345,
        "eval_seconds": 0.0567,
        "train_correct": 950 + epoch,
        "train_total": 1000,
        "train_accuracy": round((950 + epoch) / 1000, 6),
    }
    for layer in (1, 2):
        record.update(
            {
                f"layer{layer}_stuck": 0.012345,
                f"layer{layer}_saturated": 0.123456,
                f"layer{layer}_grad_rms": 0.000123,
                f"layer{layer}_weight_norm": 12.345678,
            }
        )
    return record


def build(root: Path, n: int) -> float:
    """Write ``n`` run folders of `EPOCHS` epochs into ``root``; return the seconds it took."""
    start = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    history = "".join(json.dumps(_record(e)) + "\n" for e in range(1, EPOCHS + 1))
    statuses = ("completed",) * 8 + ("stopped", "diverged")
    for i in range(n):
        day, second = divmod(i, 86_400)
        hh, rest = divmod(second, 3600)
        mm, ss = divmod(rest, 60)
        started = f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T{hh:02d}:{mm:02d}:{ss:02d}"
        eta = (0.5, 1.0, 3.0, 10.0)[i % 4]
        name = f"{started.replace(':', '-')}_784-30-10_eta{eta:g}"
        folder = root / name
        folder.mkdir()
        doc = {
            "format": "nntui-run",
            "version": 2,
            "name": name,
            "config": {
                "sizes": [784, 30, 10],
                "epochs": EPOCHS,
                "mini_batch_size": 10,
                "eta": eta,
                "train_size": 50000,
                "seed": i,
                "eval_on": "test",
                "backprop": "matrix",
            },
            "seed": i,
            "status": statuses[i % len(statuses)],
            "started": f"{started}.000000+00:00",
            "finished": f"{started}+00:00",
            "resumed_from": None,
            "sweep": f"sw-bench-{i // 1000:03d}",
            "note": None,
            "pid": 1,
            "host": "bench",
            "model_epoch": EPOCHS,
        }
        (folder / "run.json").write_text(json.dumps(doc, indent=1) + "\n")
        (folder / "epochs.jsonl").write_text(history)
    return time.perf_counter() - start


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one process, its stdout thrown away.

    On a shared machine the wall time swings with the load; the CPU time much less.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or "Traceback" in err:
        sys.exit(f"{' '.join(cmd)} failed ({code}):\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


DASHBOARD = """
import asyncio, resource, sys, time
from textual.app import App
from nntui.store.runs import RunStore
from nntui.tui.screens.runs import RunsScreen

class Bench(App):
    pass

async def main():
    app = Bench()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = RunsScreen(RunStore())
        start = time.perf_counter()
        await app.push_screen(screen)
        await pilot.pause()
        opened = time.perf_counter() - start
        await screen.workers.wait_for_complete()
        await pilot.pause()
        synced = time.perf_counter() - start
        presses = 0
        start = time.perf_counter()
        while screen.loaded < min(1000, screen.total):
            await pilot.press("pagedown")
            presses += 1
        await pilot.pause()
        per_key = (time.perf_counter() - start) / max(presses, 1)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{opened:.3f} {synced:.3f} {per_key:.4f} {screen.loaded} {presses} {peak:.0f}")

asyncio.run(main())
"""


def dashboard(env: dict[str, str]) -> tuple[float, float, float, int, int, float]:
    """Seconds to open R and to have checked the folders; s per pagedown; rows; keys; MiB."""
    proc = subprocess.run(
        [sys.executable, "-c", DASHBOARD],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    if proc.returncode != 0:
        sys.exit(f"the runs screen failed:\n{proc.stderr}")
    opened, synced, per_key, loaded, presses, peak = proc.stdout.split()
    return float(opened), float(synced), float(per_key), int(loaded), int(presses), float(peak)


def sweep_recording(root: Path, runs: int) -> list[float]:
    """Seconds per run, for each hundred runs recorded by `SweepRecorder` into ``root``."""
    sys.path.insert(0, str(REPO))
    import numpy as np

    from nntui.engine.config import TrainConfig
    from nntui.store.index import Filter
    from nntui.store.runs import RunStore
    from nntui.sweep.events import RunEnded, RunEpoch, RunStarted, SweepStarted
    from nntui.sweep.grid import RunSpec
    from nntui.sweep.recorder import SweepRecorder

    store = RunStore(root)
    config = TrainConfig(sizes=(784, 5, 10), epochs=3, eta=3.0, mini_batch_size=10, seed=0)
    specs = tuple(RunSpec(i, config.with_changes(seed=i)) for i in range(runs))
    recorder = SweepRecorder("sw-bench-new", store, warn=print)
    recorder.handle(SweepStarted("sw-bench-new", specs, 2, "inproc://"))
    rng = np.random.default_rng(0)
    weights = (rng.standard_normal((5, 784)), rng.standard_normal((10, 5)))
    biases = (rng.standard_normal((5, 1)), rng.standard_normal((10, 1)))
    per_hundred = []
    start = time.perf_counter()
    for i in range(runs):
        recorder.handle(RunStarted(i, "w", 1, None))
        for e in range(1, 4):
            recorder.handle(RunEpoch(i, _record(e)))
        recorder.handle(RunEnded(i, "completed", "", weights, biases))
        if (i + 1) % 100 == 0:
            now = time.perf_counter()
            per_hundred.append((now - start) / 100)
            start = now
    # Leave the store as it was, for the next run of the benchmark: `nntui delete --sweep`.
    start = time.perf_counter()
    deleted = store.delete(store.query([Filter("sweep", "=", "sw-bench-new")]))
    print(f"  deleted the sweep's {deleted:,} runs in {time.perf_counter() - start:.2f} s")
    return per_hundred


def real_sweep(root: Path, runs: int, data: str) -> None:
    """Time a real ``nntui sweep`` of ``runs`` tiny runs into ``root``: s per run, per hundred."""
    import sqlite3
    from datetime import datetime

    env = {**os.environ, "NNTUI_RUNS": str(root), "NO_COLOR": "1", "COLUMNS": "120"}
    seeds = ",".join(str(s) for s in range(1, runs + 1))
    # --hidden 2 and 50 training images: the run itself is as small as it can be,
    # so what is left per run is the sweep's own cost: Dask, the client, the store.
    cmd = [*_nntui(), "sweep", "--hidden", "2", "--epochs", "1", "--train-size", "50"]
    cmd += ["--eval-on", "validation", "--workers", "2", "--seed-list", seeds, "--data", data]
    before = len([p for p in root.iterdir() if not p.name.startswith(".")])
    print(f"nntui sweep of {runs:,} tiny runs into a store of {before:,} runs ({root}):")
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or "Traceback" in proc.stderr:
        sys.exit(f"nntui sweep failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    fixed = [line for line in (proc.stdout + proc.stderr).splitlines() if "fixed cost" in line]
    print(f"  whole command {wall:.0f} s; " + (fixed[-1].strip() if fixed else ""))
    with sqlite3.connect(root / ".index.sqlite") as db:
        (sweep,) = db.execute(
            "SELECT sweep FROM runs WHERE sweep IS NOT NULL ORDER BY started_ts DESC LIMIT 1"
        ).fetchone()
        rows = db.execute(
            "SELECT started, finished FROM runs WHERE sweep = ? AND status = 'completed'",
            (sweep,),
        ).fetchall()
    db.close()
    first = min(datetime.fromisoformat(s).timestamp() for s, _ in rows)
    ends = sorted(datetime.fromisoformat(f).timestamp() for _, f in rows)
    print(f"  {len(rows):,} runs completed in sweep {sweep}")
    per = []
    previous = first
    for k in range(99, len(ends), 100):
        per.append((ends[k] - previous) / 100)
        previous = ends[k]
    print("  s per run, each hundred: " + " ".join(f"{s:.2f}" for s in per))
    if per:
        print(f"  last hundred / first hundred: {per[-1] / per[0]:.2f}")
    deleted = subprocess.run(
        [*_nntui(), "delete", "--sweep", sweep], env=env, capture_output=True, text=True
    )
    print(f"  nntui delete --sweep: exit {deleted.returncode} {deleted.stderr.strip()[-200:]}")
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--sweep-runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed command")
    parser.add_argument("--keep", metavar="DIR", help="build the stores in DIR and keep them")
    parser.add_argument("--real-sweep", type=int, metavar="N", help="time a real nntui sweep")
    parser.add_argument("--data", default=os.environ.get("NNTUI_DATA", ""), help="MNIST file")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="nntui-runs-bench-"))
    for line in environment_lines():
        print(line)
    print()
    try:
        if args.real_sweep:
            root = base / f"runs-{max(args.sizes)}"
            if not root.exists():
                print(f"built {max(args.sizes):,} runs in {build(root, max(args.sizes)):.1f} s")
            real_sweep(root, args.real_sweep, args.data)
            return
        for n in args.sizes:
            root = base / f"runs-{n}"
            if not root.exists():
                print(f"built {n:,} runs of {EPOCHS} epochs in {build(root, n):.1f} s")
            env = {**os.environ, "NNTUI_RUNS": str(root), "NO_COLOR": "1", "COLUMNS": "120"}
            wall, cpu, peak = measure([*_nntui(), "runs", "--reindex"], env)
            print(
                f"  {'nntui runs --reindex':28s} {wall:6.2f} s  cpu {cpu:5.2f} s  {peak:4.0f} MiB"
            )
            commands = {
                "nntui runs": ["runs"],
                "nntui runs --sort best ...": [
                    "runs",
                    "--sort",
                    "best",
                    "--filter",
                    "status=completed",
                    "--limit",
                    "20",
                ],
                "nntui runs --json": ["runs", "--json"],
            }
            for label, argv in commands.items():
                results = [measure([*_nntui(), *argv], env) for _ in range(args.repeat)]
                walls = sorted(r[0] for r in results)
                cpus = sorted(r[1] for r in results)
                peak = max(r[2] for r in results)
                print(
                    f"  {label:28s} {walls[len(walls) // 2]:6.2f} s  "
                    f"cpu {cpus[len(cpus) // 2]:5.2f} s  {peak:4.0f} MiB   "
                    f"(median of {len(walls)}; fastest {walls[0]:.2f} s)"
                )
            if n == args.sizes[0]:
                empty = base / "runs-0"
                empty.mkdir(exist_ok=True)
                opened, *_ = dashboard({**env, "NNTUI_RUNS": str(empty)})
                print(f"  (dashboard R on an empty store, for comparison: {opened:.2f} s)")
            opened, synced, per_key, loaded, presses, peak = dashboard(env)
            print(
                f"  dashboard R: listed in {opened:.2f} s, checked against the folders "
                f"{synced:.2f} s; pagedown {1000 * per_key:.0f} ms a key over the first "
                f"{loaded:,} rows ({presses} keys); peak {peak:.0f} MiB"
            )
        root = base / f"runs-{max(args.sizes)}"
        print()
        print(f"recording a sweep of {args.sweep_runs:,} tiny runs (3 epochs) into {root.name}:")
        per = sweep_recording(root, args.sweep_runs)
        print("  ms per run, each hundred: " + " ".join(f"{1000 * s:.1f}" for s in per))
        print(f"  last hundred / first hundred: {per[-1] / per[0]:.2f}")
        print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
