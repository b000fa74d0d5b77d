"""Atomic writes keep the permissions a user gave a file, and new files follow the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nntui.store.atomic import atomic_write


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_an_existing_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "m.npz"
    target.write_bytes(b"old")
    target.chmod(mode)
    with atomic_write(target, "wb") as f:
        f.write(b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == mode


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_follows_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        target = tmp_path / "new.json"
        with atomic_write(target, "w") as f:
            f.write("{}")
    finally:
        os.umask(old)
    assert _mode(target) == 0o666 & ~umask
