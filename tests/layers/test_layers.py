"""Reference tests for glassnet.layers, used by hand (forward / backward, no model).

Forward passes against NumPy written out in the test; backward passes against
float64 central differences of a scalar loss sum(dy * layer(x)); Dropout's and
BatchNormalization's statistics; PyTorch's batch_norm where torch imports.
"""
import json

import numpy as np
import pytest

import glassnet as gn
from glassnet import initializers, regularizers
from glassnet.layers import Activation, BatchNormalization, Dense, Dropout, Flatten
from reference import central_difference, relative_error

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the NumPy references still run
    torch = F = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
RTOL = 1e-6

# closed forms, written independently of glassnet.activations
NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "step": lambda z: (z > 0).astype(np.float64),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "swish": lambda z: z / (1 + np.exp(-z)),
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True),
}



def difference_quotient(loss, array):
    """d loss() / d array, perturbing `array` in place (loss takes no argument)."""
    return central_difference(lambda _: loss(), array)

def random(shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).normal(0.0, scale, size=shape)


def dense64(units, activation=None, **kwargs):
    """A float64 Dense with non-zero, seeded weights and biases."""
    return Dense(units, activation=activation, dtype="float64",
                 kernel_initializer=initializers.RandomNormal(stddev=0.5, seed=1),
                 bias_initializer=initializers.RandomNormal(stddev=0.5, seed=2), **kwargs)


def check_layer_gradients(layer, x, dy, extra_loss=lambda: 0.0, training=False):
    """backward(dy) against central differences of sum(dy * forward(x)) + extra_loss(), for x and every param."""
    def loss():
        return float(np.sum(dy * layer.forward(x, training=training))) + extra_loss()

    layer.forward(x, training=training)
    dx = layer.backward(dy)
    assert dx.shape == x.shape
    assert relative_error(dx, difference_quotient(loss, x)) < RTOL
    for key, param in layer.params.items():
        assert layer.grads[key].shape == param.shape
        assert relative_error(layer.grads[key], difference_quotient(loss, param)) < RTOL, key


# --------------------------------------------------------------------------
# Dense
# --------------------------------------------------------------------------

@pytest.mark.parametrize("activation", sorted(NUMPY_ACTIVATIONS))
def test_dense_forward_is_xW_plus_b_then_activation(activation):
    x = random((4, 3))
    layer = dense64(5, activation)
    y = layer.forward(x)
    W, b = layer.params["W"], layer.params["b"]
    assert W.shape == (3, 5) and b.shape == (5,)
    np.testing.assert_allclose(y, NUMPY_ACTIVATIONS[activation](x @ W + b), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.forward_logits(x), x @ W + b, rtol=1e-13)


@pytest.mark.parametrize("activation", sorted(NUMPY_ACTIVATIONS))
def test_dense_backward_matches_central_differences(activation):
    x, dy = random((4, 3)), random((4, 5), seed=1)
    layer = dense64(5, activation)
    assert np.min(np.abs(layer.forward_logits(x))) > 1e-4        # kinks at 0 far beyond the 1e-6 steps
    check_layer_gradients(layer, x, dy)


def test_dense_without_bias():
    x, dy = random((4, 3)), random((4, 2), seed=1)
    layer = dense64(2, "tanh", use_bias=False)
    y = layer.forward(x)
    assert list(layer.params) == ["W"] and layer.count_params() == 6
    np.testing.assert_allclose(y, np.tanh(x @ layer.params["W"]), rtol=1e-13)
    check_layer_gradients(layer, x, dy)


def test_dense_kernel_regularizer_adds_its_penalty_and_gradient():
    x, dy = random((4, 3)), random((4, 2), seed=1)
    layer = dense64(2, "sigmoid", kernel_regularizer=regularizers.L2(0.1))
    layer.forward(x)
    assert layer.regularization_loss() == pytest.approx(0.1 * np.sum(layer.params["W"] ** 2), rel=1e-14)
    check_layer_gradients(layer, x, dy, extra_loss=layer.regularization_loss)


