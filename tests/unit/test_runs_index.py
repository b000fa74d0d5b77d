"""The runs index: kept in step with the run folders by every writer, rebuilt when it cannot be.

Each test checks the index against the folders themselves (`read_run` on each), never
against numbers written into the test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ConfigError, ModelFileError
from nntui.engine.network import Network
from nntui.store import index as index_module
from nntui.store.index import FILE, parse_filter
from nntui.store.runs import DELETED, RunStore, read_run

CONFIG = TrainConfig(sizes=(784, 5, 10), epochs=4, eta=3.0, mini_batch_size=10, seed=7)


def record(epoch: int, correct: int, total: int = 100) -> dict:
    return {"epoch": epoch, "correct": correct, "total": total, "accuracy": correct / total}


def folder_view(root: Path) -> dict[str, tuple]:
    """What the folders say, read one by one as before the index existed."""
    found = {}
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not path.is_dir():
            continue
        try:
            r = read_run(path)
        except ModelFileError:
            continue
        found[r.name] = (r.status, r.epochs_done, r.best_accuracy, r.last_accuracy, r.sweep, r.seed)
    return found


def index_view(store: RunStore) -> dict[str, tuple]:
    return {
        r.name: (r.status, r.epochs_done, r.best_accuracy, r.last_accuracy, r.sweep, r.seed)
        for r in store.list()
    }


def raw_rows(root: Path) -> dict[str, tuple]:
    """The rows as they are in the file now, without a sync first."""
    with sqlite3.connect(root / FILE) as conn:
        return {
            name: (status, epochs)
            for name, status, epochs in conn.execute("SELECT name, status, epochs_done FROM runs")
        }


def make_runs(store: RunStore, n: int, *, sweep: str | None = None) -> list[str]:
    names = []
    for i in range(n):
        run = store.create(CONFIG.with_changes(eta=float(i + 1)), seed=i, sweep=sweep)
        for epoch in range(1, (i % 4) + 1):
            run.record_epoch(record(epoch, 50 + 10 * epoch + i))
        run.finish("completed" if i % 2 == 0 else "stopped")
        names.append(run.name)
    return names


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


def test_every_write_updates_the_row_without_reading_the_folders(store):
    run = store.create(CONFIG, seed=1)
    assert raw_rows(store.root) == {run.name: ("running", 0)}
    net = Network(CONFIG.sizes, seed=1)
    run.record_epoch(record(1, 60), net)
    run.record_epoch(record(2, 80), net)
    assert raw_rows(store.root) == {run.name: ("running", 2)}  # written by the writer itself
    run.finish("completed", net)
    assert raw_rows(store.root) == {run.name: ("completed", 2)}
    assert index_view(store) == folder_view(store.root)
    assert store.notes == []  # the writers kept it up to date: nothing to repair or say


def test_a_listed_run_reads_its_epochs_only_when_asked(store):
    run = store.create(CONFIG, seed=1)
    for e, c in ((1, 60), (2, 90), (3, 70)):
        run.record_epoch(record(e, c))
    (info,) = store.list()
    assert info.loaded is None  # nothing read from epochs.jsonl yet
    assert info.best_accuracy == pytest.approx(0.9) and info.last_accuracy == pytest.approx(0.7)
    assert info.epochs_done == 3 and info.loaded is None
    assert [r["epoch"] for r in info.history] == [1, 2, 3]  # read now
    assert info.best is not None and info.best["epoch"] == 2


@pytest.mark.parametrize("damage", ["deleted", "corrupt", "other version", "foreign sqlite"])
def test_a_missing_or_damaged_index_is_rebuilt_with_one_line(tmp_path, damage):
    root = tmp_path / "runs"
    writer = RunStore(root)
    names = make_runs(writer, 5)
    writer.close()  # the last connection: SQLite folds the WAL into the file
    expected = folder_view(root)
    path = root / FILE
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if damage == "deleted":
        path.unlink()
    elif damage == "corrupt":
        path.write_bytes(b"this is not SQLite at all " * 200)
    elif damage == "other version":
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA user_version=999")
    else:
        path.unlink()
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE runs (x)")
            conn.execute("INSERT INTO runs VALUES (1)")
    store = RunStore(root)
    assert index_view(store) == expected and sorted(expected) == sorted(names)
    assert len(store.notes) == 1 and "built the runs index" in store.notes[0]
    assert "from 5 run folders" in store.notes[0]
    store.list()
    assert len(store.notes) == 1  # said once, not at every listing


def test_runs_written_without_the_index_are_found(tmp_path):
    root = tmp_path / "runs"
    store = RunStore(root)
    make_runs(store, 3)
    store.list()
    # An older nntui (or a person) makes a run folder the index knows nothing of.
    other = tmp_path / "elsewhere"
    run = RunStore(other).create(CONFIG.with_changes(eta=0.25), seed=9)
    run.record_epoch(record(1, 77))
    run.finish("completed")
    os.rename(run.path, root / run.name)
    # An older nntui goes on appending epochs to a run it started: the folder's mtime
    # does not change, nor does run.json.
    older = store.create(CONFIG.with_changes(eta=0.5), seed=3)
    store.list()
    assert store.notes == [
        "note: updated the runs index: 1 run new or changed and 0 runs gone "
        "since nntui last wrote it"
    ]
    with open(older.path / "epochs.jsonl", "a") as f:
        f.write(json.dumps(record(1, 99)) + "\n")
    # And a person marks a finished run as diverged, by hand: finished runs are not
    # watched (that is what keeps a listing quick), until --reindex reads everything.
    victim = sorted(p for p in root.iterdir() if p.name.endswith("_eta1"))[0]
    doc = json.loads((victim / "run.json").read_text())
    (victim / "run.json").write_text(json.dumps({**doc, "status": "diverged"}))
    fresh = RunStore(root)
    assert fresh.get(run.name).epochs_done == 1
    assert fresh.query([parse_filter(f"name={older.name}")])[0].epochs_done == 1
    assert fresh.query([parse_filter(f"name={victim.name}")])[0].status == "completed"
    assert fresh.notes == []  # the running run's new epoch is no news
    fresh.reindex()
    assert fresh.query([parse_filter(f"name={victim.name}")])[0].status == "diverged"
    assert index_view(fresh) == folder_view(root)
    # A running run's new epochs are no news: its writer may be between its file and its row.
    older.finish("completed")


def test_a_folder_deleted_by_hand_leaves_the_listing(store):
    names = make_runs(store, 3)
    store.list()
    import shutil

    shutil.rmtree(store.root / names[1])
    assert sorted(index_view(store)) == sorted([names[0], names[2]])
    assert index_view(store) == folder_view(store.root)


def test_broken_folders_are_reported_but_not_read_again_until_they_change(store, monkeypatch):
    make_runs(store, 2)
    broken = store.root / "not-a-run"
    broken.mkdir()
    (broken / "run.json").write_text("{ nope")
    skipped: list[str] = []
    assert len(store.list(skipped)) == 2
    assert len(skipped) == 1 and "not-a-run" in skipped[0] and "not valid JSON" in skipped[0]
    reads = []
    real = index_module.RunIndex.sync

    def counting_sync(self, read, gone):
        return real(self, lambda p: reads.append(p.name) or read(p), gone)

    monkeypatch.setattr(index_module.RunIndex, "sync", counting_sync)
    skipped.clear()
    store.list(skipped)
    assert reads == [] and len(skipped) == 1
    (broken / "run.json").write_text("[]")
    store.list()
    assert reads == ["not-a-run"]


HUGE = 10**30  # past SQLite's 64-bit INTEGER


@pytest.mark.parametrize(
    "craft, listed",
    [
        (lambda d: d.update(seed=HUGE), True),  # kept, without the seed
        (lambda d: d.update(status="running", pid=HUGE), True),  # no process has that pid
        (lambda d: d["config"].update(eta=10**400), False),  # too large for a float
        (lambda d: "[" * 100_000 + "]" * 100_000, False),  # nested past json's recursion
        (lambda d: d.update(name="x") or (HUGE, "epochs"), False),
        (lambda d: d.update(name="x") or ("[" * 100_000 + "]" * 100_000 + "\n{}", "epochs"), False),
    ],
)
def test_crafted_run_files_are_skipped_or_listed_never_raise(store, craft, listed):
    (good,) = make_runs(store, 1)
    folder = store.root / "crafted"
    folder.mkdir()
    doc = json.loads((store.root / good / "run.json").read_text())
    made = craft(doc)
    history = (store.root / good / "epochs.jsonl").read_text()
    if isinstance(made, tuple):  # a crafted epochs.jsonl
        value, _ = made
        line = json.dumps(record(1, value, value)) if isinstance(value, int) else value
        history = line + "\n" + history
    (folder / "epochs.jsonl").write_text(history)
    (folder / "run.json").write_text(made if isinstance(made, str) else json.dumps(doc))
    skipped: list[str] = []
    names = [r.name for r in store.list(skipped)]
    assert ("crafted" in names) == listed and good in names
    assert len(skipped) == (0 if listed else 1)
    assert store.count() == len(names) and len(store.query(sort="best")) == len(names)
    if listed:
        row = store.get("crafted")
        assert row.seed in (None, 0) and row.status in ("completed", "interrupted")


@pytest.mark.parametrize("kind", ["fifo run.json", "fifo epochs.jsonl", "huge run.json"])
def test_a_fifo_or_a_huge_run_file_is_skipped_not_waited_on(store, kind):
    (good,) = make_runs(store, 1)
    folder = store.root / "crafted"
    shutil.copytree(store.root / good, folder)
    if kind.startswith("fifo"):
        target = folder / kind.split()[1]
        target.unlink()
        os.mkfifo(target)
    else:
        doc = json.loads((folder / "run.json").read_text())
        doc["note"] = "x" * (3 << 20)
        (folder / "run.json").write_text(json.dumps(doc))
    done: list[list[str]] = []
    # A FIFO opened for reading without a writer blocks: list in a thread, give up after 30 s.
    reader = threading.Thread(target=lambda: done.append([r.name for r in store.list()]))
    reader.daemon = True
    reader.start()
    reader.join(30)
    assert done == [[good]], "the listing hung on a FIFO or failed"
    skipped: list[str] = []
    store.list(skipped)
    words = "not a regular file" if kind.startswith("fifo") else "larger than 1 MiB"
    assert len(skipped) == 1 and words in skipped[0]


def test_sort_filter_and_limit(store):
    make_runs(store, 8, sweep="sw-1")
    make_runs(store, 2)
    every = store.list()
    by_best = store.query(sort="best", descending=True)
    bests = [r.best_accuracy for r in by_best]
    known = [b for b in bests if b is not None]
    assert known == sorted(known, reverse=True)
    assert bests[len(known) :] == [None] * (len(bests) - len(known))  # no epochs: last
    assert [r.name for r in store.query(limit=3)] == [r.name for r in every[:3]]
    assert [r.name for r in store.query(limit=3, offset=3)] == [r.name for r in every[3:6]]
    newest = store.query(descending=True, limit=2)
    assert [r.name for r in newest] == [r.name for r in every[-2:]][::-1]
    completed = store.query([parse_filter("status=completed")])
    assert {r.name for r in completed} == {r.name for r in every if r.status == "completed"}
    assert store.count([parse_filter("status=completed")]) == len(completed)
    of_sweep = store.query([parse_filter("sweep=sw-1"), parse_filter("eta>=4")])
    assert {r.name for r in of_sweep} == {
        r.name for r in every if r.sweep == "sw-1" and r.config.eta >= 4
    }
    good = store.query([parse_filter("best>=60%")])
    assert {r.name for r in good} == {
        r.name for r in every if r.best_accuracy is not None and r.best_accuracy >= 0.6
    }
    assert store.query([parse_filter("sizes~5-10")]) == every
    assert store.query([parse_filter("sizes=784,5,10")]) == every
    assert store.sweeps() == ["sw-1"]


@pytest.mark.parametrize(
    "text, words",
    [
        ("best", "COLUMN OP VALUE"),
        ("colour=red", "no column 'colour'"),
        ("eta>=fast", "eta takes a number"),
        ("status=", "no value"),
        ("started>1", "filter on the name"),
    ],
)
def test_a_bad_filter_is_one_clear_line(text, words):
    with pytest.raises(ConfigError, match=words) as caught:
        parse_filter(text)
    assert "\n" not in str(caught.value)


def test_a_filter_value_is_never_sql(store):
    make_runs(store, 2)
    assert store.query([parse_filter("name=x' OR '1'='1")]) == []
    assert len(store.list()) == 2  # the table is still there


def test_delete_removes_folders_and_rows_together(store):
    names = make_runs(store, 4)
    assert store.delete([names[0], store.get(names[2])]) == 2
    assert sorted(index_view(store)) == sorted([names[1], names[3]])
    assert sorted(raw_rows(store.root)) == sorted([names[1], names[3]])
    assert index_view(store) == folder_view(store.root)
    assert not any(p.name.startswith(DELETED) for p in store.root.iterdir())
    with pytest.raises(ModelFileError, match="not a run's name"):
        store.delete(["../etc"])


def test_a_delete_interrupted_after_the_rename_is_repaired(store):
    names = make_runs(store, 3)
    store.list()
    # As if killed after renaming the folder, before the row went and the folder was removed.
    os.rename(store.root / names[0], store.root / f"{DELETED}{names[0]}")
    assert sorted(index_view(store)) == sorted(names[1:])  # the listing drops the row
    store.delete([names[1]])
    assert sorted(p.name for p in store.root.iterdir() if not p.name.startswith(".")) == [names[2]]
    assert not any(p.name.startswith(DELETED) for p in store.root.iterdir())


def test_no_wal_falls_back_to_the_rollback_journal_and_says_so_once(store, monkeypatch):
    def no_wal(self, conn):
        conn.execute("PRAGMA journal_mode=DELETE")
        index_module.say_once(self.path, "journal", "note: no WAL here", self._warn)

    monkeypatch.setattr(index_module.RunIndex, "_set_journal", no_wal)
    make_runs(store, 2)
    store.list()
    store.list()
    assert store.notes.count("note: no WAL here") == 1
    with sqlite3.connect(store.root / FILE) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert index_view(store) == folder_view(store.root)


def test_the_index_is_in_wal_mode(store):
    make_runs(store, 1)
    with sqlite3.connect(store.root / FILE) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unwritable_index_falls_back_to_reading_the_folders(store):
    names = make_runs(store, 2)
    (store.root / FILE).unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{store.root / FILE}{suffix}").unlink(missing_ok=True)
    (store.root / FILE).mkdir()  # something in the way that SQLite cannot open
    fresh = RunStore(store.root)
    assert sorted(r.name for r in fresh.list()) == sorted(names)
    assert len(fresh.notes) == 1 and "reading every run folder instead" in fresh.notes[0]
    assert fresh.count() == 2 and len(fresh.query(limit=1)) == 1


@pytest.mark.parametrize("thing", ["fifo", "symlink"])
def test_a_fifo_or_symlink_in_place_of_the_index_is_not_opened(store, tmp_path, thing):
    names = make_runs(store, 2)
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.root / FILE}{suffix}").unlink(missing_ok=True)
    target = tmp_path / "elsewhere.sqlite"
    if thing == "fifo":
        os.mkfifo(store.root / FILE)
    else:
        os.symlink(target, store.root / FILE)
    fresh = RunStore(store.root)
    assert sorted(r.name for r in fresh.list()) == sorted(names)  # read from the folders
    assert len(fresh.notes) == 1 and "not a plain file" in fresh.notes[0]
    assert not target.exists()


def test_reindex_forces_a_rebuild(store):
    make_runs(store, 3)
    assert store.reindex() == 3
    assert any("asked for" in n for n in store.notes)
    assert index_view(store) == folder_view(store.root)


WRITER = textwrap.dedent(
    """
    import sys, time
    from nntui.engine.config import TrainConfig
    from nntui.store.runs import RunStore

    root, n, epochs, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    store = RunStore(root)
    config = TrainConfig(sizes=(784, 5, 10), epochs=epochs, eta=1.0, mini_batch_size=10, seed=1)
    print("ready", flush=True)
    for i in range(n):
        run = store.create(config, seed=i, sweep=tag)
        for e in range(1, epochs + 1):
            c = 10 + e
            run.record_epoch({"epoch": e, "correct": c, "total": 100, "accuracy": c / 100})
        run.finish("completed")
    """
)


def start_writer(root: Path, n: int, epochs: int, tag: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), str(n), str(epochs), tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_three_writers_at_once(tmp_path):
    root = tmp_path / "runs"
    writers = [start_writer(root, 15, 5, f"sw-{k}") for k in range(3)]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    store = RunStore(root)
    assert len(raw_rows(root)) == 45  # every writer's rows, with no reader's repair yet
    assert index_view(store) == folder_view(root)
    assert {s: store.count([parse_filter(f"sweep={s}")]) for s in store.sweeps()} == {
        "sw-0": 15,
        "sw-1": 15,
        "sw-2": 15,
    }
    assert store.notes == []


@pytest.mark.slow
def test_a_writer_killed_mid_write_leaves_an_index_the_next_start_repairs(tmp_path):
    root = tmp_path / "runs"
    writer = start_writer(root, 10_000, 50, "sw-k")
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(root.glob("*_eta1*"))) < 5:
        time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    store = RunStore(root)
    listed = index_view(store)
    assert listed == folder_view(root) and len(listed) >= 4
    # The run being written when it died (if it got as far as its run.json) was
    # "running", and its process is gone; every other one completed.
    statuses = sorted(v[0] for v in listed.values())
    assert statuses.count("interrupted") <= 1
    assert set(statuses) <= {"completed", "interrupted"}


def test_a_damaged_index_that_cannot_be_removed_falls_back_to_the_folders(store, monkeypatch):
    names = make_runs(store, 2)
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.root / FILE}{suffix}").unlink(missing_ok=True)
    (store.root / FILE).write_bytes(b"garbage" * 100)

    def read_only(path, *args, **kwargs):  # as in a runs directory we may not write to
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(index_module.os, "unlink", read_only)
    notes: list[str] = []
    fresh = RunStore(store.root, warn=notes.append)
    assert sorted(r.name for r in fresh.list()) == sorted(names)
    assert any("cannot use the runs index" in n and "Permission denied" in n for n in notes)


def test_get_in_a_runs_directory_that_cannot_be_entered_is_one_line(store, monkeypatch):
    make_runs(store, 1)
    real = Path.is_dir

    def no_entry(self):
        if self.parent == store.root:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_dir", no_entry)
    with pytest.raises(ModelFileError, match=r"cannot look for the run.*Permission denied"):
        store.get("some-run")
