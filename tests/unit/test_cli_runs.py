"""`nntui runs` at scale (a page, --all, --limit, --sort, --filter, --json streamed, --reindex)
and `nntui delete`, through typer's CliRunner on a store written with `RunStore`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nntui.cli import app
from nntui.cli.runs import DEFAULT_LIMIT
from nntui.engine.config import TrainConfig
from nntui.store.index import FILE
from nntui.store.runs import RunStore

runner = CliRunner()
CONFIG = TrainConfig(sizes=(784, 5, 10), epochs=3, eta=3.0, mini_batch_size=10, seed=1)


def run(*args: str):
    return runner.invoke(app, list(args))


def names_in(text: str) -> list[str]:
    """The run names in a table, top to bottom."""
    return [w for line in text.splitlines() for w in line.split() if "_784-5-10_eta" in w]


@pytest.fixture
def store(tmp_path, monkeypatch) -> RunStore:
    monkeypatch.setenv("NNTUI_RUNS", str(tmp_path / "runs"))
    return RunStore()


def fill(store: RunStore, n: int, sweep: str | None = None) -> list[str]:
    names = []
    for i in range(n):
        run = store.create(CONFIG.with_changes(eta=0.5 + i), seed=i, sweep=sweep)
        for epoch in range(1, 1 + i % 3):
            correct = 40 + (7 * i) % 50 + epoch
            run.record_epoch({"epoch": epoch, "correct": correct, "total": 100, "accuracy": 0.5})
        run.finish("completed" if i % 3 else "stopped")
        names.append(run.name)
    return names


def test_the_default_listing_is_the_newest_page_and_counts_the_rest(store):
    names = fill(store, DEFAULT_LIMIT + 5)
    result = run("runs")
    assert result.exit_code == 0, result.output
    assert names_in(result.stdout) == names[::-1][:DEFAULT_LIMIT]  # newest first
    assert (
        "5 more runs not shown" in result.stderr and f"{DEFAULT_LIMIT + 5} in all" in result.stderr
    )
    every = run("runs", "--all")
    assert names_in(every.stdout) == names[::-1] and "not shown" not in every.stderr
    three = run("runs", "--limit", "3", "--reverse")
    assert names_in(three.stdout) == names[:3]  # oldest first


def test_sort_and_filter(store):
    fill(store, 9)
    infos = {r.name: r for r in store.list()}
    result = run("runs", "--sort", "best", "--filter", "status=completed", "--filter", "eta>=2")
    assert result.exit_code == 0, result.output
    shown = names_in(result.stdout)
    expected = [
        r.name
        for r in sorted(infos.values(), key=lambda r: (-(r.best_accuracy or -1), r.started))
        if r.status == "completed" and r.config.eta >= 2
    ]
    assert sorted(shown) == sorted(expected)
    bests = [infos[n].best_accuracy for n in shown]
    assert [b for b in bests if b is not None] == sorted(
        [b for b in bests if b is not None], reverse=True
    )
    none = run("runs", "--filter", "sweep=nope")
    assert none.exit_code == 0 and "No run matches the filter (9 runs in all)" in none.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["--sort", "colour"], "cannot sort by 'colour'"),
        (["--filter", "best"], "COLUMN OP VALUE"),
        (["--filter", "eta>=fast"], "eta takes a number"),
        (["--limit", "0"], "--limit"),
        (["--all", "--limit", "3"], "--all and --limit"),
    ],
)
def test_bad_options_are_one_line(store, args, words):
    result = run("runs", *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.output


def test_json_is_every_run_with_its_epochs_oldest_first(store):
    names = fill(store, DEFAULT_LIMIT + 3)
    result = run("runs", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [r["name"] for r in doc] == names
    infos = {r.name: r for r in store.list()}
    for r in doc:
        assert r["epochs"] == list(infos[r["name"]].history)
        assert r["epochs_done"] == infos[r["name"]].epochs_done
    best = json.loads(run("runs", "--json", "--sort", "best", "--limit", "2").stdout)
    assert len(best) == 2 and best[0]["best_accuracy"] >= best[1]["best_accuracy"]
    empty = json.loads(run("runs", "--json", "--filter", "sweep=none").stdout)
    assert empty == []


def test_json_into_a_closed_pipe_stops_quietly(store, tmp_path):
    fill(store, 30)
    env = {**os.environ, "NNTUI_RUNS": str(store.root)}
    proc = subprocess.run(
        f"'{sys.executable}' -m nntui runs --json | head -c 100 > /dev/null; "
        "echo ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr and "Broken pipe" not in proc.stderr, proc.stderr
    assert proc.stdout.strip() in ("0", "141")  # all written before head left, or stopped


def test_reindex_after_the_index_is_damaged(store):
    names = fill(store, 4)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.root / FILE}{suffix}").unlink(missing_ok=True)
    (store.root / FILE).write_bytes(b"garbage" * 100)
    result = run("runs")
    assert result.exit_code == 0, result.output
    assert sorted(names_in(result.stdout)) == sorted(names)
    assert result.stderr.count("built the runs index") == 1 and "damaged" in result.stderr
    again = run("runs", "--reindex")
    assert "Rebuilt the runs index: 4 runs." in again.stderr
    assert sorted(names_in(again.stdout)) == sorted(names)


def test_delete_named_runs(store):
    names = fill(store, 4)
    result = run("delete", names[0], names[2][:-1] + names[2][-1])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 runs." in result.stderr
    assert sorted(names_in(run("runs").stdout)) == sorted([names[1], names[3]])
    assert sorted(p.name for p in store.root.iterdir() if not p.name.startswith(".")) == sorted(
        [names[1], names[3]]
    )
    missing = run("delete", "no-such-run")
    assert missing.exit_code == 2 and "no run of that name" in missing.stderr
    nothing = run("delete")
    assert nothing.exit_code == 2 and "say which runs" in nothing.stderr


def test_delete_refuses_a_run_being_trained(store):
    running = store.create(CONFIG, seed=1)  # this process is alive: the run is "running"
    result = run("delete", running.name)
    assert result.exit_code == 2 and "still being trained" in result.stderr
    assert running.path.is_dir()


def test_delete_a_sweep(store):
    keep = fill(store, 2)
    fill(store, 3, sweep="sw-20261201-000000")
    result = run("delete", "--sweep", "sw-2026")
    assert result.exit_code == 0, result.output
    assert "3 runs" in result.stderr
    assert sorted(names_in(run("runs").stdout)) == sorted(keep)


@pytest.mark.parametrize(
    "args", [("runs", "--sweep", "sw-2026"), ("sweep", "--continue", "sw-2026")]
)
def test_the_sweep_commands_print_the_index_notes(store, args):
    fill(store, 2, sweep="sw-20261201-000000")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.root / FILE}{suffix}").unlink(missing_ok=True)
    (store.root / FILE).write_bytes(b"garbage" * 100)
    result = run(*args)
    assert "Traceback" not in result.output
    assert result.stderr.count("built the runs index") == 1 and "damaged" in result.stderr


def test_reindex_with_a_directory_in_the_index_place_fails_in_one_line(store):
    names = fill(store, 2)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.root / FILE}{suffix}").unlink(missing_ok=True)
    (store.root / FILE).mkdir()
    result = run("runs", "--reindex")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "not rebuilt" in result.stderr and "cannot use the runs index" in result.stderr
    listed = run("runs")  # the folders are still read
    assert listed.exit_code == 0 and sorted(names_in(listed.stdout)) == sorted(names)


def test_a_runs_directory_that_cannot_be_read_is_an_error_not_no_runs(store, monkeypatch):
    fill(store, 2)
    real = os.scandir

    def refused(path="."):
        if Path(path) == store.root:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", refused)
    for args in (("runs",), ("runs", "--json")):
        result = run(*args)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert "cannot read the runs directory (Permission denied)" in result.stderr
        assert "No runs yet" not in result.output


@pytest.mark.parametrize(
    "args", [("delete", "--sweep", "sw-2026"), ("runs", "--sweep", "sw-2026", "--delete")]
)
def test_deleting_a_sweep_still_running_is_refused(store, args):
    done = fill(store, 1, sweep="sw-20261201-000000")
    live = store.create(CONFIG, seed=9, sweep="sw-20261201-000000")  # this process: alive
    result = run(*args)
    assert result.exit_code == 2 and "still running" in result.stderr
    assert live.path.is_dir() and (store.root / done[0]).is_dir()
    live.finish("stopped")
    assert run(*args).exit_code == 0 and not live.path.exists()
