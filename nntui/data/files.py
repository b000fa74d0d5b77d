"""A file a person named could not be read: one clear line for each way that happens."""

from __future__ import annotations

from pathlib import Path

from nntui.engine.errors import DataError, reason


def read_failure(path: str | Path, exc: OSError, directory: str) -> DataError:
    """The error for ``exc``, met opening or reading ``path``.

    ``directory``: what to add when ``path`` is a directory ("expected a file").
    """
    if isinstance(exc, FileNotFoundError):
        return DataError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return DataError(f"{path}: is a directory, {directory}")
    if isinstance(exc, PermissionError):
        return DataError(f"{path}: permission denied")
    return DataError(f"{path}: cannot read ({reason(exc)})")
