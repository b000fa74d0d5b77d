"""The decoded-data cache never serves wrong data, whatever was done to it or to the source.

Rows of the issue: the tag's split counts edited; the data file replaced by
another valid one of the same size with its mtime put back (in place, and by a
rename); a cached array edited in place (caught by the background checksum, with
the running consumer told); a cached .npy replaced by a directory (rebuilt for
real); a cache that cannot be rewritten (said so, not "rebuilding it").
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from nntui.data import cache
from nntui.data.mnist import load_mnist
from nntui.engine.dataset import MnistData
from tests.fakedata import write_book_pickle, write_book_pickle_in, write_idx_files
from tests.unit.test_cache import assert_same, cache_dir, is_mapped


@pytest.fixture(autouse=True)
def _own_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def load(path: Path, notices: list[str]) -> MnistData:
    data = cache.load(path, on_notice=notices.append, background=False)
    cache.wait_for_verification(data, timeout=30)
    return data


def _tag_path(path: Path) -> Path:
    return cache_dir(path) / f"{path.name}.json"


def test_edited_split_counts_are_not_trusted(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path, [])
    tag = json.loads(_tag_path(path).read_text())
    training, validation, test = tag["counts"]
    tag["counts"] = [training - 50, validation + 50, test]  # the same total: shapes still fit
    _tag_path(path).write_text(json.dumps(tag))
    notices: list[str] = []
    data = load(path, notices)
    assert not is_mapped(data)
    assert len(data.training) == training  # the real split, not the edited one
    assert_same(data, load_mnist(path))
    assert len(notices) == 1 and "tag" in notices[0] and "rebuilding" in notices[0]
    assert is_mapped(load(path, notices)) and len(notices) == 1


@pytest.mark.parametrize("how", ["in place", "renamed over"])
def test_a_source_replaced_with_its_size_and_mtime_kept_is_noticed(
    tmp_path: Path, how: str
) -> None:
    folder = write_idx_files(tmp_path / "idx", gz=False, seed=0)
    load(folder, [])
    labels = folder / "train-labels-idx1-ubyte"
    before = labels.stat()
    other = write_idx_files(tmp_path / "other", gz=False, seed=7) / "train-labels-idx1-ubyte"
    assert other.stat().st_size == before.st_size and other.read_bytes() != labels.read_bytes()
    if how == "in place":
        labels.write_bytes(other.read_bytes())
    else:
        os.replace(other, labels)
    os.utime(labels, ns=(before.st_atime_ns, before.st_mtime_ns))  # `touch -r`, as a user can
    assert labels.stat().st_mtime_ns == before.st_mtime_ns
    notices: list[str] = []
    data = load(folder, notices)
    assert not is_mapped(data)
    assert_same(data, load_mnist(folder))  # the new labels, not the cached old ones
    assert len(notices) == 1 and "changed" in notices[0]
    assert cache.status(folder).valid


def test_an_array_edited_in_place_is_caught_in_the_background(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path, [])
    (labels,) = cache_dir(path).glob("*.labels.npy")
    blob = bytearray(labels.read_bytes())
    blob[-1] = (blob[-1] + 1) % 10  # a label changed: same size, valid header, digits 0..9
    labels.write_bytes(bytes(blob))
    assert not cache.status(path).valid  # `data info` reads it all: "damaged"
    assert "damaged" in cache.status(path).reason

    notices: list[str] = []
    told: list[str] = []
    data = cache.load(path, on_notice=notices.append, background=False)
    assert is_mapped(data)  # the cheap checks pass: the start is not delayed
    damage = cache.wait_for_verification(data, timeout=30)
    cache.on_damage(data, told.append)  # a listener added after the fact is told at once
    assert damage is not None and "checksum" in damage
    assert told == [damage]
    assert len(notices) == 1 and "damaged" in notices[0] and "rebuilding" in notices[0]
    # Rebuilt: the next load maps a cache equal to decoding, and it checks out.
    again = load(path, notices)
    assert is_mapped(again) and len(notices) == 1
    assert_same(again, load_mnist(path))
    assert cache.status(path).valid


def test_a_listener_registered_before_the_check_is_told(tmp_path: Path, monkeypatch) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path, [])
    (images,) = cache_dir(path).glob("*.images.npy")
    with images.open("r+b") as f:
        f.seek(-4, os.SEEK_END)
        f.write(np.float32(0.5).tobytes())
    # Hold the check until the listener is in place, as a trainer registers right after loading.
    gate = threading.Event()
    damage_of = cache._damage
    monkeypatch.setattr(cache, "_damage", lambda *a: gate.wait(30) and damage_of(*a))
    told: list[str] = []
    data = cache.load(path, on_notice=lambda _: None, background=False)
    cache.on_damage(data, told.append)
    gate.set()
    cache.wait_for_verification(data, timeout=30)
    assert len(told) == 1 and "checksum" in told[0]


def test_a_cached_array_replaced_by_a_directory_is_really_rebuilt(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path, [])
    (images,) = cache_dir(path).glob("*.images.npy")
    images.unlink()
    images.mkdir()
    (images / "something").write_text("a user's file")
    notices: list[str] = []
    assert not is_mapped(load(path, notices))
    assert len(notices) == 1 and "rebuilding" in notices[0]
    again = load(path, notices)
    assert is_mapped(again), notices  # rebuilt beside the directory, which is left alone
    assert len(notices) == 1
    assert_same(again, load_mnist(path))
    assert (images / "something").read_text() == "a user's file"


def test_a_damaged_cache_that_cannot_be_rewritten_says_so(
    tmp_path: Path, _own_cache_home: Path
) -> None:
    folder = tmp_path / "data"
    path = write_book_pickle_in(folder)
    load(path, [])
    (labels,) = cache_dir(path).glob("*.labels.npy")
    with labels.open("r+b") as f:
        f.truncate(labels.stat().st_size - 1)
    _own_cache_home.mkdir(exist_ok=True)
    for ro in (folder, cache_dir(path), _own_cache_home):
        ro.chmod(0o555)
    try:
        notices: list[str] = []
        assert_same(load(path, notices), load_mnist(path))
    finally:
        for ro in (folder, cache_dir(path), _own_cache_home):
            ro.chmod(0o755)
    assert len(notices) == 1
    assert "rebuilding" not in notices[0]
    assert "truncated" in notices[0] and "cannot write" in notices[0]


def test_an_old_format_cache_is_rebuilt_with_checksums(tmp_path: Path) -> None:
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path, [])
    tag = json.loads(_tag_path(path).read_text())
    assert tag["version"] == cache.FORMAT_VERSION
    assert len(tag["images"]["sha256"]) == len(tag["labels"]["sha256"]) == 64
    assert {"ctime_ns", "inode"} <= set(tag["source"]["files"][0])
    shutil.rmtree(cache_dir(path))


def test_a_trainer_on_damaged_data_stops_as_failed(tmp_path: Path) -> None:
    from nntui.engine.config import TrainConfig
    from nntui.engine.events import TrainingFinished
    from nntui.engine.training import Trainer

    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    load(path, [])
    (labels,) = cache_dir(path).glob("*.labels.npy")
    blob = bytearray(labels.read_bytes())
    blob[-1] = (blob[-1] + 1) % 10
    labels.write_bytes(bytes(blob))
    data = cache.load(path, on_notice=lambda _: None, background=False)
    trainer = Trainer(data, TrainConfig(sizes=(784, 10, 10), epochs=10_000, train_size=500))
    cache.on_damage(data, lambda _reason: trainer.fail(cache.DAMAGED))  # as the CLI and app do
    events = list(trainer.run())
    finished = events[-1]
    assert isinstance(finished, TrainingFinished)
    assert finished.status == "failed" and finished.message == cache.DAMAGED
    assert finished.epochs_done < 10_000
