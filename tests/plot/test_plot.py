"""glassnet.plot: every figure is a real, non-blank PNG; the data drawn is the data computed
(history values, activation curves, decision regions, counts, weights, paths); optimizer paths
follow the update formulas; `glassnet plot RUN_FOLDER` and its failures."""
import contextlib
import io
import json
import pathlib
import pickle
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

import glassnet as gn                     # noqa: E402
from glassnet import cli, plot            # noqa: E402
from glassnet.saving import load_model    # noqa: E402
from reference import saved_random_state  # noqa: E402


def assert_png(path, min_std=5.0):
    """A real PNG that is not blank: Pillow reads it, its pixels vary, it has several colours."""
    path = pathlib.Path(path)
    assert path.is_file(), path
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > min_std, f"{path.name} looks blank (pixel std {pixels.std():.2f})"
    colours = np.unique((pixels[..., 0].astype(np.int32) << 16) | (pixels[..., 1].astype(np.int32) << 8)
                        | pixels[..., 2])
    assert len(colours) > 2, f"{path.name} has {len(colours)} colour(s)"
    assert not list(path.parent.glob(path.name + ".tmp*")), "a temporary file was left behind"
    return pixels


def line_data(ax):
    return {line.get_label(): np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()}


def texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """One `glassnet train --epochs 1` run folder (the notes' 784-50-10 network on mnist-mini)."""
    folder = tmp_path_factory.mktemp("plot") / "run"
    out, err = io.StringIO(), io.StringIO()
    with saved_random_state(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["train", "--epochs", "1", "--quiet", "--output", str(folder)])
    assert status == 0, err.getvalue()
    return folder


@pytest.fixture(scope="module")
def mnist(run_folder):
    """(model, x_test (2000, 784) in [0, 1], y_test) for the run's model."""
    (_, _), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    model = load_model(run_folder / "model.glassnet")
    return model, x_test.reshape(len(x_test), -1).astype(np.float32) / 255, y_test


def small_classifier(outputs, seed=0, epochs=40):
    """A 2-16-`outputs` classifier trained briefly on 2-D data (sigmoid for 1 output, softmax otherwise)."""
    with saved_random_state():
        gn.set_random_seed(seed)
        if outputs == 1:
            x, y = gn.datasets.make_moons(120, noise=0.1, seed=seed)
            last, loss = "sigmoid", "binary_crossentropy"
        else:
            x, y = gn.datasets.make_spirals(150, n_classes=outputs, noise=0.05, seed=seed)
            last, loss = "softmax", "sparse_categorical_crossentropy"
        model = gn.Sequential([gn.layers.Dense(16, activation="tanh", input_shape=(2,)),
                               gn.layers.Dense(outputs, activation=last)])
        model.compile(optimizer=gn.optimizers.Adam(0.05), loss=loss)
        model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model, x, y


# --------------------------------------------------------------------------- figures and files

def test_plot_history_draws_the_history_values_in_loss_and_accuracy_panels(tmp_path):
    history = {"loss": [1.2, 0.7, 0.5], "accuracy": [0.6, 0.8, 0.85],
               "val_loss": [1.3, 0.9, 0.8], "val_accuracy": [0.55, 0.7, 0.75]}
    fig = plot.plot_history(history, tmp_path / "curves.png")
    assert_png(tmp_path / "curves.png")
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Accuracy"]
    loss, acc = fig.axes
    for ax, key in ((loss, "loss"), (acc, "accuracy")):
        lines = line_data(ax)
        assert set(lines) == {f"train {key}", f"validation {key}"}
        np.testing.assert_array_equal(lines[f"train {key}"], history[key])
        np.testing.assert_array_equal(lines[f"validation {key}"], history["val_" + key])
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"train {key}", f"validation {key}"]
        np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])     # epochs counted from 1
    assert acc.get_ylim() == (0.0, 1.0)


