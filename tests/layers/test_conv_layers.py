"""Conv2D and Conv1D: forward and backward against PyTorch in float64, central differences, Keras, errors.

torch.nn.functional.conv2d / conv1d is the reference for y, dL/dx, dL/dW and dL/db over every
combination of padding (valid, same; Conv1D also causal), strides (1, 2, 3), dilation (1, 2), odd and
even (non-square) images and kernels, one or several channels and filters, with and without a bias;
each activation runs at least once (torch's own functions, so its derivative is torch's too).
torch knows no TensorFlow "same" padding for strides > 1: its input is padded with F.pad by the
amounts Geometry gives, and those amounts are checked on their own against torch's padding="same"
(strides 1) and against Keras's layers (any strides).
"""
import itertools

import numpy as np
import pytest

import glassnet as gn
from glassnet import convolution as C
from reference import central_difference, relative_error

pytestmark = pytest.mark.usefixtures("isolated_random_state")
L = gn.layers
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "elu", "leaky_relu", "swish", "softmax", "step"]


def torch_activation(torch, z, name):
    F = torch.nn.functional
    return {"linear": lambda v: v, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "elu": F.elu,
            "leaky_relu": lambda v: F.leaky_relu(v, 0.2), "swish": F.silu,
            "softmax": lambda v: torch.softmax(v, dim=1),              # channels: axis 1 in torch's layout
            "step": lambda v: (v > 0).to(v.dtype) + 0 * v}[name](z)    # step's derivative is 0 everywhere


