"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from nntui.engine.errors import ConfigError

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
    # A symlink is followed: its target is what gets replaced, with the temporary
    # file in the target's own folder so the rename stays on one file system.
    target = resolve_output(path)
    refuse_special(target)
    remove_stale_temp_files(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; the result should look like any other write.
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # Checked again: something may have been put there while we wrote.
        refuse_special(target)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def resolve_output(path: str | os.PathLike[str]) -> Path:
    """The file a write to `path` should replace: `path` with every symlink followed.

    A dangling symlink resolves to the file it names, which the write creates.
    """
    return Path(os.path.realpath(os.fspath(path)))


def special_kind(path: Path) -> str | None:
    """What `path` is if it exists and is not a regular file ("a FIFO", ...); else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


class NotRegularFileError(OSError):
    """A write was aimed at a device, FIFO, socket or directory, which nntui never replaces."""


def refuse_special(target: Path) -> None:
    """Raise `NotRegularFileError` if `target` exists and is not a regular file.

    Renaming over a device node (``/dev/full`` as root) or a FIFO would destroy
    it; writing into it would hang or vanish. Only regular files are replaced.
    """
    kind = special_kind(target)
    if kind is not None:
        words = kind if kind.startswith("not ") else f"is {kind}, not a regular file"
        raise NotRegularFileError(errno.EINVAL, f"{target.name} {words}", str(target))


def check_output_path(path: str | os.PathLike[str], what: str) -> Path:
    """Refuse, before any work, an output path that `atomic_write` could not or must not replace.

    Every writer (--save, --metrics, --json, --csv, the runs store, the caches)
    calls this first. A symlink is followed and its target checked; a
    directory, FIFO, device or socket there is refused, as is a folder that is
    missing or not writable. Raises `ConfigError` (one line, exit 2); the
    message names the path as ``what 'path'``, or ``'path'`` alone if ``what``
    is empty. Returns the resolved target.
    """
    given = Path(path)
    named = f"{what} {str(given)!r}" if what else repr(str(given))
    target = resolve_output(given)
    via = f" (a symlink to {str(target)!r})" if target != given.absolute() else ""
    kind = special_kind(target)
    if kind == "a directory":
        raise ConfigError(f"{named}{via} is a directory")
    if kind is not None:
        raise ConfigError(f"{named}{via} is {kind}, not a regular file: nntui only writes files")
    parent = target.parent
    if not parent.is_dir():
        raise ConfigError(f"{named}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{named}: directory {str(parent)!r} is not writable")
    return target


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
