"""`glassnet search` run serially: the results equal `glassnet train` runs; the files; without Dask."""
from __future__ import annotations

import builtins
import json

import pytest

from glassnet.cli import main
from glassnet.search import space


def _train_metrics(tmp_path, dataset, row, name, dtype="float64"):
    """`glassnet train` with a trial's options and seed (run by the test itself) -> its metrics.json."""
    out = tmp_path / name
    argv = ["train", "--dataset", dataset, "--hidden", ",".join([row["units"]] * int(row["layers"])),
            "--activation", row["activation"], "--optimizer", row["optimizer"], "--lr", row["lr"],
            "--batch-size", row["batch_size"], "--epochs", row["epochs"], "--seed", row["seed"],
            "--validation-split", "0.1", "--dtype", dtype, "--output", str(out), "--quiet"]
    assert main(argv) == 0
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def test_best_trial_equals_glassnet_train_with_its_seed(serial_search, tiny_npz, tmp_path):
    folder, rows = serial_search
    assert [r["trial"] for r in rows] == ["0", "1", "2", "3"]
    # the seeds are the search seed's (7) derived ones, all different
    assert [int(r["seed"]) for r in rows] == [space.trial_seed(7, i) for i in range(4)]
    assert len({r["seed"] for r in rows}) == 4
    best = min(rows, key=lambda r: int(r["rank"]))
    metrics = _train_metrics(tmp_path, tiny_npz, best, "retrained")
    assert repr(metrics["test_accuracy"]) == best["test_accuracy"]
    assert repr(metrics["test_loss"]) == best["test_loss"]
    assert repr(metrics["final"]["val_accuracy"]) == best["val_accuracy"]
    assert repr(metrics["final"]["val_loss"]) == best["val_loss"]
    # the ranking: validation accuracy, higher first (then validation loss)
    ranked = sorted(rows, key=lambda r: int(r["rank"]))
    assert [(-float(r["val_accuracy"]), float(r["val_loss"])) for r in ranked] == \
        sorted((-float(r["val_accuracy"]), float(r["val_loss"])) for r in rows)
    # the best model's run folder is train's, with the same numbers
    best_metrics = json.loads((folder / "best" / "metrics.json").read_text(encoding="utf-8"))
    assert best_metrics["test_loss"] == metrics["test_loss"]
    assert (folder / "best" / "model.glassnet").is_file()


def test_another_trial_is_a_different_network_with_its_own_seed(serial_search, tiny_npz, tmp_path):
    """Not only the best: trial 1 (units 8, lr 0.003) retrained by train gives its own row's numbers."""
    _, rows = serial_search
    row = rows[1]
    assert (row["units"], row["lr"]) == ("8", "0.003")
    metrics = _train_metrics(tmp_path, tiny_npz, row, "trial2")
    assert repr(metrics["test_loss"]) == row["test_loss"]
    assert row["test_loss"] != rows[0]["test_loss"]


