"""A cache of decoded MNIST: `.npy` files that later starts memory-map instead of decoding.

Decoding the book's `mnist.pkl.gz` (gunzip and unpickle 220 MB) takes about a
second; memory-mapping the same arrays saved as `.npy` takes milliseconds, and
pages are read only when used. So the first load decodes the source as usual,
returns the arrays at once and writes them, in a background thread, to

  1. a `.nntui-cache/` folder beside the data (inside it, for IDX directories), or
  2. when that folder cannot be written, ``$XDG_CACHE_HOME/nntui/<key>/``
     (default ``~/.cache/nntui``), one folder per source path.

A cache is a tag file (JSON: format version, the source files' sizes, mtimes and
sha256, the split sizes and the array files' sizes) and two arrays: all images
as float32 (n, 784) and all labels as uint8, the three splits one after the
other. The array files are named after the source's checksum and every file is
written atomically, the tag last: a reader sees a complete cache or none, never
a half-written one.

A later load trusts the cache after cheap checks: the tag's version, the source
files' sizes and mtimes, the array files' sizes and `.npy` headers. Only when
the size or mtime of a source file changed is its checksum computed, to tell a
touched file from a replaced one. A cache that fails a check is not used: the
source is decoded and the cache rewritten, and `on_notice` gets one line
saying why (a missing cache is not worth a line).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import json
import os
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.lib.format  # imported now, as a forked child must not import

from nntui.data.mnist import IMAGE_SIZE, Format, idx_files, load_mnist, locate
from nntui.data.streams import is_spooled
from nntui.engine.dataset import MnistData, Split
from nntui.engine.errors import DataError
from nntui.store.atomic import atomic_write, special_kind

CACHE_DIRNAME = ".nntui-cache"
# Bump when the files' layout or meaning changes: older caches are then rebuilt.
FORMAT_VERSION = 2  # 2: sealed tags, array checksums, the source's inode and change time
SPLITS = ("training", "validation", "test")
# How long a process about to exit waits for a cache write still under way before it
# abandons it (the temporary file is removed; the next start writes the cache again).
EXIT_WAIT_SECONDS = 30.0
# The background writer starts this long after the data is returned: a short run has
# ended by then and hands the whole write to a child at exit (`_finish_at_exit`), with
# no work thrown away, and a long one has its start-up behind it.
WRITE_DELAY = 2.0
_CHUNK_BYTES = 8 << 20

Notice = Callable[[str], None]


class CacheWarning(UserWarning):
    """A cache that could not be used or written; the data was decoded instead."""


@dataclass(frozen=True)
class CacheStatus:
    """What `nntui data info` shows about the cache of one source."""

    directory: Path  # where the cache is, or would be written
    files: tuple[Path, ...]  # the cache's files that exist
    size: int  # their bytes together
    valid: bool  # a load would use it
    reason: str  # why it is not valid ("" when it is)


# --- where -------------------------------------------------------------------------------


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/nntui``, or ``~/.cache/nntui`` (a relative XDG path is ignored)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "nntui"


def _source_files(located: Path, fmt: Format) -> list[Path]:
    return idx_files(located) if fmt is Format.IDX else [located]


def _key(located: Path, fmt: Format) -> str:
    return "idx" if fmt is Format.IDX else located.name


def _candidate_dirs(located: Path, fmt: Format) -> list[Path]:
    beside = (located if fmt is Format.IDX else located.parent) / CACHE_DIRNAME
    path_key = hashlib.sha256(str(located.resolve()).encode()).hexdigest()[:16]
    return [beside, user_cache_dir() / path_key]


def _writable(directory: Path) -> bool:
    """Whether `directory` (or, if missing, its nearest existing parent) may be written.

    The mode bits count as well as `os.access`: a folder marked read-only is left
    alone even by root, who could write it anyway.
    """
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    try:
        st = probe.stat()
    except OSError:
        return False
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK) and bool(st.st_mode & 0o222)


# --- the tag -----------------------------------------------------------------------------


def _stat_files(files: list[Path]) -> list[dict[str, Any]]:
    # A file replaced by another of the same size, its mtime put back (``touch -r``),
    # still has a new inode or at least a new change time, which no user can set.
    out = []
    for f in files:
        st = f.stat()
        out.append(
            {
                "name": f.name,
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "ctime_ns": st.st_ctime_ns,
                "inode": st.st_ino,
            }
        )
    return out


def _sha256_files(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        with f.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


class _Invalid(Exception):
    """Why a cache cannot be used; the text is shown to the user."""


def _read_tag(directory: Path, key: str) -> dict[str, Any] | None:
    path = directory / f"{key}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Invalid(f"cannot read {path.name} ({exc.strerror})") from None
    try:
        tag = json.loads(text)
        if not isinstance(tag, dict):
            raise ValueError("not an object")
    except ValueError:
        raise _Invalid(f"{path.name} is damaged") from None
    return tag


def _seal(tag: dict[str, Any]) -> str:
    """A checksum of the tag's own content: a hand-edited tag (its split counts) is not trusted."""
    body = {k: v for k, v in tag.items() if k not in ("seal", "source")}
    body["source_sha256"] = tag.get("source", {}).get("sha256")
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _check_tag(tag: dict[str, Any], files: list[Path]) -> bool:
    """Raise `_Invalid` unless `tag` describes `files`; True if their checksum was computed."""
    if tag.get("version") != FORMAT_VERSION:
        raise _Invalid(f"written by another version of nntui (format {tag.get('version')!r})")
    try:
        if tag.get("seal") != _seal(tag):
            raise _Invalid("its tag was changed after it was written")
    except (AttributeError, TypeError, ValueError):
        raise _Invalid("its tag is damaged") from None
    try:
        stats = _stat_files(files)
        recorded = tag["source"]["files"]
        if stats == recorded:
            return False
        # Same bytes, new mtime (touched, copied again): still this data.
        if [f["name"] for f in stats] == [f["name"] for f in recorded] and _sha256_files(
            files
        ) == tag["source"]["sha256"]:
            return True
    except (KeyError, TypeError):
        raise _Invalid("its tag is damaged") from None
    raise _Invalid("the data changed since it was cached")


