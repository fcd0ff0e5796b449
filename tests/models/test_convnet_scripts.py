"""The ConvNet scripts in the style of the keras.io examples (tests/models/scripts; our own code, only
the import changed), run whole: a digit convnet whose feature maps are recomputed here by a
convolution written independently of glassnet's im2col, and a Conv1D text classifier that must find
what a bag of words cannot (word order)."""
import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

SCRIPTS = Path(__file__).parent / "scripts"
pytestmark = pytest.mark.usefixtures("isolated_random_state")


def _run(name, capsys, monkeypatch, **env):
    for key, value in env.items():
        monkeypatch.setenv(f"GLASSNET_SCRIPT_{key.upper()}", str(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")              # the training doctor's remarks are not the script's output
        names = runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    out = capsys.readouterr().out
    return out, dict(line.split(": ", 1) for line in out.splitlines() if ": " in line), names


def test_the_mnist_convnet_learns_and_its_feature_maps_are_convolutions(capsys, monkeypatch):
    out, results, names = _run("mnist_convnet.py", capsys, monkeypatch, samples=3000, epochs=2)
    assert results["x_train shape"] == "(3000, 28, 28, 1)"
    assert "Total params: 34,826" in out and "(None, 5, 5, 64)" in out
    assert float(results["Test accuracy"]) >= 0.7            # 0.84 measured after 2 epochs; chance is 0.1
    assert results["conv2d feature maps"] == "(1, 26, 26, 32)"
    assert results["max_pooling2d_1 feature maps"] == "(1, 5, 5, 64)"
    # the first feature maps, recomputed in float64 from the trained kernel: a sliding 3x3 window
    # times the kernel, plus the bias, through ReLU; then 2x2 max pooling
    image = names["x_test"][0, :, :, 0].astype(np.float64)
    kernel, bias = (w.astype(np.float64) for w in names["model"].layers[0].get_weights())
    windows = sliding_window_view(image, (3, 3))                      # (26, 26, 3, 3)
    expected = np.maximum(np.einsum("ijab,abf->ijf", windows, kernel[:, :, 0, :]) + bias, 0.0)
    conv_maps, pooled = names["feature_maps"][0][0], names["feature_maps"][1][0]
    np.testing.assert_allclose(conv_maps, expected, atol=1e-5)
    np.testing.assert_allclose(pooled, expected.reshape(13, 2, 13, 2, 32).max(axis=(1, 3)), atol=1e-5)


def test_a_conv1d_text_classifier_reads_word_order(capsys, monkeypatch):
    out, results, _ = _run("negated_reviews.py", capsys, monkeypatch)
    assert results["x_train shape"] == "(3000, 40)" and results["reviews holding 'not'"] == "1.0"
    # every review holds one "not" and one sentiment word: without word order the label is a coin toss
    assert float(results["bag of words test accuracy"]) <= 0.6
    assert float(results["convnet test accuracy"]) >= 0.95          # 1.0 measured
    assert float(results["'not great'"]) < 0.2 < 0.8 < float(results["'not ... great'"])
    assert "conv1d (Conv1D)" in out and "(None, 38, 64)" in out
    assert "global_max_pooling1d (GlobalMaxPooling1D)" in out and "(None, 64)" in out
