"""Rescaling: y = x * scale + offset inside the model, so uint8 data stays uint8."""
import os
import tempfile

import numpy as np
import pytest

import glassnet as gn


def test_forward_and_backward_by_hand():
    layer = gn.layers.Rescaling(1 / 255, offset=-0.5, dtype="float64")
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    y = layer.forward(x)
    np.testing.assert_allclose(y, [[-0.5, -0.3, 0.5]], rtol=0, atol=1e-15)
    assert y.dtype == np.float64
    dy = np.array([[1.0, 2.0, 3.0]])
    dx = layer.backward(dy)
    if dx is not None:                                   # the data needs no gradient in a model
        np.testing.assert_allclose(dx, dy / 255, rtol=1e-15)


def test_bad_scale_is_rejected():
    with pytest.raises(ValueError, match="scale"):
        gn.layers.Rescaling(float("nan"))


def _model(rescale):
    layers = [gn.layers.Rescaling(1 / 255, input_shape=(784,), dtype="float64")] if rescale else []
    layers += [gn.layers.Dense(8, activation="sigmoid", input_shape=(784,), dtype="float64",
                               kernel_initializer=gn.initializers.RandomNormal(stddev=0.05, seed=1)),
               gn.layers.Dense(10, activation="softmax", dtype="float64",
                               kernel_initializer=gn.initializers.RandomNormal(stddev=0.05, seed=2))]
    model = gn.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_training_on_uint8_with_rescaling_equals_training_on_scaled_floats():
    (x, y), _ = gn.datasets.mnist_mini.load_data()
    x = x[:256].reshape(-1, 784)
    y = y[:256]
    a, b = _model(rescale=True), _model(rescale=False)
    ha = a.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    hb = b.fit(x / 255.0, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-12)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(a.predict(x), b.predict(x / 255.0), rtol=1e-10, atol=1e-13)


def test_rescaling_survives_save_and_load():
    model = _model(rescale=True)
    x = np.arange(2 * 784, dtype=np.uint8).reshape(2, 784)
    with tempfile.TemporaryDirectory() as tmp:
        restored = gn.load_model(model.save(os.path.join(tmp, "m")))
    assert type(restored.layers[0]).__name__ == "Rescaling"
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))
