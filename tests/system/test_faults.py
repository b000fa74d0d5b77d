"""Faults: kill -9 mid-write and mid-download, a full disk, a corrupt cache; and recovery.

Each SIGKILL test runs a real process that writes through nntui's own functions
in a loop and kills it at random moments (seeded, so a failure repeats). The
file that should be there is then either absent or complete, and the next run
works without anyone cleaning up by hand.
"""

from __future__ import annotations

import csv
import hashlib
import http.server
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nntui.data.datastore as store
import nntui.data.download as dl
from nntui.cli import app
from nntui.data.download import Remote, Source, download
from nntui.data.mnist import load_mnist
from nntui.store.atomic import STALE_SECONDS, atomic_write, remove_stale_temp_files
from nntui.store.model_file import load_model
from tests.fakedata import write_book_pickle

runner = CliRunner()
QUICK = ["--train-size", "500", "--epochs", "1", "--seed", "1"]
# Each round kills one writer: at a random moment, or just after it has begun replacing a
# complete file (writing takes a small share of each loop, so chance alone rarely hits it).
ROUNDS = ("random", "mid-write", "mid-write")

RECORD = (
    '{"epoch": i, "correct": 10, "total": 100, "accuracy": 0.1, "train_cost": 0.5, '
    '"eta": 3.0, "mini_batch_size": 10, "train_seconds": 0.01, "eval_seconds": 0.01}'
)
WRITERS = {
    # A 784-1000-10 network is 3 MB: most of the loop is spent inside atomic_write.
    "model": f"""
        from nntui.engine.config import TrainConfig
        from nntui.store.model_file import save_model
        from nntui.engine.network import Network
        net = Network([784, 1000, 10], seed=0)
        config = TrainConfig(sizes=(784, 1000, 10), train_size=500, epochs=1, seed=1)
        history = []
        print("ready", flush=True)
        for i in range(1, 10**9):
            history.append({RECORD})
            save_model(target, net, config=config, seed=1, history=history)
    """,
    # 5,000 epoch records: about 1 MB of JSON or CSV per write.
    "metrics": f"""
        from nntui.engine.config import TrainConfig
        from nntui.store.metrics import write_metrics
        config = TrainConfig(train_size=500, epochs=1, seed=1)
        history = [{RECORD} for i in range(1, 5_001)]
        print("ready", flush=True)
        while True:
            write_metrics(target, config=config, seed=1, history=history, status="stopped")
    """,
}


def _valid_model(path: Path) -> None:
    saved = load_model(path)
    assert saved.network.sizes == [784, 1000, 10]
    assert saved.epochs_done == len(saved.history) >= 1


def _valid_json(path: Path) -> None:
    doc = json.loads(path.read_text())
    assert doc["status"] == "stopped" and len(doc["epochs"]) == 5_000


def _valid_csv(path: Path) -> None:
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 5_000 and rows[-1]["epoch"] == "5000" and rows[-1]["backprop"]


CASES = {
    "net.npz": ("model", _valid_model),
    "m.json": ("metrics", _valid_json),
    "m.csv": ("metrics", _valid_csv),
}


def temp_files(directory: Path, target: str, suffix: str = ".tmp") -> list[Path]:
    pattern = re.compile(rf"\.{re.escape(target)}\.[a-z0-9_]{{8}}{re.escape(suffix)}")
    return [p for p in directory.iterdir() if pattern.fullmatch(p.name)]


def make_old(paths: list[Path]) -> None:
    old = time.time() - STALE_SECONDS - 60
    for p in paths:
        os.utime(p, (old, old))


def kill_while_writing(tmp_path: Path, name: str, code: str, when: str, pause: float) -> None:
    """Start a process writing `name` in a loop and kill -9 it `when` the round says."""
    script = f"target = {str(tmp_path / name)!r}\n" + textwrap.dedent(code)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(pause)
        if when == "mid-write":
            assert _wait_for(lambda: [tmp_path / name] * (tmp_path / name).exists(), 20)
            assert _wait_for(lambda: temp_files(tmp_path, name), 20)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("name", CASES)
def test_sigkill_mid_write_leaves_the_old_file_or_the_new_one(name, tmp_path, tiny_data_file):
    writer, check = CASES[name]
    target = tmp_path / name
    rng = random.Random(name)
    interrupted = complete = 0
    for when in ROUNDS:
        kill_while_writing(tmp_path, name, WRITERS[writer], when, rng.uniform(0.0, 0.3))
        if when == "mid-write":
            assert target.exists()  # the complete file written before stays
        if target.exists():
            check(target)  # never half a file
            complete += 1
        leftovers = temp_files(tmp_path, name)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [name] * target.exists() + [p.name for p in leftovers]
        )
        interrupted += bool(leftovers)
    # The kills did land mid-write (a temp file was left) and after a complete write.
    assert interrupted >= 1 and complete >= 1, (interrupted, complete)

    # The next run recovers by itself: it works, and sweeps the killed writer's temp files
    # once they are old enough that no live writer can own them.
    stale = temp_files(tmp_path, name)
    make_old(stale)
    if writer == "model":
        args = ["--resume", str(target), "--save", str(target), "--epochs", "1"]
    else:
        args = [*QUICK, "--metrics", str(target)]
    result = runner.invoke(app, ["train", "--data", str(tiny_data_file), *args])
    assert result.exit_code == 0, result.output
    assert temp_files(tmp_path, name) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    if writer == "model":
        assert "resuming at epoch" in result.stderr
        check(target)
    else:
        assert target.read_text().count('"epoch"' if name.endswith("json") else "\n") == (
            1 if name.endswith("json") else 2
        )


