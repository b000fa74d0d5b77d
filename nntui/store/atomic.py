"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# A temporary file this old was left by a writer that was killed (SIGKILL, a power
# cut) before it could remove it. A live writer touches its file far more often.
STALE_SECONDS = 3600.0


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to `path`; on success fsync it and rename it over `path`.

    The temporary file lives in the same directory so the final `os.replace`
    is a rename on one file system, which POSIX makes atomic. If the body
    raises (including KeyboardInterrupt), the temporary file is removed and
    `path` is left as it was. Temporary files of `path` that a killed writer
    left behind more than `STALE_SECONDS` ago are removed first.
    """
    target = Path(path)
    remove_stale_temp_files(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; the result should look like any other write.
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _mode_for(target: Path) -> int:
    """The permissions `target` keeps if it exists, else what the umask gives a new file."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # /proc gives the umask without changing it; os.umask can only read it by
    # setting it, which would race with other threads creating files.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_temp_files(
    target: Path, suffix: str = ".tmp", older_than: float = STALE_SECONDS
) -> list[Path]:
    """Remove ``.NAME.XXXXXXXX<suffix>`` files next to `target` not modified for `older_than` s.

    Only names `tempfile.mkstemp` makes for this very target match, so the
    temporary files of another target (or of a writer still at work) are kept.
    Returns what was removed; a file that cannot be removed is left alone.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}{re.escape(suffix)}")
    removed: list[Path] = []
    now = time.time()
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        if not pattern.fullmatch(name):
            continue
        stale = target.parent / name
        with contextlib.suppress(OSError):
            if now - stale.stat().st_mtime > older_than:
                stale.unlink()
                removed.append(stale)
    return removed