def test_the_files_of_a_search(serial_search):
    folder, rows = serial_search
    png = (folder / "scores.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    settings = json.loads((folder / "search.json").read_text(encoding="utf-8"))
    assert settings["kind"] == "grid" and settings["trials"] == 4 and settings["seed"] == 7
    assert settings["space"]["units"] == [8, 128] and settings["space"]["lr"] == [0.01, 0.003]
    assert {r["attempts"] for r in rows} == {"1"} and {r["retried"] for r in rows} == {"no"}


def test_without_dask_the_trials_run_serially_and_the_hint_is_printed(monkeypatch, search, tiny_npz, tmp_path, grid,
                                                                      serial_search, results_of, scores):
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "distributed" or name.startswith(("distributed.", "dask")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    from glassnet.cli._common import PROG
    assert PROG == "glassnet"
    code, out, err = search(*grid, "--dataset", tiny_npz, "--output", tmp_path / "nodask", "--no-best")
    assert code == 0, err
    notes = [line for line in err.splitlines() if "glassnet[distributed]" in line]
    assert notes == ['glassnet: note: Dask is not installed: running the 4 trials one after another '
                     '(for a Dask cluster: pip install "glassnet[distributed]")']
    assert scores(results_of(tmp_path / "nodask")) == scores(serial_search[1])
    assert not (tmp_path / "nodask" / "best").exists()
    # a cluster cannot be reached without Dask: one error line with the hint
    code, out, err = search("--scheduler", "tcp://127.0.0.1:8786", "--dataset", tiny_npz, "--epochs", "1",
                            "--output", tmp_path / "nodask2")
    assert code == 1
    assert err.strip().splitlines() == ['glassnet: error: a search on the cluster tcp://127.0.0.1:8786 needs '
                                        'Dask\'s distributed package, which is not installed: '
                                        'pip install "glassnet[distributed]"']


def test_a_random_search_from_a_toml_file(search, tiny_npz, tmp_path, results_of):
    config = tmp_path / "search.toml"
    config.write_text(f'dataset = "{tiny_npz}"\ntrials = 3\nseed = 11\n[space]\nunits = [4, 8, 12]\n'
                      f'activation = ["relu", "tanh"]\nlearning-rate = "0.001:0.1"\nepochs = 1\n')
    code, out, err = search("--config", config, "--serial", "--quiet", "--no-best", "--output", tmp_path / "r")
    assert code == 0, err
    rows = results_of(tmp_path / "r")
    assert len(rows) == 3
    assert all(r["units"] in ("4", "8", "12") and r["activation"] in ("relu", "tanh") for r in rows)
    lrs = [float(r["lr"]) for r in rows]
    assert all(0.001 <= lr <= 0.1 for lr in lrs) and len(set(lrs)) == 3
    # the draws are the search seed's: the same seed draws the same trials
    configs = space.configurations(space.full_space({"units": [4, 8, 12], "activation": ["relu", "tanh"],
                                                     "lr": [space.LogRange(0.001, 0.1)], "epochs": [1]}),
                                   "random", 3, 11)
    assert [repr(c["lr"]) for c in configs] == [r["lr"] for r in rows]
    # float32 (numba's kernels when installed) too: a trial equals `glassnet train` with its seed
    metrics = _train_metrics(tmp_path, tiny_npz, rows[1], "float32", dtype="float32")
    assert repr(metrics["test_loss"]) == rows[1]["test_loss"]
    assert repr(metrics["final"]["val_accuracy"]) == rows[1]["val_accuracy"]
    # a flag overrides the file
    code, out, err = search("--config", config, "--trials", "1", "--serial", "--quiet", "--no-best",
                            "--output", tmp_path / "r1")
    assert code == 0 and len(results_of(tmp_path / "r1")) == 1
    assert "rank" in out and "run folder:" in out


@pytest.mark.parametrize("argv, message", [
    (["--units", "0"], "argument --units: expected a positive integer, got '0'"),
    (["--units", "2000000"], "argument --units: expected a positive integer up to 1,000,000"),
    (["--activation", "relu,nope"], "argument --activation: Unknown activation 'nope'"),
    (["--optimizer", "adam,lbfgs"], "argument --optimizer: unknown optimizer 'lbfgs'"),
    (["--lr", "-1"], "argument --lr/--learning-rate: expected a finite number > 0"),
    (["--lr", "0.001:0.1"], "a grid search takes lists of values; lr is a range"),
    (["--trials", "10001"], "argument --trials: expected a positive integer up to 10,000"),
    (["--units", ",".join(map(str, range(1, 101))), "--batch-size", ",".join(map(str, range(1, 102)))],
     "the grid holds 10,100 trials, more than the limit of 10,000"),
    (["--scheduler", "not an address"], "expected a Dask scheduler address such as tcp://HOST:8786"),
    (["--layers", "101"], "argument --layers: expected a positive integer up to 100"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--serial", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler runs the trials on that cluster's workers"),
    (["--serial", "--workers", "2"], "--workers sizes the LocalCluster; --serial runs without one"),
])
def test_bad_flags_exit_2_with_usage(search, argv, message):
    code, out, err = search(*argv)
    assert code == 2
    assert err.startswith("usage: glassnet")
    assert message in err


@pytest.mark.parametrize("text, message", [
    ("units = [", "is not valid TOML"),
    ("[space]\nunits = [8, 0]\n", "[space] units: expected a positive integer, got '0'"),
    ("[space]\nwidth = [8]\n", "[space] has unknown key 'width'; known keys: layers, units"),
    ("bogus = 1\n", "has unknown key 'bogus'"),
    ("[space]\nepochs = [1.5]\n", "[space] epochs: expected an integer, got 1.5"),
    ("[space]\nunits = []\n", "[space] units: expected at least one value"),
    ("trials = 0\n", "trials: expected a positive integer, got '0'"),
    ("trials = 20000\n", "trials: expected a positive integer up to 10,000"),
    ("space = 3\n", "space: expected a table [space], got 3"),
    ("[space]\nunits = " + str(list(range(1, 101))) + "\nepochs = " + str(list(range(1, 102))) + "\n",
     "the grid holds 10,100 trials"),
])
def test_bad_files_are_one_error_line_naming_the_file(search, tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = search("--config", path, "--serial")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: ")
    assert str(path) in lines[0] and message in lines[0]


def test_a_missing_file_or_dataset_names_it(search, tmp_path):
    code, _, err = search("--config", tmp_path / "none.toml")
    assert code == 1 and err.strip() == f"glassnet: error: search file not found: {tmp_path / 'none.toml'}"
    code, _, err = search("--dataset", tmp_path / "none.npz", "--serial")
    assert code == 1 and f"dataset file not found: {tmp_path / 'none.npz'}" in err
    assert not list(tmp_path.glob("runs*"))
