"""Data paths that are not plain files: folders we may not enter, FIFOs, devices, pipes.

A path given as ``--data`` is checked here before anything opens it. Opening a
FIFO nobody writes to blocks forever, and ``/dev/zero`` never ends, so neither
may be opened the usual way. A stream (a FIFO, ``/dev/fd/N`` from the shell's
``<(...)``, a character device) is instead read without blocking into a private
temporary file, up to `STREAM_CAP` bytes, and that file is loaded; a stream
that says nothing for `FIRST_BYTE_SECONDS`, or stalls, or goes on past the cap,
gets one line. Every problem is a `DataError`, never a traceback or a hang.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import select
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

from nntui.engine.errors import DataError

# Far above any single MNIST file (the book's is 17 MB, the IDX training images 47 MB
# unpacked) and small enough to hold in a temporary file without a second thought.
STREAM_CAP = 128 << 20
# A stream with a live writer (``<(zcat ...)``) sends its first bytes at once.
FIRST_BYTE_SECONDS = 0.5
# Once bytes flowed, a writer may pause (a slow disk); this long without any is a hang.
STALL_SECONDS = 10.0
_CHUNK = 1 << 20

_spooled: dict[str, Path] = {}
_spool_dir: Path | None = None
_lock = threading.Lock()


def check_input(path: Path) -> os.stat_result | None:
    """`os.stat` of a data path, None if it does not exist; `DataError` if it may not be looked at.

    ``Path.exists`` raises PermissionError for a path inside a folder the user
    cannot enter; that becomes one line naming the folder.
    """
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except PermissionError:
        blocked = _first_closed_folder(path)
        where = f" (the folder {blocked} cannot be entered)" if blocked else ""
        raise DataError(f"{path}: permission denied{where}") from None
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
            return None if exc.errno == errno.ENOTDIR else _fail(path, exc)
        _fail(path, exc)
    return None  # pragma: no cover - _fail raises


def _fail(path: Path, exc: OSError) -> os.stat_result:
    raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _first_closed_folder(path: Path) -> Path | None:
    for folder in reversed(path.absolute().parents):
        try:
            os.stat(folder)
            if not os.access(folder, os.X_OK):
                return folder
        except OSError:
            return folder
    return None


def is_stream(st: os.stat_result) -> bool:
    """True for what is read as a stream: a FIFO, a pipe, a character device, a socket."""
    return stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISSOCK(st.st_mode)


def is_spooled(path: Path) -> bool:
    """True for a temporary copy `spool` made (such a copy is never cached)."""
    return _spool_dir is not None and path.parent == _spool_dir


def spool(path: Path, cap: int = STREAM_CAP, what: str = "any MNIST file") -> Path:
    """Read the stream at `path` into a private temporary file; return the file.

    The same path gives the same file for the rest of the process: a stream can
    be read only once, and the data is looked at more than once (its format,
    then its contents). The copy is removed at exit.
    """
    key = str(path)
    with _lock:
        if key in _spooled:
            return _spooled[key]
        target = _new_spool_file(path.name or "stream")
        try:
            _copy_stream(path, target, cap, what)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        _spooled[key] = target
        return target


def _new_spool_file(name: str) -> Path:
    global _spool_dir
    if _spool_dir is None:
        _spool_dir = Path(tempfile.mkdtemp(prefix="nntui-stream-"))
        atexit.register(shutil.rmtree, _spool_dir, True)
    return _spool_dir / f"{len(_spooled)}-{name}"


def _copy_stream(path: Path, target: Path, cap: int, what: str) -> None:
    try:
        # Non-blocking: opening a FIFO without a writer would otherwise wait for one forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    total = 0
    try:
        fifo = stat.S_ISFIFO(os.fstat(fd).st_mode)
        with target.open("wb") as out:
            last = time.monotonic()
            while True:
                wait = FIRST_BYTE_SECONDS if total == 0 else STALL_SECONDS
                chunk = _read_some(fd, path, last + wait)
                if chunk is None:  # nothing within the wait
                    raise DataError(_silent(path, total, wait))
                if not chunk and fifo and total == 0:
                    # A FIFO reads as ended until a writer opens it: wait for one, a while.
                    if time.monotonic() - last > wait:
                        raise DataError(_silent(path, total, wait))
                    time.sleep(0.05)
                    continue
                if not chunk:
                    break
                total += len(chunk)
                if total > cap:
                    raise DataError(
                        f"{path}: a stream of more than {cap:,} bytes, larger than {what}; "
                        "it was not read further"
                    )
                out.write(chunk)
                last = time.monotonic()
    finally:
        os.close(fd)
    if total == 0:
        raise DataError(f"{path}: empty (nothing was written to it)")


def _read_some(fd: int, path: Path, deadline: float) -> bytes | None:
    """The next bytes of `fd`, b"" at its end, None if none came before `deadline`."""
    while True:
        try:
            return os.read(fd, _CHUNK)
        except BlockingIOError:
            pass
        except OSError as exc:
            raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        with contextlib.suppress(InterruptedError):
            select.select([fd], [], [], min(left, 0.1))


def _silent(path: Path, total: int, wait: float) -> str:
    if total == 0:
        return (
            f"{path}: nothing to read within {wait:g} s (a FIFO nobody writes to, "
            "or a device that never answers); give a file"
        )
    return f"{path}: the stream stalled for {wait:g} s after {total:,} bytes"