def torch_conv(torch, x, W, b, strides, dilation, pads, activation, dy):
    """y and the gradients of sum(y * dy) by torch, in glassnet's channels-last layout."""
    F = torch.nn.functional
    rank = x.ndim - 2
    xt = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
    Wt = torch.tensor(np.ascontiguousarray(np.moveaxis(W, (-1, -2), (0, 1))), requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    flat_pads = [p for pair in reversed(pads) for p in pair]            # F.pad: last axis first
    conv = F.conv2d if rank == 2 else F.conv1d
    z = conv(F.pad(xt, flat_pads), Wt, bt, stride=tuple(strides), dilation=tuple(dilation))
    y = torch_activation(torch, z, activation)
    y.backward(torch.tensor(np.moveaxis(dy, -1, 1)))
    grads = {"W": np.moveaxis(Wt.grad.numpy(), (0, 1), (-1, -2))}
    if b is not None:
        grads["b"] = bt.grad.numpy()
    return np.moveaxis(y.detach().numpy(), 1, -1), np.moveaxis(xt.grad.numpy(), 1, -1), grads


def fits(spatial, kernel, dilation):
    return all((k - 1) * d + 1 <= s for s, k, d in zip(spatial, kernel, dilation))


STRIDES_DILATION = [(1, 1), (2, 1), (3, 1), (1, 2)]
GRID_2D = [(spatial, kernel, s, d, padding)
           for spatial in [(7, 7), (8, 8), (5, 9), (10, 6)]
           for kernel in [(1, 1), (2, 2), (3, 3), (5, 5), (3, 2), (1, 4)]
           for s, d in STRIDES_DILATION
           for padding in ["valid", "same"]
           if padding == "same" or fits(spatial, kernel, (d, d))]
GRID_2D += [((9, 8), (3, 3), (1, 2), 1, "same"), ((9, 8), (2, 3), (3, 1), 1, "valid"),
            ((9, 8), (3, 3), 1, (2, 1), "same"), ((9, 8), (2, 2), 1, (1, 3), "valid"), ((1, 1), (1, 1), 1, 1, "valid"),
            ((4, 4), (4, 4), 1, 1, "valid"), ((3, 3), (5, 5), 1, 1, "same"), ((6, 6), (3, 3), (2, 2), 1, "same")]
GRID_1D = [(length, kernel, s, d, padding)
           for length in [7, 8, 11]
           for kernel in [1, 2, 3, 5]
           for s, d in STRIDES_DILATION
           for padding in ["valid", "same", "causal"]
           if padding != "valid" or (kernel - 1) * d + 1 <= length]


def rotation(index):
    """(use_bias, activation) of case `index`: every pair of them comes round once every 18 cases."""
    return (index // len(ACTIVATIONS)) % 2 == 0, ACTIVATIONS[index % len(ACTIVATIONS)]


def layer_case(cls, spatial, kernel, strides, dilation, padding, index):
    """A float64 layer with random weights, an input and an upstream gradient; channels, filters, bias and
    activation rotate with the case's index so every combination of them appears across the grid."""
    rng = np.random.default_rng(index)
    channels, filters = [(1, 1), (3, 4), (2, 5), (8, 3), (5, 2)][index % 5]       # < 4 channels: cols by column
    use_bias, activation = rotation(index)
    layer = cls(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation, activation=activation,
                use_bias=use_bias, dtype="float64")
    x = rng.normal(size=(2,) + tuple(spatial) + (channels,))
    layer.build((None,) + x.shape[1:])
    for w in layer.params.values():
        w[...] = rng.normal(size=w.shape)
    dy = rng.normal(size=(2,) + layer.geometry.out + (filters,))
    return layer, x, dy


def check_against_torch(torch, layer, x, dy):
    y = layer.forward(x)
    dx = layer.backward(dy)
    g = layer.geometry
    want_y, want_dx, want_grads = torch_conv(torch, x, layer.params["W"], layer.params.get("b"), g.strides,
                                             g.dilation, g.pads, layer.activation, dy)
    assert y.shape == want_y.shape
    np.testing.assert_allclose(y, want_y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-10, atol=1e-12)
    assert sorted(layer.grads) == sorted(want_grads)
    for key, want in want_grads.items():
        np.testing.assert_allclose(layer.grads[key], want, rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("spatial,kernel,strides,dilation,padding", GRID_2D)
def test_conv2d_forward_and_backward_match_torch(spatial, kernel, strides, dilation, padding):
    torch = pytest.importorskip("torch")
    index = GRID_2D.index((spatial, kernel, strides, dilation, padding))
    check_against_torch(torch, *layer_case(L.Conv2D, spatial, kernel, strides, dilation, padding, index))


@pytest.mark.parametrize("length,kernel,strides,dilation,padding", GRID_1D)
def test_conv1d_forward_and_backward_match_torch(length, kernel, strides, dilation, padding):
    torch = pytest.importorskip("torch")
    index = GRID_1D.index((length, kernel, strides, dilation, padding))
    check_against_torch(torch, *layer_case(L.Conv1D, (length,), kernel, strides, dilation, padding, index))


def test_the_grids_cover_every_activation_bias_and_padding():
    for grid in (GRID_2D, GRID_1D):
        seen = {rotation(i) + (case[-1],) for i, case in enumerate(grid)}
        paddings = {case[-1] for case in grid}
        assert seen == set(itertools.product((True, False), ACTIVATIONS, paddings))


@pytest.mark.parametrize("spatial,kernel,dilation", [((7, 7), 3, 1), ((8, 5), (2, 3), 1), ((9, 8), (3, 2), 2),
                                                     ((6, 6), 4, (1, 2))])
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel:UserWarning")
def test_same_padding_amounts_match_torch_same_at_stride_1(spatial, kernel, dilation):
    """torch's own padding="same" (strides 1 only) splits an odd total with the extra zero at the end too."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = L.Conv2D(2, kernel, padding="same", dilation_rate=dilation, dtype="float64")
    x = rng.normal(size=(2,) + spatial + (3,))
    y = layer.forward(x)
    W = torch.tensor(np.ascontiguousarray(np.moveaxis(layer.params["W"], (-1, -2), (0, 1))))
    want = torch.nn.functional.conv2d(torch.tensor(np.moveaxis(x, -1, 1)), W, padding="same",
                                      dilation=layer.dilation_rate)
    np.testing.assert_allclose(y, np.moveaxis(want.numpy(), 1, -1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs,shape", [
    (dict(filters=4, kernel_size=3, strides=2, padding="same"), (9, 8, 3)),
    (dict(filters=2, kernel_size=(2, 5), strides=(3, 2), padding="same"), (7, 10, 2)),
    (dict(filters=3, kernel_size=(3, 2), dilation_rate=2, padding="same"), (8, 7, 1)),
    (dict(filters=3, kernel_size=(3, 2), strides=(2, 3), padding="valid", activation="relu"), (9, 9, 2))])
def test_conv2d_matches_keras_layer(keras, kwargs, shape):
    """Keras's own layer (strides > 1 with 'same' included), given glassnet's weights: the same output."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3,) + shape).astype("float32")
    theirs = keras.layers.Conv2D(**kwargs)
    theirs.build((None,) + shape)
    ours = L.Conv2D(**kwargs)
    ours.build((None,) + shape)
    ours.set_weights(theirs.get_weights())
    want = keras.ops.convert_to_numpy(theirs(x))
    assert ours.compute_output_shape((None,) + shape) == tuple(theirs.compute_output_shape((None,) + shape))
    np.testing.assert_allclose(ours.forward(x), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2),
                                    dict(filters=3, kernel_size=4, padding="same", strides=3)])
def test_conv1d_matches_keras_layer(keras, kwargs):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 11, 2)).astype("float32")
    theirs = keras.layers.Conv1D(**kwargs)
    theirs.build((None, 11, 2))
    ours = L.Conv1D(**kwargs)
    ours.build((None, 11, 2))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.forward(x), keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------- central differences
