"""One table of bad inputs: each gets one specific line and exit code 2, never a traceback.

Every row runs through the whole ``nntui`` command group with typer's CliRunner.
Rows naming a hyperparameter also say what to type into the dashboard's inputs
and which reason must then show next to the input (see the end of this file).

Paths in a row are placeholders (``{dir}``, ``{model}``...) filled in by the
`files` fixture with real files in a temporary directory.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nntui.data.datastore as store
import nntui.data.download as dl
from nntui.cli import app
from nntui.engine.config import TrainConfig
from nntui.engine.network import Network
from nntui.store.model_file import save_model
from tests.conftest import Dashboard
from tests.fakedata import sha256, write_book_pickle

runner = CliRunner()


@dataclass(frozen=True)
class Bad:
    """One bad input: the command line, and what the one error line must say."""

    args: tuple[str, ...]
    says: tuple[str, ...]  # fragments of the error line: what is wrong and what is allowed
    # The same mistake made in the dashboard: (input id, text) typed in order, and the
    # reason shown under the input. None for rows that have no dashboard input.
    app_inputs: tuple[tuple[str, str], ...] | None = None
    app_says: str | None = None


def row(cli: str, *says: str, app: tuple[tuple[str, str], ...] | None = None, app_says=None):
    args = tuple(cli.split())
    return pytest.param(Bad(args, says, app, app_says or (says[0] if app else None)), id=cli)


ETA_RULE = "eta must be a number greater than 0, like 3.0"
SIZES_RULE = "whole numbers separated by commas, like 784,30,10"

TABLE = [
    # --- hyperparameters: the CLI and the dashboard's inputs -----------------------------
    row("train --eta fast", "Invalid value for '--eta'", "valid number",
        app=(("eta", "fast"),), app_says=ETA_RULE),
    row("train --eta -3", ETA_RULE, "got -3.0", app=(("eta", "-3"),)),
    row("train --eta 0", ETA_RULE, "got 0.0", app=(("eta", "0"),)),
    row("train --eta nan", ETA_RULE, "got nan", app=(("eta", "nan"),)),
    row("train --eta inf", ETA_RULE, "got inf", app=(("eta", "inf"),)),
    row("train --epochs 0", "epochs must be from 1 to 10000, got 0", app=(("epochs", "0"),)),
    row("train --epochs 1000000000", "epochs must be from 1 to 10000, got 1000000000",
        app=(("epochs", "1000000000"),)),
    row("train --epochs ten", "Invalid value for '--epochs'", "valid integer",
        app=(("epochs", "ten"),), app_says="epochs must be a whole number, got 'ten'"),
    row("train --mini-batch-size 0", "mini-batch size must be from 1 to the training-set size",
        "got 0", app=(("mini_batch_size", "0"),)),
    row("train --train-size 100 --mini-batch-size 101",
        "mini-batch size must be from 1 to the training-set size (100), got 101",
        app=(("train_size", "100"), ("mini_batch_size", "101"))),
    row("train --mini-batch-size 50001", "training-set size (50,000), got 50001",
        app=(("mini_batch_size", "50001"),),  # the dashboard's data has 500 training images
        app_says="mini-batch size must be from 1 to the training-set size (500), got 50001"),
    row("train --sizes 784,,10", SIZES_RULE, "got '784,,10'", app=(("sizes", "784,,10"),)),
    row("train --sizes 784,thirty,10", "each layer size must be a whole number, got 'thirty'",
        app=(("sizes", "784,thirty,10"),)),
    row("train --sizes 783,30,10", "the first layer must have 784 neurons (one per pixel), got 783",
        app=(("sizes", "783,30,10"),)),
    row("train --sizes 784,30,9", "the last layer must have 10 neurons (one per digit), got 9",
        app=(("sizes", "784,30,9"),)),
    row("train --sizes 784", "need at least an input and an output layer", "got 784",
        app=(("sizes", "784"),)),
    row("train --sizes 784,0,10", "a hidden layer must have 1 to 10000 neurons, got 0",
        app=(("sizes", "784,0,10"),)),
    row("train --sizes 784,1000000,10", "a hidden layer must have 1 to 10000 neurons, got 1000000",
        app=(("sizes", "784,1000000,10"),)),
    row("train --hidden 30,0", "a hidden layer must have 1 to 10000 neurons, got 0"),
    row("train --hidden 1000000", "a hidden layer must have 1 to 10000 neurons, got 1000000"),
    row("train --train-size 0", "training-set size must be from 1 to 50,000, got 0",
        app=(("train_size", "0"),)),
    row("train --train-size 50001", "training-set size must be from 1 to 50,000, got 50001",
        app=(("train_size", "50001"),)),
    row("train --seed -1", "seed must be a whole number from 0 to 4294967295, got -1",
        app=(("seed", "-1"),)),
    row("train --sizes 784,30,10 --hidden 30", "give --sizes or --hidden, not both"),
    row("train --eval-on train", "'train' is not one of 'test', 'validation'"),
    row("train --data {data} --train-size 50000",
        "training-set size 50,000 is more than the 500 training images in the data"),
    # --- unknown options, commands and missing arguments -----------------------------------
    row("train --bogus", "No such option: --bogus", "nntui train --help"),
    row("eval {model} --bogus", "No such option: --bogus", "nntui eval --help"),
    row("predict --bogus", "No such option: --bogus", "nntui predict --help"),
    row("data import --bogus", "No such option: --bogus", "nntui data import --help"),
    row("data info --bogus", "No such option: --bogus", "nntui data info --help"),
    row("bogus", "No such command 'bogus'"),
    row("eval", "Missing argument 'MODEL'"),
    row("predict {model}", "Missing argument 'IMAGE'"),
    row("data import", "Missing argument 'path'"),
    # --- paths that do not exist -------------------------------------------------------------
    row("train --data {missing}", "{missing}: no such file or directory"),
    row("train --resume {missing}.npz", "{missing}.npz: no such model file"),
    row("train --resume no-such-run", "no-such-run: no such model file or run", "nntui runs"),
    row("train --save {missing}/net.npz", "directory '{missing}' does not exist"),
    row("train --metrics {missing}/m.json", "directory '{missing}' does not exist"),
    row("train --metrics m.txt", "metrics file must end in .json or .csv, got 'm.txt'"),
    row("eval {missing}.npz", "{missing}.npz: no such model file"),
    row("predict {missing}.npz {image}", "{missing}.npz: no such model file"),
    row("predict {model} {missing}.png", "{missing}.png: no such file"),
    row("data import {missing}", "{missing}: no such file"),
    row("data info {missing}", "{missing}: no such file or directory"),
    # --- paths that are directories ----------------------------------------------------------
    row("train --data {dir}", "{dir}: no MNIST data here", "expected mnist.pkl.gz, mnist.npz"),
    row("train --resume {dir}", "{dir}: is a directory, not a model file or a run"),
    row("train --save {dir}", "model file '{dir}' is a directory"),
    row("train --metrics {dir}.json", "metrics file '{dir}.json' is a directory"),
    row("eval {dir}", "{dir}: is a directory, not a model file or a run"),
    row("predict {model} {dir}", "{dir}: is a directory, not an image"),
    row("data import {dir}", "{dir}: no MNIST data here"),
    row("data info {dir}", "{dir}: no MNIST data here"),
    # --- paths that cannot be read or written ------------------------------------------------
    row("train --data {unreadable}.pkl.gz", "{unreadable}.pkl.gz: permission denied"),
    row("train --resume {unreadable}.npz", "{unreadable}.npz: permission denied"),
    row("eval {unreadable}.npz", "{unreadable}.npz: permission denied"),
    row("predict {model} {unreadable}.png", "{unreadable}.png: permission denied"),
    row("data import {unreadable}.pkl.gz", "{unreadable}.pkl.gz: permission denied"),
    row("data info {unreadable}.pkl.gz", "{unreadable}.pkl.gz: permission denied"),
    row("train --save {readonly}/net.npz", "directory '{readonly}' is not writable"),
    # --- files that are the wrong thing -------------------------------------------------------
    row("train --resume {empty}.npz", "{empty}.npz: not an nntui model file"),
    row("eval {notamodel}.npz", "{notamodel}.npz: not an nntui model file"),
    row("train --resume {small}.npz", "{small}.npz: the network has 4 inputs and 2 outputs",
        "MNIST needs 784 and 10"),
    row("eval {small}.npz", "{small}.npz: the network has 4 inputs and 2 outputs",
        "MNIST needs 784 and 10"),
    row("train --resume {model} --hidden 100",
        "the saved model has layer sizes 784,5,10", "cannot change them when resuming"),
    row("predict {model} {notimage}.png", "{notimage}.png: not an image",
        "expected a PNG or PGM file"),
    row("data import {empty}.pkl.gz", "{empty}.pkl.gz: empty file"),
    row("data info {notgzip}.pkl.gz", "{notgzip}.pkl.gz: not gzip-compressed"),
]  # fmt: skip


@pytest.fixture
def files(tmp_path, monkeypatch) -> dict[str, str]:
    """Real files for each placeholder, a cached data file to guard, and no downloads."""
    base = tmp_path / "in"
    base.mkdir()
    (base / "dir").mkdir()
    (base / "dir.json").mkdir()
    (base / "readonly").mkdir()
    (base / "empty.npz").write_bytes(b"")
    (base / "empty.pkl.gz").write_bytes(b"")
    (base / "notamodel.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    (base / "notimage.png").write_bytes(b"hello, world")
    (base / "notgzip.pkl.gz").write_bytes(b"plain text, not gzip")
    save_model(base / "small.npz", Network([4, 3, 2], seed=0))
    save_model(
        base / "model.npz", Network([784, 5, 10], seed=0), config=TrainConfig(sizes=(784, 5, 10))
    )
    image = np.zeros((28, 28), np.uint8)
    image[8:20, 12:16] = 255
    (base / "image.pgm").write_bytes(b"P5 28 28 255\n" + image.tobytes())
    data = write_book_pickle(base / "mnist.pkl.gz")
    unreadable = base / "unreadable"
    for suffix in (".pkl.gz", ".npz", ".png"):
        (base / f"unreadable{suffix}").write_bytes((base / "model.npz").read_bytes())
    _make_unreadable(monkeypatch, unreadable, base / "readonly")

    # Nothing here may reach the user's data directory or the network.
    cache = tmp_path / "cache"
    cache.mkdir()
    write_book_pickle(cache / "mnist.pkl.gz", 60, 12, 10)
    monkeypatch.setattr(store, "data_dir", lambda: cache)
    monkeypatch.setattr(dl, "DEFAULT_SOURCES", ())
    monkeypatch.delenv("NNTUI_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    return {
        "missing": str(base / "missing"),
        "dir": str(base / "dir"),
        "readonly": str(base / "readonly"),
        "unreadable": str(unreadable),
        "empty": str(base / "empty"),
        "notamodel": str(base / "notamodel"),
        "notimage": str(base / "notimage"),
        "notgzip": str(base / "notgzip"),
        "small": str(base / "small"),
        "model": str(base / "model.npz"),
        "image": str(base / "image.pgm"),
        "data": str(data),
        "cache": str(cache / "mnist.pkl.gz"),
    }


def _make_unreadable(monkeypatch: pytest.MonkeyPatch, stem: Path, readonly_dir: Path) -> None:
    """Files starting with ``stem`` cannot be read; ``readonly_dir`` cannot be written.

    Without root, chmod does it for real. The tests run as root in CI, and root
    reads and writes whatever the mode bits say, so there `open` (the builtin,
    which is also `io.open` behind `Path.open`, NumPy, gzip and Pillow) raises
    the PermissionError the kernel would, and `os.access` reports the directory
    as not writable. What is tested is the same either way: how nntui reports
    the error, not whether the kernel raises it.
    """
    unreadable = [p for p in stem.parent.iterdir() if p.name.startswith(stem.name)]
    if os.geteuid() != 0:
        for p in unreadable:
            p.chmod(0)
        readonly_dir.chmod(0o555)
        return
    real_open, real_access = builtins.open, os.access
    blocked = {str(p) for p in unreadable}

    def open_(file, *args, **kwargs):
        if isinstance(file, str | os.PathLike) and os.fspath(file) in blocked:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    def access(path, mode, *args, **kwargs):
        if os.fspath(path) == str(readonly_dir) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "access", access)


@pytest.mark.parametrize("bad", TABLE)
def test_a_bad_input_gets_one_specific_line_and_exit_code_2(bad: Bad, files):
    cached = sha256(files["cache"])
    result = runner.invoke(app, [a.format(**files) for a in bad.args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nntui: error: ")
    for fragment in bad.says:
        assert fragment.format(**files) in lines[0]
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert sha256(files["cache"]) == cached  # a bad file never replaces the cached one


def test_the_table_is_wide_enough():
    assert len(TABLE) >= 20
    assert sum(p.values[0].app_inputs is not None for p in TABLE) >= 15


# --- the same mistakes typed into the dashboard ------------------------------------------------

APP_ROWS = [p.values[0] for p in TABLE if p.values[0].app_inputs is not None]


async def test_the_dashboard_shows_each_reason_next_to_its_input_and_refuses_start(
    dashboard: Dashboard,
):
    from textual.widgets import Input, Static

    async with dashboard(
        config=TrainConfig(train_size=500, seed=1), deterministic=True, size=(80, 24)
    ) as (app, pilot):
        screen = app.screen
        assert screen.state == "ready"
        original = {i.id: i.value for i in app.query(Input)}
        for bad in APP_ROWS:
            for field, text in bad.app_inputs:
                # As if typed: Input.Changed runs the same check as each key press does.
                app.query_one(f"#{field}", Input).value = text
            await pilot.pause()
            field = bad.app_inputs[-1][0]
            shown = str(app.query_one(f"#{field}-error", Static).render())
            assert bad.app_says in shown, (bad.args, shown)
            assert "\n" not in shown.strip() and "Traceback" not in shown
            assert app.query_one(f"#{field}", Input).has_class("-invalid")

            await pilot.press("escape", "s")  # leave the field (a refusal focuses it), Start
            assert screen.state == "ready" and screen.trainer is None, bad.args
            status = str(app.query_one("#status", Static).render())
            assert status.startswith("Start refused: ") and bad.app_says in status, status

            for field, _ in bad.app_inputs:  # put the good values back for the next row
                app.query_one(f"#{field}", Input).value = original[field]
        await pilot.pause()
        for field in original:
            assert str(app.query_one(f"#{field}-error", Static).render()).strip() == ""
        # After all that, the same app still trains.
        await pilot.press("escape", "s")
        await pilot.pause()
        assert screen.state in ("running", "finished") and screen.session.history
