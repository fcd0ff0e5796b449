"""`glassnet train --model convnet` and `--model simple_convnet`: the examples' networks from the command
line, on images of shape (28, 28, 1), and everything a run folder is used for afterwards (evaluate,
predict, info, plot); the options a ConvNet does not take are refused."""
import contextlib
import io
import json
import pathlib
import re
import runpy

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli
from glassnet.cli import _common, networks
from reference import saved_random_state

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(argv))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """3,000 training and 500 test digits of the bundled MNIST sample, as an .npz dataset (uint8, (n, 28, 28))."""
    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, x_train=x_train[:3000], y_train=y_train[:3000], x_test=x_test[:500], y_test=y_test[:500])
    return path


@pytest.fixture(scope="module")
def trained(digits, tmp_path_factory):
    """One epoch of keras.io's convnet on 3,000 digits: (model name, run folder, stdout).  (SimpleConvNet
    trains below on fewer digits: it is the same code path with a bigger Dense layer.)"""
    folder = tmp_path_factory.mktemp("convnet") / "convnet"
    with saved_random_state():
        status, out, err = run_cli("train", "--model", "convnet", "--dataset", str(digits), "--epochs", "1",
                                   "--output", str(folder))
    assert status == 0, err
    return "convnet", folder, out


def test_the_convnets_train_on_images_and_learn(trained):
    name, folder, out = trained
    assert "2,700 training, 300 validation, 500 test samples of 28x28x1 images, 10 classes" in out
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["input_shape"] == [28, 28, 1] and metrics["features"] == 784
    options = metrics["options"]
    assert options["model"] == name and "hidden" not in options and "activation" not in options
    assert options["batch-size"] == 128                                    # keras.io's
    assert metrics["samples"] == {"train": 2700, "validation": 300, "test": 500}
    assert metrics["params"] == 34_826
    assert metrics["test_accuracy"] > 0.5          # one epoch on 2,700 digits: 0.75 measured; chance is 0.1
    assert len(re.findall(r"^Epoch \d+/1$", out, flags=re.M)) == 1


