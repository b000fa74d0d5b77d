"""Cached baseline results, kept beside the data they were measured on.

A fit of the SVM baseline on the full data takes 10-20 minutes, so its result
is written once as JSON and read by ``nntui eval`` and the dashboard. The file
is keyed by the data's checksum: other data (or a changed file) never shows a
stale figure.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nntui.engine.errors import ConfigError
from nntui.engine.svm import SvmResult
from nntui.store.atomic import atomic_write, check_output_path, special_kind


def cache_file(directory: str | os.PathLike[str], checksum: str) -> Path:
    """Where the baselines of the data with sha256 `checksum` are cached in `directory`."""
    return Path(directory) / f"nntui-baselines-{checksum[:16]}.json"


def load_svm_results(
    directories: Iterable[str | os.PathLike[str]], checksum: str
) -> dict[str, SvmResult]:
    """The cached SVM results by gamma ("auto", "scale"), from the first directory that has any.

    A missing, unreadable or corrupt cache is the same as no cache: the
    baseline is simply shown as not reproduced.
    """
    for directory in directories:
        data = _read(cache_file(directory, checksum))
        if data is None or data.get("data_sha256") != checksum:
            continue
        results = {}
        for gamma, record in (data.get("svm") or {}).items():
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                results[gamma] = SvmResult.from_json(record)
        if results:
            return results
    return {}


def save_svm_result(
    directories: Iterable[str | os.PathLike[str]], checksum: str, result: SvmResult
) -> Path:
    """Add `result` to the cache in the first writable directory; return the file written.

    Raises OSError when no directory can be written.
    """
    last_error: OSError | None = None
    for directory in directories:
        target = cache_file(directory, checksum)
        data = _read(target)
        if data is None or data.get("data_sha256") != checksum:
            data = {"data_sha256": checksum, "svm": {}}
        data.setdefault("svm", {})[result.gamma] = result.to_json()
        try:
            Path(directory).mkdir(parents=True, exist_ok=True)
            with atomic_write(target, "w") as handle:
                json.dump(data, handle, indent=2)
                handle.write("\n")
        except OSError as exc:
            last_error = exc
            continue
        return target
    raise last_error or OSError("no directory to write the baseline cache in")


def check_cache_writable(directories: Iterable[str | os.PathLike[str]], checksum: str) -> Path:
    """The cache file a result would go to; `ConfigError` (one line) if none can be written.

    Called before a fit that takes minutes, so a cache that is a FIFO, a device or
    a directory, or a folder nobody may write, is found before the work, not after.
    """
    reasons = []
    for directory in directories:
        folder = Path(directory)
        target = cache_file(folder, checksum)
        try:
            if not folder.exists():
                probe = folder
                while not probe.exists() and probe.parent != probe:
                    probe = probe.parent
                if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK):
                    return target  # a folder we can create
                reasons.append(f"{str(folder)!r} cannot be created")
                continue
            return check_output_path(target, "the baseline cache")
        except ConfigError as exc:
            reasons.append(str(exc))
    raise ConfigError(f"cannot cache the result: {'; '.join(reasons) or 'no folder to write in'}")


def _read(path: Path) -> dict[str, Any] | None:
    if special_kind(path) is not None:  # a FIFO would block the read forever
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