def test_dense_bias_regularizer_l1():
    x, dy = random((4, 3)), random((4, 2), seed=1)
    layer = dense64(2, "tanh", bias_regularizer=regularizers.L1(0.05))
    layer.forward(x)
    assert layer.regularization_loss() == pytest.approx(0.05 * np.sum(np.abs(layer.params["b"])), rel=1e-14)
    check_layer_gradients(layer, x, dy, extra_loss=layer.regularization_loss)


def test_dense_backward_logits_skips_the_activation():
    x, dz = random((4, 3)), random((4, 5), seed=1)
    layer = dense64(5, "softmax")
    layer.forward_logits(x)
    dx = layer.backward_logits(dz)
    W = layer.params["W"]
    np.testing.assert_allclose(layer.grads["W"], x.T @ dz, rtol=1e-13)
    np.testing.assert_allclose(layer.grads["b"], dz.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(dx, dz @ W.T, rtol=1e-13)
    numeric = difference_quotient(lambda: float(np.sum(dz * layer.forward_logits(x))), W)
    assert relative_error(layer.grads["W"], numeric) < RTOL


@pytest.mark.parametrize("activation", ["linear", "sigmoid", "relu", "softmax"])
def test_dense_on_nd_input_acts_on_the_last_axis(activation):
    x, dy = random((2, 3, 4)), random((2, 3, 5), seed=1)
    layer = dense64(5, activation)
    y = layer.forward(x)
    assert y.shape == (2, 3, 5) and layer.output_shape == (None, 3, 5)
    W, b = layer.params["W"], layer.params["b"]
    np.testing.assert_allclose(y, NUMPY_ACTIVATIONS[activation](np.einsum("bti,io->bto", x, W) + b), rtol=1e-12)
    check_layer_gradients(layer, x, dy)


def test_dense_default_dtype_is_float32_and_weights_are_keras_ordered():
    layer = Dense(3, input_shape=(4,))
    y = layer.forward(np.ones((2, 4)))
    assert y.dtype == np.float32
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (3,)]
    assert layer.count_params() == 4 * 3 + 3


def test_dense_counts_the_notes_parameters():
    layer = Dense(50, activation="sigmoid", input_shape=(784,))
    layer.build((None, 784))
    assert layer.count_params() == 39_250


@pytest.mark.parametrize("units", [0, -3, 2.5, True, "10"])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="positive integer"):
        Dense(units)


def test_dense_wrong_feature_count_names_expected_and_actual():
    layer = Dense(10, input_shape=(784,))
    with pytest.raises(ValueError, match=r"^Dense expects 784 features per sample, got 783$"):
        layer.forward(np.zeros((2, 783)))
    layer.forward(np.zeros((2, 784)))
    with pytest.raises(ValueError, match=r"^Dense expects 784 features per sample, got 785$"):
        layer.forward(np.zeros((2, 785)))
    named = Dense(3, name="hidden")
    named.forward(np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"^Dense 'hidden' expects 4 features per sample, got 5$"):
        named.forward(np.zeros((1, 5)))


def test_dense_rejects_a_single_sample_without_batch_axis_and_bad_dy():
    layer = Dense(3)
    with pytest.raises(ValueError, match="batch"):
        layer.forward(np.zeros(4))
    with pytest.raises(RuntimeError):
        layer.backward(np.zeros((1, 3)))
    with pytest.raises(RuntimeError):
        layer.backward_logits(np.zeros((1, 3)))
    layer.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        layer.backward(np.zeros((2, 4)))


def test_dense_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match="relu"):
        Dense(3, activation="relu7")