def _open_arrays(directory: Path, tag: dict[str, Any]) -> tuple[MnistData, list[np.ndarray]]:
    """The splits, as views of the mapped arrays; and the two whole arrays (images, labels)."""
    try:
        counts = [int(c) for c in tag["counts"]]
        images_file, labels_file = tag["images"]["file"], tag["labels"]["file"]
        sizes = tag["images"]["bytes"], tag["labels"]["bytes"]
    except (KeyError, TypeError, ValueError):
        raise _Invalid("its tag is damaged") from None
    total = sum(counts)
    if len(counts) != 3 or min(counts) <= 0:
        raise _Invalid("its tag is damaged")
    arrays = []
    for name, size, dtype, shape in (
        (images_file, sizes[0], np.float32, (total, IMAGE_SIZE)),
        (labels_file, sizes[1], np.uint8, (total,)),
    ):
        if not isinstance(name, str) or Path(name).name != name or name.startswith("."):
            raise _Invalid("its tag is damaged")  # only file names of its own folder
        path = directory / name
        try:
            actual = path.stat().st_size
        except OSError:
            raise _Invalid(f"{path.name} is missing") from None
        if actual != size:
            raise _Invalid(f"{path.name} has {actual:,} bytes, expected {size:,} (truncated?)")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise _Invalid(f"{path.name} is damaged ({exc})") from None
        if array.dtype != dtype or array.shape != shape or not array.flags.c_contiguous:
            raise _Invalid(f"{path.name} holds {array.dtype} {array.shape}, expected {shape}")
        # A plain ndarray view of the map: consumers need not know it is a file.
        arrays.append(np.asarray(array))
    images, labels = arrays
    if labels.max(initial=0) > 9:  # 70 kB: cheap to check, unlike the images
        raise _Invalid(f"{labels_file} holds labels other than the digits 0..9")
    splits, start = [], 0
    for count in counts:
        end = start + count
        # Labels are int64 everywhere else; 8 bytes x 70,000 is cheap to convert.
        splits.append(Split(images[start:end], labels[start:end].astype(np.int64)))
        start = end
    return MnistData(*splits), arrays


