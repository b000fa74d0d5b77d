"""`nntui data download/info/import` through typer's CliRunner."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

import nntui.data.download as dl
from nntui.cli.data import data_app, ensure_data_with_progress, load_data_with_progress
from nntui.data.download import Remote, Source
from tests.fakedata import write_book_pickle, write_keras_npz

app = typer.Typer()
app.add_typer(data_app)
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["data", *args])


def one_error_line(result, *fragments: str) -> str:
    """The run failed with exit code 2 and exactly one `error:` line on stderr, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors == result.stderr.splitlines()[-1:], result.stderr
    assert errors[0].startswith("nntui: error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in errors[0]
    return errors[0]


def file_source(name: str, path: Path, digest: str | None = None) -> Source:
    digest = digest or hashlib.sha256(path.read_bytes()).hexdigest()
    return Source(name, (Remote(path.as_uri(), "mnist.pkl.gz", sha256=digest),))


# --- info -----------------------------------------------------------------------------------


def test_info_shows_format_size_checksum_and_splits(tmp_path):
    path = write_book_pickle(tmp_path / "mnist.pkl.gz")
    result = run("info", str(path))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "the book's mnist.pkl.gz" in out
    assert f"{path.stat().st_size:,} bytes" in out
    assert "500 images" in out and "100 images" in out
    assert "book's exact file" in out and "no" in out
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest[:40] in out.replace("\n", "").replace("│", "").replace(" ", "")


def test_info_without_a_path_uses_the_data_nntui_would_use(local, tmp_path, monkeypatch):
    monkeypatch.setenv("NNTUI_DATA", str(write_keras_npz(tmp_path / "k.npz")))
    result = run("info")
    assert result.exit_code == 0, result.output
    assert "Keras mnist.npz" in result.stdout


def test_info_with_no_data_anywhere(local):
    one_error_line(run("info"), "no MNIST data in", "nntui data download")


def test_info_of_a_broken_file(tmp_path):
    (tmp_path / "mnist.pkl.gz").write_bytes(b"\x1f\x8b\x08garbage")
    one_error_line(run("info", str(tmp_path / "mnist.pkl.gz")), "mnist.pkl.gz")


def test_info_of_a_missing_file(tmp_path):
    one_error_line(run("info", str(tmp_path / "nope.npz")), "nope.npz: no such file")


# --- import ---------------------------------------------------------------------------------


def test_import_a_good_file(local, tmp_path):
    src = write_book_pickle(tmp_path / "downloaded.pkl.gz")
    result = run("import", "--force", str(src))
    assert result.exit_code == 0, result.output
    assert f"-> {local / 'mnist.pkl.gz'}" in result.stdout
    assert (local / "mnist.pkl.gz").read_bytes() == src.read_bytes()


def test_import_a_bad_file_keeps_the_cached_one(local, tmp_path):
    good = write_book_pickle(tmp_path / "good.pkl.gz")
    assert run("import", "--force", str(good)).exit_code == 0
    bad = tmp_path / "bad.pkl.gz"
    bad.write_bytes(good.read_bytes()[:1000])
    one_error_line(run("import", "--force", str(bad)), "bad.pkl.gz: truncated")
    assert (local / "mnist.pkl.gz").read_bytes() == good.read_bytes()
    assert [p.name for p in local.iterdir()] == ["mnist.pkl.gz"]


def test_import_needs_a_path():
    result = run("import")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- download -------------------------------------------------------------------------------


def test_download_falls_through_and_reports(local, tmp_path, monkeypatch):
    remote = write_book_pickle(tmp_path / "remote.pkl.gz")
    monkeypatch.setattr(
        dl,
        "DEFAULT_SOURCES",
        (
            file_source("Gone mirror", tmp_path / "missing.pkl.gz", "0" * 64),
            file_source("Good", remote),
        ),
    )
    result = run("download")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(local / "mnist.pkl.gz")
    assert "✗ Gone mirror failed:" in result.stderr
    assert "downloading from Good" in result.stderr
    assert f"✓ saved {local / 'mnist.pkl.gz'}" in result.stderr
    assert (local / "mnist.pkl.gz").read_bytes() == remote.read_bytes()


def test_download_skips_data_already_there_unless_forced(local, tmp_path, monkeypatch):
    local.mkdir()
    write_book_pickle(local / "mnist.pkl.gz", seed=1)
    result = run("download")  # no sources at all: it must not try
    assert result.exit_code == 0, result.output
    assert "already downloaded" in result.stdout
    remote = write_book_pickle(tmp_path / "remote.pkl.gz", seed=2)
    monkeypatch.setattr(dl, "DEFAULT_SOURCES", (file_source("Good", remote),))
    assert run("download", "--force").exit_code == 0
    assert (local / "mnist.pkl.gz").read_bytes() == remote.read_bytes()


def test_download_into_a_chosen_directory(local, tmp_path, monkeypatch):
    remote = write_book_pickle(tmp_path / "remote.pkl.gz")
    monkeypatch.setattr(dl, "DEFAULT_SOURCES", (file_source("Good", remote),))
    result = run("download", "--dest", str(tmp_path / "mine"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine" / "mnist.pkl.gz").is_file()
    assert not local.exists()


def test_download_when_every_source_fails(local, tmp_path, monkeypatch):
    monkeypatch.setattr(
        dl, "DEFAULT_SOURCES", (file_source("Gone", tmp_path / "missing.pkl.gz", "0" * 64),)
    )
    result = run("download")
    one_error_line(result, "could not download MNIST: tried Gone", "nntui data import PATH")
    assert not (local / "mnist.pkl.gz").exists()


def test_download_rejects_a_silly_timeout():
    result = run("download", "--timeout", "0")
    assert result.exit_code == 2


# --- the helpers `nntui train` uses ---------------------------------------------------------


def test_ensure_data_with_progress_downloads_with_a_bar(local, tmp_path, monkeypatch):
    remote = write_book_pickle(tmp_path / "remote.pkl.gz")
    monkeypatch.setattr(dl, "DEFAULT_SOURCES", (file_source("Good", remote),))
    out = io.StringIO()
    console = Console(file=out, width=120)
    path = ensure_data_with_progress(None, console)
    assert path == local / "mnist.pkl.gz"
    text = out.getvalue()
    assert "downloading from Good" in text and "mnist.pkl.gz" in text and "✓ saved" in text
    # Found the second time: nothing is drawn.
    out.truncate(0)
    assert len(load_data_with_progress(None, console).training) == 500
    assert out.getvalue() == ""


def test_ensure_data_with_progress_passes_on_errors(local, tmp_path):
    from nntui.engine.errors import DataError

    with pytest.raises(DataError, match="no such file"):
        ensure_data_with_progress(tmp_path / "nope", Console(file=io.StringIO()))


# --- help -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["download", "info", "import"])
def test_each_command_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert f"Example: nntui data {command}" in result.stdout


def test_data_is_a_command_of_nntui():
    from nntui.cli import app as nntui_app

    result = runner.invoke(nntui_app, ["data", "--help"])
    assert result.exit_code == 0
    for command in ("download", "info", "import"):
        assert command in result.stdout
