"""`glassnet train --resume RUN`: a run killed with SIGKILL continues to the uninterrupted run's result.

The reference is the same command run without interruption (same seed, same options): the resumed
run's model.glassnet must hold the same weights and optimizer state bit for bit, and its history.json
the same numbers.  One real subprocess is the point here (a kill -9 in the middle of training).
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli

SRC = str(Path(gn.__file__).resolve().parents[1])
EPOCHS = 6
#: float64 runs NumPy's code in both processes (float32 may run numba's kernels: GLASSNET_KERNELS)
OPTIONS = ["--dataset", "d.npz", "--hidden", "8", "--batch-size", "8", "--epochs", str(EPOCHS), "--seed", "3",
           "--optimizer", "adam", "--dtype", "float64", "--quiet"]


def small_dataset(folder):
    rng = np.random.default_rng(0)
    x = rng.random((240, 16)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 1).astype(np.int64) + (x[:, 2] > 0.7)
    np.savez(folder / "d.npz", x_train=x[:200], y_train=y[:200], x_test=x[200:], y_test=y[200:])


def killed_run(folder):
    """`glassnet train ... --output run` in a subprocess, SIGKILLed once its backup shows epoch >= 1."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), GLASSNET_KERNELS="numpy")
    proc = subprocess.Popen([sys.executable, "-m", "glassnet", "train", *OPTIONS, "--output", "run"], cwd=folder,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    state = folder / "run" / "backup" / "training_state.json"
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if json.loads(state.read_text())["epoch"] >= 1:
                    break
            except (OSError, ValueError):
                pass                                # not written yet (it is replaced whole, never half)
            time.sleep(0.002)
    finally:
        proc.send_signal(signal.SIGKILL) if proc.poll() is None else None
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    return json.loads(state.read_text())["epoch"]


def weights_and_slots(path):
    model = gn.load_model(path)
    state = model.optimizer.get_state()
    return model.get_weights(), state["iterations"], state["slots"]


def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch, capsys, isolated_random_state):
    monkeypatch.chdir(tmp_path)
    small_dataset(tmp_path)
    epoch = killed_run(tmp_path)
    run = tmp_path / "run"
    assert 1 <= epoch < EPOCHS and not (run / "metrics.json").exists()

    # options that disagree with the recorded ones are a usage error, and change nothing
    for argv, needle in ((["--epochs", "9"], "--epochs 9 disagrees"), (["--hidden", "16"], "--hidden 16 disagrees"),
                         (["--output", "elsewhere"], "--output"), (["--seed", "4"], "--seed 4")):
        assert cli.main(["train", "--resume", "run", *argv]) == 2
        assert needle in capsys.readouterr().err
    assert json.loads((run / "backup" / "training_state.json").read_text())["epoch"] == epoch

    # the same options again are fine; --quiet may change
    assert cli.main(["train", "--resume", "run", "--seed", "3", "--epochs", str(EPOCHS), "--dataset", "d.npz"]) == 0
    out = capsys.readouterr().out
    assert f"resuming run after epoch {epoch} of {EPOCHS}" in out
    assert cli.main(["train", *OPTIONS, "--output", "reference"]) == 0

    mine = weights_and_slots(run / "model.glassnet")
    theirs = weights_and_slots(tmp_path / "reference" / "model.glassnet")
    for a, b in zip(mine[0], theirs[0]):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)                      # bit for bit
    assert mine[1] == theirs[1] == EPOCHS * 23                    # 180 training samples in batches of 8
    for a, b in zip(mine[2], theirs[2]):
        for key in b:
            np.testing.assert_array_equal(a[key], b[key])
    history = json.loads((run / "history.json").read_text())
    assert history == json.loads((tmp_path / "reference" / "history.json").read_text())
    assert len(history["loss"]) == EPOCHS
    metrics = json.loads((run / "metrics.json").read_text())
    reference = json.loads((tmp_path / "reference" / "metrics.json").read_text())
    assert metrics["test_loss"] == reference["test_loss"]
    assert metrics["resumed_after_epoch"] == epoch and metrics["epochs_run"] == EPOCHS
    assert not (run / "backup").exists() and not (tmp_path / "reference" / "backup").exists()

    assert cli.main(["train", "--resume", "run"]) == 1            # finished now
    assert "the run has finished" in capsys.readouterr().err


def _one_line(err, *needles):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: "), err
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("make, needles", [
    (lambda run: None, ["cannot resume", "no such run folder"]),
    (lambda run: run.mkdir(), ["cannot resume", "holds no backup"]),
    (lambda run: (run.mkdir(), (run / "metrics.json").write_text("{}")), ["the run has finished"]),
    (lambda run: ((run / "backup").mkdir(parents=True), (run / "backup" / "options.json").write_text("{}")),
     ["holds no backup", "training_state.json"]),
], ids=["missing", "no backup", "finished", "options without a state"])
def test_resume_refuses_a_folder_it_cannot_continue(tmp_path, monkeypatch, capsys, make, needles):
    monkeypatch.chdir(tmp_path)
    make(tmp_path / "run")
    assert cli.main(["train", "--resume", "run"]) == 1
    _one_line(capsys.readouterr().err, "run", *needles)


@pytest.mark.parametrize("options, needle", [
    ("[" * 100_000, "not JSON"),
    ('{"format": "glassnet-train-options", "version": 1, "options": {"epochs": 3}}', "the options must be exactly"),
    ('{"format": "other"}', "not the options of a glassnet train run"),
    (" " * (2 << 20), "more than"),
], ids=["deep", "missing options", "format", "too big"])
def test_a_damaged_options_file_is_one_error_line_naming_it(tmp_path, monkeypatch, capsys, options, needle):
    monkeypatch.chdir(tmp_path)
    backup = tmp_path / "run" / "backup"
    backup.mkdir(parents=True)
    (backup / "options.json").write_text(options)
    (backup / "training_state.json").write_text("{}")
    assert cli.main(["train", "--resume", "run"]) == 1
    _one_line(capsys.readouterr().err, os.path.join("run", "backup", "options.json"), needle)


def test_a_bad_option_value_in_the_options_file_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    backup = tmp_path / "run" / "backup"
    backup.mkdir(parents=True)
    options = {k: v for k, v in cli.TRAIN_DEFAULTS.items()}
    options.update(hidden=[50], batch_size=32, epochs=-3)
    (backup / "options.json").write_text(json.dumps({"format": "glassnet-train-options", "version": 1,
                                                     "options": options}))
    (backup / "training_state.json").write_text("{}")
    assert cli.main(["train", "--resume", "run"]) == 1
    _one_line(capsys.readouterr().err, "options.json", "epochs")
