"""The parts of a sweep that need no cluster: data packing, state, recorder, manifest, summary,
and the CLI's checks before any worker starts."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from nntui.cli import app
from nntui.engine.errors import ConfigError
from nntui.engine.network import Network
from nntui.store.runs import RunStore
from nntui.sweep.events import (
    RunEnded,
    RunEpoch,
    RunStarted,
    SweepFinished,
    SweepStarted,
    SweepState,
)
from nntui.sweep.grid import Axes, build_runs
from nntui.sweep.manifest import (
    Manifest,
    delete_sweep,
    drop_unfinished,
    load_manifest,
    missing_runs,
    resolve_sweep,
    runs_to_continue,
    save_manifest,
    stored_runs,
    unfinished_sweeps,
)
from nntui.sweep.payload import pack, unpack, unpack_cached
from nntui.sweep.recorder import SweepRecorder
from nntui.sweep.summary import from_run_info, summarize, write_csv, write_json

cli = CliRunner()


def record(epoch: int, correct: int, total: int = 100) -> dict:
    return {
        "epoch": epoch,
        "correct": correct,
        "total": total,
        "accuracy": correct / total,
        "train_cost": 0.1,
        "eta": 3.0,
        "mini_batch_size": 10,
        "train_seconds": 0.5,
        "eval_seconds": 0.1,
    }


def test_the_packed_data_unpacks_to_equal_arrays(tiny_data):
    payload = pack(tiny_data, 300, ["test"])
    images, labels = payload.splits["training"]
    assert images.dtype == np.uint8 and labels.dtype == np.uint8  # a quarter of the bytes
    assert set(payload.splits) == {"training", "test"}
    data = unpack(payload)
    assert np.array_equal(data.training.images, tiny_data.training.images[:300])
    assert data.training.images.dtype == np.float32
    assert np.array_equal(data.training.labels, tiny_data.training.labels[:300])
    assert np.array_equal(data.test.images, tiny_data.test.images)
    assert len(data.validation) == 0
    assert unpack_cached(payload) is unpack_cached(payload)


def test_data_not_in_256ths_travels_as_it_is(tiny_data):
    from dataclasses import replace

    odd = replace(
        tiny_data,
        training=replace(tiny_data.training, images=tiny_data.training.images + np.float32(1e-3)),
    )
    payload = pack(odd, 500, ["test"])
    assert payload.splits["training"][0].dtype == np.float32
    assert np.array_equal(unpack(payload).training.images, odd.training.images)


def test_on_this_machine_mapped_images_travel_as_a_reference_to_their_file(tmp_path, monkeypatch):
    from nntui.data import cache
    from nntui.sweep.payload import MappedImages
    from tests.fakedata import write_book_pickle

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    source = write_book_pickle(tmp_path / "mnist.pkl.gz", n_train=400, n_val=80, n_test=60)
    cache.load(source, background=False)  # decodes and writes the cache
    mapped = cache.load(source, background=False)  # maps it

    local = pack(mapped, 300, ["test"], local=True)
    images, labels = local.splits["training"]
    assert isinstance(images, MappedImages) and images.shape == (300, 784)
    assert labels.dtype == np.uint8
    data = unpack(local)
    assert np.array_equal(data.training.images, mapped.training.images[:300])
    assert np.array_equal(data.test.images, mapped.test.images)  # an offset inside the file
    assert np.array_equal(data.test.labels, mapped.test.labels)
    # A remote cluster shares no files: the pixels themselves travel.
    assert isinstance(pack(mapped, 300, ["test"]).splits["training"][0], np.ndarray)

    cache.clear(source)  # the file went away before a worker mapped it: a clear error
    with pytest.raises(OSError):
        unpack(local)


def test_arrays_in_memory_travel_even_to_local_workers(tiny_data):
    payload = pack(tiny_data, 300, ["test"], local=True)
    assert payload.splits["training"][0].dtype == np.uint8


def _events(runs, sweep="sw-x"):
    """What a runner would report: run 0 completes, run 1 is retried and completes, run 2
    fails with its worker lost, run 3 never starts (the sweep is stopped)."""
    net = Network(runs[0].config.sizes, seed=0)
    w, b = tuple(net.weights), tuple(net.biases)
    return [
        SweepStarted(sweep, tuple(runs), 2, "tcp://127.0.0.1:1"),
        RunStarted(0, "w1", 1, None),
        RunEpoch(0, record(1, 50)),
        RunEpoch(0, record(2, 70)),
        RunEnded(0, "completed", "trained 2 epochs", w, b),
        RunStarted(1, "w2", 1, None),
        RunEpoch(1, record(1, 40)),
        RunStarted(1, "w1", 2, None),
        RunEpoch(1, record(1, 45)),
        RunEpoch(1, record(2, 60)),
        RunEnded(1, "completed", "trained 2 epochs", w, b),
        RunStarted(2, "w2", 1, None),
        RunEnded(2, "failed", "worker lost"),
        RunEnded(3, "stopped", "stopped before it started"),
        SweepFinished("stopped", 3.0),
    ]


def test_state_and_recorder_follow_the_events(tmp_path):
    runs = build_runs(Axes(eta="3", seeds=2, epochs=2, train_size=500, hidden="10,20"))
    store = RunStore(tmp_path)
    warnings: list[str] = []
    recorder = SweepRecorder("sw-x", store, warnings.append)
    state = SweepState()
    for event in _events(runs):
        recorder.handle(event)
        state.apply(event)
    recorder.close()
    assert warnings == []
    assert [r.status for r in state.runs] == ["completed", "completed", "failed", "stopped"]
    assert [len(r.history) for r in state.runs] == [2, 2, 0, 0]
    assert state.runs[1].history[0]["correct"] == 45  # the retry's epochs only
    assert state.ranked()[0].spec.index == 0 and state.finished is not None
    stored = {(r.config.sizes, r.seed): r for r in stored_runs(store, "sw-x")}
    assert len(stored) == 4
    assert all(r.sweep == "sw-x" and r.status != "running" for r in stored.values())
    retried = stored[(runs[1].config.sizes, runs[1].seed)]
    assert [e["correct"] for e in retried.history] == [45, 60]
    assert "lost" in (retried.note or "")
    failed = stored[(runs[2].config.sizes, runs[2].seed)]
    assert failed.status == "failed" and failed.note == "failed: worker lost"
    assert stored[(runs[0].config.sizes, runs[0].seed)].model_path is not None


def test_continue_finds_the_missing_runs_and_delete_removes_the_sweep(tmp_path):
    runs = build_runs(Axes(eta="3", seeds=2, epochs=2, train_size=500, hidden="10,20"))
    store = RunStore(tmp_path)
    save_manifest(store, Manifest("sw-x", "now", tuple(runs), None))
    recorder = SweepRecorder("sw-x", store, print)
    for event in _events(runs):
        recorder.handle(event)
    manifest = load_manifest(store, "sw-x")
    assert [s.config for s in manifest.runs] == [r.config for r in runs]
    missing = missing_runs(manifest, stored_runs(store, "sw-x"))
    assert [s.index for s in missing] == [2, 3]
    # What the CLI's --continue and the dashboard's `c` run: the same two, numbered from 0.
    again, to_run = runs_to_continue(store, "sw-x")
    assert again == manifest
    assert [(s.index, s.config) for s in to_run] == [(0, runs[2].config), (1, runs[3].config)]
    live = store.create(runs[3].config, runs[3].seed, sweep="sw-x")  # as if run elsewhere
    with pytest.raises(ConfigError, match="sw-x is still running"):
        runs_to_continue(store, "sw-x")
    live.finish("stopped")
    assert len(runs_to_continue(store, "sw-x")[1]) == 2
    save_manifest(store, Manifest("other", "now", tuple(runs[:1]), None))  # nothing ran
    assert unfinished_sweeps(store) == ["other", "sw-x"]
    drop_unfinished(store, "sw-x", missing)
    assert len(stored_runs(store, "sw-x")) == 2
    assert resolve_sweep(store, "sw-") == "sw-x"
    with pytest.raises(Exception, match="no sweep"):
        resolve_sweep(store, "nope")
    assert delete_sweep(store, "sw-x") == 2
    assert delete_sweep(store, "other") == 0
    assert stored_runs(store, "sw-x") == [] and store.list() == []


def test_summary_groups_over_seeds_and_writes_json_and_csv(tmp_path):
    runs = build_runs(Axes(preset="chapter1", seeds=3, epochs=2))
    store = RunStore(tmp_path)
    recorder = SweepRecorder("sw-b", store, print)
    events = [SweepStarted("sw-b", tuple(runs), 2, "x")]
    for spec, best in zip(runs[:3], (9400, 9542, 9600), strict=True):
        events += [
            RunStarted(spec.index, "w", 1, None),
            RunEpoch(spec.index, record(1, best - 100, 10_000)),
            RunEpoch(spec.index, record(2, best, 10_000)),
            RunEnded(spec.index, "completed", "done"),
        ]
    for e in events:
        recorder.handle(e)
    results = [from_run_info(r) for r in stored_runs(store, "sw-b")]
    (s,) = summarize(results, "chapter1")
    assert s.key == "784-30-10 eta 3 m 10" and s.runs == 3
    assert (s.best_min, s.best_median, s.best_max) == (0.94, 0.9542, 0.96)
    assert s.epochs_to_best == 2 and s.seconds_per_epoch == pytest.approx(0.6)
    assert s.book_within is True and s.book.startswith("95.42%")
    assert summarize(results)[0].book is None
    write_json(tmp_path / "s.json", "sw-b", [s], results)
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["summary"][0]["best_median"] == 0.9542
    assert len(doc["runs"]) == 3 and [e["epoch"] for e in doc["runs"][0]["epochs"]] == [1, 2]
    write_csv(tmp_path / "s.csv", "sw-b", [s], results)
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert [r["kind"] for r in rows] == ["summary"] + ["epoch"] * 6
    assert rows[0]["sizes"] == "784-30-10" and float(rows[0]["best_max"]) == 0.96

    monkey_env = {"NNTUI_RUNS": str(tmp_path)}
    listed = cli.invoke(app, ["runs"], env=monkey_env)
    assert listed.exit_code == 0 and "sw-b" in listed.stdout
    again = cli.invoke(app, ["runs", "--sweep", "sw-b"], env=monkey_env)
    assert again.exit_code == 0, again.output
    assert "784-30-10 eta 3 m 10" in again.stdout and "95.42%" in again.stdout
    as_json = cli.invoke(app, ["runs", "--sweep", "sw-b", "--json"], env=monkey_env)
    assert json.loads(as_json.stdout)["summary"][0]["runs"] == 3
    gone = cli.invoke(app, ["runs", "--sweep", "sw-b", "--delete"], env=monkey_env)
    assert gone.exit_code == 0 and "3 runs" in gone.stderr
    assert stored_runs(store, "sw-b") == []


@pytest.mark.parametrize(
    "args",
    [
        ["--eta", "3,,x"],
        ["--hidden", "-5"],
        ["--hidden", "30-"],
        ["--seeds", "0"],
        ["--seed-list", ""],
        ["--eta", "1,2,3,4,5,6,7,8,9,10", "--hidden", "1,2,3,4,5,6,7,8,9,10,11", "--seeds", "10"],
        ["--scheduler", "not an address"],
        ["--workers", "0"],
        ["--json", "out.txt"],
        ["--continue", "sw-none"],
        ["--continue", "sw-none", "--eta", "3"],
    ],
)
def test_bad_sweeps_are_one_line_and_exit_2(args):
    result = cli.invoke(app, ["sweep", *args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nntui: error: ")
    assert result.stdout == ""


def test_dry_run_lists_the_runs_and_an_estimate():
    result = cli.invoke(app, ["sweep", "--preset", "chapter1", "--seeds", "2", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "10 runs; about " in result.stdout
    assert result.stdout.count("784,100,10") == 4


def test_delete_needs_a_sweep():
    result = cli.invoke(app, ["runs", "--delete"])
    assert result.exit_code == 2 and "--sweep" in result.stderr


def test_the_cli_and_the_sweep_package_do_not_load_dask():
    code = (
        "import sys, nntui.cli, nntui.cli.sweep, nntui.sweep.runner, nntui.sweep.task\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