def test_set_weights_checks_every_shape_before_writing():
    layer = dense64(3)
    layer.build((None, 4))
    before = layer.get_weights()
    W_ok, b_bad = np.ones((4, 3)), np.ones((4,))
    with pytest.raises(ValueError, match=r"'b'.*\(3,\).*\(4,\)"):
        layer.set_weights([W_ok, b_bad])
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        layer.set_weights([W_ok])
    with pytest.raises(ValueError):
        layer.set_weights([np.full((4, 3), np.nan), np.ones(3)])
    for old, now in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, now)
    W = layer.params["W"]
    layer.set_weights([W_ok, np.zeros(3)])
    assert layer.params["W"] is W                          # written in place
    np.testing.assert_array_equal(layer.params["W"], W_ok)


def test_dense_config_round_trip_rebuilds_an_equivalent_layer():
    layer = Dense(4, activation="tanh", kernel_initializer=initializers.GlorotUniform(seed=1),
                  bias_initializer=initializers.Constant(0.1), kernel_regularizer=regularizers.L2(0.01),
                  name="hidden", input_shape=(3,), dtype="float64")
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    for rebuilt in (Dense.from_config(config), gn.layers.deserialize(gn.layers.serialize(layer))):
        assert type(rebuilt) is Dense and rebuilt.get_config() == config
        x = random((2, 3))
        np.testing.assert_array_equal(rebuilt.forward(x), layer.forward(x))
        assert rebuilt.regularization_loss() == layer.regularization_loss()


@pytest.mark.parametrize("reg", [regularizers.L1(0.3), regularizers.L2(0.2), regularizers.L1L2(l1=0.1, l2=0.4)],
                         ids=repr)
def test_regularizer_penalty_and_gradient(reg):
    w = random((3, 4))
    w = np.where(np.abs(w) < 0.01, 0.5, w)                  # away from the kink of |w|
    l1, l2 = reg.get_config().get("l1", 0.0), reg.get_config().get("l2", 0.0)
    assert reg(w) == pytest.approx(l1 * np.sum(np.abs(w)) + l2 * np.sum(w ** 2), rel=1e-14)
    assert relative_error(reg.gradient(w), difference_quotient(lambda: reg.penalty(w), w)) < RTOL
    assert type(regularizers.deserialize(regularizers.serialize(reg))) is type(reg)


def test_regularizer_names_and_bad_factors():
    assert regularizers.get("L2").l2 == 0.01 and regularizers.get("l1").l1 == 0.01
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="l1_l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError):
        regularizers.L2(-0.1)


# --------------------------------------------------------------------------
# Activation and Flatten
# --------------------------------------------------------------------------

@pytest.mark.parametrize("activation", sorted(NUMPY_ACTIVATIONS))
def test_activation_layer_forward_and_backward(activation):
    x, dy = random((3, 4), scale=2.0), random((3, 4), seed=1)
    x = np.where(np.abs(x) < 0.05, 0.5, x)                 # away from the kinks at 0
    layer = Activation(activation)
    np.testing.assert_allclose(layer.forward(x), NUMPY_ACTIVATIONS[activation](x), rtol=1e-12, atol=1e-15)
    check_layer_gradients(layer, x, dy)
    assert Activation.from_config(layer.get_config()).activation == layer.activation


def test_flatten_round_trips_the_shape():
    x = random((2, 3, 4, 5))
    layer = Flatten()
    y = layer.forward(x)
    np.testing.assert_array_equal(y, x.reshape(2, 60))
    assert layer.output_shape == (None, 60)
    dy = random((2, 60), seed=1)
    np.testing.assert_array_equal(layer.backward(dy), dy.reshape(2, 3, 4, 5))
    with pytest.raises(ValueError):
        layer.forward(np.zeros(5))
    with pytest.raises(RuntimeError):
        Flatten().backward(dy)


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------

def test_dropout_is_the_identity_at_inference():
    x = random((5, 6))
    layer = Dropout(0.5, seed=0)
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    np.testing.assert_array_equal(Dropout(0.0).forward(x, training=True), x)


