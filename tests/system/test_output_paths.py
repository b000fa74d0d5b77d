"""nntui writes only regular files: a device, FIFO, socket or directory is refused, never replaced.

`nntui train --save /dev/full` run as root once renamed the model over the device
node. Each writer (--save, --metrics, the sweep's --json and --csv) is aimed here at
each kind of special file, given directly or through a symlink; the answer must
be one line and exit 2 before any training, and the special file must still be
there, untouched. A symlink to a regular file is followed: the target is
replaced and the link stays a link. Device nodes are made with mknod in a temp
folder (as root, as CI runs), never the real ones in /dev.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nntui.store.atomic import NotRegularFileError, atomic_write
from nntui.store.model_file import load_model


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _chardev(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root (CI runs as root)")
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # /dev/full's numbers


def _socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()  # the socket file stays


def _directory(path: Path) -> None:
    path.mkdir()


KINDS: dict[str, tuple[Callable[[Path], None], Callable[[int], bool], str]] = {
    "fifo": (_fifo, stat.S_ISFIFO, "is a FIFO"),
    "chardev": (_chardev, stat.S_ISCHR, "is a character device"),
    "socket": (_socket, stat.S_ISSOCK, "is a socket"),
    "directory": (_directory, stat.S_ISDIR, "is a directory"),
}


def _special(tmp_path: Path, kind: str, name: str, via_symlink: bool) -> tuple[Path, Path]:
    """Make a special file of `kind`; return (the path to give nntui, the special file)."""
    make = KINDS[kind][0]
    real = tmp_path / "specials" / name
    real.parent.mkdir(exist_ok=True)
    make(real)
    if not via_symlink:
        return real, real
    link = tmp_path / f"link-{name}"
    link.symlink_to(real)
    return link, real


def _nntui(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nntui", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


WRITERS = {
    "save": (["--save"], "m.npz"),
    "metrics-json": (["--metrics"], "m.json"),
    "metrics-csv": (["--metrics"], "m.csv"),
}


@pytest.mark.parametrize("via_symlink", [False, True], ids=["direct", "symlink"])
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("writer", list(WRITERS))
def test_train_refuses_to_write_over_a_special_file(
    tiny_data_file: Path, tmp_path: Path, writer: str, kind: str, via_symlink: bool
) -> None:
    option, name = WRITERS[writer]
    given, real = _special(tmp_path, kind, name, via_symlink)
    before = real.lstat()
    result = _nntui(
        ["train", "--data", str(tiny_data_file), "--train-size", "100", "--epochs", "1",
         *option, str(given)],
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert KINDS[kind][2] in lines[0]
    assert "Epoch" not in result.stdout  # refused before any work
    after = real.lstat()
    assert KINDS[kind][1](after.st_mode)  # still what it was: nothing renamed over it
    assert (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev)
    if via_symlink:
        assert given.is_symlink()


@pytest.mark.parametrize("kind", ["fifo", "chardev", "directory"])
@pytest.mark.parametrize("option", ["--json", "--csv"])
def test_sweep_refuses_a_special_summary_file(
    tiny_data_file: Path, tmp_path: Path, option: str, kind: str
) -> None:
    given, real = _special(tmp_path, kind, "summary" + option.replace("--", "."), True)
    result = _nntui(
        ["sweep", "--data", str(tiny_data_file), "--eta", "3", "--epochs", "1",
         "--train-size", "100", option, str(given)],
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert KINDS[kind][2] in result.stderr
    assert "Traceback" not in result.stderr
    assert KINDS[kind][1](real.lstat().st_mode)


def test_a_symlink_to_a_regular_file_is_followed(tiny_data_file: Path, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "net.npz"
    real.write_bytes(b"old")
    link = tmp_path / "net.npz"
    link.symlink_to(real)
    dangling = tmp_path / "m.json"
    dangling.symlink_to(tmp_path / "models" / "metrics.json")
    result = _nntui(
        ["train", "--data", str(tiny_data_file), "--train-size", "100", "--epochs", "1",
         "--save", str(link), "--metrics", str(dangling)],
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and dangling.is_symlink()
    assert load_model(real).epochs_done == 1
    assert (tmp_path / "models" / "metrics.json").is_file()
    # The temporary file lived beside the target, and nothing else was left there.
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["metrics.json", "net.npz"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_atomic_write_never_renames_over_a_special_file(tmp_path: Path, kind: str) -> None:
    # The last line of defence for every writer, the caches and the runs store included.
    given, real = _special(tmp_path, kind, "target", True)
    with pytest.raises(NotRegularFileError), atomic_write(given, "w") as f:
        f.write("x")
    assert KINDS[kind][1](real.lstat().st_mode)
    assert [p.name for p in real.parent.iterdir()] == ["target"]  # no temporary file left


def test_atomic_write_refuses_a_special_file_that_appears_while_it_writes(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    with pytest.raises(NotRegularFileError), atomic_write(target, "w") as f:
        f.write("x")
        os.mkfifo(target)
    assert stat.S_ISFIFO(target.lstat().st_mode)