# --- loading -----------------------------------------------------------------------------


def load(
    path: str | Path,
    *,
    on_notice: Notice | None = None,
    write: bool = True,
    background: bool = True,
) -> MnistData:
    """Load MNIST from `path` (any format `load_mnist` reads) through the cache.

    A valid cache is memory-mapped; otherwise the source is decoded with
    `load_mnist` and, if `write`, the cache is (re)written: when `background`,
    by a daemon thread that starts `WRITE_DELAY` seconds later, or by a child
    process at exit if the process ends first (see `_finish_at_exit`); else
    before returning. `on_notice` receives one line when a cache is
    damaged, stale or cannot be written (default: a `CacheWarning`).
    """
    notice = on_notice or _warn
    located, fmt = locate(Path(path).expanduser())
    if is_spooled(located):
        return load_mnist(located)  # a stream's private copy: gone at exit, nothing to cache
    files = _source_files(located, fmt)
    key = _key(located, fmt)
    not_used: str | None = None  # why a cache found was not used, said once we know what next
    for directory in _candidate_dirs(located, fmt):
        try:
            tag = _read_tag(directory, key)
            if tag is None:
                continue
            rehashed = _check_tag(tag, files)
            data, arrays = _open_arrays(directory, tag)
        except _Invalid as exc:
            not_used = f"the decoded-data cache in {directory} is not used: {exc}"
            continue
        except OSError as exc:
            notice(f"cannot read the decoded-data cache in {directory} ({exc.strerror})")
            continue
        if rehashed and write:
            _refresh_tag(directory, key, tag, files)
        # The cheap checks passed; the arrays' checksums are compared in the background,
        # so a start is not delayed by reading 220 MB.
        _start_verifier(directory, key, tag, data, arrays, (located, files, notice, write))
        return data

    try:
        before = _stat_files(files)
    except OSError as exc:
        raise DataError(f"{located}: cannot read ({exc.strerror})") from None
    data = load_mnist(located)
    target = next((d for d in _candidate_dirs(located, fmt) if _writable(d)), None)
    if write and target is not None:
        if not_used:
            notice(f"{not_used}; rebuilding it")
        if background:
            _start_writer(_Write(target, key, files, before, data, notice))
        else:
            _write_cache(_Write(target, key, files, before, data, notice))
    elif write:
        notice(
            f"{not_used + '; ' if not_used else ''}cannot write the decoded-data cache "
            f"(neither the data's folder nor {user_cache_dir()} is writable): "
            "the data will be decoded at every start"
        )
    elif not_used:
        notice(not_used)
    return data


def _warn(text: str) -> None:
    warnings.warn(text, CacheWarning, stacklevel=3)


def _refresh_tag(directory: Path, key: str, tag: dict[str, Any], files: list[Path]) -> None:
    # The checksum matched under a new mtime: record the mtime so the next start skips hashing.
    with contextlib.suppress(OSError):
        tag["source"]["files"] = _stat_files(files)
        _write_json(directory / f"{key}.json", tag)


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=1)
    os.chmod(path, 0o644)


# --- writing -----------------------------------------------------------------------------


class _Write(NamedTuple):
    """What one cache write needs: where, under which key, the files read, the data."""

    directory: Path
    key: str
    files: list[Path]
    before: list[dict[str, Any]]  # the files' stats when read: a changed file is not cached
    data: MnistData
    notice: Notice


@dataclass(frozen=True)
class _Job:
    """One cache write: a thread doing it now, and what a forked child needs to redo it."""

    write: _Write
    thread: threading.Thread


_jobs: list[_Job] = []
_jobs_lock = threading.Lock()
_abandon = threading.Event()


class _Abandoned(Exception):
    pass


