"""Scripts in the style of TensorFlow's intermediate Keras tutorials and the keras.io guides
(tests/models/scripts; our own code, only the import changed): each runs whole and learns, prints
or saves what it should.  The thresholds are set from the same scripts run on Keras 3 (torch): a
glassnet that trains, weighs or wires something wrongly falls below them."""
import runpy
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).parent / "scripts"


def _run(name, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_SCRIPT_DIR", str(tmp_path))
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    out = capsys.readouterr().out
    return out, dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_classification_on_imbalanced_data(capsys, tmp_path, monkeypatch, isolated_random_state):
    pytest.importorskip("pandas")
    pytest.importorskip("sklearn")
    pytest.importorskip("h5py")
    out, r = _run("fraud_imbalanced.py", capsys, tmp_path, monkeypatch)
    # the careful bias starts near the loss of always predicting the base rate; a zero bias far above it
    assert float(r["first epoch loss with the careful bias"]) < 0.2 < float(r["first epoch loss with a zero bias"])
    assert float(r["Loss with the bias"]) < 0.5 * float(r["Loss with no bias"])
    assert r["initial bias"] == "[-4.09807908]"
    # evaluate's confusion counts are predict's, for each model
    for model in ("baseline", "weighted", "resampled"):
        counts = eval(r[f"{model} confusion from predict"])
        assert {k: float(r[f"{model} {k}"]) for k in counts} == counts
        assert float(r[f"{model} loss"]) == pytest.approx(float(r[f"{model} cross entropy"]), abs=1e-4)
    # Keras 3 on the same script: baseline recall 0.72, auc 0.998; weighted recall 1.0; resampled recall 0.97
    assert float(r["baseline auc"]) > 0.95 and float(r["baseline precision"]) > 0.8
    assert float(r["weighted recall"]) > float(r["baseline recall"])
    assert float(r["weighted recall"]) >= 0.85 and float(r["resampled recall"]) >= 0.85
    assert float(r["Weight for class 1"]) == pytest.approx(30.61, abs=0.01)
    assert float(r["Resampled positive share"]) == 0.5
    assert float(r["hand loop test auc"]) > 0.8
    assert "Restoring model weights from the end of the best epoch" in out
    assert (tmp_path / "initial.weights.h5").exists()


def test_the_sequential_model_and_the_functional_api(capsys, tmp_path, monkeypatch, isolated_random_state):
    pytest.importorskip("matplotlib")
    out, r = _run("sequential_and_functional.py", capsys, tmp_path, monkeypatch)
    assert r["layers after add"] == "3" and r["layers after pop"] == "2"
    assert r["weights of an unbuilt model"] == "[]" and "0 (unbuilt)" in out
    assert r["weights after build"] == "6"
    assert r["feature shapes"] == "[(1, 32), (1, 32), (1, 8)]"
    assert r["activations"] == "[(5, 784), (5, 64), (5, 64), (5, 10)]"
    assert r["last activation is the prediction"] == "True"
    assert float(r["Test accuracy"]) > 0.9 and r["reloaded test accuracy"] == r["Test accuracy"]
    assert float(r["autoencoder test loss"]) < 0.25                        # Keras 3: 0.20
    assert r["ensemble is the mean"] == "True"
    assert r["changed weights"] == "[False, False, False, False, True, True]"     # as Keras 3
    assert r["trainable weights"] == "2 non-trainable: 4"
    assert r["history keys"] == "['department_loss', 'loss', 'priority_loss']"
    assert float(r["priority accuracy"]) > 0.9                               # Keras 3: 0.99
    assert float(r["department accuracy"]) > 0.45                            # Keras 3: 0.58; chance 0.25
    assert {p.name for p in tmp_path.iterdir()} >= {"my_first_model.png", "my_first_model_with_shape_info.png",
                                                   "multi_input_and_output_model.png", "my_model.keras"}


@pytest.mark.filterwarnings("ignore:Your input ran out of data")          # Keras warns there too
def test_writing_your_own_callbacks(capsys, tmp_path, monkeypatch, isolated_random_state):
    out, r = _run("custom_callbacks.py", capsys, tmp_path, monkeypatch)
    lines = out.splitlines()
    hooks = lines[:lines.index("predictions: (1000, 1)")]
    # the hooks in Keras's order, with Keras's keys (Keras 3 prints the same lines)
    assert hooks[:4] == ["Starting training; got log keys: []", "Start epoch 0 of training; got log keys: []",
                         "...Training: start of batch 0; got log keys: []",
                         "...Training: end of batch 0; got log keys: ['loss', 'mean_absolute_error']"]
    assert "End epoch 0 of training; got log keys: ['loss', 'mean_absolute_error', 'val_loss', " \
           "'val_mean_absolute_error']" in hooks
    assert hooks.count("Start testing; got log keys: []") == 2        # fit's validation, then evaluate
    assert "...Predicting: end of batch 1; got log keys: ['outputs']" in hooks
    assert hooks[-1] == "Stop predicting; got log keys: []"
    # the early stop kept the best weights and stopped after one epoch without improvement
    assert r["kept the best weights"] == "True"
    assert int(r["epochs run"]) < 30 and "early stopping" in out
    assert "Epoch 3: Learning rate is 0.0500." in out and "Epoch 12: Learning rate is 0.0010." in out
    assert r["final learning rate"] == "0.0010"
    assert r["rates used (Keras 2 style)"] == "[0.1, 0.05, 0.025]"
    assert r["learning rates in the history"] == "[0.01, 0.01, 0.00607, 0.00368, 0.00223]"
    assert r["learning rate after 5 epochs"] == "0.00223"
    assert r["losses seen"] == "True" and "LambdaCallback saw 5 epochs" in out
    assert float(r["test mean absolute error"]) < 2.0                    # Keras 3: 1.74; guessing 5 gives 2.5


def test_training_and_evaluation_with_the_built_in_methods(capsys, tmp_path, monkeypatch, isolated_random_state):
    pytest.importorskip("h5py")
    out, r = _run("builtin_training.py", capsys, tmp_path, monkeypatch)
    assert r["history keys"] == "['loss', 'sparse_categorical_accuracy', 'val_loss', 'val_sparse_categorical_accuracy']"
    assert eval(r["test loss, test acc"])[1] > 0.85                      # Keras 3: 0.90
    # a loss written with keras.ops trains (Keras 3: 0.038 -> 0.014, test accuracy 0.917)
    first, last = (float(v) for v in r["custom function loss"].split(" -> "))
    assert last < 0.5 * first and float(r["custom function test accuracy"]) > 0.88
    assert float(r["CustomMSE on one sample"]) == 0.25 and float(r["CustomMSE loss"]) < 0.1
    tp, by_hand = r["categorical true positives"].split(" (by hand: ")
    assert int(tp) == int(by_hand.rstrip(")")) > 1600
    assert float(r["sample-weighted test accuracy"]) > 0.85
    assert r["two-output keys"] == ("['class_output_categorical_accuracy', 'class_output_loss', 'loss', "
                                    "'score_output_loss', 'score_output_mean_absolute_error', "
                                    "'score_output_mean_absolute_percentage_error']")
    total, rest = r["weighted total"].split(" = 2 x ")
    score, cls = (float(v) for v in rest.split(" + "))
    assert float(total) == pytest.approx(2 * score + cls, abs=2e-4)     # loss_weights {"score": 2, "class": 1}
    assert 2 <= int(r["epochs before the stop"]) < 20
    assert r["batch losses recorded"] == "40"                            # on_batch_end, 2 epochs of 20 batches
    assert r["checkpoints"].startswith("['mymodel_1.keras'")
    assert "val_loss improved from inf to" in out
    assert float(r["restored model's test accuracy"]) > 0.85
    assert r["rate at step 250000"] == "0.0922"                          # 0.1 * 0.96 ** 2
    assert np.isfinite(float(r["CustomMSE loss"]))
