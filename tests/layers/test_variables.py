"""layer.kernel, layer.bias, BatchNormalization's gamma/beta/moving statistics: the weights
themselves, under Keras's names, with Keras's variable methods."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import BatchNormalization, Dense


def _model():
    gn.set_random_seed(0)
    return gn.Sequential([Dense(3, activation="linear", input_shape=(2,), name="dense"),
                          BatchNormalization(name="bn")])


def test_the_kernel_is_the_weight_itself_and_assign_changes_what_the_model_computes(isolated_random_state):
    model = _model()
    dense = model.layers[0]
    kernel, bias = dense.kernel, dense.bias
    assert kernel.path == "dense/kernel" and bias.name == "bias" and kernel.shape == (2, 3)
    assert np.shares_memory(kernel, dense.params["W"])
    np.testing.assert_array_equal(kernel.numpy(), model.get_weights()[0])
    w, b = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]), np.array([0.5, -0.5, 1.0])
    kernel.assign(w)
    bias.assign_add(b)
    x = np.array([[1.0, 2.0], [3.0, -1.0]], dtype=np.float32)
    np.testing.assert_allclose(dense.forward(x), x @ w + b, rtol=1e-6)       # closed form
    bias.assign_sub(b)
    np.testing.assert_array_equal(bias.numpy(), np.zeros(3))
    assert type(kernel * 2) is np.ndarray and type(kernel.numpy()) is np.ndarray


def test_batch_normalization_shows_its_four_weights(isolated_random_state):
    model = _model()
    bn = model.layers[1]
    assert [v.path for v in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance)] == \
        ["bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"]
    np.testing.assert_array_equal(bn.moving_variance.numpy(), np.ones(3))
    bn.moving_mean.assign([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(model.get_weights()[4], [1.0, 2.0, 3.0])


def test_bad_assignments_and_unbuilt_layers_are_refused():
    with pytest.raises(AttributeError, match="has no kernel yet"):
        Dense(2).kernel
    dense = Dense(2, use_bias=False)
    dense.build((None, 3))
    assert dense.bias is None
    with pytest.raises(ValueError, match=r"kernel has shape \(3, 2\); assign got shape \(2, 3\)"):
        dense.kernel.assign(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        dense.kernel.assign(np.full((3, 2), np.nan))


def test_the_same_weights_as_keras_under_the_same_names(keras, isolated_random_state):
    model = _model()
    twin = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="dense"),
                             keras.layers.BatchNormalization(name="bn")])
    twin.set_weights(model.get_weights())
    for ours, theirs in [(model.layers[0].kernel, twin.layers[0].kernel), (model.layers[0].bias, twin.layers[0].bias),
                         (model.layers[1].moving_variance, twin.layers[1].moving_variance)]:
        np.testing.assert_array_equal(ours.numpy(), np.asarray(theirs.numpy()))
        assert ours.name == theirs.name
