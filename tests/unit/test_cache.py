"""The decoded-data cache: written once, memory-mapped later, never trusted when it does not fit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from nntui.cli.data import data_app
from nntui.data import cache
from nntui.data.datastore import load_data
from nntui.data.mnist import load_mnist
from nntui.engine.dataset import MnistData
from nntui.engine.errors import DataError
from tests.fakedata import write_book_pickle, write_book_pickle_in, write_idx_files, write_keras_npz


@pytest.fixture(autouse=True)
def _own_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def assert_same(a: MnistData, b: MnistData) -> None:
    # The cache holds the decoder's bytes, so equality is exact, not approximate.
    for name in ("training", "validation", "test"):
        x, y = a.split(name), b.split(name)
        assert x.images.dtype == y.images.dtype == np.float32
        assert x.labels.dtype == y.labels.dtype == np.int64
        np.testing.assert_array_equal(x.images, y.images)
        np.testing.assert_array_equal(x.labels, y.labels)


def load(path: Path, notices: list[str] | None = None) -> MnistData:
    sink = notices if notices is not None else []
    return cache.load(path, on_notice=sink.append, background=False)


def cache_dir(data: Path) -> Path:
    return data.parent / cache.CACHE_DIRNAME


def is_mapped(data: MnistData) -> bool:
    base = data.training.images
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    return isinstance(base, np.memmap)


@pytest.mark.parametrize("fmt", ["book", "keras", "idx"])
def test_the_second_load_maps_the_cache_and_equals_decoding(tmp_path: Path, fmt: str) -> None:
    writer = {
        "book": lambda: write_book_pickle(tmp_path / "mnist.pkl.gz"),
        "keras": lambda: write_keras_npz(tmp_path / "mnist.npz"),
        "idx": lambda: write_idx_files(tmp_path / "idx"),
    }[fmt]
    path = writer()
    notices: list[str] = []
    first = load(path, notices)
    assert not is_mapped(first)
    where = path / cache.CACHE_DIRNAME if path.is_dir() else cache_dir(path)
    assert sorted(p.suffix for p in where.iterdir()) == [".json", ".npy", ".npy"]
    second = load(path, notices)
    assert is_mapped(second)
    assert_same(second, load_mnist(path))
    assert_same(first, second)
    assert notices == []


def test_a_replaced_source_invalidates_the_cache(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz", seed=0)
    load(path)
    write_book_pickle(path, seed=5)  # other images, same name
    notices: list[str] = []
    data = load(path, notices)
    assert not is_mapped(data)
    assert_same(data, load_mnist(path))
    assert len(notices) == 1 and "changed" in notices[0]
    # The stale arrays are gone and the new cache is used next time.
    assert len(list(cache_dir(path).glob("*.npy"))) == 2
    again = load(path, notices)
    assert is_mapped(again) and len(notices) == 1
    assert_same(again, load_mnist(path))


def test_a_touched_source_with_the_same_bytes_keeps_its_cache(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    notices: list[str] = []
    assert is_mapped(load(path, notices))
    assert notices == []
    tag = json.loads((cache_dir(path) / "mnist.pkl.gz.json").read_text())
    assert tag["source"]["files"][0]["mtime_ns"] == path.stat().st_mtime_ns  # no rehash next time


def test_a_truncated_cache_is_rebuilt_with_one_notice(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path)
    (images,) = cache_dir(path).glob("*.images.npy")
    with images.open("r+b") as f:
        f.truncate(images.stat().st_size // 2)
    notices: list[str] = []
    data = load(path, notices)
    assert not is_mapped(data)
    assert_same(data, load_mnist(path))
    assert len(notices) == 1 and "truncated" in notices[0] and "rebuilding" in notices[0]
    assert is_mapped(load(path, notices)) and len(notices) == 1


def test_a_damaged_header_or_tag_is_not_trusted(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path)
    (labels,) = cache_dir(path).glob("*.labels.npy")
    blob = bytearray(labels.read_bytes())
    blob[:6] = b"garbag"  # same size, not an .npy any more
    labels.write_bytes(bytes(blob))
    notices: list[str] = []
    assert_same(load(path, notices), load_mnist(path))
    assert len(notices) == 1 and "damaged" in notices[0]

    (cache_dir(path) / "mnist.pkl.gz.json").write_text("{not json")
    assert not is_mapped(load(path, notices))
    assert len(notices) == 2 and "damaged" in notices[1]


def test_a_cache_of_another_format_version_is_rebuilt(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path)
    tag_path = cache_dir(path) / "mnist.pkl.gz.json"
    tag = json.loads(tag_path.read_text())
    tag["version"] = cache.FORMAT_VERSION + 1
    tag_path.write_text(json.dumps(tag))
    notices: list[str] = []
    assert not is_mapped(load(path, notices))
    assert len(notices) == 1 and "another version" in notices[0]
    assert json.loads(tag_path.read_text())["version"] == cache.FORMAT_VERSION


def test_a_read_only_data_folder_puts_the_cache_in_the_user_cache_dir(
    tmp_path: Path, _own_cache_home: Path
) -> None:
    folder = tmp_path / "ro"
    path = write_book_pickle_in(folder)
    folder.chmod(0o555)
    try:
        notices: list[str] = []
        load(path, notices)
        assert not cache_dir(path).exists()
        tags = list(_own_cache_home.glob("nntui/*/mnist.pkl.gz.json"))
        assert len(tags) == 1
        data = load(path, notices)
        assert is_mapped(data) and notices == []
        assert_same(data, load_mnist(path))
        assert cache.status(path).directory == tags[0].parent
    finally:
        folder.chmod(0o755)


def test_nowhere_to_write_decodes_with_a_warning(
    tmp_path: Path, _own_cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ro"
    path = write_book_pickle_in(folder)
    _own_cache_home.mkdir()
    folder.chmod(0o555)
    _own_cache_home.chmod(0o555)
    try:
        with pytest.warns(cache.CacheWarning, match="cannot write the decoded-data cache"):
            data = cache.load(path, background=False)
        assert_same(data, load_mnist(path))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert not is_mapped(cache.load(path, background=False))
        assert list(_own_cache_home.iterdir()) == []
    finally:
        folder.chmod(0o755)
        _own_cache_home.chmod(0o755)


def test_the_background_writer_finishes_before_exit_and_never_leaves_half_files(
    tmp_path: Path,
) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    decoded = cache.load(path, on_notice=pytest.fail)
    assert cache.wait_for_writes(timeout=60)
    names = sorted(p.name for p in cache_dir(path).iterdir())
    assert not any(n.endswith(".tmp") for n in names)
    assert_same(load(path), decoded)


def test_an_abandoned_write_leaves_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    monkeypatch.setattr(cache, "_CHUNK_BYTES", 1024)
    cache._abandon.set()
    try:
        load(path)
    finally:
        cache._abandon.clear()
    leftovers = list(cache_dir(path).iterdir()) if cache_dir(path).exists() else []
    assert leftovers == []
    assert not is_mapped(load(path))  # nothing there to trust: decoded again


def test_clear_removes_every_copy_and_keeps_the_data(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path)
    removed = cache.clear(path)
    assert len(removed) == 3
    assert not cache_dir(path).exists()
    assert path.is_file() and not is_mapped(load(path))


def test_status_says_where_and_whether_valid(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    before = cache.status(path)
    assert not before.valid and before.files == () and before.directory == cache_dir(path)
    load(path)
    after = cache.status(path)
    assert after.valid and len(after.files) == 3
    assert after.size == sum(f.stat().st_size for f in cache_dir(path).iterdir())


def test_load_data_goes_through_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "WRITE_DELAY", 0.0)
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load_data(path)
    cache.wait_for_writes(timeout=60)
    assert is_mapped(load_data(path))


def test_missing_data_is_still_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        cache.load(tmp_path / "nope.pkl.gz")


# --- the CLI ----------------------------------------------------------------------------

cli = typer.Typer()
cli.add_typer(data_app)
runner = CliRunner()


def test_data_info_shows_the_cache(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    result = runner.invoke(cli, ["data", "info", str(path)])
    assert result.exit_code == 0, result.output
    assert "not written yet" in result.stdout
    load(path)
    result = runner.invoke(cli, ["data", "info", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout and cache.CACHE_DIRNAME in result.stdout


def test_clear_cache_command(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path)
    result = runner.invoke(cli, ["data", "clear-cache", str(path)])
    assert result.exit_code == 0, result.output
    assert "removed the cache" in result.stdout and "3 files" in result.stdout
    assert not cache_dir(path).exists()
    result = runner.invoke(cli, ["data", "clear-cache", str(path)])
    assert result.exit_code == 0 and "no cache" in result.stdout
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
    bad = runner.invoke(cli, ["data", "clear-cache", str(tmp_path / "nothing")])
    assert bad.exit_code == 2 and "nntui: error:" in bad.stderr


def test_a_process_that_exits_at_once_leaves_the_write_to_a_detached_child(
    tmp_path: Path,
) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    code = f"import sys\nfrom nntui.data import cache\ncache.load({str(path)!r})\nprint('loaded')\n"
    # The writer thread has not begun (WRITE_DELAY) when the process exits: the child does it all.
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "loaded\n" and done.stderr == ""
    tag = cache_dir(path) / "mnist.pkl.gz.json"
    deadline = time.monotonic() + 60
    while not tag.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tag.exists()
    assert not [p for p in cache_dir(path).iterdir() if p.name.endswith(".tmp")]
    assert_same(load(path), load_mnist(path))


def test_a_tag_pointing_outside_its_folder_is_not_followed(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path)
    tag_path = cache_dir(path) / "mnist.pkl.gz.json"
    tag = json.loads(tag_path.read_text())
    tag["images"]["file"] = "../mnist.pkl.gz"
    tag["seal"] = cache._seal(tag)  # as a writer that knows the seal would
    tag_path.write_text(json.dumps(tag))
    notices: list[str] = []
    assert not is_mapped(load(path, notices))
    assert len(notices) == 1 and "damaged" in notices[0]
