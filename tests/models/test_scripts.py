"""Keras-style scripts (tests/models/scripts), written as the Keras tutorials write them, with
only the import changed: each runs whole and learns what it should."""
import runpy
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).parent / "scripts"


def _run(name, capsys):
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    out = capsys.readouterr().out
    return out, dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_a_siamese_network_with_a_shared_encoder_model(capsys, isolated_random_state):
    out, results = _run("same_digit_pairs.py", capsys)
    assert float(results["pair accuracy"]) >= 0.8           # half the pairs match: chance is 0.5
    assert "encoder[0][0], encoder[1][0]" in out             # the summary shows both calls
    assert "2 calls x 209,056 = 418,112" in out              # 784*128*2 + 128 + 128*32*2 + 32, twice


def test_a_checkpointed_model_reloads_from_keras_files_that_keras_reads_too(capsys, tmp_path, monkeypatch,
                                                                           isolated_random_state):
    pytest.importorskip("h5py")
    monkeypatch.setenv("GLASSNET_SCRIPT_DIR", str(tmp_path))
    _, results = _run("checkpoint_and_reload.py", capsys)
    assert float(results["reloaded test accuracy"]) >= 0.9
    assert results["fresh model test accuracy"] == results["reloaded test accuracy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras", "best.weights.h5"]


def test_keras_3_opens_the_scripts_files(capsys, tmp_path, monkeypatch, isolated_random_state, keras):
    monkeypatch.setenv("GLASSNET_SCRIPT_DIR", str(tmp_path))
    _run("checkpoint_and_reload.py", capsys)
    import glassnet as gn
    ours = gn.models.load_model(tmp_path / "best.keras")
    theirs = keras.saving.load_model(tmp_path / "best.keras")
    x = gn.datasets.mnist_mini.load_data()[1][0][:50].reshape(-1, 784).astype("float32") / 255
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), ours.predict(x), atol=1e-6)
    twin = keras.Sequential([keras.Input((784,)), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")])
    twin.load_weights(tmp_path / "best.weights.h5")
    np.testing.assert_allclose(np.asarray(twin.predict(x, verbose=0)), ours.predict(x), atol=1e-6)


def test_a_rare_event_classifier_is_judged_by_metric_classes(capsys, isolated_random_state):
    out, results = _run("rare_event_metrics.py", capsys)
    assert results["history keys"] == "accuracy, auc, f1, fn, fp, loss, prc, precision, recall, tn, tp"
    counts = dict(item.split("=") for item in results["test confusion"].split())
    tp, fp, tn, fn = (int(counts[k]) for k in ("tp", "fp", "tn", "fn"))
    assert tp + fp + tn + fn == 1000
    caught, positives = (int(v) for v in results["positives caught by predict"].split(" of "))
    assert (tp, tp + fn) == (caught, positives)                 # evaluate's counts are predict's
    assert float(results["test precision"]) == pytest.approx(tp / (tp + fp), abs=5e-4)
    assert float(results["test recall"]) == pytest.approx(tp / (tp + fn), abs=5e-4)
    assert float(results["test accuracy"]) == pytest.approx((tp + tn) / 1000, abs=5e-4)
    assert float(results["test auc"]) > 0.85 and float(results["test prc"]) > 0.45
    assert float(results["test accuracy"]) > float(results["accuracy of always saying no"])
