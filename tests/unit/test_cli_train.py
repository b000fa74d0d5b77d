"""`nntui train` through typer's CliRunner, and as a real process for the signals."""

from __future__ import annotations

import csv
import json
import signal

import pytest

from nntui import __version__
from nntui.store.model_file import load_model
from tests.unit.train_cli import epoch_lines, run, signal_after_epochs, train_process

QUICK = ["--train-size", "500", "--epochs", "2", "--seed", "1"]


def test_train_prints_the_books_lines_when_piped(tiny_data_file):
    result = run("train", "--data", str(tiny_data_file), *QUICK)
    assert result.exit_code == 0, result.output
    lines = epoch_lines(result.stdout)
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1: ") and lines[0].endswith(" / 100")
    assert "seed 1" in result.stderr and "Summary" in result.stderr


def test_save_and_metrics_in_json_and_csv(tiny_data_file, tmp_path):
    model, as_json, as_csv = tmp_path / "net.npz", tmp_path / "m.json", tmp_path / "m.csv"
    result = run(
        "train",
        "--data",
        str(tiny_data_file),
        *QUICK,
        "--save",
        str(model),
        "--metrics",
        str(as_json),
    )
    assert result.exit_code == 0, result.output
    saved = load_model(model)
    assert saved.epochs_done == 2 and saved.seed == 1 and saved.config.eta == 3.0
    doc = json.loads(as_json.read_text())
    assert doc["status"] == "completed" and doc["seed"] == 1
    assert [e["epoch"] for e in doc["epochs"]] == [1, 2]
    correct = [int(line.split()[2]) for line in epoch_lines(result.stdout)]
    assert [e["correct"] for e in doc["epochs"]] == correct
    result = run("train", "--data", str(tiny_data_file), *QUICK, "--metrics", str(as_csv))
    assert [r["epoch"] for r in csv.DictReader(as_csv.open())] == ["1", "2"]


