"""Where nntui's MNIST lives: find it, download it, import it, describe it.

The data is looked for, in order, at
  1. an explicit path (the CLI's `--data PATH`),
  2. the `NNTUI_DATA` environment variable (a file, or a directory holding one),
  3. the local data directory (`data_dir()`),
and downloaded into the local data directory if none of these has it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nntui.data import cache
from nntui.data.download import ProgressCallback, Source, download
from nntui.data.mnist import (
    BOOK_FILENAME,
    BOOK_SHA256,
    KERAS_FILENAME,
    Format,
    find_in_dir,
    idx_files,
    load_mnist,
    locate,
)
from nntui.data.streams import check_input
from nntui.engine.dataset import MnistData
from nntui.engine.errors import DataError
from nntui.store.atomic import refuse_special

ENV_VAR = "NNTUI_DATA"


def data_dir() -> Path:
    """The local data directory: `data/` in a source checkout, else a per-user directory.

    A checkout is recognised by `data/README.md` next to `pyproject.toml`, beside
    the package; otherwise `$XDG_DATA_HOME/nntui` or `~/.local/share/nntui`.
    The directory may not exist yet.
    """
    return _local_data_dir(Path(__file__).resolve().parent.parent, os.environ)


def _local_data_dir(package_dir: Path, environ: Mapping[str, str]) -> Path:
    root = package_dir.parent
    if (root / "pyproject.toml").is_file() and (root / "data" / "README.md").is_file():
        return root / "data"
    xdg = environ.get("XDG_DATA_HOME", "")
    # The XDG spec says to ignore a relative XDG_DATA_HOME.
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "nntui"


def find_data(explicit: str | Path | None = None) -> Path | None:
    """Return the MNIST data to load, or None if there is none yet.

    A given `explicit` path or `NNTUI_DATA` must exist and hold MNIST: if it
    does not, this raises `DataError` rather than quietly looking elsewhere.
    """
    if explicit is not None:
        return _resolve(explicit, None)
    env = os.environ.get(ENV_VAR, "")
    if env:
        return _resolve(env, ENV_VAR)
    local = data_dir()
    st = check_input(local)
    return find_in_dir(local) if st is not None and stat.S_ISDIR(st.st_mode) else None


def _resolve(path: str | Path, origin: str | None) -> Path:
    path = Path(path).expanduser()
    if check_input(path) is None:
        where = f" (from {origin})" if origin else ""
        raise DataError(f"{path}: no such file or directory{where}")
    try:
        located, _ = locate(path)  # reads a few bytes: unreadable or empty files fail here
    except DataError as exc:
        raise DataError(f"{exc} (from {origin})" if origin else str(exc)) from None
    return located


def ensure_data(
    explicit: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
    sources: Sequence[Source] | None = None,
) -> Path:
    """Find the data (see `find_data`), downloading it into `data_dir()` if there is none."""
    found = find_data(explicit)
    if found is not None:
        return found
    return download(data_dir(), sources=sources, on_progress=on_progress)


def load_data(
    explicit: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
    on_notice: cache.Notice | None = None,
) -> MnistData:
    """Find or download the data, then load it through the decoded-data cache.

    `on_notice` gets one line when the cache was damaged or cannot be written
    (see `nntui.data.cache.load`).
    """
    return cache.load(ensure_data(explicit, on_progress), on_notice=on_notice)


# MNIST as published: 60,000 training and 10,000 test images (the book's file
# splits the 60,000 into 50,000 for training and 10,000 for validation).
MNIST_TRAIN_AND_VALIDATION = 60_000
MNIST_TEST = 10_000


@dataclass(frozen=True)
class Imported:
    """What `import_data` did: the new copy, its counts, and what it replaced."""

    path: Path  # the copy in the data directory (the directory for IDX files)
    format: Format
    counts: tuple[int, int, int]  # training, validation, test images
    replaced: Path | None = None  # the cached data it took the place of, if any
    replaced_counts: tuple[int, int, int] | None = None  # None: that copy did not load


def import_file(src: str | Path, force: bool = False) -> Path:
    """`import_data`, returning only the path of the copy."""
    return import_data(src, force=force).path


def import_data(src: str | Path, force: bool = False) -> Imported:
    """Copy MNIST from `src` into `data_dir()`, checking what was copied; say what it replaced.

    `src` may be any format `load_mnist` reads (for IDX, a directory or one of
    the four files). Each file is opened once and copied from that open file
    into a staging folder beside the data, hashed on the way; the copy is
    checked against the hash, then loaded, and only what loaded is moved into
    place. A file swapped or cut short while this runs therefore cannot land
    half-copied. Data that is not MNIST-shaped (60,000 + 10,000 images) is
    refused unless `force`, so a 100-image sample or IDX files with train and
    test swapped never silently replace good data. Raises `DataError`.
    """
    located, fmt = locate(Path(src).expanduser())
    dest = data_dir()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{dest}: cannot create the data directory ({exc.strerror})") from None
    sources = idx_files(located) if fmt is Format.IDX else [located]
    name = {Format.BOOK: BOOK_FILENAME, Format.KERAS: KERAS_FILENAME}.get(fmt)
    targets = [dest / (s.name if name is None else name) for s in sources]
    if all(t.exists() and os.path.samefile(s, t) for s, t in zip(sources, targets, strict=True)):
        data = load_mnist(located)  # importing the cached copy itself: nothing to copy
        return Imported(located, fmt, _counts(data))
    existing = find_in_dir(dest)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=dest))
    except OSError as exc:
        raise DataError(f"{dest}: cannot write in the data directory ({exc.strerror})") from None
    try:
        for source in sources:
            _copy_checked(source, staging / source.name)
        staged = staging if fmt is Format.IDX else staging / located.name
        try:
            counts = _counts(load_mnist(staged))
        except DataError as exc:  # named as the user knows it, not by the staging folder
            raise DataError(str(exc).replace(str(staged), str(located))) from None
        if not force and not _mnist_shaped(counts):
            raise DataError(
                f"{src}: {_describe(counts)}, not MNIST's 60,000 training and 10,000 test "
                "images; use --force to import it anyway"
            )
        replaced_counts = None
        if existing is not None:
            with contextlib.suppress(DataError):
                replaced_counts = _counts(load_mnist(existing))
        for source, target in zip(sources, targets, strict=True):
            try:
                refuse_special(target)  # a FIFO or device where the data goes is not replaced
                os.replace(staging / source.name, target)
            except OSError as exc:
                raise DataError(f"{target}: cannot write it ({exc.strerror})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if fmt is Format.IDX:
        # Another spelling of the same IDX file (say, not gzipped) would be read instead.
        keep = set(targets)
        for stale in idx_files(dest, every_spelling=True):
            if stale not in keep:
                stale.unlink()
    # find_in_dir prefers the book's file, then the npz, then IDX files: drop the
    # cached formats it would pick over the one just imported.
    preferred = {
        Format.BOOK: (),
        Format.KERAS: (BOOK_FILENAME,),
        Format.IDX: (BOOK_FILENAME, KERAS_FILENAME),
    }[fmt]
    for stale_name in preferred:
        (dest / stale_name).unlink(missing_ok=True)
    path = dest if fmt is Format.IDX else targets[0]
    return Imported(path, fmt, counts, existing, replaced_counts)


def _counts(data: MnistData) -> tuple[int, int, int]:
    return len(data.training), len(data.validation), len(data.test)


def _mnist_shaped(counts: tuple[int, int, int]) -> bool:
    training, validation, test = counts
    return training + validation == MNIST_TRAIN_AND_VALIDATION and test == MNIST_TEST


def _describe(counts: tuple[int, int, int]) -> str:
    training, validation, test = counts
    return f"{training:,} training, {validation:,} validation and {test:,} test images"


def _copy_checked(source: Path, target: Path) -> None:
    """Copy from one open file, hashing it; check the copy's bytes against the hash."""
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src:
            size_before = os.fstat(src.fileno()).st_size
            with target.open("wb") as out:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            copied = target.stat().st_size
            size_after = os.fstat(src.fileno()).st_size
        os.chmod(target, 0o644)  # data files are not secret
        check = hashlib.sha256()
        with target.open("rb") as back:
            while chunk := back.read(1 << 20):
                check.update(chunk)
    except OSError as exc:
        raise DataError(f"{source}: cannot copy it ({exc.strerror})") from None
    if size_before != size_after or copied != size_after:
        raise DataError(f"{source}: the file changed while it was being copied; try again")
    if check.digest() != digest.digest():
        raise DataError(f"{target}: the copy differs from {source}; is the disk failing?")