def test_history_plot_from_fit_and_history_json_with_nulls(tmp_path):
    with saved_random_state():
        gn.set_random_seed(0)
        x, y = gn.datasets.make_moons(80, noise=0.1, seed=0)
        model = gn.Sequential([gn.layers.Dense(8, activation="tanh", input_shape=(2,)),
                               gn.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    fig = history.plot(tmp_path / "fit.png", title="moons")
    assert_png(tmp_path / "fit.png")
    np.testing.assert_allclose(line_data(fig.axes[1])["validation accuracy"], history.history["val_accuracy"])
    assert fig._suptitle.get_text() == "moons"

    # history.json writes a diverged (NaN) epoch as null; no accuracy recorded: one panel
    fig = plot.plot_history(json.loads('{"loss": [null, 0.9, 0.5]}'))
    assert [ax.get_title() for ax in fig.axes] == ["Loss"]
    assert np.isnan(line_data(fig.axes[0])["train loss"][0])
    with pytest.raises(ValueError, match="empty"):
        plot.plot_history({"loss": []})
    with pytest.raises(TypeError, match="History"):
        plot.plot_history([1.0, 0.5])


def test_figures_are_returned_unsaved_without_a_path_and_display_as_png(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = plot.plot_activations("relu")
    from matplotlib.figure import Figure
    assert isinstance(fig, Figure) and list(tmp_path.iterdir()) == []
    png = fig._repr_png_()                                   # what a notebook shows
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    copy = pickle.loads(pickle.dumps(fig))                   # figures pickle like any matplotlib figure
    assert [ax.get_title() for ax in copy.axes] == ["relu"]
    assert plot.save_figure(fig, tmp_path / "a.svg") == str(tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(FileNotFoundError):
        plot.save_figure(fig, tmp_path / "missing" / "a.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.svg"]          # no temporary file left


def test_saving_replaces_an_existing_file_and_works_from_threads(tmp_path):
    target = tmp_path / "act.png"
    target.write_bytes(b"old")
    errors = []

    def draw(name):
        try:
            plot.plot_activations([name], path=tmp_path / f"{name}.png")
        except Exception as err:                             # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=draw, args=(n,)) for n in ("tanh", "elu", "swish")]
    for t in threads:
        t.start()
    plot.plot_activations(["sigmoid"], path=target)
    for t in threads:
        t.join()
    assert errors == []
    for name in ("act", "tanh", "elu", "swish"):
        assert_png(tmp_path / f"{name}.png")


def test_importing_glassnet_and_drawing_never_touch_pyplot():
    code = ("import sys, glassnet, glassnet.plot as p; assert 'matplotlib' not in sys.modules; "
            "p.plot_activations(['relu']); assert 'matplotlib.figure' in sys.modules; "
            "assert 'matplotlib.pyplot' not in sys.modules; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_missing_matplotlib_is_an_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)       # import fails as if not installed
    with pytest.raises(ImportError, match=r'pip install "glassnet\[plot\]"'):
        plot.plot_activations()
    # the numbers need no matplotlib
    assert plot.confusion_matrix([0, 1], [1, 1]).tolist() == [[0, 1], [0, 1]]
    assert set(plot.optimizer_paths(steps=2)) == {"SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"}


# --------------------------------------------------------------------------- activations

def test_plot_activations_draws_each_function_and_its_derivative(tmp_path):
    fig = plot.plot_activations(path=tmp_path / "activations.png")
    assert_png(tmp_path / "activations.png")
    names = list(gn.activations.ACTIVATIONS)
    assert len(fig.axes) == len(names) == 9
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [n if n != "softmax" else "softmax([x, 0])[0]" for n in names]
    for ax, name in zip(fig.axes, names):
        lines = line_data(ax)
        x = np.asarray(next(l for l in ax.get_lines() if l.get_label() == "f(x)").get_xdata())
        assert x[0] == -5 and x[-1] == 5
        if name == "softmax":                                  # softmax([x, 0])[0] is sigmoid(x)
            s = gn.activations.sigmoid(x)
            np.testing.assert_allclose(lines["f(x)"], s, atol=1e-12)
            np.testing.assert_allclose(lines["f'(x)"], s * (1 - s), atol=1e-12)
        else:
            np.testing.assert_array_equal(lines["f(x)"], gn.activations.get(name)(x))
            np.testing.assert_array_equal(lines["f'(x)"], gn.activations.get_derivative(name)(x))


def test_plot_activations_takes_names_and_aliases_and_rejects_unknown_ones():
    fig = plot.plot_activations(["silu", "relu", "swish"], x_range=(-2, 3))
    assert [ax.get_title() for ax in fig.axes] == ["swish", "relu"]
    assert fig.axes[0].get_xlim() == (-2, 3)
    with pytest.raises(ValueError, match="known activations"):
        plot.plot_activations(["gelu"])
    with pytest.raises(ValueError, match="x_range"):
        plot.plot_activations(x_range=(1, 1))


# --------------------------------------------------------------------------- decision regions

def mesh_of(fig):
    from matplotlib.collections import QuadMesh
    meshes = [c for c in fig.axes[0].collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    return meshes[0]


@pytest.mark.parametrize("outputs", [1, 3])
def test_decision_regions_are_the_models_predictions_on_the_grid(tmp_path, outputs):
    model, x, y = small_classifier(outputs)
    fig = plot.plot_decision_boundary(model, x, y, path=tmp_path / "regions.png", resolution=60)
    assert_png(tmp_path / "regions.png")
    grid = plot.decision_grid(model, x, resolution=60)
    assert grid.xx.shape == grid.classes.shape == (60, 60)
    assert grid.xx.min() < x[:, 0].min() and grid.yy.max() > x[:, 1].max()      # the points lie inside
    p = model.predict(np.column_stack([grid.xx.ravel(), grid.yy.ravel()]))
    expected = (p[:, 0] > 0.5) if outputs == 1 else p.argmax(axis=1)
    drawn = np.asarray(mesh_of(fig).get_array()).reshape(60, 60)
    np.testing.assert_array_equal(drawn, expected.reshape(60, 60))
    np.testing.assert_array_equal(grid.classes, expected.reshape(60, 60))
    assert len(np.unique(drawn)) == (2 if outputs == 1 else 3)                   # every class has a region
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [f"class {c}" for c in range(2 if outputs == 1 else 3)]
    from matplotlib.collections import PathCollection
    scattered = np.concatenate([c.get_offsets() for c in fig.axes[0].collections if isinstance(c, PathCollection)])
    assert len(scattered) == len(x)


def test_decision_boundary_rejects_data_that_is_not_2d():
    model, x, y = small_classifier(1, epochs=1)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot.plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="same number"):
        plot.plot_decision_boundary(model, x, y[:-1])
    with pytest.raises(TypeError, match="glassnet model"):
        plot.decision_grid("model", x)


# --------------------------------------------------------------------------- confusion matrix

def test_confusion_matrix_counts_a_hand_example():
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    expected = [[1, 1, 0],
                [0, 2, 0],
                [1, 0, 2]]
    counts = plot.confusion_matrix(y_true, y_pred)
    assert counts.dtype == np.int64 and counts.tolist() == expected
    assert plot.confusion_matrix(y_true, y_pred, num_classes=4).tolist() == [r + [0] for r in expected] + [[0] * 4]
    one_hot = np.eye(3)[y_true]
    assert plot.confusion_matrix(one_hot, np.eye(3)[y_pred]).tolist() == expected
    assert cli.confusion_matrix(y_true, y_pred, 3).tolist() == expected              # the CLI uses the same one
    with pytest.raises(ValueError, match="label 2, outside the 2 classes"):
        plot.confusion_matrix(y_true, y_pred, num_classes=2)
    with pytest.raises(ValueError, match="same number of samples"):
        plot.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="negative"):
        plot.confusion_matrix([0, -1], [0, 0])
    with pytest.raises(ValueError, match="whole numbers"):
        plot.confusion_matrix([0, 0.5], [0, 0])


def test_plot_confusion_matrix_annotates_the_counts(tmp_path):
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    fig = plot.plot_confusion_matrix(y_true, y_pred, labels=["cat", "dog", "emu"], path=tmp_path / "cm.png")
    assert_png(tmp_path / "cm.png")
    ax = fig.axes[0]
    assert [int(t) for t in texts(ax)] == [1, 1, 0, 0, 2, 0, 1, 0, 2]               # row by row
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "emu"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "accuracy 0.714" in ax.get_title()
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    fig = plot.plot_confusion_matrix(y_true, y_pred, normalize=True)
    assert texts(fig.axes[0])[:3] == ["0.50", "0.50", "0.00"] and texts(fig.axes[0])[6:] == ["0.33", "0.00", "0.67"]
    with pytest.raises(ValueError, match="normalize"):
        plot.plot_confusion_matrix(y_true, y_pred, normalize="rows")


# --------------------------------------------------------------------------- weights, mistakes, histograms

def weight_tile(mosaic, j, shape=(28, 28), cols=10, pad=2):
    r, c = divmod(j, cols)
    h, w = shape
    return mosaic[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w]


def test_plot_weights_shows_each_hidden_unit_as_a_28x28_tile(tmp_path, mnist):
    model, _, _ = mnist
    fig = plot.plot_weights(model, tmp_path / "weights.png")
    assert_png(tmp_path / "weights.png")
    w = model.layers[0].params["W"].astype(np.float64)
    ax = fig.axes[0]
    mosaic = np.ma.filled(ax.images[0].get_array(), np.nan)
    assert mosaic.shape == (5 * 28 + 4 * 2, 10 * 28 + 9 * 2)               # 50 units, ten per row
    for j in (0, 17, 49):                        # each tile: the unit's weights over their largest |value|
        np.testing.assert_allclose(weight_tile(mosaic, j), w[:, j].reshape(28, 28) / np.abs(w[:, j]).max())
    assert np.isnan(mosaic[28:30]).all() and np.isnan(mosaic[:, 28:30]).all()      # gaps between tiles
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "10", "20", "30", "40"]
    fig = plot.plot_weights(model.layers[0], max_units=8)
    mosaic = np.ma.filled(fig.axes[0].images[0].get_array(), np.nan)
    assert mosaic.shape == (28, 8 * 28 + 7 * 2) and "8 of 50 units" in fig.axes[0].get_title()
    np.testing.assert_allclose(weight_tile(mosaic, 7, cols=8), w[:, 7].reshape(28, 28) / np.abs(w[:, 7]).max())
    mosaic = np.ma.filled(plot.plot_weights(np.arange(12.0).reshape(4, 3), shape=(2, 2)).axes[0].images[0].get_array(),
                          np.nan)
    np.testing.assert_allclose(weight_tile(mosaic, 2, (2, 2), cols=3, pad=1), [[2 / 11, 5 / 11], [8 / 11, 1]])
    with pytest.raises(ValueError, match="784 inputs per unit"):
        plot.plot_weights(model, shape=(27, 27))
    with pytest.raises(ValueError, match="max_units"):
        plot.plot_weights(model, max_units=0)


def test_plot_misclassified_shows_the_mistakes_with_true_and_predicted_labels(tmp_path, mnist):
    model, x, y = mnist
    fig = plot.plot_misclassified(model, x, y, tmp_path / "wrong.png", max_images=12)
    assert_png(tmp_path / "wrong.png")
    pred = model.predict(x).argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    assert len(wrong) > 12
    assert len(fig.axes) == 12
    for ax, i in zip(fig.axes, wrong):
        assert ax.get_title() == f"true {y[i]}, pred {pred[i]}"
        assert ax.get_xlabel().startswith(f"#{i} ")
        np.testing.assert_allclose(ax.images[0].get_array(), x[i].reshape(28, 28))
    assert f"{len(wrong):,} of 2,000" in fig._suptitle.get_text()
    right = np.flatnonzero(pred == y)[:20]
    fig = plot.plot_misclassified(model, x[right], y[right])
    assert texts(fig.axes[0]) == ["no misclassified examples among 20"]
    with pytest.raises(ValueError, match="cannot be shown as 20x20"):
        plot.plot_misclassified(model, x[:5], y[:5], image_shape=(20, 20))


def test_plot_layer_histograms_counts_every_weight_and_activation(tmp_path, mnist):
    model, x, _ = mnist
    batch = x[:300]
    fig = plot.plot_layer_histograms(model, batch, tmp_path / "hist.png")
    assert_png(tmp_path / "hist.png")
    assert len(fig.axes) == 2 * len(model.layers)
    assert [ax.get_title() for ax in fig.axes] == [
        "dense: weights", "dense: outputs (sigmoid) on 300 samples",
        "dense_1: weights", "dense_1: outputs (softmax) on 300 samples"]
    for row, layer in enumerate(model.layers):
        ax_w, ax_a = fig.axes[2 * row], fig.axes[2 * row + 1]
        assert ax_w.patches[0].get_data().values.sum() == layer.params["W"].size
        assert ax_a.patches[0].get_data().values.sum() == len(batch) * layer.units
        np.testing.assert_array_equal(ax_w.patches[0].get_data().values,
                                      np.histogram(layer.params["W"], bins=50)[0])
    hidden = gn.activations.sigmoid(batch.astype(np.float64) @ model.layers[0].params["W"] + model.layers[0].params["b"])
    assert f"mean {hidden.mean():.3g}" in texts(fig.axes[1])[0]
    with pytest.raises(ValueError, match="784 features per sample, got 783"):
        plot.plot_layer_histograms(model, x[:10, :783])


# --------------------------------------------------------------------------- optimizer paths

def textbook_gradient(w):
    return np.array([w[0] / 10.0, 2.0 * w[1]])


def test_optimizer_paths_follow_the_update_formulas():
    paths = plot.optimizer_paths(steps=30)
    assert list(paths) == ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"]
    x0 = np.array([-7.0, 2.0])
    lr = plot.FUNCTIONS["textbook"].learning_rates
    for name, p in paths.items():
        assert p.shape == (31, 2) and p.dtype == np.float64
        np.testing.assert_array_equal(p[0], x0)
    g0 = textbook_gradient(x0)
    assert paths["SGD"][1].tolist() == (x0 - lr["SGD"] * g0).tolist()                # exactly x0 - lr * grad
    np.testing.assert_allclose(paths["SGD"][1], [-6.335, -1.8], rtol=1e-14)           # the book's lr 0.95
    assert lr == {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "RMSprop": 0.3, "Adam": 0.3}
    assert paths["Momentum"][1].tolist() == (x0 - lr["Momentum"] * g0).tolist()      # v starts at 0
    v = -lr["Momentum"] * g0                                                          # second step: v = 0.9 v - lr g
    v = 0.9 * v - lr["Momentum"] * textbook_gradient(paths["Momentum"][1])
    np.testing.assert_allclose(paths["Momentum"][2], paths["Momentum"][1] + v, rtol=1e-15)
    for name in ("Adam", "AdaGrad"):                    # first step: lr per coordinate, against the gradient
        step = paths[name][1] - x0
        np.testing.assert_allclose(np.abs(step), lr[name], rtol=1e-5)
        assert (np.sign(step) == -np.sign(g0)).all()
    f = plot.FUNCTIONS["textbook"].f
    for name, p in paths.items():                      # all of them approach the minimum (0, 0)
        assert f(p[-1]) < 0.05 * f(x0), name
        assert np.linalg.norm(p[-1]) < 0.5 * np.linalg.norm(x0), name


def test_optimizer_paths_on_rosenbrock_and_with_given_optimizers():
    paths = plot.optimizer_paths("rosenbrock", steps=2000, optimizers={"Adam": gn.optimizers.Adam(0.1)})
    assert list(paths) == ["Adam"]
    np.testing.assert_allclose(paths["Adam"][-1], [1.0, 1.0], atol=1e-4)
    mine = gn.optimizers.SGD(0.1)
    paths = plot.optimizer_paths(steps=3, start=(1.0, 1.0), optimizers={"mine": mine})
    assert mine.iterations == 0                                                       # the one given is untouched
    np.testing.assert_allclose(paths["mine"][1], [1 - 0.1 * 0.1, 1 - 0.1 * 2.0])
    with pytest.raises(ValueError, match="unknown function 'himmelblau'"):
        plot.optimizer_paths("himmelblau")
    with pytest.raises(ValueError, match="start"):
        plot.optimizer_paths(start=(1.0, np.nan))


def test_plot_optimizer_paths_draws_the_paths_over_contours(tmp_path):
    fig = plot.plot_optimizer_paths(tmp_path / "paths.png")
    assert_png(tmp_path / "paths.png")
    paths = plot.optimizer_paths()
    assert len(fig.axes) == 6
    for ax, (name, p) in zip(fig.axes, paths.items()):
        assert ax.get_title().startswith(f"{name}: ")
        assert ax.collections, "no contour lines"
        line = next(l for l in ax.get_lines() if l.get_label() == name)
        np.testing.assert_array_equal(line.get_xdata(), p[:, 0])
        np.testing.assert_array_equal(line.get_ydata(), p[:, 1])
    assert fig.axes[5].get_yscale() == "log" and set(line_data(fig.axes[5])) == set(paths)


# --------------------------------------------------------------------------- glassnet plot RUN_FOLDER

def assert_one_line_error(capsys, status, *needles):
    out, err = capsys.readouterr()
    assert status == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: "), err
    for needle in needles:
        assert needle in lines[0], err


def test_glassnet_plot_draws_the_run_figures_into_the_folder(run_folder, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    curves = (folder / "curves.png").read_bytes()
    assert cli.main(["plot", str(folder)]) == 0
    out, err = capsys.readouterr()
    written = [pathlib.Path(line) for line in out.strip().splitlines()]
    names = ["confusion_matrix.png", "weights.png", "misclassified.png", "histograms.png"]
    assert written == [folder / n for n in names]                 # curves.png exists already: kept
    assert (folder / "curves.png").read_bytes() == curves
    for path in written:
        assert_png(path)

    (folder / "curves.png").unlink()
    assert cli.main(["plot", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == str(folder / "curves.png")
    assert_png(folder / "curves.png")


def test_glassnet_plot_errors_are_one_line(tmp_path, capsys, monkeypatch, run_folder):
    assert_one_line_error(capsys, cli.main(["plot", str(tmp_path / "nowhere")]), "no such run folder")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(capsys, cli.main(["plot", str(tmp_path / "empty")]), "not a run folder", "model.glassnet")
    (tmp_path / "file.txt").write_text("x")
    assert_one_line_error(capsys, cli.main(["plot", str(tmp_path / "file.txt")]), "is not a folder")
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    (folder / "curves.png").unlink()
    (folder / "metrics.json").write_text("{}")
    assert_one_line_error(capsys, cli.main(["plot", str(folder)]), "does not name the dataset", "--dataset")
    (folder / "model.glassnet").write_bytes(b"not a zip")
    assert_one_line_error(capsys, cli.main(["plot", str(folder), "--dataset", "mnist-mini"]))
    assert not list(folder.glob("*.png"))                       # nothing is drawn before everything is read
    assert cli.main(["plot", str(folder), "--dataset", "no-such-set"]) == 2           # a usage error, as elsewhere
    capsys.readouterr()
    shutil.rmtree(folder)
    shutil.copytree(run_folder, folder)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert_one_line_error(capsys, cli.main(["plot", str(folder)]), 'pip install "glassnet[plot]"')
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in run_folder.iterdir())
