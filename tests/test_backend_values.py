"""gn.backend.get_value / set_value (Keras 2's keras.backend functions, which Keras 3 dropped from its
public backend and scripts still call): read a variable as NumPy, write one in place.

References: what the model computes after the write, worked by hand; Keras 3's variables (their
numpy() and assign()) doing the same.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet import backend


def _model():
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss="mse")
    return model


def test_set_value_writes_a_weight_where_the_model_keeps_it():
    model = _model()
    kernel = model.layers[0].kernel
    backend.set_value(kernel, np.arange(6.0).reshape(3, 2))
    backend.set_value(model.layers[0].bias, [1.0, -1.0])
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), [[0 + 4 + 12 + 1, 1 + 6 + 15 - 1]])
    assert model.get_weights()[0][2, 1] == 5.0
    # the written kernel is the one training updates: one SGD step moves it by -lr * dL/dW
    _, grads = model.compute_gradients(x, np.zeros((1, 2), np.float32))
    model.train_on_batch(x, np.zeros((1, 2), np.float32))
    np.testing.assert_allclose(model.get_weights()[0], np.arange(6.0).reshape(3, 2) - 0.1 * grads[0], rtol=1e-6)


def test_get_value_returns_a_numpy_copy_of_a_variable():
    model = _model()
    value = backend.get_value(model.layers[0].kernel)
    assert type(value) is np.ndarray and value.shape == (3, 2)
    value[...] = 7.0                                            # a copy: the model is untouched
    assert not np.any(model.get_weights()[0] == 7.0)
    plain = np.ones(3)
    assert backend.get_value(plain) is plain and backend.get_value(2.5) == 2.5     # as Keras: unchanged
    assert backend.batch_get_value([model.layers[0].bias, 3])[1] == 3


def test_set_value_on_a_plain_array_and_the_batch_form():
    a, b = np.zeros(3), np.zeros((2, 2))
    backend.batch_set_value([(a, [1, 2, 3]), (b, np.eye(2))])
    np.testing.assert_array_equal(a, [1, 2, 3])
    np.testing.assert_array_equal(b, np.eye(2))


@pytest.mark.parametrize("target,value,error", [
    (lambda m: m.layers[0].kernel, np.zeros((2, 3)), ValueError),        # wrong shape
    (lambda m: m.layers[0].kernel, np.full((3, 2), np.nan), ValueError),
    (lambda m: np.zeros(3), np.zeros(4), ValueError),
    (lambda m: np.zeros(3), ["a", "b", "c"], ValueError),
    (lambda m: 0.5, 0.1, TypeError),                                     # a number has nowhere to write to
    (lambda m: float(m.optimizer.learning_rate), 0.1, TypeError),
    (lambda m: m.optimizer.learning_rate, -1.0, ValueError),
])
def test_set_value_refuses_what_it_cannot_write(target, value, error):
    model = _model()
    before = model.get_weights()
    with pytest.raises(error):
        backend.set_value(target(model), value)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.learning_rate == 0.1


def test_same_results_as_keras_variables(keras):
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    ours = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))])
    new = np.random.default_rng(0).normal(size=(3, 2)).astype(np.float32)
    theirs.layers[0].kernel.assign(new)                 # Keras 3's way
    backend.set_value(ours.layers[0].kernel, new)       # Keras 2's way, which glassnet keeps
    np.testing.assert_array_equal(backend.get_value(ours.layers[0].kernel), theirs.layers[0].kernel.numpy())
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6)
    opt_k, opt_g = keras.optimizers.Adam(), gn.optimizers.Adam()
    opt_k.learning_rate.assign(0.02)
    backend.set_value(opt_g.learning_rate, 0.02)
    assert float(backend.get_value(opt_g.learning_rate)) == pytest.approx(float(opt_k.learning_rate.numpy()),
                                                                         rel=1e-7)
