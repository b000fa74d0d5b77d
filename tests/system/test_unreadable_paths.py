"""Data paths that cannot be read, or never end: one line, exit 2, no traceback, no hang.

Rows: a folder the user cannot enter (as root, the capabilities that bypass
permissions are dropped with setpriv), a FIFO nobody writes to, character
devices that never end or are empty (made with mknod in a temp folder), and
streams that do work: ``/dev/fd/N`` as the shell's ``<(...)`` gives, and a FIFO
whose writer comes a moment later.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.network import Network
from nntui.store.model_file import save_model

# A hang fails the test; the answer itself comes about half a second after the start.
GENEROUS = 30.0

SETPRIV = shutil.which("setpriv")
# The capabilities with which root reads any file anyway.
DROP = ["--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def _nntui(args: list[str], cwd: Path, prefix: tuple[str, ...] = (), **kw) -> tuple[int, str, str]:
    """Exit code, stderr, stdout."""
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "nntui", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=GENEROUS,  # a hang fails here
        stdin=subprocess.DEVNULL,
        **kw,
    )
    return proc.returncode, proc.stderr, proc.stdout


def _commands(data: str, model: Path) -> dict[str, list[str]]:
    return {
        "train": ["train", "--epochs", "1", "--data", data],
        "eval": ["eval", str(model), "--data", data],
        "sweep": ["sweep", "--eta", "3", "--epochs", "1", "--data", data],
        "data info": ["data", "info", data],
        "data import": ["data", "import", data],
    }


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "net.npz"
    save_model(path, Network([784, 10, 10], seed=1), config=TrainConfig(sizes=(784, 10, 10)))
    return path


def _one_line(code: int, err: str, *says: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in says:
        assert fragment in lines[0]


@pytest.mark.skipif(SETPRIV is None, reason="needs setpriv (util-linux)")
@pytest.mark.skipif(os.geteuid() != 0, reason="drops root's capabilities; a user is refused anyway")
@pytest.mark.parametrize("command", ["train", "eval", "sweep", "data info", "data import"])
def test_a_folder_that_cannot_be_entered(tiny_data_file, tmp_path, model, command):
    locked = tmp_path / "locked"
    locked.mkdir()
    shutil.copy(tiny_data_file, locked / "mnist.pkl.gz")
    locked.chmod(0)
    try:
        args = _commands(str(locked / "mnist.pkl.gz"), model)[command]
        code, err, _out = _nntui(args, tmp_path, (SETPRIV, *DROP))
    finally:
        locked.chmod(0o755)
    _one_line(code, err, "permission denied", str(locked))


@pytest.mark.parametrize("command", ["train", "data info", "data import", "eval"])
def test_a_fifo_nobody_writes_to(tmp_path, model, command):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, err, _out = _nntui(_commands(str(fifo), model)[command], tmp_path)
    _one_line(code, err, str(fifo), "nothing to read")


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
@pytest.mark.parametrize(
    ("minor", "says"), [(5, "larger than any MNIST file"), (3, "empty")], ids=["zero", "null"]
)
def test_a_character_device(tmp_path, model, minor, says):
    device = tmp_path / "dev"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    for command in ("train", "data info"):
        code, err, _out = _nntui(_commands(str(device), model)[command], tmp_path)
        _one_line(code, err, says)


def _feed(write_end: int, data: bytes, delay: float = 0.0) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        with os.fdopen(write_end, "wb") as out:
            out.write(data)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_pipe_as_dev_fd_works(tiny_data_file, tmp_path):
    # What `nntui train --data <(zcat ...)` hands over: /dev/fd/N, the read end of a pipe.
    read_end, write_end = os.pipe()
    feeder = _feed(write_end, tiny_data_file.read_bytes())
    args = ["train", "--epochs", "1", "--train-size", "100", "--data", f"/dev/fd/{read_end}"]
    code, err, _out = _nntui(args, tmp_path, pass_fds=(read_end,))
    os.close(read_end)
    feeder.join(5)
    assert code == 0, err
    assert "Traceback" not in err


def test_a_fifo_whose_writer_comes_a_moment_later_works(tiny_data_file, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def write_later() -> None:
        time.sleep(0.2)
        fifo.write_bytes(tiny_data_file.read_bytes())  # opening blocks until nntui reads

    thread = threading.Thread(target=write_later, daemon=True)
    thread.start()
    code, err, out = _nntui(["data", "info", str(fifo)], tmp_path)
    thread.join(5)
    assert code == 0, err
    assert "500 images" in out + err


@pytest.mark.parametrize("kind", ["fifo", "chardev"])
def test_predict_with_a_stream_for_an_image(tmp_path, model, kind):
    image = tmp_path / "digit.png"
    if kind == "fifo":
        os.mkfifo(image)
    elif os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root")
    else:
        os.mknod(image, 0o666 | stat.S_IFCHR, os.makedev(1, 5))  # never ends
    code, err, _out = _nntui(["predict", str(model), str(image)], tmp_path)
    _one_line(code, err, str(image))


def test_data_import_never_replaces_a_fifo_where_the_data_goes(
    tiny_data_file, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    import nntui.data.datastore as datastore
    from nntui.cli import app

    target = tmp_path / "home" / "mnist.pkl.gz"
    target.parent.mkdir()
    os.mkfifo(target)
    # In-process, so the data directory is this test's, never the checkout's data/.
    monkeypatch.setattr(datastore, "data_dir", lambda: target.parent)
    result = CliRunner().invoke(app, ["data", "import", str(tiny_data_file), "--force"])
    assert result.exit_code == 2, result.output
    assert "FIFO" in result.stderr and "Traceback" not in result.output
    assert stat.S_ISFIFO(target.lstat().st_mode)