@pytest.mark.parametrize("cls,spatial,kwargs", [
    (L.Conv2D, (6, 5), dict(filters=2, kernel_size=(3, 2), strides=2, padding="same", activation="tanh")),
    (L.Conv2D, (7, 7), dict(filters=3, kernel_size=2, dilation_rate=2, activation="swish")),
    (L.Conv1D, (9,), dict(filters=2, kernel_size=3, padding="causal", dilation_rate=2, activation="sigmoid")),
    (L.Conv1D, (8,), dict(filters=3, kernel_size=2, strides=3, padding="same", activation="elu", use_bias=False))])
def test_layer_gradients_against_central_differences(cls, spatial, kwargs):
    rng = np.random.default_rng(3)
    layer = cls(dtype="float64", kernel_regularizer=gn.regularizers.L2(0.1), **kwargs)
    x = rng.normal(size=(2,) + spatial + (2,))
    layer.build((None,) + x.shape[1:])
    dy = rng.normal(size=(2,) + layer.geometry.out + (layer.filters,))

    def loss(_):
        return float(np.sum(layer.forward(x) * dy)) + layer.regularization_loss()

    layer.forward(x)
    dx = layer.backward(dy)
    assert relative_error(dx, central_difference(loss, x)) < 1e-7
    for key, w in layer.params.items():
        layer.forward(x)
        layer.backward(dy)
        analytic = layer.grads[key].copy()
        assert relative_error(analytic, central_difference(loss, w)) < 1e-7, key


