"""The runs store: create, record, save, list, get; broken folders skipped; atomic files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ModelFileError
from nntui.engine.network import Network
from nntui.store.model_file import load_model
from nntui.store.runs import RunStore, find_model, read_run, runs_dir

CONFIG = TrainConfig(sizes=(784, 5, 10), epochs=3, eta=3.0, mini_batch_size=10, seed=7)


def record(epoch: int, correct: int, total: int = 100) -> dict:
    return {"epoch": epoch, "correct": correct, "total": total, "accuracy": correct / total}


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


def test_runs_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NNTUI_RUNS", str(tmp_path / "mine"))
    assert runs_dir() == tmp_path / "mine"
    assert RunStore().root == tmp_path / "mine"
    monkeypatch.delenv("NNTUI_RUNS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert runs_dir() == tmp_path / "xdg" / "nntui" / "runs"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert runs_dir() == Path.home() / ".local" / "share" / "nntui" / "runs"


def test_a_run_from_start_to_finish(store):
    run = store.create(CONFIG, seed=7)
    assert run.path.parent == store.root
    assert run.name.endswith("_784-5-10_eta3") and run.name[:4].isdigit()
    info = store.get(run.name)
    assert info.status == "running" and info.epochs_done == 0 and info.model_path is None
    assert info.best_accuracy is None

    net = Network(CONFIG.sizes, seed=1)
    run.record_epoch(record(1, 60), net)
    net.biases[0] += 1.0
    run.record_epoch(record(2, 80), net)
    run.record_epoch(record(3, 75), net)
    run.finish("completed", net)

    info = store.get(run.name)
    assert info.config == CONFIG and info.seed == 7
    assert info.status == "completed" and info.finished is not None
    assert info.epochs_done == 3 and info.best_accuracy == 0.8 and info.best["epoch"] == 2
    assert info.curve == ((1, 0.6), (2, 0.8), (3, 0.75))
    assert info.label == "784-5-10 eta 3 m 10"
    saved = info.load()
    assert saved.epochs_done == 3 and saved.seed == 7 and saved.config == CONFIG
    np.testing.assert_array_equal(saved.network.biases[0], net.biases[0])
    # Nothing but the three files: every temporary file was renamed or removed.
    assert sorted(p.name for p in run.path.iterdir()) == ["epochs.jsonl", "model.npz", "run.json"]


def test_each_epoch_is_on_disk_at_once(store):
    run = store.create(CONFIG, seed=7)
    net = Network(CONFIG.sizes, seed=1)
    run.record_epoch(record(1, 50), net)
    # Another process reading now (a crash now) sees epoch 1 in both files.
    assert [r["epoch"] for r in read_run(run.path).history] == [1]
    assert load_model(run.path / "model.npz").epochs_done == 1


def test_a_run_left_running_by_a_dead_process_shows_as_interrupted(store):
    run = store.create(CONFIG, seed=7)
    doc = json.loads((run.path / "run.json").read_text())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    doc["pid"] = int(dead.stdout)
    (run.path / "run.json").write_text(json.dumps(doc))
    assert store.get(run.name).status == "interrupted"
    assert run.info().status == "interrupted"


def test_resumed_runs_keep_the_earlier_history(store):
    run = store.create(CONFIG, seed=7, history=[record(1, 50)], resumed_from="net.npz")
    run.record_epoch(record(2, 70))
    info = run.info()
    assert [r["epoch"] for r in info.history] == [1, 2] and info.resumed_from == "net.npz"


def test_list_is_oldest_first_and_skips_what_is_not_a_run(store):
    first = store.create(CONFIG, seed=1)
    second = store.create(CONFIG.with_changes(eta=0.001), seed=2)
    (store.root / "holiday-photos").mkdir()
    (store.root / "broken").mkdir()
    (store.root / "broken" / "run.json").write_text("{not json")
    (store.root / "wrong").mkdir()
    (store.root / "wrong" / "run.json").write_text(
        json.dumps({"format": "nntui-run", "version": 1, "config": {"sizes": [3, 10]}})
    )
    (store.root / ".hidden").mkdir()
    (store.root / "notes.txt").write_text("a file, not a folder")
    skipped: list[str] = []
    infos = store.list(skipped)
    assert [r.name for r in infos] == [first.name, second.name]
    assert second.name.endswith("_eta0.001")
    assert len(skipped) == 3
    assert any("holiday-photos: not a run" in s for s in skipped)
    assert any("broken: run.json is not valid JSON" in s for s in skipped)
    assert any("wrong: the config" in s for s in skipped)
    assert store.list() == infos  # the notes are optional


def test_list_of_a_missing_directory_is_empty(tmp_path):
    assert RunStore(tmp_path / "never-made").list() == []


def test_same_second_same_config_gets_a_new_folder(store):
    names = {store.create(CONFIG, seed=s).name for s in range(3)}
    assert len(names) == 3


def test_get_by_prefix_by_path_and_errors(store, tmp_path):
    a = store.create(CONFIG, seed=1)
    b = store.create(CONFIG.with_changes(eta=100.0), seed=2)
    assert store.get(b.name[: b.name.index("_eta") + 5]).name == b.name  # "..._eta1" is unique
    assert store.get(str(a.path)).name == a.name
    with pytest.raises(ModelFileError, match="2 runs start with"):
        store.get(a.name[:10])
    with pytest.raises(ModelFileError, match="no run of that name"):
        store.get("1999")
    with pytest.raises(ModelFileError, match="no run name"):
        store.get("")
    with pytest.raises(ModelFileError, match="not a run"):
        store.get(str(tmp_path))


def test_find_model(store, tmp_path):
    run = store.create(CONFIG, seed=1)
    with pytest.raises(ModelFileError, match="no saved model yet"):
        find_model(run.name, store)
    run.record_epoch(record(1, 10), Network(CONFIG.sizes, seed=1))
    assert find_model(run.name, store) == run.path / "model.npz"
    assert find_model(str(run.path), store) == run.path / "model.npz"
    assert find_model(str(run.path / "model.npz"), store) == run.path / "model.npz"
    with pytest.raises(ModelFileError, match="no such model file or run"):
        find_model("nothing", store)
    with pytest.raises(ModelFileError, match=r"no such model file$"):
        find_model(str(tmp_path / "net.npz"), store)


def test_an_unwritable_runs_directory_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ModelFileError, match="cannot create a run") as err:
        RunStore(blocker / "runs").create(CONFIG, seed=1)
    assert "\n" not in str(err.value)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(store, monkeypatch):
    run = store.create(CONFIG, seed=1)
    run.record_epoch(record(1, 10))
    run.save()
    before = (run.path / "run.json").read_text()

    class Boom(Exception):
        pass

    def explode(*args, **kwargs):
        raise Boom

    monkeypatch.setattr("nntui.store.runs.json.dumps", explode)
    with pytest.raises(Boom):
        run.save()
    assert (run.path / "run.json").read_text() == before
    assert sorted(os.listdir(run.path)) == ["epochs.jsonl", "run.json"]


def test_a_run_whose_folder_vanished_is_a_one_line_error(store):
    run = store.create(CONFIG, seed=1)
    for name in ("run.json", "epochs.jsonl"):
        (run.path / name).unlink()
    run.path.rmdir()
    with pytest.raises(ModelFileError, match="cannot save the run") as err:
        run.record_epoch(record(1, 10), Network(CONFIG.sizes, seed=1))
    assert "\n" not in str(err.value)


def test_read_run_rejects_unknown_status(store):
    run = store.create(CONFIG, seed=1)
    doc = json.loads((run.path / "run.json").read_text())
    doc["status"] = "sleeping"
    (run.path / "run.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="unknown status"):
        read_run(run.path)
    with pytest.raises(ValueError):
        run.save(status="sleeping")


def test_a_recorder_keeps_a_run_and_a_broken_store_only_warns(tiny_data, tmp_path):
    from nntui.engine.config import TrainConfig
    from nntui.engine.training import Trainer
    from nntui.store.recorder import RunRecorder
    from nntui.store.runs import RunStore

    config = TrainConfig(epochs=2, seed=5, train_size=500)
    trainer = Trainer(tiny_data, config)
    warnings: list[str] = []
    recorder = RunRecorder(config, 5, warn=warnings.append, store=RunStore(tmp_path / "runs"))
    for event in trainer.run():
        recorder.handle(event, trainer.network)
    (kept,) = RunStore(tmp_path / "runs").list()
    assert kept.status == "completed" and kept.epochs_done == 2 and warnings == []
    assert kept.load().network.weights[0].tobytes() == trainer.network.weights[0].tobytes()

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the runs directory should be")
    broken = RunRecorder(config, 5, warn=warnings.append, store=RunStore(blocker))
    assert broken.run is None and len(warnings) == 1
    assert warnings[0].startswith("this run will not be kept:")
    for event in Trainer(tiny_data, config).run():
        broken.handle(event, trainer.network)  # trains on, writes nothing


def test_an_epoch_appends_one_line_and_the_model_is_written_when_due(store):
    run = store.create(CONFIG, seed=7)
    run.model_every = 3600.0  # as in a long run: not again for an hour
    net = Network(CONFIG.sizes, seed=1)
    run.record_epoch(record(1, 60), net)  # the first epoch's model is written at once
    first_model = (run.path / "model.npz").stat().st_mtime_ns
    run_json = (run.path / "run.json").read_text()
    for epoch in range(2, 50):
        run.record_epoch(record(epoch, 60), net)
    # 49 epochs recorded, one line each; neither run.json nor the model rewritten.
    assert len((run.path / "epochs.jsonl").read_text().splitlines()) == 49
    assert (run.path / "run.json").read_text() == run_json
    assert (run.path / "model.npz").stat().st_mtime_ns == first_model
    info = store.get(run.name)
    assert info.epochs_done == 49 and info.model_epoch == 1
    run.finish("stopped", net)  # the end of a run always writes the model
    info = store.get(run.name)
    assert info.status == "stopped" and info.model_epoch == 49
    assert load_model(info.model_path).epochs_done == 49


def test_resuming_a_run_whose_model_is_behind_its_record_says_so(store):
    run = store.create(CONFIG, seed=7)
    run.model_every = 3600.0
    net = Network(CONFIG.sizes, seed=1)
    for epoch in (1, 2, 3):
        run.record_epoch(record(epoch, 60), net)
    # The process dies here: the record has 3 epochs, the model 1.
    warnings: list[str] = []
    path = find_model(run.name, store, warn=warnings.append)
    assert load_model(path).epochs_done == 1
    assert warnings == [
        f"run {run.name} recorded 3 epochs but its model was last saved after epoch 1; "
        "continuing from epoch 1"
    ]


def test_a_line_cut_short_by_a_crash_is_ignored(store):
    run = store.create(CONFIG, seed=7)
    run.record_epoch(record(1, 60))
    with open(run.path / "epochs.jsonl", "a") as f:
        f.write('{"epoch": 2, "corr')
    assert store.get(run.name).epochs_done == 1


def test_a_version_1_run_is_still_read(store):
    run = store.create(CONFIG, seed=7)
    doc = json.loads((run.path / "run.json").read_text())
    doc["version"] = 1
    doc["epochs"] = [record(1, 60), record(2, 70)]
    del doc["model_epoch"]
    (run.path / "run.json").write_text(json.dumps(doc))
    (run.path / "epochs.jsonl").unlink()
    assert store.get(run.name).epochs_done == 2


def test_a_history_cleared_in_place_is_rewritten_not_appended_to(store):
    # A sweep retries a run whose worker died: its history starts again from epoch 1.
    run = store.create(CONFIG, seed=7)
    for epoch in (1, 2, 3):
        run.record_epoch(record(epoch, 60))
    run.history.clear()
    run.save(status="running")
    assert store.get(run.name).epochs_done == 0
    run.record_epoch(record(1, 70))
    assert [r["correct"] for r in store.get(run.name).history] == [70]


def test_a_kept_run_trained_further_continues_its_shuffles_instead_of_replaying_them(
    tiny_data, tmp_path
):
    """The kept model holds the shuffle state; resuming from it matches one straight run."""
    from nntui.engine.training import Trainer
    from nntui.store.recorder import RunRecorder

    config = TrainConfig(sizes=(784, 8, 10), epochs=2, seed=5, train_size=200)
    first = Trainer(tiny_data, config)
    recorder = RunRecorder(config, 5, warn=print, store=RunStore(tmp_path / "runs"))
    for event in first.run():
        recorder.handle(event, first.network, first.shuffle_state)
    (kept,) = RunStore(tmp_path / "runs").list()
    saved = kept.load()
    assert saved.shuffle_state == first.shuffle_state

    # A crafted epoch count cannot make the resume replay shuffles: the state is used as is.
    resumed = Trainer(
        tiny_data,
        config.with_changes(epochs=1),  # one more: epoch 3
        network=saved.network,
        seed=5,
        first_epoch=saved.epochs_done + 1,
        shuffle_state=saved.shuffle_state,
    )
    list(resumed.run())
    straight = Trainer(tiny_data, config.with_changes(epochs=3))
    list(straight.run())
    for a, b in zip(resumed.network.weights, straight.network.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
