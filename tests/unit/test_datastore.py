"""Where the data is found, downloaded, imported and described."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import nntui
import nntui.data.datastore as store
from nntui.data.datastore import data_info, ensure_data, find_data, import_file, load_data
from nntui.data.download import Remote, Source
from nntui.data.mnist import Format
from nntui.engine.errors import DataError
from tests.fakedata import (
    expected_data,
    write_book_pickle,
    write_book_pickle_in,
    write_idx_files,
    write_keras_npz,
)


def file_source(path: Path) -> Source:
    """A source that 'downloads' a local file through a file:// URL."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Source("local file", (Remote(path.as_uri(), "mnist.pkl.gz", sha256=digest),))


# --- the local data directory ---------------------------------------------------------------


def test_a_checkout_keeps_data_in_its_data_folder(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "README.md").write_text("")
    assert store._local_data_dir(tmp_path / "nntui", {}) == tmp_path / "data"


def test_an_installed_package_uses_the_users_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "pyproject.toml").write_text("")  # but no data/README.md: not our checkout
    package = tmp_path / "nntui"
    xdg = str(tmp_path / "xdg")
    assert store._local_data_dir(package, {"XDG_DATA_HOME": xdg}) == tmp_path / "xdg" / "nntui"
    home = tmp_path / "home" / ".local" / "share" / "nntui"
    assert store._local_data_dir(package, {}) == home
    assert store._local_data_dir(package, {"XDG_DATA_HOME": "relative/dir"}) == home


def test_this_checkout_uses_its_data_folder():
    root = Path(nntui.__file__).resolve().parent.parent
    assert store.data_dir() == root / "data"


# --- resolution order -----------------------------------------------------------------------


def test_nothing_found(local):
    assert find_data() is None
    local.mkdir()
    assert find_data() is None


def test_local_data_directory(local):
    path = write_book_pickle_in(local)
    assert find_data() == path


def test_env_var_wins_over_the_local_directory(local, tmp_path, monkeypatch):
    write_book_pickle_in(local)
    env_file = write_keras_npz(tmp_path / "elsewhere.npz")
    monkeypatch.setenv("NNTUI_DATA", str(env_file))
    assert find_data() == env_file


