"""Ctrl-C at a real terminal during ``nntui sweep``: it reaches every process of the group.

A terminal sends SIGINT to its whole foreground process group, the Dask worker
processes included; `send_signal` to the CLI alone (tests/system/test_sweep_cluster.py)
does not show what they do with it. Here the CLI runs on a pseudo-terminal that is
its controlling terminal, and Ctrl-C is typed into it, or SIGINT sent to the group.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from nntui.store.runs import RunStore

NNTUI = str(Path(sys.executable).parent / "nntui")
# Long runs: no sweep may end before the Ctrl-C reaches it.
LONG_SWEEP = ["--eta", "3", "--hidden", "30", "--epochs", "2000", "--seeds", "2", "--workers", "2"]
WORKER_NOISE = (
    "Traceback", "KeyboardInterrupt", "Exception ignored", "Nanny failed", "resource_tracker",
)  # fmt: skip


def _on_the_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is stdin (the pty)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as from a shell, whatever pytest runs under


def _sweep_on_a_pty(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [NNTUI, "sweep", *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_on_the_terminal,
    )
    os.close(slave)
    return proc, master


def _finish(proc: subprocess.Popen) -> str:
    try:
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return err


def _training_sweep(data_file, runs_dir):  # type: ignore[no-untyped-def]
    """A long sweep on a terminal, returned once its first epoch has ended: the runs train."""
    env = {**os.environ, "NNTUI_RUNS": str(runs_dir)}
    args = [*LONG_SWEEP, "--train-size", "500", "--data", str(data_file)]
    proc, master = _sweep_on_a_pty(args, env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if ": Epoch " in line:
            break
    return proc, master


# Ctrl-C, and ctrl+\ (SIGQUIT), which a terminal sends to the whole group too: the workers
# and multiprocessing's resource tracker must not die of it (with tracebacks) either.
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGQUIT, 131)])
def test_ctrl_c_to_the_whole_group_stops_the_runs_without_a_word_from_the_workers(
    tiny_data_file, tmp_path, signum, code
) -> None:
    runs_dir = tmp_path / "runs"
    proc, master = _training_sweep(tiny_data_file, runs_dir)
    try:
        os.killpg(proc.pid, signum)  # what the terminal's Ctrl-C (or ctrl+\) does
        err = _finish(proc)
    finally:
        os.close(master)
    assert proc.returncode == code, err
    assert not any(word in err for word in WORKER_NOISE), err
    stored = RunStore(runs_dir).list()
    assert len(stored) == 2 and {r.status for r in stored} == {"stopped"}
    assert any(r.epochs_done > 0 for r in stored)


@pytest.mark.parametrize("how", ["SIGHUP to the group", "the terminal closed"])
def test_a_hang_up_stops_the_runs_and_keeps_them(tiny_data_file, tmp_path, how) -> None:
    """A closed terminal is a stop like Ctrl-C: the workers ignore it, the client stops the
    runs in order, keeps them and exits 129, writing nothing more to the dead terminal."""
    runs_dir = tmp_path / "runs"
    proc, master = _training_sweep(tiny_data_file, runs_dir)
    try:
        if how == "the terminal closed":
            os.close(master)  # the kernel hangs up the session: SIGHUP to its processes
            master = -1
        else:
            os.killpg(proc.pid, signal.SIGHUP)
        err = _finish(proc)
    finally:
        if master >= 0:
            os.close(master)
    assert proc.returncode == 129, err
    assert not any(word in err for word in WORKER_NOISE), err
    stored = RunStore(runs_dir).list()
    assert len(stored) == 2 and {r.status for r in stored} == {"stopped"}


@pytest.mark.parametrize("delay", [0.3, 0.9])
def test_the_terminal_closed_at_any_moment_of_the_start_ends_the_sweep_quietly(
    tiny_data_file, tmp_path, delay
) -> None:
    """Whenever it comes (loading, starting the workers, running), a hang-up ends the sweep."""
    env = {**os.environ, "NNTUI_RUNS": str(tmp_path / "runs")}
    args = [*LONG_SWEEP, "--train-size", "500", "--data", str(tiny_data_file)]
    proc, master = _sweep_on_a_pty(args, env)
    time.sleep(delay)
    os.close(master)
    err = _finish(proc)
    # 129 from nntui, or death by SIGHUP itself before Python has a handler for it.
    assert proc.returncode in (129, -signal.SIGHUP), err
    assert not any(word in err for word in WORKER_NOISE), err


@pytest.mark.parametrize("delay", [0.2, 0.8, 1.5])
def test_ctrl_c_typed_at_any_moment_of_the_start_stops_the_sweep(
    tiny_data_file, tmp_path, delay
) -> None:
    """Loading Python, starting the workers, handing out the runs: whenever it comes,
    Ctrl-C ends the sweep with 130 and no traceback (which moment it hit is not asserted)."""
    env = {**os.environ, "NNTUI_RUNS": str(tmp_path / "runs")}
    args = [*LONG_SWEEP, "--train-size", "500", "--data", str(tiny_data_file)]
    proc, master = _sweep_on_a_pty(args, env)
    try:
        time.sleep(delay)
        os.write(master, b"\x03")
        err = _finish(proc)
    finally:
        os.close(master)
    # 130 from nntui; or, on a machine so slow that Python had not yet set up its own
    # handler, death by SIGINT itself, which a shell reports as 130 too.
    assert proc.returncode in (130, -signal.SIGINT), err
    assert not any(word in err for word in WORKER_NOISE), err


READ_AS_A_KEY = """
import fcntl, signal, sys, termios, time
from nntui.cli.sweep import _terminal_signals_held

signal.signal(signal.SIGINT, lambda *a: print("SIGINT", flush=True))
names = {signal.SIGINT: "read a Ctrl-C", signal.SIGHUP: "hung up"}
with _terminal_signals_held(lambda signum: print(names[signum], flush=True)):
    print("in the block", flush=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the byte waits in the input
        if int.from_bytes(fcntl.ioctl(0, termios.FIONREAD, b"\\0" * 4), "little"):
            break
        time.sleep(0.01)
print("after the block", flush=True)
"""


def test_a_ctrl_c_typed_while_the_workers_start_is_read_afterwards_not_lost() -> None:
    """The window in which SIGINT is ignored (`Sweep.connect`) reads Ctrl-C as a key."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", READ_AS_A_KEY],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_on_the_terminal,
    )
    os.close(slave)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "in the block"
        os.write(master, b"\x03")
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    # No signal during the block; the typed Ctrl-C is handed over once it ends.
    assert out.split("\n")[:2] == ["read a Ctrl-C", "after the block"], out
    assert "SIGINT" not in out
