"""The SVM baseline: the fit itself on a small subset, its cache, and `nntui baseline svm`."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from nntui.cli import app
from nntui.cli import baseline as baseline_cli
from nntui.data.datastore import baseline_dirs, data_checksum
from nntui.engine.dataset import Split
from nntui.engine.svm import BOOK_SVM_CORRECT, SvmResult, fit_and_score
from nntui.store.baselines import cache_file, load_svm_results, save_svm_result

pytest.importorskip("sklearn")
runner = CliRunner()


def test_the_fit_learns_the_blobs(tiny_data):
    result = fit_and_score(tiny_data.training, tiny_data.test, "auto")
    assert (result.gamma, result.total, result.train_size) == ("auto", 100, 500)
    assert result.correct >= 90  # the blobs are easy; random guessing would get ~10


def test_gamma_is_checked(tiny_data):
    with pytest.raises(ValueError, match="gamma"):
        fit_and_score(tiny_data.training, tiny_data.test, "huge")


def test_a_fit_on_one_class_fails_as_a_value_error(tiny_data):
    one = Split(tiny_data.training.images[:20], tiny_data.training.labels[:20] * 0)
    with pytest.raises(ValueError):
        fit_and_score(one, tiny_data.test)


def _result(gamma="auto", correct=9400) -> SvmResult:
    return SvmResult(gamma, correct, 10_000, 50_000, 600.0, "1.5")


def test_cache_round_trip_per_gamma_and_checksum(tmp_path):
    save_svm_result([tmp_path], "a" * 64, _result("auto", 9435))
    save_svm_result([tmp_path], "a" * 64, _result("scale", 9660))
    assert load_svm_results([tmp_path], "a" * 64) == {
        "auto": _result("auto", 9435),
        "scale": _result("scale", 9660),
    }
    assert load_svm_results([tmp_path], "b" * 64) == {}  # other data: nothing shown


def test_a_corrupt_cache_is_no_cache(tmp_path):
    cache_file(tmp_path, "c" * 64).write_text("{not json")
    assert load_svm_results([tmp_path], "c" * 64) == {}
    cache_file(tmp_path, "c" * 64).write_text(
        json.dumps({"data_sha256": "c" * 64, "svm": {"auto": {}}})
    )
    assert load_svm_results([tmp_path], "c" * 64) == {}


def test_an_unwritable_directory_falls_back_to_the_next(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    written = save_svm_result([blocked, tmp_path / "local"], "d" * 64, _result())
    assert written.parent == tmp_path / "local"
    assert load_svm_results([blocked, tmp_path / "local"], "d" * 64)["auto"] == _result()


def test_command_fits_caches_and_then_reads_the_cache(tmp_path):
    from tests.fakedata import write_book_pickle

    data = write_book_pickle(tmp_path / "mnist.pkl.gz")
    first = runner.invoke(app, ["baseline", "svm", "--data", str(data)])
    assert first.exit_code == 0, first.output
    match = re.search(r"SVC\(gamma='auto'\) on 500 images: (\d+) / 100", first.stdout)
    assert match and int(match.group(1)) >= 90, first.stdout
    assert "(cached)" not in first.stdout
    results = load_svm_results(baseline_dirs(data), data_checksum(data))
    assert results["auto"].correct == int(match.group(1))
    assert cache_file(tmp_path, data_checksum(data)).is_file()  # beside the data

    again = runner.invoke(app, ["baseline", "svm", "--data", str(data)])
    assert again.exit_code == 0 and "(cached)" in again.stdout


def test_a_subset_fit_is_not_cached(tmp_path):
    from tests.fakedata import write_book_pickle

    data = write_book_pickle(tmp_path / "mnist.pkl.gz")
    result = runner.invoke(app, ["baseline", "svm", "--data", str(data), "--train-size", "200"])
    assert result.exit_code == 0, result.output
    assert "on 200 images" in result.stdout
    assert load_svm_results(baseline_dirs(data), data_checksum(data)) == {}


def test_without_scikit_learn_one_line_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(baseline_cli, "svm_available", lambda: False)
    result = runner.invoke(app, ["baseline", "svm", "--data", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["nntui: error: the SVM baseline needs scikit-learn: pip install 'nntui[svm]'"]


def test_svm_line_shows_the_cache_or_the_books_figure(tmp_path):
    assert "not reproduced here" in baseline_cli.book_svm_line([tmp_path], "e" * 64)
    assert str(BOOK_SVM_CORRECT) in baseline_cli.book_svm_line([tmp_path], "e" * 64)
    save_svm_result([tmp_path], "e" * 64, _result("auto", 9436))
    line = baseline_cli.book_svm_line([tmp_path], "e" * 64)
    assert "9436 / 10000" in line and "not reproduced" not in line


def test_eval_shows_the_cached_svm_figure_else_the_books(tmp_path, tiny_data):
    from nntui.engine.config import TrainConfig
    from nntui.engine.training import Trainer
    from nntui.store.model_file import save_model
    from tests.fakedata import write_book_pickle

    data = write_book_pickle(tmp_path / "mnist.pkl.gz")
    trainer = Trainer(tiny_data, TrainConfig(sizes=(784, 10, 10), epochs=1, train_size=500, seed=1))
    for _ in trainer.run():
        pass
    save_model(tmp_path / "net.npz", trainer.network, config=trainer.config, seed=1)
    args = ["eval", str(tmp_path / "net.npz"), "--data", str(data)]
    before = runner.invoke(app, args)
    assert before.exit_code == 0, before.output
    assert "SVM 9435 / 10000 (the book's figure, not reproduced here)" in before.stdout
    assert runner.invoke(app, ["baseline", "svm", "--data", str(data)]).exit_code == 0
    after = runner.invoke(app, args)
    cached = load_svm_results(baseline_dirs(data), data_checksum(data))["auto"]
    assert f"SVM (gamma='auto', the book's setting) {cached.correct} / 100" in after.stdout
    assert "not reproduced" not in after.stdout
