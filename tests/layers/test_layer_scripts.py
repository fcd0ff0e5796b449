"""The Keras-style scripts of the issue-11 layers (tests/models/scripts), written as Keras tutorials
write them with only the import changed: each runs whole and learns what it should."""
import runpy
import warnings
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "models" / "scripts"


def _run(name, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")              # the training doctor's remarks are not the script's output
        runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    out = capsys.readouterr().out
    return out, dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_a_text_classifier_of_embedding_pooling_and_dense(capsys, isolated_random_state):
    out, results = _run("review_sentiment.py", capsys)
    assert results["x_train shape"] == "(2000, 30)"
    assert float(results["test accuracy"]) >= 0.9                      # half the reviews are positive
    assert results["embedding matrix"] == "(500, 16)"
    # the sentiment words are ids 10-29 (positive) and 30-49 (negative); the filler words carry none
    assert all(10 <= w < 30 for w in eval(results["most positive words"]))
    assert all(30 <= w < 50 for w in eval(results["most negative words"]))
    assert "embedding (Embedding)" in out and "(None, 30, 16)" in out and "500 x 16 = 8,000" in out
    assert "global_average_pooling1d (GlobalAveragePooling1D)" in out and "mean over 30 steps" in out


def test_a_regression_on_features_normalized_by_an_adapted_layer(capsys, isolated_random_state):
    out, results = _run("house_prices.py", capsys)
    assert results["feature means"] == "[[143.2   4.7  38.6   8.  541.4]]"     # the training features' means
    assert float(results["dnn test MAE"]) < float(results["linear test MAE"]) < 2.0
    assert float(results["dnn test MAE"]) < 1.0                         # the noise alone: 15 / 20 * 0.8 = 0.6
    assert results["linear kernel shape"] == "(5, 1)"
    assert "normalization (Normalization)" in out and "5 + 5 + 1 = 11 (0 trainable)" in out
    assert "adapted on 480 samples" in out