def test_the_command_builds_the_examples_networks(trained):
    _, folder, _ = trained
    model = gn.load_model(folder / "model.glassnet")
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    theirs = runpy.run_path(str(EXAMPLES / "keras_convnet.py"), run_name="example")["build_model"]()
    assert [type(layer).__name__ for layer in model.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert [w.shape for w in model.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert [layer.get_config().get("rate") for layer in model.layers] == \
        [layer.get_config().get("rate") for layer in theirs.layers]
    # SimpleConvNet: the by-hand example's weights, its ReLU layers fused into Conv2D and Dense here
    simple = networks.build("simple_convnet", (28, 28, 1), 10)
    by_hand = runpy.run_path(str(EXAMPLES / "convnet_by_hand.py"), run_name="example")
    layers = by_hand["build_layers"]()
    by_hand["forward"](layers, np.zeros((1, 28, 28, 1), dtype="float32"))
    assert [w.shape for w in simple.get_weights()] == [w.shape for w, _ in by_hand["parameters"](layers)]
    assert [layer.activation for layer in simple.layers if hasattr(layer, "activation")] == ["relu", "relu", "softmax"]
    assert simple.count_params() == 433_890


def test_evaluate_predict_and_info_read_the_run(trained, tmp_path):
    name, folder, out = trained
    model = gn.load_model(folder / "model.glassnet")
    (_, _), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    x_test, y_test = x_test[:500], y_test[:500]
    images = (x_test / 255.0).reshape(-1, 28, 28, 1)
    loss, accuracy = model.evaluate(images, y_test, verbose=0)
    status, printed, err = run_cli("evaluate", str(folder))         # the dataset recorded in the run
    assert status == 0, err
    assert f"test_accuracy: {accuracy:.4f}" in printed and f"test_loss: {loss:.4f}" in printed
    assert f"test_accuracy: {accuracy:.4f}" in out                    # what train printed
    np.save(tmp_path / "digits.npy", x_test[:5])                        # uint8 (5, 28, 28)
    status, printed, err = run_cli("predict", str(folder), str(tmp_path / "digits.npy"))
    assert status == 0, err
    probabilities = model.predict(images[:5], verbose=0)
    for i, line in enumerate(printed.strip().splitlines()):
        label, cls, p = line.split("\t")
        assert (label, int(cls)) == (f"digits.npy[{i}]", int(np.argmax(probabilities[i])))
        assert float(p) == pytest.approx(float(probabilities[i].max()), abs=6e-5)
    status, printed, err = run_cli("info", str(folder))
    assert status == 0, err
    assert "input shape:        (None, 28, 28, 1)" in printed


def test_plot_draws_a_convnets_run_folder(trained):
    pytest.importorskip("matplotlib")
    _, folder, _ = trained
    status, printed, err = run_cli("plot", str(folder))
    assert status == 0, err
    drawn = {pathlib.Path(line).name for line in printed.split()}
    assert {"confusion_matrix.png", "misclassified.png", "histograms.png"} <= drawn
    assert "weights.png" not in drawn                  # first-layer Dense weights as images: an MLP's figure


# ---------------------------------------------------------------------------- data and options
def test_simple_convnet_trains_on_flat_npz_images_made_square(tmp_path, monkeypatch, isolated_random_state):
    monkeypatch.chdir(tmp_path)
    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    np.savez("flat.npz", x_train=x_train[:1000].reshape(1000, 784), y_train=y_train[:1000],
             x_test=x_test[:200].reshape(200, 784), y_test=y_test[:200])
    (tmp_path / "run.toml").write_text('model = "simple-convnet"\nepochs = 2\n')
    status, out, err = run_cli("train", "--config", "run.toml", "--dataset", "flat.npz", "--validation-split", "0",
                               "-q", "-o", "run")
    assert status == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["input_shape"] == [28, 28, 1] and metrics["params"] == 433_890
    assert metrics["options"]["model"] == "simple_convnet" and metrics["options"]["batch-size"] == 100   # the book's
    assert "hidden" not in metrics["options"] and "activation" not in metrics["options"]
    assert metrics["test_accuracy"] > 0.4             # 20 steps on 1,000 digits from N(0, 0.01^2) weights: 0.585


@pytest.mark.parametrize("x_shape, needle", [
    ((40, 10), "a convolutional model needs images, shape (n, height, width)"),     # 10 values: not square
    ((40, 6, 6), "images of shape (6, 6, 1) do not fit --model convnet"),            # too small for 2 convs, 2 pools
])
def test_data_a_convnet_cannot_read_exits_1(x_shape, needle, tmp_path, monkeypatch, isolated_random_state):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=x_shape).astype("uint8")
    y = np.arange(40) % 3
    np.savez("odd.npz", x_train=x, y_train=y, x_test=x[:10], y_test=y[:10])
    status, out, err = run_cli("train", "--model", "convnet", "--dataset", "odd.npz", "-q", "-o", "run")
    assert status == 1 and "Traceback" not in err
    assert err.startswith("glassnet: error: ") and needle in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv, needle", [
    (["--model", "convnet", "--hidden", "64"], "--hidden shapes --model mlp's hidden layers; --model convnet has"),
    (["--model", "simple_convnet", "--activation", "tanh"], "--activation shapes --model mlp's hidden layers"),
    (["--model", "resnet"], "argument --model: unknown model 'resnet'; choose mlp, convnet, simple_convnet"),
])
def test_options_a_convnet_does_not_take_exit_2(argv, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli("train", *argv)
    assert status == 2 and needle in err, err
    assert not (tmp_path / "runs").exists()


def test_a_config_file_chooses_the_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text('model = "convnet"\nhidden = [64]\n')
    status, out, err = run_cli("train", "--config", "run.toml")
    assert status == 2 and "--hidden shapes --model mlp's hidden layers" in err
    (tmp_path / "run.toml").write_text('model = 3\n')
    status, out, err = run_cli("train", "--config", "run.toml")
    assert status == 2 and "model: expected a string, got 3" in err


def test_model_names_take_dashes_or_underscores():
    assert _common.model_name(" Simple-ConvNet ") == "simple_convnet"
    assert _common.model_name("mlp") == "mlp"