def _start_writer(write: _Write) -> None:
    thread = threading.Thread(
        target=_write_later,
        args=(write,),
        name="nntui-data-cache",
        daemon=True,  # never keeps a process alive on its own: `_finish_at_exit` decides
    )
    with _jobs_lock:
        _jobs[:] = [j for j in _jobs if j.thread.is_alive()]
        _jobs.append(_Job(write, thread))
    thread.start()


def _write_later(write: _Write) -> None:
    if not _abandon.wait(WRITE_DELAY):
        _write_cache(write)


def _write_cache(write: _Write) -> bool:
    """Write the cache of `data`; False (after a notice) if it could not be written."""
    directory, key, files, before, data, notice = write
    try:
        digest = _sha256_files(files)
        if _stat_files(files) != before:
            return False  # the source changed while it was being read: cache nothing
        directory.mkdir(parents=True, exist_ok=True)
        tag_path = directory / f"{key}.json"
        # Without the tag no reader trusts the array files while they are replaced.
        tag_path.unlink(missing_ok=True)
        splits = [data.split(name) for name in SPLITS]
        stem = _free_stem(directory, f"{key}.{digest[:16]}")
        images_file, labels_file = f"{stem}.images.npy", f"{stem}.labels.npy"
        total = sum(len(s) for s in splits)
        images_bytes, images_sha = _write_npy(
            directory / images_file,
            (total, IMAGE_SIZE),
            np.float32,
            (s.images for s in splits),
        )
        labels_bytes, labels_sha = _write_npy(
            directory / labels_file, (total,), np.uint8, (s.labels for s in splits)
        )
        tag: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "source": {"files": before, "sha256": digest},
            "counts": [len(s) for s in splits],
            "images": {"file": images_file, "bytes": images_bytes, "sha256": images_sha},
            "labels": {"file": labels_file, "bytes": labels_bytes, "sha256": labels_sha},
        }
        tag["seal"] = _seal(tag)
        _write_json(tag_path, tag)
        # Arrays of an older source of the same name are no longer referenced.
        for old in directory.glob(f"{key}.*.npy"):
            if old.name not in (images_file, labels_file):
                with contextlib.suppress(OSError):
                    old.unlink()
        return True
    except _Abandoned:
        return False
    except OSError as exc:
        notice(f"cannot write the decoded-data cache in {directory} ({exc.strerror or exc})")
        return False


def _free_stem(directory: Path, stem: str) -> str:
    """`stem`, or `stem.N` if a file of that name is taken by something no write may replace.

    A directory or FIFO where an array file belongs (put there by hand, or by a
    damaged disk) is left alone, and the cache is written beside it.
    """
    for n in range(100):
        candidate = stem if n == 0 else f"{stem}.{n}"
        names = (f"{candidate}.images.npy", f"{candidate}.labels.npy")
        if all(special_kind(directory / name) is None for name in names):
            return candidate
    raise OSError(errno.EEXIST, "no free file name for the cache", str(directory))


