"""500 random keys, 10-20 ms apart, into the real dashboard in tmux, for 10 seeds.

The keys are the footer's, plus Tab, Enter, Escape, digits and letters: they
open and close every screen, start and stop runs, type into the inputs. No
traceback may appear, and the exit code is 0 exactly when ``q`` ended the app.
The ten dashboards run side by side to keep the test near a minute.
"""

from __future__ import annotations

import contextlib
import random
import string
import threading
import time
from pathlib import Path

import pytest

from tests.fakedata import write_book_pickle
from tests.system.tmux_session import TMUX, Pane, nntui_command, pane

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it)")

FOOTER = ["s", "Space", "x", "r", "n", "d", "p", "c", "m", "w", "R", "b", "?", "u"]
OTHERS = ["Tab", "Enter", "Escape", "BSpace", "Left", "Right", "Up", "Down"]
CHARS = list(string.digits + string.ascii_letters + ".,e")
KEYS = 500
SEEDS = range(10)


def mash(p: Pane, seed: int, results: dict[int, tuple[bool, str]]) -> None:
    rng = random.Random(seed)
    quit_sent = False
    try:
        p.wait_for(r"Ready: press s to start", timeout=90)
        for _ in range(KEYS):
            if p.exit_file.exists():
                break
            roll = rng.random()
            if roll < 0.003:
                key, quit_sent = "q", True
            elif roll < 0.45:
                key = rng.choice(FOOTER)
            elif roll < 0.65:
                key = rng.choice(OTHERS)
            else:
                key = rng.choice(CHARS)
            if key == "q" and not quit_sent:
                continue
            p.keys(key)
            time.sleep(rng.uniform(0.010, 0.020))
        if not p.exit_file.exists():
            # Leave any input (where q is a letter) or open list, then quit as a user would;
            # if a field still holds the focus, ctrl+c quits from anywhere.
            for key in ("Escape", "Escape"):
                p.keys(key)
                time.sleep(0.3)
            # q and another key in one burst: the second arrives while the app exits.
            p.keys("q", rng.choice(FOOTER))
            quit_sent = True
            deadline = time.monotonic() + 15
            while not p.exit_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not p.exit_file.exists() and p.flag("alternate_on") == "1":
                p.keys("C-c")
        results[seed] = (quit_sent, "")
    except Exception as exc:  # reported by the test, with the seed
        results[seed] = (quit_sent, f"{type(exc).__name__}: {exc}")


def test_random_keys_never_crash_the_dashboard(tmp_path: Path) -> None:
    data = write_book_pickle(tmp_path / "mnist.pkl.gz", 500, 100, 100)
    results: dict[int, tuple[bool, str]] = {}
    with contextlib.ExitStack() as stack:
        panes = {
            seed: stack.enter_context(
                pane(
                    tmp_path,
                    [*nntui_command(), "--data", str(data)],
                    env={"NNTUI_RUNS": str(tmp_path / f"runs-{seed}")},
                )
            )
            for seed in SEEDS
        }
        threads = [
            threading.Thread(target=mash, args=(panes[seed], seed, results)) for seed in SEEDS
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        failures = []
        for seed, p in panes.items():
            quit_sent, error = results.get(seed, (False, "the key thread did not finish"))
            try:
                code = p.exit_code(timeout=30)
            except AssertionError as exc:
                failures.append(f"seed {seed}: did not exit: {exc}")
                continue
            screen = p.tmux("capture-pane", "-p", "-S", "-500", "-t", p.name)
            if error:
                failures.append(f"seed {seed}: {error}")
            if "Traceback" in screen or "Error" in screen:
                failures.append(f"seed {seed}: exit {code}, the screen:\n{screen}")
            elif code != 0 or not quit_sent:
                failures.append(f"seed {seed}: exit {code} (q sent: {quit_sent})")
        assert not failures, "\n".join(failures)
