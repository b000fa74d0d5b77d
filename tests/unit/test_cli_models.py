"""`nntui runs`, `nntui eval` and `nntui predict` through typer's CliRunner."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from nntui.cli import app
from nntui.data.digits import center_and_scale
from nntui.engine.analysis import confusion_matrix, darkness_baseline
from nntui.engine.config import TrainConfig
from nntui.engine.network import Network
from nntui.engine.training import Trainer
from nntui.render.digit_art import ASCII_RAMP
from nntui.store.metrics import epoch_record
from nntui.store.model_file import save_model
from nntui.store.runs import RunStore

runner = CliRunner()
CONFIG = TrainConfig(sizes=(784, 20, 10), epochs=2, train_size=500, seed=3)


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def trained(tiny_data) -> Network:
    """A network trained for two epochs on the tiny data (it gets most blobs right)."""
    trainer = Trainer(tiny_data, CONFIG)
    for _ in trainer.run():
        pass
    return trainer.network


@pytest.fixture
def model_file(tmp_path, trained):
    path = tmp_path / "net.npz"
    save_model(path, trained, config=CONFIG, seed=3)
    return path


def one_line_error(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nntui: error: ") and message in lines[0], lines[0]
    assert "Traceback" not in result.output


# nntui runs


def stored_runs(tiny_data):
    """Two finished runs (one that learned, one that did not) in $NNTUI_RUNS."""
    store = RunStore()
    for eta in (3.0, 0.001):
        config = CONFIG.with_changes(eta=eta, epochs=1)
        trainer = Trainer(tiny_data, config)
        stored = store.create(config, trainer.seed)
        for event in trainer.run():
            if hasattr(event, "predictions"):
                stored.record_epoch(epoch_record(event), trainer.network)
        stored.finish("completed", trainer.network)
    return store.list()


def test_runs_lists_them_as_a_table(tiny_data):
    infos = stored_runs(tiny_data)
    result = run("runs")
    assert result.exit_code == 0, result.output
    for info in infos:
        line = next(line for line in result.stdout.splitlines() if f" {info.name} " in line)
        best = info.best
        assert f"{100 * best['correct'] / best['total']:.2f}%" in line
        assert "784,20,10" in line and "1/1" in line and "completed" in line
    assert "0.001" in result.stdout


def test_runs_json(tiny_data):
    infos = stored_runs(tiny_data)
    result = run("runs", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [r["name"] for r in doc] == [i.name for i in infos]
    assert doc[0]["config"]["eta"] == 3.0 and doc[1]["config"]["eta"] == 0.001
    assert doc[0]["epochs_done"] == 1 and doc[0]["status"] == "completed"
    assert doc[0]["best_correct"] == doc[0]["epochs"][0]["correct"]
    assert doc[0]["model"].endswith("model.npz")


def test_runs_when_there_are_none_and_with_a_broken_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("NNTUI_RUNS", str(tmp_path))
    result = run("runs")
    assert result.exit_code == 0 and "No runs yet" in result.stderr
    (tmp_path / "junk").mkdir()
    result = run("runs", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert "note: skipped junk: not a run" in result.stderr


# nntui eval


def test_eval_a_model_file(model_file, tiny_data_file, tiny_data, trained):
    result = run("eval", str(model_file), "--data", str(tiny_data_file))
    assert result.exit_code == 0, result.output
    predictions = trained.predict(tiny_data.test.images)
    correct = int(np.count_nonzero(predictions == tiny_data.test.labels))
    assert result.stdout.startswith(f"{correct} / 100  ({correct:.2f}%) on the test set")
    darkness = darkness_baseline(tiny_data.training, tiny_data.test)
    assert f"average darkness {darkness} / 100" in result.stdout
    # The confusion matrix, row by row: the true digit, ten counts, images, accuracy.
    cm = confusion_matrix(tiny_data.test.labels, predictions)
    rows = [line.split() for line in result.stdout.splitlines() if re.match(r"^\s+\d\s", line)]
    assert [[int(x) for x in row[1:12]] for row in rows] == [
        [*map(int, cm[i]), int(cm[i].sum())] for i in range(10)
    ]
    assert rows[0][-1] == f"{100 * cm[0, 0] / cm[0].sum():.2f}%"


def test_eval_a_run_by_name_on_the_validation_set(tiny_data, tiny_data_file):
    info = stored_runs(tiny_data)[0]
    result = run("eval", info.name, "--data", str(tiny_data_file), "--on", "validation")
    assert result.exit_code == 0, result.output
    assert "/ 100" in result.stdout and "on the validation set" in result.stdout


# nntui predict


def digit_image(tiny_data, index: int = 0) -> np.ndarray:
    return tiny_data.test.images[index].reshape(28, 28)


def printed_prediction(result) -> int:
    return int(result.stdout.strip().splitlines()[-1].removeprefix("prediction: "))


def test_predict_a_png_raw_and_centred(tmp_path, model_file, tiny_data, trained):
    pixels = digit_image(tiny_data)
    path = tmp_path / "digit.png"
    Image.fromarray(np.round(pixels * 255).astype(np.uint8)).save(path)
    read_back = np.round(pixels * 255) / 255

    result = run("predict", str(model_file), str(path), "--raw")
    assert result.exit_code == 0, result.output
    expected = trained.feedforward(read_back.reshape(784, 1).astype(np.float32)).ravel()
    assert printed_prediction(result) == int(np.argmax(expected))
    bars = [line for line in result.stdout.splitlines() if re.match(r"^\d [█·]+ \d\.\d{3}$", line)]
    assert [float(line.split()[-1]) for line in bars] == [round(float(a), 3) for a in expected]
    assert any(0x2800 <= ord(ch) <= 0x28FF for ch in result.stdout)  # the digit, in braille

    result = run("predict", str(model_file), str(path))
    assert result.exit_code == 0, result.output
    centred = center_and_scale(read_back).reshape(784, 1)
    assert printed_prediction(result) == int(np.argmax(trained.feedforward(centred)))


def test_predict_a_pgm_with_dark_ink(tmp_path, model_file, tiny_data, trained):
    pixels = np.round(digit_image(tiny_data, 5) * 255).astype(np.uint8)
    path = tmp_path / "digit.pgm"
    path.write_bytes(b"P5\n28 28\n255\n" + (255 - pixels).tobytes())
    result = run("predict", str(model_file), str(path), "--raw")
    assert result.exit_code == 0, result.output
    assert "note: dark ink on a light background: inverted" in result.stderr
    expected = trained.predict((pixels / 255).reshape(1, 784).astype(np.float32))[0]
    assert printed_prediction(result) == expected


def test_predict_falls_back_to_ascii_where_the_output_cannot_show_unicode(tmp_path, model_file):
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 12:16] = 255
    path = tmp_path / "one.png"
    Image.fromarray(pixels).save(path)
    proc = subprocess.run(
        [sys.executable, "-m", "nntui", "predict", str(model_file), str(path)],
        capture_output=True,
        env=os.environ | {"PYTHONIOENCODING": "latin-1"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode("latin-1")
    out = proc.stdout.decode("latin-1")
    assert "Traceback" not in proc.stderr.decode("latin-1")
    lines = out.splitlines()
    art = [line for line in lines if len(line) == 56]
    assert len(art) == 28 and all(set(line) <= set(ASCII_RAMP) for line in art)
    assert any("@@" in line for line in art)  # the stroke, in the densest character
    assert lines[-1].startswith("prediction: ")
    assert all(ord(ch) < 128 for ch in out)


@pytest.mark.parametrize("style", ["half", "braille", "ascii"])
def test_predict_draws_in_the_style_asked_for(tmp_path, model_file, tiny_data, style):
    path = tmp_path / "digit.png"
    Image.fromarray(np.round(digit_image(tiny_data) * 255).astype(np.uint8)).save(path)
    result = run("predict", str(model_file), str(path), "--style", style)
    assert result.exit_code == 0, result.output
    has_braille = any(0x2800 <= ord(ch) <= 0x28FF for ch in result.stdout)
    assert has_braille == (style == "braille")
    assert ("▀" in result.stdout) == (style == "half")
    assert ("@" in result.stdout) == (style == "ascii")


# Bad input: one line, exit code 2


@pytest.fixture
def png(tmp_path, tiny_data):
    path = tmp_path / "ok.png"
    Image.fromarray(np.round(digit_image(tiny_data) * 255).astype(np.uint8)).save(path)
    return path


def test_bad_inputs(tmp_path, model_file, png, tiny_data_file, tiny_data):
    ambiguous = stored_runs(tiny_data)[0].name[:10]  # the date: both runs start with it
    not_a_model = tmp_path / "bad.npz"
    not_a_model.write_bytes(b"nonsense")
    small = tmp_path / "small.npz"
    save_model(small, Network([10, 3, 10], seed=1))
    text = tmp_path / "notes.txt"
    text.write_text("seven\n")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(blank)
    data = ["--data", str(tiny_data_file)]
    cases = [
        (["eval", "nothing-here", *data], "nothing-here: no such model file or run"),
        (["eval", str(tmp_path / "gone.npz"), *data], "gone.npz: no such model file"),
        (["eval", str(not_a_model), *data], "not an nntui model file"),
        (["eval", str(small), *data], "the network has 10 inputs and 10 outputs; MNIST needs 784"),
        (["eval", str(tmp_path), *data], "is a directory, not a model file or a run"),
        (["eval", str(model_file), "--on", "training", *data], "'training' is not one of"),
        (["eval", str(model_file), "--data", str(text)], str(text)),
        (["eval"], "Missing argument 'MODEL'"),
        (["predict", str(model_file), str(tmp_path / "gone.png")], "gone.png: no such file"),
        (["predict", str(model_file), str(text)], "notes.txt: not an image"),
        (["predict", str(model_file), str(blank)], "blank.png: the image is blank"),
        (["predict", str(model_file), str(tmp_path)], "is a directory, not an image"),
        (["predict", str(not_a_model), str(png)], "not an nntui model file"),
        (["predict", str(model_file)], "Missing argument 'IMAGE'"),
        (["runs", "--bogus"], "No such option: --bogus"),
        (["eval", ambiguous, *data], "2 runs start with"),
    ]
    for args, message in cases:
        one_line_error(run(*args), message)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("command", ["eval", "predict"])
def test_a_diverged_model_is_named_so_not_scored(tmp_path, trained, tiny_data_file, bad, command):
    net = Network.from_parameters([w.copy() for w in trained.weights], list(trained.biases))
    net.weights[0][0, :5] = bad
    path = tmp_path / "diverged.npz"
    save_model(path, net, config=CONFIG, seed=3)
    image = tmp_path / "digit.png"
    Image.fromarray(np.eye(28, dtype=np.uint8) * 255).save(image)
    args = (
        [str(path), "--data", str(tiny_data_file)] if command == "eval" else [str(path), str(image)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may reach the user
        result = run(command, *args)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"nntui: error: {path}: the network diverged")
    assert "%" not in result.stdout