def _write_npy(
    path: Path, shape: tuple[int, ...], dtype: type, parts: Iterator[Any]
) -> tuple[int, str]:
    """Write one .npy file atomically; return its size and the sha256 of its array's bytes."""
    header: dict[str, Any] = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype))}
    header |= {"fortran_order": False, "shape": shape}
    digest = hashlib.sha256()
    with atomic_write(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for part in parts:
            flat: np.ndarray = np.ascontiguousarray(part, dtype=dtype).reshape(-1)
            view = memoryview(flat.data).cast("B")
            for start in range(0, len(view), _CHUNK_BYTES):
                if _abandon.is_set():
                    raise _Abandoned
                chunk = view[start : start + _CHUNK_BYTES]
                digest.update(chunk)
                f.write(chunk)
    os.chmod(path, 0o644)
    return path.stat().st_size, digest.hexdigest()


# --- checking the arrays in the background -----------------------------------------------


DAMAGED = "cached data was damaged"  # how a run stopped by a damaged cache is recorded


@dataclass
class _Verification:
    """The background check of one load's arrays, and who to tell if they are damaged."""

    finished: threading.Event
    damage: str | None = None
    listeners: list[Callable[[str], None]] | None = None


_verifications: dict[int, _Verification] = {}


def on_damage(data: MnistData, listener: Callable[[str], None]) -> None:
    """Call `listener(reason)` if the cache `data` was mapped from turns out to be damaged.

    Called at once if that is already known; never for data that was decoded.
    A run training on the data stops and is recorded as failed (`DAMAGED`).
    """
    with _jobs_lock:
        check = _verifications.get(id(data))
        if check is None:
            return
        if check.damage is None:
            check.listeners = [*(check.listeners or []), listener]
            return
        damage = check.damage
    listener(damage)


def wait_for_verification(data: MnistData, timeout: float | None = None) -> str | None:
    """Wait for the background check of `data`; the damage found, or None (also for no check)."""
    check = _verifications.get(id(data))
    if check is None:
        return None
    check.finished.wait(timeout)
    return check.damage


def _start_verifier(
    directory: Path,
    key: str,
    tag: dict[str, Any],
    data: MnistData,
    arrays: list[np.ndarray],
    rebuild: tuple[Any, ...],
) -> None:
    check = _Verification(threading.Event())
    with _jobs_lock:
        _verifications[id(data)] = check
    thread = threading.Thread(
        target=_verify,
        args=(check, directory, key, tag, arrays, rebuild),
        name="nntui-cache-check",
        daemon=True,
    )
    thread.start()


def _verify(
    check: _Verification,
    directory: Path,
    key: str,
    tag: dict[str, Any],
    arrays: list[np.ndarray],
    rebuild: tuple[Any, ...],
) -> None:
    try:
        damage = _damage(tag, arrays)
        if damage is None:
            return
        located, files, notice, write = rebuild
        with _jobs_lock:
            check.damage = damage
            listeners = list(check.listeners or [])
        tag_path = directory / f"{key}.json"
        with contextlib.suppress(OSError, ValueError):
            if json.loads(tag_path.read_text(encoding="utf-8")).get("seal") == tag.get("seal"):
                tag_path.unlink()  # never trusted again (unless rewritten meanwhile)
        notice(f"the decoded-data cache in {directory} is damaged ({damage}): rebuilding it")
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener(damage)
        if write:
            # Decoded afresh, and written by this thread, since it is in the background already.
            with contextlib.suppress(DataError, OSError):
                before = _stat_files(files)
                fresh = load_mnist(located)
                _write_cache(_Write(directory, key, files, before, fresh, notice))
    finally:
        check.finished.set()


def _damage(tag: dict[str, Any], arrays: list[np.ndarray]) -> str | None:
    """Why the mapped arrays differ from their recorded checksums, or None if they match.

    The maps are hashed, not the files: what a run reads is what is checked. An
    edit in place shows through the map; a file replaced or removed does not
    change what was mapped (and is caught by the next start's checks).
    """
    for part, array in zip(("images", "labels"), arrays, strict=True):
        digest = hashlib.sha256()
        view = memoryview(array.reshape(-1).data).cast("B")
        for start in range(0, len(view), _CHUNK_BYTES):
            digest.update(view[start : start + _CHUNK_BYTES])
        if digest.hexdigest() != tag[part].get("sha256"):
            return f"{tag[part]['file']} does not match its checksum"
    return None


def wait_for_writes(timeout: float | None = EXIT_WAIT_SECONDS) -> bool:
    """Wait for cache writes under way; after `timeout` s abandon them. True if all finished.

    An abandoned write removes its temporary file, so no half-written cache is
    ever seen; the next load writes the cache again.
    """
    pending = _pending()
    for job in pending:
        job.thread.join(timeout)
    if any(job.thread.is_alive() for job in pending):
        _abandon_all(pending)
        return False
    return True


def _pending() -> list[_Job]:
    with _jobs_lock:
        return [j for j in _jobs if j.thread.is_alive()]


def _abandon_all(pending: list[_Job]) -> None:
    _abandon.set()
    for job in pending:
        job.thread.join(5.0)  # the writer stops within one chunk and removes its temp file
    _abandon.clear()


def _finish_at_exit() -> None:
    """At interpreter exit: hand a write still under way to a detached child process.

    A short run (`nntui train --epochs 1`) ends before the cache is written; waiting
    for it would make the first start slower than decoding alone. So the thread is
    stopped and a forked child, holding the same decoded arrays, writes the cache
    from the start while this process exits. Where there is no fork, it waits.
    """
    pending = _pending()
    if not pending:
        return
    if not hasattr(os, "fork"):
        with contextlib.suppress(KeyboardInterrupt):
            wait_for_writes()
        return
    _abandon_all(pending)
    jobs = [job.write for job in pending]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded fork"
            child = os.fork()
    except OSError:
        return  # no cache this time; the next start tries again
    if child == 0:
        _detached_writer(jobs)  # never returns
    # Not waited for: this process is about to exit, and the child, orphaned, is then
    # reaped by init. (Waiting, or forking twice to hand it to init, cost the exit 25 ms.)


def _detached_writer(jobs: list[_Write]) -> None:
    """The forked child: detach from the terminal and its pipes, write, and exit."""
    code = 1
    try:
        os.setsid()  # a Ctrl-C at the terminal is for the process that exited, not this
        # Readers waiting for our parent's stdout or stderr to close must not wait for us.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        for write in jobs:
            _write_cache(write._replace(notice=lambda _text: None))
        code = 0
    finally:
        os._exit(code)


atexit.register(_finish_at_exit)


# --- inspecting and clearing -------------------------------------------------------------


def status(path: str | Path) -> CacheStatus:
    """Describe the cache of the data at `path`: where, how big, whether a load would use it."""
    located, fmt = locate(Path(path).expanduser())
    files, key = _source_files(located, fmt), _key(located, fmt)
    if is_spooled(located):
        return CacheStatus(located.parent, (), 0, False, "a stream is read afresh, never cached")
    candidates = _candidate_dirs(located, fmt)
    for directory in candidates:
        try:
            tag = _read_tag(directory, key)
        except _Invalid as exc:
            return _status_of(directory, key, False, str(exc))
        if tag is None:
            continue
        try:
            _check_tag(tag, files)
            _, arrays = _open_arrays(directory, tag)
        except _Invalid as exc:
            return _status_of(directory, key, False, str(exc))
        damage = _damage(tag, arrays)  # `data info` may take the time to read it all
        if damage is not None:
            return _status_of(directory, key, False, f"damaged: {damage}")
        return _status_of(directory, key, True, "")
    target = next((d for d in candidates if _writable(d)), candidates[0])
    return _status_of(target, key, False, "not written yet")


def _status_of(directory: Path, key: str, valid: bool, reason: str) -> CacheStatus:
    found = tuple(sorted(_cache_files(directory, key)))
    size = 0
    for f in found:
        with contextlib.suppress(OSError):
            size += f.stat().st_size
    return CacheStatus(directory=directory, files=found, size=size, valid=valid, reason=reason)


def _cache_files(directory: Path, key: str) -> list[Path]:
    if not directory.is_dir():
        return []
    return [
        p for p in directory.iterdir() if p.name == f"{key}.json" or p.name.startswith(f"{key}.")
    ]


def clear(path: str | Path) -> list[Path]:
    """Remove the cache of the data at `path`, wherever it is; return the files removed.

    Folders left empty are removed too. The data itself is never touched.
    """
    located, fmt = locate(Path(path).expanduser())
    key = _key(located, fmt)
    removed = []
    for directory in _candidate_dirs(located, fmt):
        for f in _cache_files(directory, key):
            try:
                if f.is_dir():
                    shutil.rmtree(f)
                else:
                    f.unlink()
            except FileNotFoundError:
                continue  # gone meanwhile (another process cleared it): as asked
            except OSError as exc:
                raise DataError(f"{f}: cannot remove ({exc.strerror})") from None
            removed.append(f)
        with contextlib.suppress(OSError):
            directory.rmdir()  # only if empty
    return removed
