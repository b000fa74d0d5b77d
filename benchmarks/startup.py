"""How long nntui takes to start: whole processes, as a person launches them.

Prints the median (and min..max) of ``--runs`` runs of each of

* ``nntui --help``;
* ``nntui train --epochs 1 --train-size 1000`` with a warm decoded-data cache,
  cold (the cache removed before each run, so the run decodes the data and
  writes the cache), and decode-only (no cache and nowhere to write one: the
  data folder and the user cache dir made read-only, which is what every start
  did before the cache existed), with each run's peak RSS (``os.wait4``'s
  ``ru_maxrss``);
* the dashboard in a tmux pane of ``--size`` (default 120x40): seconds from
  launching it to its first frame (any text in the pane) and to "ready" (the
  pane shows ``--ready-marker``), polling ``tmux capture-pane`` every 10 ms.

The data file is copied into a temporary directory first, so that the cache
lands there and the original folder is never written; ``XDG_CACHE_HOME``,
``NNTUI_RUNS`` and ``HOME``'s caches point into that directory too.

    python benchmarks/startup.py --data /path/to/mnist.pkl.gz
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import REPO, add_data_option, environment_lines

DEFAULT_MARKER = "Ready:"


def _nntui() -> list[str]:
    exe = Path(sys.executable).with_name("nntui")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nntui"]


_cpu: dict[str, list[float]] = {}


def _run(cmd: list[str], env: dict[str, str], kind: str = "") -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process; its CPU seconds go to ``_cpu[kind]``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0 or "Traceback" in err:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    _cpu.setdefault(kind, []).append(usage.ru_utime + usage.ru_stime)
    # Linux reports ru_maxrss in KiB.
    return wall, usage.ru_maxrss / 1024


def _clear_cache(data: Path, cache_home: Path) -> None:
    shutil.rmtree(data.parent / ".nntui-cache", ignore_errors=True)
    shutil.rmtree(cache_home, ignore_errors=True)


def _wait_for_cache(data: Path, timeout: float = 60.0) -> float:
    """Seconds until the cache a cold run left to a background writer is complete.

    A timeout of 0 is for a version of nntui without the cache: nothing is waited for.
    """
    tag = data.parent / ".nntui-cache" / f"{data.name}.json"
    start = time.perf_counter()
    while not tag.exists():
        if timeout <= 0:
            return float("nan")
        if time.perf_counter() - start > timeout:
            sys.exit(f"no cache at {tag} {timeout:g} s after a cold run")
        time.sleep(0.01)
    return time.perf_counter() - start


def _decode_only(cmd: list[str], env: dict[str, str], data: Path, cache_home: Path) -> tuple:
    _clear_cache(data, cache_home)
    cache_home.mkdir(parents=True)
    for d in (data.parent, cache_home):
        d.chmod(0o555)
    try:
        return _run(cmd, env, "decode")
    finally:
        for d in (data.parent, cache_home):
            d.chmod(0o755)


def _dashboard(
    cmd: list[str], env: dict[str, str], size: tuple[int, int], marker: str, timeout: float
) -> tuple[float, float]:
    tmux = shutil.which("tmux")
    if tmux is None:
        sys.exit("tmux is needed for the dashboard figures")
    socket = f"nntui-startup-{uuid.uuid4().hex[:8]}"
    exports = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith(("NNTUI", "XDG")))
    command = f"env -u COLUMNS -u LINES {exports} {' '.join(cmd)}"
    first = ready = None
    start = time.perf_counter()
    subprocess.run(
        [tmux, "-L", socket, "new", "-d", "-x", str(size[0]), "-y", str(size[1]), command],
        check=True,
    )
    try:
        while time.perf_counter() - start < timeout:
            screen = subprocess.run(
                [tmux, "-L", socket, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            now = time.perf_counter() - start
            if first is None and screen.strip():
                first = now
            if marker in screen:
                ready = now
                break
            time.sleep(0.01)
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True)
    if first is None or ready is None:
        sys.exit(f"the dashboard did not show {marker!r} within {timeout:g} s")
    return first, ready


def _summary(values: list[float], unit: str, digits: int = 2) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit}  ({min(values):.{digits}f}..{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_option(parser)
    parser.add_argument("--runs", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--size", default="120x40", help="dashboard pane size (default 120x40)")
    parser.add_argument("--ready-marker", default=DEFAULT_MARKER, help="text that means ready")
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument(
        "--cache-wait",
        type=float,
        default=60.0,
        help="seconds to wait for the cache after a cold run (0: nntui before the cache)",
    )
    args = parser.parse_args()
    source = args.data or os.environ.get("NNTUI_DATA")
    if not source or not Path(source).is_file():
        sys.exit("pass --data PATH/mnist.pkl.gz (or set NNTUI_DATA to the file)")
    width, height = (int(v) for v in args.size.split("x"))

    for line in environment_lines():
        print(line)
    nntui = _nntui()
    print(f"nntui: {' '.join(nntui)} (checkout {REPO})")
    with tempfile.TemporaryDirectory(prefix="nntui-startup-") as tmp:
        work = Path(tmp)
        data = work / "data" / Path(source).name
        data.parent.mkdir()
        shutil.copyfile(source, data)
        cache_home = work / "cache"
        # As after `pip install`, which compiles every module: a PYTHONDONTWRITEBYTECODE
        # in this shell would make each start compile nntui's modules again (~0.1 s).
        dropped = ("NNTUI_DATA", "PYTHONDONTWRITEBYTECODE")
        env = {k: v for k, v in os.environ.items() if k not in dropped}
        env |= {
            "XDG_CACHE_HOME": str(cache_home),
            "NNTUI_RUNS": str(work / "runs"),
            "NNTUI_DATA": str(data),
        }
        train = [*nntui, "train", "--epochs", "1", "--train-size", "1000", "--data", str(data)]
        train += ["--no-save"] if _has_no_save(nntui, env) else []

        _run([*nntui, "--help"], env)  # writes the bytecode of an editable install
        subprocess.run(
            [sys.executable, "-c", "import nntui.tui.app, nntui.cli.train, nntui.sweep.runner"],
            env=env,
            check=True,
        )
        helps, cold, cold_rss, warm, warm_rss, first, ready = [], [], [], [], [], [], []
        plain, plain_rss, settle = [], [], []
        # Take turns, so that a burst of load from elsewhere hits every kind of run alike.
        for _ in range(args.runs):
            helps.append(_run([*nntui, "--help"], env, "help")[0])
            _clear_cache(data, cache_home)
            wall, rss = _run(train, env, "cold")
            cold.append(wall)
            cold_rss.append(rss)
            lag = _wait_for_cache(data, args.cache_wait)
            settle.append(lag)
            wall, rss = _run(train, env, "warm")  # the cache the cold run wrote is warm now
            warm.append(wall)
            warm_rss.append(rss)
            wall, rss = _decode_only(train, env, data, cache_home)
            plain.append(wall)
            plain_rss.append(rss)
            _run(train, env)  # the cache again, for the dashboard
            # ...written by a child after that run's exit: wait for it, or the dashboard
            # starts while the child still hashes and writes 220 MB on the other core.
            _wait_for_cache(data, args.cache_wait)
            if not args.skip_dashboard:
                f, r = _dashboard(nntui, env, (width, height), args.ready_marker, timeout=30)
                first.append(f)
                ready.append(r)
        cached = sorted(p.name for p in (data.parent / ".nntui-cache").glob("*"))
        print(f"cache files after a run: {', '.join(cached) or 'none'}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\nmedian of {args.runs} runs (min..max):")
    print(f"  nntui --help                         {_summary(helps, 's')}")
    print("  train --epochs 1 --train-size 1000")
    print(f"    warm cache                         {_summary(warm, 's')}")
    print(f"    cold (no cache)                    {_summary(cold, 's')}")
    print(f"    decode only (as before the cache)  {_summary(plain, 's')}")
    print(f"    cache complete after a cold exit   {_summary(settle, 's')}")
    print(f"    peak RSS, warm                     {_summary(warm_rss, 'MiB', 0)}")
    print(f"    peak RSS, cold                     {_summary(cold_rss, 'MiB', 0)}")
    print(f"    peak RSS, decode only              {_summary(plain_rss, 'MiB', 0)}")
    if first:
        print(f"  dashboard {args.size}, first frame     {_summary(first, 's')}")
        print(f"  dashboard {args.size}, {args.ready_marker!r:12}     {_summary(ready, 's')}")
    print(f"  (largest child RSS seen: {children:.0f} MiB)")
    print("CPU seconds (user + sys) of the same processes, less sensitive to load:")
    for kind, label in (
        ("help", "nntui --help"),
        ("warm", "train, warm cache"),
        ("cold", "train, cold (the cache writer's child not counted)"),
        ("decode", "train, decode only"),
    ):
        print(f"  {label:52} {_summary(_cpu[kind], 's')}")


def _has_no_save(nntui: list[str], env: dict[str, str]) -> bool:
    out = subprocess.run([*nntui, "train", "--help"], env=env, capture_output=True, text=True)
    return "--no-save" in out.stdout


if __name__ == "__main__":
    main()