def test_resume_continues_numbering_and_history(tiny_data_file, tmp_path):
    model = tmp_path / "net.npz"
    assert run("train", "--data", str(tiny_data_file), *QUICK, "--save", str(model)).exit_code == 0
    result = run(
        "train", "--data", str(tiny_data_file), "--resume", str(model), "--epochs", "1",
        "--save", str(model),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert epoch_lines(result.stdout)[0].startswith("Epoch 3: ")
    assert load_model(model).epochs_done == 3
    assert "resuming at epoch 3" in result.stderr


def test_options_reach_the_engine(tiny_data_file):
    result = run(
        "train", "--data", str(tiny_data_file), "--hidden", "12", "--eta", "1.5",
        "--mini-batch-size", "20", "--train-size", "200", "--epochs", "1",
        "--eval-on", "validation", "--per-sample", "--seed", "4",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Network([784, 12, 10]): eta 1.5, mini-batch 20, 1 epoch, 200 training images" in (
        result.stderr
    )
    assert "validation set of 100" in result.stderr and "per-sample backprop" in result.stderr
    assert epoch_lines(result.stdout) == [epoch_lines(result.stdout)[0]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--eta", "0"], "eta must be a number greater than 0"),
        (["--eta", "-3"], "eta must be a number greater than 0"),
        (["--eta", "fast"], "Invalid value for '--eta'"),
        (["--epochs", "0"], "epochs must be from 1 to 10000"),
        (["--epochs", "1000000000"], "epochs must be from 1 to 10000"),
        (["--mini-batch-size", "0"], "mini-batch size must be from 1"),
        (["--train-size", "100", "--mini-batch-size", "101"], "training-set size (100), got 101"),
        (["--train-size", "0"], "training-set size must be from 1 to 50,000"),
        (["--train-size", "50001"], "training-set size must be from 1 to 50,000"),
        (["--sizes", "784,,10"], "separated by commas"),
        (["--sizes", "783,30,10"], "first layer must have 784"),
        (["--sizes", "784,30,9"], "last layer must have 10"),
        (["--sizes", "784"], "at least an input and an output layer"),
        (["--hidden", "1000000"], "hidden layer must have 1 to 10000"),
        (["--sizes", "784,30,10", "--hidden", "30"], "give --sizes or --hidden, not both"),
        (["--eval-on", "train"], "'train' is not one of"),
        (["--bogus"], "No such option: --bogus"),
        (["--metrics", "out.txt"], "must end in .json or .csv"),
        (["--save", "/nonexistent/dir/net.npz"], "does not exist"),
        (["--resume", "/nonexistent/net.npz"], "no such model file"),
        (["--data", "/nonexistent/mnist.pkl.gz"], "/nonexistent/mnist.pkl.gz"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_code_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("train", *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nntui: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_a_file_that_is_not_a_model_is_refused_when_resuming(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nonsense")
    result = run("train", "--resume", str(bad))
    assert result.exit_code == 2
    assert f"nntui: error: {bad}: not an nntui model file" in result.stderr


def test_version_and_help():
    assert run("--version").stdout.strip() == f"nntui {__version__}"
    help_text = run("train", "--help").stdout
    for option in ("--eta", "--epochs", "--mini-batch-size", "--sizes", "--save", "--resume"):
        assert option in help_text
    assert "nntui train --hidden 100" in help_text  # the examples
    assert run("-h").exit_code == 0


@pytest.mark.parametrize(
    ("signum", "code"),
    [
        (signal.SIGINT, 130),
        (signal.SIGTERM, 143),
        # Any signal that would end the process stops it in order too (ctrl+\, a stray one).
        (signal.SIGQUIT, 131),
        (signal.SIGUSR1, 138),
        (signal.SIGRTMIN, 128 + signal.SIGRTMIN),
    ],
)
def test_a_signal_stops_training_saves_what_was_done_and_exits_128_plus_n(
    tiny_data_file, tmp_path, signum, code
):
    proc = train_process(
        tmp_path, tiny_data_file, "--seed", "1", "--train-size", "500", "--epochs", "10000",
        "--save", "net.npz", "--metrics", "m.json",
    )  # fmt: skip
    err = signal_after_epochs(proc, 3, signum)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["status"] == "stopped"
    assert len(doc["epochs"]) >= 3
    assert load_model(tmp_path / "net.npz").epochs_done == len(doc["epochs"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "net.npz"]


def test_a_full_disk_on_save_is_reported_in_one_line(tiny_data_file, tmp_path, monkeypatch):
    import numpy as np

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", no_space)
    model = tmp_path / "net.npz"
    result = run("train", "--data", str(tiny_data_file), *QUICK, "--save", str(model))
    assert result.exit_code == 1
    assert f"nntui: error: could not write the model to {model}: No space left on device" in (
        result.stderr
    )
    assert list(tmp_path.iterdir()) == []


def test_the_summary_lists_only_the_files_written(tiny_data_file, tmp_path, monkeypatch):
    import numpy as np

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", no_space)
    model, metrics = tmp_path / "net.npz", tmp_path / "m.json"
    args = ["--save", str(model), "--metrics", str(metrics)]
    result = run("train", "--data", str(tiny_data_file), *QUICK, *args)
    assert result.exit_code == 1
    summary = result.stderr[result.stderr.index("Summary") :]
    rows = {line.split()[0] for line in summary.splitlines()[1:] if line.strip()}
    assert "model" not in rows  # it was not written
    assert "metrics" in rows
    assert metrics.is_file() and not model.exists()


def test_every_run_is_kept_and_can_be_resumed_by_name(tiny_data_file):
    from nntui.store.runs import RunStore

    assert run("train", "--data", str(tiny_data_file), *QUICK).exit_code == 0
    (kept,) = RunStore().list()
    assert kept.status == "completed" and kept.seed == 1 and kept.epochs_done == 2
    assert kept.model_path is not None and load_model(kept.model_path).epochs_done == 2
    result = run("train", "--data", str(tiny_data_file), "--resume", kept.name, "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert epoch_lines(result.stdout)[0].startswith("Epoch 3: ")
    assert len(RunStore().list()) == 2


def test_data_may_also_be_given_before_the_command(tiny_data_file):
    result = run("--data", str(tiny_data_file), "train", *QUICK)
    assert result.exit_code == 0, result.output
    assert len(epoch_lines(result.stdout)) == 2


def test_a_network_that_cannot_fit_in_memory_is_refused_in_one_line(tiny_data_file, monkeypatch):
    monkeypatch.setattr("nntui.engine.config.available_memory", lambda: 1 << 30)
    result = run("train", "--data", str(tiny_data_file), "--sizes", "784,10000,10000,10")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("nntui: error: layer sizes 784,10000,10000,10 need about 2.")
    assert "GB of memory and 1.0 GB is available" in line


def test_a_big_network_that_fits_is_trained_with_a_warning(tiny_data_file, monkeypatch):
    monkeypatch.setattr("nntui.engine.config.available_memory", lambda: 64 << 30)
    monkeypatch.setattr("nntui.engine.config.WARN_BYTES", 1 << 20)  # so a small net is "big"
    result = run("train", "--data", str(tiny_data_file), *QUICK)
    assert result.exit_code == 0, result.output
    assert "nntui: warning: this network needs about 0." in result.stderr


def test_at_most_ten_hidden_layers(tiny_data_file):
    result = run("train", "--data", str(tiny_data_file), "--sizes", "784," + "30," * 20 + "10")
    assert result.exit_code == 2
    assert "at most 10 hidden layers, got 20" in result.stderr
