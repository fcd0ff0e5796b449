"""The Keras-style callback scripts (tests/models/scripts) run whole, with only the import changed, and
what they print and write agrees with what they trained."""
import csv
import runpy
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "models" / "scripts"


def _run(name, capsys):
    namespace = runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    out = capsys.readouterr().out
    return namespace, out, dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_training_with_the_usual_callbacks(capsys, tmp_path, monkeypatch, isolated_random_state):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    monkeypatch.setenv("GLASSNET_SCRIPT_DIR", str(tmp_path))
    namespace, out, results = _run("training_callbacks.py", capsys)
    history = namespace["history"].history
    epochs = int(results["epochs run"])
    assert epochs == len(history["loss"]) < 50                              # EarlyStopping stopped it
    assert "early stopping" in out and "Restoring model weights from the end of the best epoch" in out
    rates = [float(r) for r in results["learning rates used"].split(", ")]
    assert len(rates) >= 2 and rates[1] == pytest.approx(rates[0] / 2)      # ReduceLROnPlateau halved it
    assert "ReduceLROnPlateau reducing learning rate to" in out
    assert float(results["test accuracy"]) >= 0.9

    with open(tmp_path / "training.csv", newline="") as f:                   # CSVLogger: the History, exactly
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
    for key, values in history.items():
        assert [float(r[key]) for r in rows] == values

    for run, prefix in (("train", ""), ("validation", "val_")):             # TensorBoard: the same numbers
        acc = event_accumulator.EventAccumulator(str(tmp_path / "logs" / "fit" / run), size_guidance={"scalars": 0})
        acc.Reload()
        for name in ("loss", "accuracy"):
            events = acc.Scalars(f"epoch_{name}")
            assert [e.step for e in events] == list(range(epochs))
            np.testing.assert_array_equal([e.value for e in events], np.float32(history[prefix + name]))
        if run == "train":
            assert len(acc.Tags()["histograms"]) == 4                        # histogram_freq=1: W and b, twice


def test_resuming_an_interrupted_run(capsys, tmp_path, monkeypatch, isolated_random_state):
    monkeypatch.setenv("GLASSNET_SCRIPT_DIR", str(tmp_path))
    _, _, results = _run("resume_after_interruption.py", capsys)
    assert results["training interrupted"] == "the machine went away"
    assert results["resumed at epoch"] == "5" and results["epochs run after resuming"] == "4"
    assert results["same weights as an uninterrupted run"] == "True"
    assert float(results["test accuracy"]) >= 0.9
    assert results["backup folder left behind"] == "False" and not any(tmp_path.iterdir())