def test_env_var_may_name_a_directory(local, tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    write_keras_npz(folder / "mnist.npz")
    monkeypatch.setenv("NNTUI_DATA", str(folder))
    assert find_data() == folder / "mnist.npz"
    write_idx_files(tmp_path / "idx")
    monkeypatch.setenv("NNTUI_DATA", str(tmp_path / "idx"))
    assert find_data() == tmp_path / "idx"


def test_explicit_path_wins_over_everything(local, tmp_path, monkeypatch):
    write_book_pickle_in(local)
    monkeypatch.setenv("NNTUI_DATA", str(write_keras_npz(tmp_path / "env.npz")))
    explicit = write_book_pickle(tmp_path / "explicit.pkl.gz", seed=5)
    assert find_data(explicit) == explicit
    assert find_data(str(explicit)) == explicit


def test_an_empty_env_var_is_ignored(local, monkeypatch):
    monkeypatch.setenv("NNTUI_DATA", "")
    assert find_data() is None


def test_a_missing_explicit_path_is_an_error_not_a_fallback(local, tmp_path):
    write_book_pickle_in(local)
    with pytest.raises(DataError, match=r"nope\.pkl\.gz: no such file or directory$"):
        find_data(tmp_path / "nope.pkl.gz")


def test_a_missing_env_path_says_where_it_came_from(local, tmp_path, monkeypatch):
    monkeypatch.setenv("NNTUI_DATA", str(tmp_path / "gone"))
    with pytest.raises(DataError, match=r"gone: no such file or directory \(from NNTUI_DATA\)"):
        find_data()


def test_a_directory_with_nothing_usable(local, tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no MNIST data here"):
        find_data(tmp_path / "empty")
    monkeypatch.setenv("NNTUI_DATA", str(tmp_path / "empty"))
    with pytest.raises(DataError, match=r"no MNIST data here .*\(from NNTUI_DATA\)"):
        find_data()


def test_an_unreadable_or_empty_path(local, tmp_path, monkeypatch):
    (tmp_path / "mnist.pkl.gz").write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        find_data(tmp_path / "mnist.pkl.gz")
    path = write_book_pickle(tmp_path / "locked.pkl.gz")
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(DataError, match=r"locked\.pkl\.gz: permission denied"):
        find_data(path)


# --- ensure / load: download only when nothing is found -------------------------------------


def test_ensure_downloads_into_the_local_directory_when_nothing_is_found(local, tmp_path):
    source = file_source(write_book_pickle(tmp_path / "remote.pkl.gz"))
    events = []
    path = ensure_data(on_progress=events.append, sources=[source])
    assert path == local / "mnist.pkl.gz"
    assert events[-1].status == "done"
    # Next time it is found, not downloaded: with no sources a download would fail.
    assert ensure_data(sources=[]) == path


def test_ensure_does_not_download_when_the_env_var_points_at_data(local, tmp_path, monkeypatch):
    monkeypatch.setenv("NNTUI_DATA", str(write_book_pickle(tmp_path / "mine.pkl.gz")))
    assert ensure_data(sources=[]) == tmp_path / "mine.pkl.gz"
    assert not local.exists()


def test_ensure_with_nothing_and_no_source_is_an_actionable_error(local):
    with pytest.raises(DataError, match="nntui data import PATH"):
        ensure_data()


def test_load_data(local, tmp_path):
    data = load_data(write_book_pickle(tmp_path / "x.pkl.gz"))
    assert len(data.training) == 500
    assert (data.test.labels == expected_data().test.labels).all()


# --- import ---------------------------------------------------------------------------------


def test_import_copies_a_good_file(local, tmp_path):
    (tmp_path / "Downloads").mkdir()
    src = write_book_pickle(tmp_path / "Downloads" / "mnist (1).pkl.gz")
    target = import_file(src, force=True)
    assert target == local / "mnist.pkl.gz"
    assert target.read_bytes() == src.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o644
    assert find_data() == target
    assert sorted(p.name for p in local.iterdir()) == ["mnist.pkl.gz"]  # no temp files


def test_import_refuses_a_bad_file_and_keeps_the_cached_one(local, tmp_path):
    good = import_file(write_book_pickle(tmp_path / "good.pkl.gz"), force=True)
    before = good.read_bytes()
    bad = tmp_path / "bad.pkl.gz"
    bad.write_bytes(before[: len(before) // 2])
    with pytest.raises(DataError, match=r"bad\.pkl\.gz: truncated"):
        import_file(bad, force=True)
    assert good.read_bytes() == before
    assert sorted(p.name for p in local.iterdir()) == ["mnist.pkl.gz"]


def test_import_of_a_missing_file(local, tmp_path):
    with pytest.raises(DataError, match="no such file"):
        import_file(tmp_path / "nothing.pkl.gz", force=True)
    assert not local.exists()


def test_imported_data_is_what_is_used_next(local, tmp_path):
    import_file(write_book_pickle(tmp_path / "book.pkl.gz"), force=True)
    npz = import_file(write_keras_npz(tmp_path / "keras.npz", seed=2), force=True)
    assert npz == local / "mnist.npz"
    assert find_data() == npz  # the book's file, which would be preferred, was replaced
    idx = import_file(write_idx_files(tmp_path / "idx", gz=False, seed=3), force=True)
    assert idx == local and find_data() == local
    assert (load_data().test.labels == expected_data(seed=3).test.labels).all()


def test_import_of_idx_replaces_other_spellings_of_the_same_files(local, tmp_path):
    import_file(write_idx_files(tmp_path / "gz", gz=True, seed=1), force=True)
    import_file(
        write_idx_files(tmp_path / "raw", gz=False, seed=2) / "t10k-images-idx3-ubyte", force=True
    )
    assert sorted(p.name for p in local.iterdir()) == sorted(
        p.name for p in (tmp_path / "raw").iterdir()
    )
    assert (load_data().training.labels == expected_data(seed=2).training.labels).all()


def test_import_of_the_cached_file_itself_is_harmless(local, tmp_path):
    target = import_file(write_book_pickle(tmp_path / "book.pkl.gz"), force=True)
    before = target.read_bytes()
    assert import_file(target, force=True) == target
    assert target.read_bytes() == before


# --- info -----------------------------------------------------------------------------------


def test_info_describes_a_book_file(tmp_path, monkeypatch):
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    info = data_info(path)
    assert info.path == path and info.format is Format.BOOK
    assert info.size == path.stat().st_size
    assert info.sha256 == {"mnist.pkl.gz": digest}
    assert info.counts == {"training": 500, "validation": 100, "test": 100}
    assert info.is_book_file is False
    monkeypatch.setattr(store, "BOOK_SHA256", digest)
    assert data_info(path).is_book_file is True


def test_info_describes_idx_files(tmp_path):
    directory = write_idx_files(tmp_path, gz=True)
    info = data_info(directory / "train-labels-idx1-ubyte.gz")
    assert info.path == directory and info.format is Format.IDX
    assert len(info.sha256) == 4
    assert info.size == sum(p.stat().st_size for p in directory.iterdir())
    assert info.is_book_file is False


def test_info_checks_the_whole_file(tmp_path):
    raw = write_book_pickle(tmp_path / "mnist.pkl.gz").read_bytes()
    (tmp_path / "mnist.pkl.gz").write_bytes(raw[:-100])
    with pytest.raises(DataError, match="truncated"):
        data_info(tmp_path / "mnist.pkl.gz")


# --- import: what is copied is what was checked, and only MNIST-shaped data --------------


@pytest.fixture
def mnist_shape(monkeypatch):
    """Let the fake data (500 + 100 training and validation, 100 test) count as MNIST-shaped."""
    monkeypatch.setattr(store, "MNIST_TRAIN_AND_VALIDATION", 600)
    monkeypatch.setattr(store, "MNIST_TEST", 100)


def test_a_file_replaced_after_its_check_never_lands_half_copied(local, tmp_path, monkeypatch):
    src = write_book_pickle(tmp_path / "mnist.pkl.gz")
    original = src.read_bytes()
    real_load = store.load_mnist
    calls = []

    def load_then_swap(path):
        data = real_load(path)
        if not calls:  # right after the first check, another program rewrites the file
            src.write_bytes(original[: len(original) // 3])
        calls.append(path)
        return data

    monkeypatch.setattr(store, "load_mnist", load_then_swap)
    try:
        target = import_file(src, force=True)
    except DataError:
        assert not (local / "mnist.pkl.gz").exists()
    else:
        assert target.read_bytes() == original  # what was checked is what was kept
    assert not [p for p in local.iterdir() if p.name.startswith(".")]  # no staging left


def test_data_that_is_not_mnist_shaped_is_refused_unless_forced(local, tmp_path, mnist_shape):
    good = import_file(write_book_pickle(tmp_path / "good.pkl.gz"))
    before = good.read_bytes()
    sample = write_book_pickle(tmp_path / "sample.pkl.gz", 50, 10, 10)
    with pytest.raises(DataError, match=r"50 training, 10 validation and 10 test images.*--force"):
        import_file(sample)
    assert good.read_bytes() == before
    # IDX files with training and test swapped: 100 training images, 600 test images.
    swapped = write_idx_files(tmp_path / "swapped", n_train=84, n_val=16, n_test=600)
    with pytest.raises(DataError, match="not MNIST's 60,000 training and 10,000 test"):
        import_file(swapped)
    assert good.read_bytes() == before and find_data() == good
    assert import_file(sample, force=True).read_bytes() == sample.read_bytes()


def test_import_says_what_it_replaced_with_counts(local, tmp_path, mnist_shape):
    from typer.testing import CliRunner

    from nntui.cli.data import data_app

    import_file(write_book_pickle(tmp_path / "first.pkl.gz"))
    npz = write_keras_npz(tmp_path / "keras.npz", seed=2)
    result = CliRunner().invoke(data_app, ["import", str(npz)])
    assert result.exit_code == 0, result.output
    assert f"replaced {local / 'mnist.pkl.gz'} (500 training, 100 validation, 100 test" in (
        result.stdout
    )
    assert "(Keras" in result.stdout or "500 training, 100 validation, 100 test" in result.stdout
