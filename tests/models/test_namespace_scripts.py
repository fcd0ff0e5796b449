"""The Keras-style scripts for the rest of Keras's namespace (keras.utils, schedules, regularizers,
the learning rate, keras.backend), run whole with only the import changed; checked on what they
learn and print.  (Run against Keras 3 itself, with its own imports and the same data,
regularized_digits.py printed 2 penalties, the same learning rates and a test accuracy of 0.951.)"""
import runpy
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"


def _run(name, capsys):
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    out = capsys.readouterr().out
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_regularized_digits_with_a_schedule_and_a_drawing(capsys, tmp_path, monkeypatch, isolated_random_state):
    pytest.importorskip("matplotlib")
    Image = pytest.importorskip("PIL.Image")
    monkeypatch.setenv("GLASSNET_SCRIPT_DIR", str(tmp_path))
    results = _run("regularized_digits.py", capsys)
    assert results["penalties"] == "2"                                  # one per l2-regularized kernel
    assert 0 < float(results["penalty total"]) < 1
    assert results["learning rate now"] == results["learning rate expected"]
    assert float(results["learning rate now"]) < 0.002 / 2            # decayed to a third over 10 epochs
    assert float(results["test accuracy"]) >= 0.93
    with Image.open(tmp_path / "model.png") as image:
        assert image.format == "PNG" and image.size[1] > image.size[0]   # three boxes, top to bottom


def test_padded_sequences_with_the_learning_rate_set_by_hand(capsys, isolated_random_state):
    results = _run("padded_sequences.py", capsys)
    assert results["padded shape"] == "(2000, 12)" and results["one-hot shape"] == "(2000, 12, 20)"
    assert results["learning rates"] == "0.004 0.004 0.002 0.002 0.001 0.001"
    assert results["fine-tuning learning rate"] == "0.0001"
    assert float(results["test accuracy"]) >= 0.9               # 36% are "mostly small": the majority is 0.64
