"""The Keras-style scripts in the style of the beginner Keras tutorials (tests/models/scripts), run whole
with small data: clothing classification, fuel-efficiency regression with pandas, overfit and underfit,
save and load.  Each test reads what the script prints and checks it against a threshold, a closed
form or an independent reference (scikit-learn, Keras 3) that a broken glassnet would miss; the
script's own variables come back from runpy."""
import re
import runpy
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).parent / "scripts"
FASHION = Path("/usr/share/datasets/fashion-mnist")


def _run(name, capsys, monkeypatch, folder, **env):
    """Run a script in `folder` (its files go there), with GLASSNET_SCRIPT_* settings; return
    (printed text, {"label": "value"} of its "label: value" lines, the script's globals)."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("GLASSNET_SCRIPT_DIR", str(folder))
    for key, value in env.items():
        monkeypatch.setenv(f"GLASSNET_SCRIPT_{key.upper()}", str(value))
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    with np.printoptions():                     # a script may set NumPy's print options: keep them to it
        names = runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    plt.close("all")
    out = capsys.readouterr().out
    return out, dict(line.split(": ", 1) for line in out.splitlines() if ": " in line), names


def test_the_clothing_classifier_learns_and_its_softmax_model_agrees_with_evaluate(capsys, monkeypatch, tmp_path,
                                                                                   isolated_random_state):
    if not (FASHION / "train-labels-idx1-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST is not in /usr/share/datasets/fashion-mnist (apt install dataset-fashion-mnist)")
    out, results, names = _run("clothing_classifier.py", capsys, monkeypatch, tmp_path, samples=6000)
    assert results["train images shape"] == "(6000, 28, 28)"
    assert len(re.findall(r"^Epoch \d+/10$", out, flags=re.M)) == 10
    accuracy = float(results["Test accuracy"])
    assert accuracy >= 0.78                                  # Keras 3 gets 0.82-0.85 on this slice; chance is 0.1
    assert float(results["accuracy of the argmax"]) == pytest.approx(accuracy, abs=1e-6)   # predict's argmax = evaluate's
    assert results["predictions shape"] == "(1000, 10)"
    assert results["first prediction sums to"] == "1.0"
    assert float(results["largest softmax gap"]) < 1e-5      # the Softmax layer on the model's logits
    assert results["as a batch"] == "(1, 28, 28)"
    assert results["single prediction matches the batch"] == "True"
    # the probability model is the trained model plus a softmax: its outputs are the softmax of the logits
    model, probability_model, images = names["model"], names["probability_model"], names["test_images"]
    logits = model.predict(images[:50], verbose=0).astype(np.float64)
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probability_model.predict(images[:50], verbose=0), softmax / softmax.sum(axis=1, keepdims=True),
                               atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clothing_grid.png", "clothing_predictions.png"]


def test_the_fuel_efficiency_models_rank_as_the_tutorial_says_and_the_saved_model_reloads(capsys, monkeypatch, tmp_path,
                                                                                          isolated_random_state):
    pytest.importorskip("pandas")
    pytest.importorskip("h5py")
    out, results, names = _run("fuel_efficiency.py", capsys, monkeypatch, tmp_path)
    assert results["missing values"] == "6"
    assert (results["train rows"], results["test rows"]) == ("314", "78")
    assert results["linear kernel shape"] == "(9, 1)"
    horsepower, linear, dnn = (float(results[k]) for k in ("horsepower_model", "linear_model", "dnn_model"))
    assert linear < 0.6 * horsepower and dnn < 0.6 * horsepower      # all the features beat horsepower alone
    assert dnn < 2.3                                                  # the noise's own MAE is 1.6
    assert results["reloaded"] == results["dnn_model"]
    assert float(results["mean absolute error of predict"]) == pytest.approx(dnn, abs=1e-3)
    # the normalizer learnt the training columns' means and (population) variances
    train_features = names["train_features"]
    np.testing.assert_allclose(names["normalizer"].mean.numpy().ravel(), train_features.mean().to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(names["normalizer"].variance.numpy().ravel(), train_features.var(ddof=0).to_numpy(),
                               rtol=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dnn_model.keras", "horsepower_loss.png",
                                                          "mpg_predictions.png"]


def test_the_linear_fuel_model_reaches_the_least_absolute_deviations_fit(capsys, monkeypatch, tmp_path,
                                                                        isolated_random_state):
    pytest.importorskip("pandas")
    linear_model_cls = pytest.importorskip("sklearn.linear_model")
    pytest.importorskip("h5py")
    _, results, names = _run("fuel_efficiency.py", capsys, monkeypatch, tmp_path)
    x, y = names["train_features"].to_numpy(), names["train_labels"].to_numpy()
    x_test, y_test = names["test_features"].to_numpy(), names["test_labels"].to_numpy()
    best = linear_model_cls.QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(x, y)
    best_train = np.mean(np.abs(best.predict(x) - y))
    ours_train = np.mean(np.abs(names["linear_model"].predict(x, verbose=0).ravel() - y))
    assert best_train <= ours_train + 1e-6                     # nothing linear beats the L1 optimum on its data
    assert ours_train <= best_train + 0.1                      # and Adam on MAE gets close to it
    best_test = np.mean(np.abs(best.predict(x_test) - y_test))
    assert float(results["linear_model"]) == pytest.approx(best_test, abs=0.15)


def test_bigger_models_overfit_more_and_regularization_narrows_the_gap(capsys, monkeypatch, tmp_path,
                                                                       isolated_random_state):
    out, results, names = _run("overfit_and_underfit.py", capsys, monkeypatch, tmp_path,
                               train=1000, epochs=40, units=128)
    assert results["learning rate after 1000 epochs"] == "0.0005"       # InverseTimeDecay: 0.001 / (1 + 1)
    fits = {}
    for line in out.splitlines():
        found = re.match(r"(\w+): epochs (\d+) train ([\d.]+) validation ([\d.]+) accuracy ([\d.]+)$", line)
        if found:
            fits[found[1]] = (int(found[2]), float(found[3]), float(found[4]), float(found[5]))
    assert set(fits) == {"Tiny", "Small", "Medium", "large", "l2", "dropout", "combined"}
    assert all(epochs == 40 for epochs, *_ in fits.values())            # patience 200 never runs out in 40 epochs
    gap = {name: val - train for name, (_, train, val, _) in fits.items()}
    assert fits["large"][1] < fits["Medium"][1] < fits["Tiny"][1]          # more capacity fits the training set better
    assert gap["large"] > 0.15 and gap["large"] > 3 * gap["Tiny"]         # ... and overfits
    assert gap["dropout"] < gap["large"] - 0.1 and gap["combined"] < gap["large"] - 0.1
    assert max(fits[name][3] for name in ("Medium", "large", "l2", "dropout", "combined")) >= 0.72
    # the first epoch's logs: the cross-entropy metric is the loss without the L2 penalty, which only l2 models add
    firsts = [dict(item.split(":") for item in line[len("Epoch: 0, "):].rstrip(", ").split(", "))
              for line in out.splitlines() if line.startswith("Epoch: 0, ")]
    assert len(firsts) == 7
    for name, logs in zip(["Tiny", "Small", "Medium", "large", "l2", "dropout", "combined"], firsts):
        assert sorted(logs) == ["accuracy", "binary_crossentropy", "loss", "val_accuracy", "val_binary_crossentropy",
                                "val_loss"]
        penalized = name in ("l2", "combined")
        assert (float(logs["loss"]) > float(logs["binary_crossentropy"]) + 0.01) == penalized, name
        assert (float(logs["val_loss"]) > float(logs["val_binary_crossentropy"]) + 0.01) == penalized, name
    # model.losses: 0.001 * sum(kernel ** 2) for each of the four penalized kernels
    l2_model = names["l2_model"]
    kernels = [layer.kernel.numpy() for layer in l2_model.layers[:4]]
    assert results["regularization losses"] == "4"
    assert float(results["regularization loss"]) == pytest.approx(sum(0.001 * np.sum(k.astype(np.float64) ** 2)
                                                                     for k in kernels), abs=1e-4)
    if names["write_logs"]:
        assert results["log folders"] == ("regularizers/Tiny, regularizers/combined, regularizers/dropout, "
                                          "regularizers/l2, sizes/Medium, sizes/Small, sizes/Tiny, sizes/large")
        assert any((tmp_path / "tensorboard_logs" / "sizes" / "large" / "validation").iterdir())


def test_checkpoints_and_saved_models_restore_the_same_accuracy(capsys, monkeypatch, tmp_path, isolated_random_state):
    pytest.importorskip("h5py")
    out, results, names = _run("save_and_load.py", capsys, monkeypatch, tmp_path, samples=500)
    restored = re.findall(r"^Restored model, accuracy: +([\d.]+)%$", out, flags=re.M)
    untrained = float(results["Untrained model, accuracy"].rstrip("%"))
    assert len(restored) == 4 and untrained < 25                           # ten classes: about 10%
    assert float(restored[0]) >= 80                                        # the 10-epoch checkpoint
    assert restored[1] == restored[2]                                      # the latest epoch file, then save_weights
    assert float(restored[1]) >= 80
    assert re.findall(r"^Epoch (\d+): saving model to training_1/cp.weights.h5$", out, flags=re.M) == \
        [str(e) for e in range(1, 11)]
    saved_every_5 = re.findall(r"^Epoch (\d+): saving model to training_2/cp-(\d{4}).weights.h5$", out, flags=re.M)
    assert saved_every_5 == [(str(e), f"{e:04d}") for e in range(5, 51, 5)]   # save_freq = 5 epochs of batches
    assert results["epoch checkpoints"] == ", ".join(f"cp-{e:04d}.weights.h5" for e in range(0, 51, 5))
    assert results["Restored model, accuracy"] == results["Trained model, accuracy"]   # the last print: .keras
    assert results["same predictions"] == results["same accuracy"] == results["optimizer steps kept"] == "True"
    assert results["same .h5 accuracy"] == "True"
    assert results["restored predictions"] == "(500, 10)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints", "my_model.h5", "my_model.keras",
                                                          "saved_model", "training_1", "training_2"]


def test_keras_3_reads_the_save_and_load_scripts_files(capsys, monkeypatch, tmp_path, isolated_random_state, keras):
    pytest.importorskip("h5py")
    _, _, names = _run("save_and_load.py", capsys, monkeypatch, tmp_path, samples=300)
    images = names["test_images"][:100].astype("float32")
    ours = names["new_model"].predict(images, verbose=0)
    theirs = keras.saving.load_model(tmp_path / "my_model.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(images, verbose=0)), ours, atol=1e-5)
    twin = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                             keras.layers.Dropout(0.2), keras.layers.Dense(10)])
    twin.load_weights(tmp_path / "training_2" / "cp-0050.weights.h5")
    restored = names["create_model"]()
    restored.load_weights(tmp_path / "training_2" / "cp-0050.weights.h5")
    np.testing.assert_allclose(np.asarray(twin.predict(images, verbose=0)), restored.predict(images, verbose=0),
                               atol=1e-5)


def test_calling_a_model_gives_an_array_with_keras_numpy_method():
    """`model(x).numpy()`, as the beginner quickstarts write it (a layer call already allowed it)."""
    import glassnet as gn
    x = np.arange(6, dtype="float32").reshape(2, 3)
    model = gn.Sequential([gn.Input((3,)), gn.layers.Dense(2)])
    kernel, bias = model.get_weights()
    out = model(x)
    np.testing.assert_allclose(out.numpy(), x @ kernel + bias, rtol=1e-6)
    assert type(out.numpy()) is np.ndarray and not np.shares_memory(out.numpy(), out)
    assert type(out + 1) is np.ndarray                            # arithmetic gives plain arrays
    inputs = gn.Input((3,))
    two = gn.Model(inputs, [gn.layers.Dense(1)(inputs), gn.layers.Dense(4)(inputs)])
    assert [o.numpy().shape for o in two(x)] == [(2, 1), (2, 4)]
