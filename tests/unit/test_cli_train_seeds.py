"""`nntui train --seeds N` / `--seed-list`: seeds side by side, each its own run."""

from __future__ import annotations

import json
import signal

import pytest

from nntui.store.model_file import load_model
from nntui.store.runs import RunStore
from tests.unit.train_cli import epoch_lines, run, signal_after_epochs, train_process

QUICK = ["--train-size", "500", "--epochs", "2"]


def test_seeds_train_side_by_side_each_as_alone_and_each_kept(tiny_data_file, tmp_path):
    metrics = tmp_path / "m-{seed}.json"
    model = tmp_path / "net-{seed}.npz"
    result = run(
        "train",
        "--data",
        str(tiny_data_file),
        *QUICK,
        "--seed-list",
        "1,7,9",
        "--metrics",
        str(metrics),
        "--save",
        str(model),
    )
    assert result.exit_code == 0, result.output
    lines = epoch_lines(result.stdout)
    # One book line per seed per epoch, the seed named after it.
    assert [(line.split()[1], line.split()[-1]) for line in lines] == [
        ("1:", "1"), ("1:", "7"), ("1:", "9"), ("2:", "1"), ("2:", "7"), ("2:", "9"),
    ]  # fmt: skip
    for seed in (1, 7, 9):
        doc = json.loads((tmp_path / f"m-{seed}.json").read_text())
        assert doc["seed"] == seed and doc["status"] == "completed"
        assert load_model(tmp_path / f"net-{seed}.npz").seed == seed
        # The same seed trained alone gives the same counts.
        alone = run("train", "--data", str(tiny_data_file), *QUICK, "--seed", str(seed))
        assert alone.exit_code == 0, alone.output
        stacked = [line.rsplit("  seed", 1)[0] for line in lines if line.endswith(f"seed {seed}")]
        assert stacked == epoch_lines(alone.stdout)
        assert [e["correct"] for e in doc["epochs"]] == [int(x.split()[2]) for x in stacked]
    kept = RunStore().list()
    assert sorted(r.seed for r in kept) == [1, 1, 7, 7, 9, 9]  # three stacked, three alone
    assert all(r.status == "completed" and r.epochs_done == 2 for r in kept)
    # The spread summary.
    assert "Seeds" in result.stderr and "best over 3 seeds: min " in result.stderr


def test_seeds_n_means_seeds_1_to_n(tiny_data_file):
    result = run("train", "--data", str(tiny_data_file), *QUICK, "--seeds", "2", "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert [line.split()[-1] for line in epoch_lines(result.stdout)] == ["1", "2"]
    assert "seeds 1, 2 side by side" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "2", "--seed-list", "1,2"], "give --seeds or --seed-list, not both"),
        (["--seeds", "2", "--seed", "4"], "--seed is one seed"),
        (["--seeds", "2", "--resume", "x.npz"], "--resume continues one run"),
        (["--seeds", "2", "--per-sample"], "--per-sample cannot be used with several seeds"),
        (["--seeds", "2", "--save", "net.npz"], "the path must hold {seed}"),
        (["--seeds", "2", "--metrics", "m.csv"], "the path must hold {seed}"),
        (["--seeds", "0"], "--seeds must be 1 or more"),
        (["--seeds", "65"], "use 'nntui sweep'"),
        (["--seed-list", "1,1"], "lists 1 twice"),
        (["--seed-list", "1,x"], "--seed-list"),
    ],
)
def test_what_several_seeds_cannot_do_is_refused_in_one_line(tiny_data_file, args, message):
    result = run("train", "--data", str(tiny_data_file), *QUICK, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert RunStore().list() == []


def test_a_stuck_seed_is_named_with_the_hint(tiny_data_file, monkeypatch):
    from nntui.cli import train_seeds

    calls = []

    def stuck(missing, epoch):
        calls.append(epoch)
        return "Output neuron 3 is stuck." if len(calls) == 2 else None

    monkeypatch.setattr(train_seeds, "stuck_output_hint", stuck)
    result = run("train", "--data", str(tiny_data_file), *QUICK, "--seeds", "3")
    assert result.exit_code == 0, result.output
    assert "seed 2: Output neuron 3 is stuck." in result.stderr
    assert "seed 1:" not in result.stderr and "seed 3:" not in result.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGQUIT, 131)])
def test_a_signal_stops_every_seed_and_keeps_what_was_done(tiny_data_file, tmp_path, signum, code):
    proc = train_process(
        tmp_path, tiny_data_file, "--train-size", "500", "--epochs", "500", "--seeds", "2",
        "--metrics", "m-{seed}.json",
    )  # fmt: skip
    err = signal_after_epochs(proc, 4, signum)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    for seed in (1, 2):
        doc = json.loads((tmp_path / f"m-{seed}.json").read_text())
        assert doc["status"] == "stopped" and len(doc["epochs"]) >= 2
