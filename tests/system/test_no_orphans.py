"""No process nntui starts outlives it: a local sweep's workers die with `nntui sweep`.

Whatever ends the CLI, ``kill -9`` included, every process it started must be gone
soon after (the SVM fit's child is tested in test_svm_interrupt.py). Dask's
worker processes watch a pipe from their parent and exit when it closes; this
checks that it holds for nntui's local cluster, started from Dask's own threads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.system.procs import alive

NNTUI = str(Path(sys.executable).parent / "nntui")
LONG_SWEEP = ["--eta", "3", "--hidden", "30", "--epochs", "2000", "--seeds", "2", "--workers", "2"]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGHUP, signal.SIGQUIT])
def test_a_local_sweeps_workers_die_with_it(tiny_data_file, tmp_path, signum):
    proc = subprocess.Popen(
        [NNTUI, "sweep", "--data", str(tiny_data_file), *LONG_SWEEP],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:  # the two workers are up
            started = _descendants(proc.pid)
            if len(started) >= 3:  # two workers and multiprocessing's resource tracker
                break
            time.sleep(0.2)
        assert len(started) >= 3, started
        time.sleep(3)  # the runs are sent out and training
        started |= _descendants(proc.pid)
        proc.send_signal(signum)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(p) for p in started):
            time.sleep(0.2)
        assert not [p for p in started if alive(p)], "processes outlived nntui sweep"
    finally:
        proc.kill()
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