def test_only_old_temp_files_of_the_same_target_are_swept(tmp_path):
    target = tmp_path / "net.npz"
    mine_old = tmp_path / ".net.npz.abcd1234.tmp"
    mine_new = tmp_path / ".net.npz.efgh5678.tmp"  # a writer at work right now
    other = tmp_path / ".net.npz.bak.abcd1234.tmp"  # the temp file of net.npz.bak
    unrelated = tmp_path / ".net.npz.notes.tmp"
    for p in (mine_old, mine_new, other, unrelated):
        p.write_bytes(b"partial")
    make_old([mine_old, other, unrelated])
    assert remove_stale_temp_files(target) == [mine_old]
    with atomic_write(target) as f:
        f.write(b"complete")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["net.npz", mine_new.name, other.name, unrelated.name]
    )


# --- kill -9 during a download ---------------------------------------------------------------


@pytest.fixture
def slow_server(tmp_path) -> Iterator[tuple[str, bytes]]:
    """Serves the fake book file at /slow (16 KB every 20 ms) and at /fast."""
    body = write_book_pickle(tmp_path / "src.pkl.gz").read_bytes()
    stop = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            step = 16 << 10 if self.path == "/slow" else len(body)
            try:
                for i in range(0, len(body), step):
                    if stop.is_set():
                        return
                    self.wfile.write(body[i : i + step])
                    self.wfile.flush()
                    if self.path == "/slow":
                        time.sleep(0.02)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", body
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def _source(url: str, body: bytes) -> Source:
    digest = hashlib.sha256(body).hexdigest()
    return Source(url.rsplit("/", 1)[-1], (Remote(url, "mnist.pkl.gz", sha256=digest),))


def test_sigkill_mid_download_leaves_no_file_and_the_next_download_works(slow_server, tmp_path):
    base, body = slow_server
    assert len(body) > 20 * (16 << 10)  # at least 0.4 s of slow body
    dest = tmp_path / "data"
    script = textwrap.dedent(f"""
        import hashlib
        from nntui.data.download import Remote, Source, download
        digest = {hashlib.sha256(body).hexdigest()!r}
        source = Source("slow", (Remote({base + "/slow"!r}, "mnist.pkl.gz", sha256=digest),))
        download({str(dest)!r}, sources=[source], timeout=5)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        part = _wait_for(lambda: [p for p in _files(dest) if p.stat().st_size > 0], 20)
        assert part, "the download never started"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (dest / "mnist.pkl.gz").exists()  # nothing half-downloaded under the real name
    assert [p.name for p in _files(dest)] == [part[0].name]
    assert 0 < part[0].stat().st_size < len(body)

    got = download(dest, sources=[_source(base + "/fast", body)], timeout=5)
    assert got == dest / "mnist.pkl.gz" and got.read_bytes() == body
    assert len(load_mnist(got).training) == 500


def _files(directory: Path) -> list[Path]:
    return list(directory.iterdir()) if directory.is_dir() else []


def _wait_for(probe: Callable[[], list[Path]], seconds: float) -> list[Path]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.0005)
    return []


# --- a full disk, and a corrupt cache ---------------------------------------------------------


def test_a_full_disk_on_the_metrics_write_is_one_line_and_keeps_the_old_file(
    tmp_path, tiny_data_file, monkeypatch
):
    metrics = tmp_path / "m.json"
    metrics.write_text("the previous run's metrics\n")
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        # The disk fills up while the metrics' temp file is flushed; other writes go through.
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path / ".m.json.")):
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = runner.invoke(
        app, ["train", "--data", str(tiny_data_file), *QUICK, "--metrics", str(metrics)]
    )
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert errors == [
        f"nntui: error: could not write the metrics to {metrics}: No space left on device"
    ]
    assert "Traceback" not in result.output
    assert metrics.read_text() == "the previous run's metrics\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_a_corrupt_cached_data_file_is_named_and_import_recovers(
    tmp_path, tiny_data_file, monkeypatch
):
    cache = tmp_path / "cache"
    cache.mkdir()
    cached = cache / "mnist.pkl.gz"
    cached.write_bytes(tiny_data_file.read_bytes()[:5000])  # a download cut short
    monkeypatch.setattr(store, "data_dir", lambda: cache)
    monkeypatch.setattr(dl, "DEFAULT_SOURCES", ())
    monkeypatch.delenv("NNTUI_DATA", raising=False)

    result = runner.invoke(app, ["train", *QUICK])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"nntui: error: {cached}: truncated (Compressed file ended before the "
        "end-of-stream marker was reached)"
    ]

    result = runner.invoke(app, ["data", "import", "--force", str(tiny_data_file)])
    assert result.exit_code == 0, result.output
    assert cached.read_bytes() == tiny_data_file.read_bytes()
    result = runner.invoke(app, ["train", *QUICK])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Epoch 1: ")


def test_a_part_file_left_by_a_killed_download_is_swept_by_the_next_one(tmp_path):
    from nntui.data.download import _Stage

    old = tmp_path / ".mnist.pkl.gz.abcd1234.part"
    old.write_bytes(b"half a download")
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    fresh = tmp_path / ".mnist.pkl.gz.efgh5678.part"  # another download, still at work
    fresh.write_bytes(b"in progress")
    tmp, handle = _Stage(tmp_path).create("mnist.pkl.gz")
    handle.close()
    assert not old.exists() and fresh.exists() and tmp.exists()