@dataclass(frozen=True)
class DataInfo:
    """What `nntui data info` shows about a dataset."""

    path: Path  # the file, or the directory of IDX files
    format: Format
    size: int  # bytes on disk, all files together
    sha256: dict[str, str]  # file name -> hex sha256
    counts: dict[str, int]  # split name -> number of images
    is_book_file: bool  # byte-identical to the book's mnist.pkl.gz


def data_info(path: str | Path) -> DataInfo:
    """Load the data at `path` (checking it fully) and describe it."""
    located, fmt = locate(Path(path).expanduser())
    data = load_mnist(located)
    files = idx_files(located) if fmt is Format.IDX else [located]
    sums = {f.name: _sha256(f) for f in files}
    return DataInfo(
        path=located,
        format=fmt,
        size=sum(f.stat().st_size for f in files),
        sha256=sums,
        counts={name: len(data.split(name)) for name in ("training", "validation", "test")},
        is_book_file=fmt is Format.BOOK and sums[located.name] == BOOK_SHA256,
    )


def data_checksum(path: str | Path) -> str:
    """One sha256 for the data at `path`: the file's own, or for IDX files one over their four.

    Results measured on the data (the SVM baseline) are cached under it.
    """
    located, fmt = locate(Path(path).expanduser())
    if fmt is not Format.IDX:
        return _sha256(located)
    combined = hashlib.sha256()
    for f in idx_files(located):
        combined.update(_sha256(f).encode())
    return combined.hexdigest()


def baseline_dirs(path: str | Path) -> list[Path]:
    """Where baselines of the data at `path` are cached: beside it, else the data directory.

    The data may sit in a read-only place (a shared copy), so the local data
    directory is the fallback, for reading and for writing.
    """
    located, _ = locate(Path(path).expanduser())
    beside = located if located.is_dir() else located.parent
    dirs = [beside]
    local = data_dir()
    if local.resolve() != beside.resolve():
        dirs.append(local)
    return dirs


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