@pytest.mark.parametrize("rate, dtype", [(0.3, np.float64), (0.5, np.float32)])
def test_dropout_training_zeroes_a_fraction_rate_and_scales_the_rest(rate, dtype):
    x = np.random.default_rng(0).uniform(1.0, 2.0, size=(400, 500)).astype(dtype)
    layer = Dropout(rate, seed=1)
    y = layer.forward(x, training=True)
    assert y.dtype == dtype
    dropped = y == 0
    assert np.mean(dropped) == pytest.approx(rate, abs=0.005)
    np.testing.assert_allclose(y[~dropped], x[~dropped] / (1 - rate), rtol=1e-6)
    # backward applies the same mask and scale
    dy = np.ones_like(x)
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dx == 0, dropped)
    np.testing.assert_allclose(dx[~dropped], 1 / (1 - rate), rtol=1e-6)


def test_dropout_seed_repeats_and_successive_masks_differ(isolated_random_state):
    x = np.ones((50, 40))
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    first = a.forward(x, training=True)
    np.testing.assert_array_equal(first, b.forward(x, training=True))
    assert not np.array_equal(first, a.forward(x, training=True))
    gn.set_random_seed(5)
    unseeded = Dropout(0.5).forward(x, training=True)
    gn.set_random_seed(5)
    np.testing.assert_array_equal(unseeded, Dropout(0.5).forward(x, training=True))


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, float("nan"), "0.5"])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError):
        Dropout(rate)


def test_dropout_config_round_trip():
    layer = Dropout(0.25, seed=9, name="drop")
    rebuilt = Dropout.from_config(json.loads(json.dumps(layer.get_config())))
    assert rebuilt.rate == 0.25 and rebuilt.seed == 9 and rebuilt.name == "drop"
    x = np.ones((10, 10))
    np.testing.assert_array_equal(rebuilt.forward(x, training=True), Dropout(0.25, seed=9).forward(x, training=True))


# --------------------------------------------------------------------------
# BatchNormalization
# --------------------------------------------------------------------------

def batch_norm64(n_features=4, momentum=0.9, epsilon=1e-3, seed=0):
    """A built float64 BatchNormalization with non-trivial gamma, beta and moving statistics."""
    layer = BatchNormalization(momentum=momentum, epsilon=epsilon, dtype="float64")
    layer.build((None, n_features))
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(0.5, 2.0, n_features), rng.normal(0, 1, n_features),
                       rng.normal(0, 1, n_features), rng.uniform(0.5, 2.0, n_features)])
    return layer


def test_batch_norm_training_output_is_standardised():
    x = random((64, 3), scale=3.0) + np.array([5.0, -2.0, 0.0])
    layer = BatchNormalization(epsilon=1e-12, dtype="float64")
    y = layer.forward(x, training=True)                     # gamma = 1, beta = 0
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1.0, rtol=1e-9)
    gamma, beta = np.array([2.0, 0.5, 1.0]), np.array([1.0, 0.0, -3.0])
    layer.set_weights([gamma, beta] + layer.get_weights()[2:])
    np.testing.assert_allclose(layer.forward(x, training=True), gamma * y + beta, rtol=1e-12)