def test_models_pass_gradient_check():
    gn.set_random_seed(4)
    rng = np.random.default_rng(4)
    model = gn.Sequential([L.Input((7, 6, 2)),
                           L.Conv2D(3, (3, 2), strides=2, padding="same", activation="tanh"),
                           L.Conv2D(2, 2, dilation_rate=(1, 2), activation="sigmoid", bias_regularizer="l2"),
                           L.Flatten(), L.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    result = gn.gradient_check(model, rng.normal(size=(3, 7, 6, 2)), np.array([0, 2, 1]))
    assert sorted(result) == ["conv2d/W", "conv2d/b", "conv2d_1/W", "conv2d_1/b", "dense/W", "dense/b"]
    assert result.passed, str(result)

    model = gn.Sequential([L.Input((10, 3)), L.Conv1D(4, 3, padding="causal", activation="elu"),
                           L.Conv1D(2, 2, strides=2, padding="same", activation="linear"),
                           L.Flatten(), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    result = gn.gradient_check(model, rng.normal(size=(4, 10, 3)), rng.normal(size=(4, 1)))
    assert result.passed, str(result)


def test_fit_with_kept_buffers_equals_steps_without_them():
    """fit keeps buffers between batches (a smaller last batch gets views of them) and skips dx for the
    first layer: its SGD steps equal steps taken from compute_gradients, which keeps nothing."""
    gn.set_random_seed(5)
    rng = np.random.default_rng(5)
    f64 = dict(dtype="float64")
    model = gn.Sequential([L.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu", padding="same", **f64),
                           L.Conv2D(2, 3, strides=2, activation="relu", **f64), L.Flatten(**f64), L.Dense(2, **f64)])
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss="mse")
    x, y = rng.normal(size=(6, 8, 8, 1)), rng.normal(size=(6, 2))
    start = model.get_weights()
    weights = start
    for rows in (slice(0, 4), slice(4, 6)):                  # fit's two batches: 4 rows, then 2
        model.set_weights(weights)
        _, grads = model.compute_gradients(x[rows], y[rows])
        weights = [w - 0.1 * g for w, g in zip(weights, grads)]
    model.set_weights(start)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert model.layers[0].need_input_grad is False
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------- errors
def test_arguments_are_refused_with_what_was_expected_and_what_arrived():
    with pytest.raises(ValueError, match=r"Conv2D takes strides > 1 or dilation_rate > 1, not both \(as Keras\), "
                                         r"got strides \(2, 2\) and dilation_rate \(2, 2\)"):
        L.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"Conv1D takes strides > 1 or dilation_rate > 1, not both"):
        L.Conv1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"Conv2D padding must be one of \['valid', 'same'\], got 'causal'"):
        L.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match=r"Conv1D padding must be one of \['valid', 'same', 'causal'\], got 'full'"):
        L.Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match=r"data_format='channels_last'.*got data_format='channels_first'"):
        L.Conv2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match=r"Conv2D kernel_size must be an int or a tuple of 2 ints, got \(3, 3, 3\)"):
        L.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match=r"Conv1D kernel_size must be an int or a tuple of 1 ints, got \(3, 3\)"):
        L.Conv1D(2, (3, 3))
    with pytest.raises(ValueError, match=r"Conv2D filters must be a positive integer, got 0"):
        L.Conv2D(0, 3)
    with pytest.raises(ValueError, match=r"Conv2D strides must be a positive integer, got 0"):
        L.Conv2D(2, 3, strides=0)
    with pytest.raises(ValueError, match=r"Conv2D groups must be 1.*got 2"):
        L.Conv2D(2, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2D kernel_constraint is not supported"):
        L.Conv2D(2, 3, kernel_constraint="max_norm")


def test_inputs_are_refused_with_what_was_expected_and_what_arrived():
    with pytest.raises(ValueError, match=r"Conv2D expects inputs of shape \(batch, height, width, channels\), "
                                         r"got inputs of shape \(None, 28, 28\)"):
        L.Conv2D(2, 3).build((None, 28, 28))
    with pytest.raises(ValueError, match=r"Conv1D expects inputs of shape \(batch, steps, channels\), got inputs "
                                         r"of shape \(None, 5, 5, 1\)"):
        L.Conv1D(2, 3).build((None, 5, 5, 1))
    with pytest.raises(ValueError, match=r"Conv2D expects inputs of shape .*got inputs of shape \(None, None, 8, 1\)"):
        L.Conv2D(2, 3).build((None, None, 8, 1))
    with pytest.raises(ValueError, match=r"a window of \(5, 5\) pixels .* does not fit inputs of spatial shape "
                                         r"\(4, 4\) with padding 'valid'"):
        gn.Sequential([L.Input((4, 4, 1)), L.Conv2D(2, 5)])
    layer = L.Conv2D(2, 3)
    layer.build((None, 6, 6, 1))
    with pytest.raises(ValueError, match=r"Conv2D expects input of shape \(batch, 6, 6, 1\), got \(2, 6, 6\)"):
        layer.forward(np.zeros((2, 6, 6)))
    with pytest.raises(ValueError, match=r"Conv2D expects input of shape \(batch, 6, 6, 1\), got \(2, 6, 6, 3\)"):
        layer.forward(np.zeros((2, 6, 6, 3)))
    with pytest.raises(RuntimeError, match=r"Conv2D.backward called before forward"):
        layer.backward(np.zeros((2, 4, 4, 2)))
    layer.forward(np.zeros((2, 6, 6, 1)))
    with pytest.raises(ValueError, match=r"Conv2D backward expects a gradient of shape \(2, 4, 4, 2\), "
                                         r"got \(2, 4, 4, 3\)"):
        layer.backward(np.zeros((2, 4, 4, 3)))


def test_matmul_shape_is_the_shape_of_the_forward_product():
    """(rows of cols, taps * channels, filters): what a floor or a FLOP count of the layer multiplies."""
    rng = np.random.default_rng(8)
    for layer, x in [(L.Conv2D(6, 3, strides=2, padding="same"), rng.normal(size=(3, 9, 8, 4))),
                     (L.Conv1D(5, 4, dilation_rate=2), rng.normal(size=(2, 12, 3)))]:
        layer.forward(x)
        m, k, n = layer.matmul_shape(len(x))
        assert layer._cols.shape == (m, k) and layer._W2.shape == (k, n)
