"""Ctrl-C during the SVM fit: the child process is killed at once and the command exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.fakedata import write_pickle
from tests.system.procs import alive, gone_within

pytest.importorskip("sklearn")


def fitting(tmp_path, seed: int) -> tuple[subprocess.Popen, int]:
    """``nntui baseline svm`` fitting in its child process: (the CLI, the child's pid).

    Noise has no margin to find: every image becomes a support vector and the fit
    runs for minutes, far longer than the tests wait.
    """
    rng = np.random.default_rng(seed)

    def split(n):
        return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)

    data = write_pickle(tmp_path / "mnist.pkl.gz", (split(12_000), split(100), split(2_000)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "nntui", "baseline", "svm", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stderr.readline()
    if "fitting SVC" not in line:
        proc.kill()
        raise AssertionError(line + proc.stderr.read())
    return proc, int(line.split("(process ")[1].split(";")[0])


def test_ctrl_c_kills_the_fitting_child_and_exits_130(tmp_path):
    proc, child = fitting(tmp_path, seed=0)
    try:
        os.kill(child, 0)  # the child is fitting
        proc.send_signal(signal.SIGINT)  # the parent only, as a test cannot press Ctrl-C
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "nntui: error: interrupted: the fit was stopped"
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    assert not list(tmp_path.glob("nntui-baselines-*"))  # nothing cached from a stopped fit


def test_sigterm_kills_the_child_too(tmp_path):
    proc, child = fitting(tmp_path, seed=1)
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


# --- no fit outlives nntui ----------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGHUP, signal.SIGQUIT])
def test_the_child_dies_with_its_parent_whatever_kills_it(tmp_path, signum):
    proc, child = fitting(tmp_path, seed=2)
    try:
        time.sleep(0.5)  # well into the fit: libsvm's C code holds the GIL
        assert alive(child)
        proc.send_signal(signum)
        proc.communicate(timeout=60)
        assert gone_within(child, 20), f"the fit {child} outlived nntui"
    finally:
        proc.kill()
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_the_child_obeys_sigterm(tmp_path):
    proc, child = fitting(tmp_path, seed=3)
    try:
        time.sleep(0.5)
        os.kill(child, signal.SIGTERM)  # as `kill PID` or a system shutting down would
        assert gone_within(child, 20), "the fit ignored SIGTERM"
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert "the SVM fit stopped unexpectedly" in err and "Traceback" not in err