def test_batch_norm_moving_statistics_follow_the_keras_formula():
    layer = batch_norm64(momentum=0.9)
    mean0, var0 = layer.state["moving_mean"].copy(), layer.state["moving_variance"].copy()
    x1, x2 = random((16, 4), seed=1, scale=2.0), random((16, 4), seed=2) + 1.0
    layer.forward(x1, training=True)
    expected_mean = 0.9 * mean0 + 0.1 * x1.mean(axis=0)
    expected_var = 0.9 * var0 + 0.1 * x1.var(axis=0)            # biased variance, as Keras
    np.testing.assert_allclose(layer.state["moving_mean"], expected_mean, rtol=1e-13)
    np.testing.assert_allclose(layer.state["moving_variance"], expected_var, rtol=1e-13)
    layer.forward(x2, training=True)
    np.testing.assert_allclose(layer.state["moving_mean"], 0.9 * expected_mean + 0.1 * x2.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(layer.state["moving_variance"], 0.9 * expected_var + 0.1 * x2.var(axis=0),
                               rtol=1e-13)
    layer.forward(x2, training=False)                            # inference leaves them alone
    np.testing.assert_allclose(layer.state["moving_mean"], 0.9 * expected_mean + 0.1 * x2.mean(axis=0), rtol=1e-13)


def test_batch_norm_inference_uses_the_moving_statistics():
    layer = batch_norm64()
    gamma, beta, mean, var = layer.get_weights()
    x = random((5, 4))
    expected = gamma * (x - mean) / np.sqrt(var + 1e-3) + beta
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batch_norm_backward_matches_central_differences(training):
    layer = batch_norm64()
    x, dy = random((6, 4), scale=2.0), random((6, 4), seed=1)
    check_layer_gradients(layer, x, dy, training=training)


def test_batch_norm_without_scale_and_center():
    layer = BatchNormalization(center=False, scale=False, dtype="float64")
    x, dy = random((6, 3)), random((6, 3), seed=1)
    assert layer.forward(x, training=True).shape == (6, 3) and layer.params == {}
    check_layer_gradients(layer, x, dy, training=True)


def test_batch_norm_on_nd_input_normalises_the_last_axis():
    layer = BatchNormalization(epsilon=1e-12, dtype="float64")
    x = random((4, 5, 3), scale=2.0)
    y = layer.forward(x, training=True)
    flat = y.reshape(-1, 3)
    np.testing.assert_allclose(flat.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(flat.var(axis=0), 1.0, rtol=1e-9)
    check_layer_gradients(layer, x, random((4, 5, 3), seed=1), training=True)


@requires_torch
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batch_norm_matches_torch(training):
    momentum, eps, n = 0.9, 1e-3, 8
    layer = batch_norm64(momentum=momentum, epsilon=eps)
    gamma, beta, mean0, var0 = layer.get_weights()
    x, dy = random((n, 4), scale=2.0), random((n, 4), seed=1)

    y = layer.forward(x, training=training)
    dx = layer.backward(dy)

    tx = torch.tensor(x, requires_grad=True)
    tg, tb = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    running_mean, running_var = torch.tensor(mean0), torch.tensor(var0)
    # torch's momentum is the weight of the new batch: 1 - Keras's momentum
    ty = F.batch_norm(tx, running_mean, running_var, tg, tb, training=training, momentum=1 - momentum, eps=eps)
    ty.backward(torch.tensor(dy))

    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(layer.grads["gamma"], tg.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["beta"], tb.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.state["moving_mean"], running_mean.numpy(), rtol=1e-13)
    # torch keeps the unbiased variance in running_var; Keras (and glassnet) keep the biased one
    unbiased, biased = x.var(axis=0, ddof=1), x.var(axis=0)
    correction = (1 - momentum) * (unbiased - biased) if training else 0.0
    np.testing.assert_allclose(layer.state["moving_variance"], running_var.numpy() - correction, rtol=1e-13)


def test_batch_norm_rejects_bad_arguments_and_widths():
    for kwargs in ({"momentum": 1.5}, {"epsilon": 0.0}, {"axis": 1}):
        with pytest.raises(ValueError):
            BatchNormalization(**kwargs)
    layer = BatchNormalization()
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        layer.forward(np.ones((2, 4)))
    with pytest.raises(RuntimeError):
        BatchNormalization().backward(np.ones((2, 3)))


def test_batch_norm_config_round_trip():
    layer = batch_norm64(momentum=0.8, epsilon=1e-4)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = gn.layers.deserialize(gn.layers.serialize(layer))
    assert rebuilt.get_config() == config
    rebuilt.build((None, 4))
    rebuilt.set_weights(layer.get_weights())
    x = random((5, 4))
    np.testing.assert_array_equal(rebuilt.forward(x, training=True), layer.forward(x, training=True))
    np.testing.assert_array_equal(rebuilt.state["moving_variance"], layer.state["moving_variance"])


def test_unknown_layer_class_is_rejected():
    with pytest.raises(ValueError, match="Dense"):
        gn.layers.deserialize({"class_name": "Conv3D", "config": {}})
