"""The layers of issue 11 against Keras 3 itself (on torch): the same weights and inputs give the same
outputs, and the same gradients (Keras's backward is torch autograd through the Keras layer), in float32
and float64. Normalization.adapt learns what Keras's adapt learns. Layers that Keras builds with its own
random weights get glassnet's weights through set_weights first.
"""
import numpy as np
import pytest

import glassnet as gn

pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
L = gn.layers
TOL = {"float32": 2e-6, "float64": 1e-12}
# Keras on torch computes these in float32 even for dtype="float64" (LayerNormalization: its
# result_type("float64", "float32") is float32; the others convert their constants or reduce in float32):
# compared at float32 precision in float64, where the contract test's float64 central differences and the
# closed forms below hold glassnet to float64 precision.
FLOAT32_INSIDE_KERAS = ("LayerNormalization", "GlobalAveragePooling1D", "Normalization")


def _cases(keras):
    """(glassnet layer, Keras layer, sample shape, ids or None, training) for each configuration."""
    K = keras.layers
    return [
        (lambda d: L.Softmax(dtype=d), lambda d: K.Softmax(dtype=d), (5,), None),
        (lambda d: L.Softmax(axis=1, dtype=d), lambda d: K.Softmax(axis=1, dtype=d), (3, 4), None),
        (lambda d: L.Softmax(axis=[1, 2], dtype=d), lambda d: K.Softmax(axis=(1, 2), dtype=d), (2, 3), None),
        (lambda d: L.ReLU(dtype=d), lambda d: K.ReLU(dtype=d), (6,), None),
        (lambda d: L.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.3, dtype=d),
         lambda d: K.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.3, dtype=d), (2, 5), None),
        (lambda d: L.ReLU(max_value=6.0, dtype=d), lambda d: K.ReLU(max_value=6.0, dtype=d), (7,), None),
        (lambda d: L.ReLU(negative_slope=0.2, dtype=d), lambda d: K.ReLU(negative_slope=0.2, dtype=d), (7,), None),
        (lambda d: L.LeakyReLU(dtype=d), lambda d: K.LeakyReLU(dtype=d), (6,), None),
        (lambda d: L.LeakyReLU(negative_slope=0.05, dtype=d), lambda d: K.LeakyReLU(negative_slope=0.05, dtype=d),
         (2, 3), None),
        (lambda d: L.ELU(dtype=d), lambda d: K.ELU(dtype=d), (6,), None),
        (lambda d: L.ELU(alpha=0.4, dtype=d), lambda d: K.ELU(alpha=0.4, dtype=d), (2, 3), None),
        (lambda d: L.PReLU(dtype=d), lambda d: K.PReLU(dtype=d), (5,), None),
        (lambda d: L.PReLU(shared_axes=[1], dtype=d), lambda d: K.PReLU(shared_axes=[1], dtype=d), (3, 4), None),
        (lambda d: L.Reshape((3, 2), dtype=d), lambda d: K.Reshape((3, 2), dtype=d), (6,), None),
        (lambda d: L.Reshape((-1, 2), dtype=d), lambda d: K.Reshape((-1, 2), dtype=d), (2, 3, 2), None),
        (lambda d: L.Identity(dtype=d), lambda d: K.Identity(dtype=d), (4,), None),
        (lambda d: L.LayerNormalization(dtype=d), lambda d: K.LayerNormalization(dtype=d), (5,), None),
        (lambda d: L.LayerNormalization(axis=[1, 2], epsilon=1e-2, dtype=d),
         lambda d: K.LayerNormalization(axis=[1, 2], epsilon=1e-2, dtype=d), (2, 3), None),
        (lambda d: L.LayerNormalization(center=False, dtype=d),          # (Keras on torch fails on axis=1
         lambda d: K.LayerNormalization(center=False, dtype=d), (3, 2), None),   # of 3-D inputs)
        (lambda d: L.GaussianNoise(0.5, dtype=d), lambda d: K.GaussianNoise(0.5, dtype=d), (4,), None),
        (lambda d: L.Embedding(9, 3, dtype=d), lambda d: K.Embedding(9, 3, dtype=d), (5,), 9),
        (lambda d: L.GlobalAveragePooling1D(dtype=d), lambda d: K.GlobalAveragePooling1D(dtype=d), (4, 3), None),
        (lambda d: L.GlobalAveragePooling1D(data_format="channels_first", keepdims=True, dtype=d),
         lambda d: K.GlobalAveragePooling1D(data_format="channels_first", keepdims=True, dtype=d), (3, 4), None),
        (lambda d: L.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 0.0], dtype=d),
         lambda d: K.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 0.0], dtype=d), (3,), None),
        (lambda d: L.Normalization(mean=2.0, variance=9.0, invert=True, dtype=d),
         lambda d: K.Normalization(mean=2.0, variance=9.0, invert=True, dtype=d), (2, 2), None),
    ]


def _ids(cases):
    return [f"{i}" for i in range(len(cases))]


def _torch_forward_backward(torch, layer, x, g, ids):
    """Keras's output, dL/dx (None for ids) and dL/d(each trainable weight) for L = sum(y * g)."""
    xt = torch.tensor(x) if ids else torch.tensor(x, requires_grad=True)
    y = layer(xt)
    (y * torch.tensor(g)).sum().backward()
    grads = [v.value.grad.detach().numpy().copy() for v in layer.trainable_weights]
    return y.detach().numpy(), (None if ids else xt.grad.numpy()), grads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("index", range(25))
def test_forward_and_backward_match_keras(keras, dtype, index):
    torch = pytest.importorskip("torch")
    ours_of, theirs_of, features, ids = _cases(keras)[index]
    rng = np.random.default_rng(index)
    shape = (4,) + features
    x = rng.integers(0, ids, size=shape) if ids else rng.normal(size=shape).astype(dtype)
    ours = ours_of(dtype)
    y = ours.forward(x)                                  # builds it, with glassnet's initial weights
    ours.set_weights([rng.normal(size=w.shape).astype(dtype) for w in ours.params.values()])
    theirs = theirs_of(dtype)
    theirs.build(shape)
    theirs.set_weights(ours.get_weights())
    y = ours.forward(x)
    g = rng.normal(size=y.shape).astype(dtype)
    dx = ours.backward(g)
    ky, kdx, kgrads = _torch_forward_backward(torch, theirs, x, g, ids)
    tol = TOL["float32"] if type(ours).__name__ in FLOAT32_INSIDE_KERAS else TOL[dtype]
    if isinstance(ours, L.LayerNormalization) and dtype == "float64":        # the closed form, in float64
        axes = tuple(a % x.ndim for a in np.atleast_1d(ours.axis))
        x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + ours.epsilon)
        closed = x_hat * ours._broadcast(ours.params["gamma"], x.ndim)
        if ours.center:
            closed = closed + ours._broadcast(ours.params["beta"], x.ndim)
        np.testing.assert_allclose(y, closed, rtol=1e-13, atol=1e-13)
    assert y.dtype == np.dtype(dtype) and ky.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, ky, rtol=tol, atol=tol)
    if ids:
        assert not dx.any()
    else:
        np.testing.assert_allclose(dx, kdx, rtol=tol, atol=tol)
    assert len(kgrads) == len(ours.grads)
    for mine, theirs_grad in zip(ours.grads.values(), kgrads):
        np.testing.assert_allclose(mine, theirs_grad, rtol=tol, atol=tol * 10)


def test_the_case_table_has_25_entries(keras):
    assert len(_cases(keras)) == 25


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis, data_shape", [(-1, (50, 4)), (None, (30, 3)), ((1, 2), (20, 2, 3)),
                                              (-1, (20, 2, 3))])
def test_normalization_adapt_learns_what_keras_learns(keras, dtype, axis, data_shape):
    rng = np.random.default_rng(3)
    data = (rng.normal(size=data_shape) * rng.uniform(0.5, 20, size=data_shape[-1]) + 7).astype(dtype)
    ours = L.Normalization(axis=axis, dtype=dtype)
    ours.adapt(data)
    theirs = keras.layers.Normalization(axis=axis, dtype=dtype)
    theirs.adapt(data)
    tol = TOL[dtype] * 10
    kmean, kvar = (np.asarray(w.numpy()) for w in theirs.weights[:2])
    np.testing.assert_allclose(ours.state["mean"], kmean, rtol=tol)
    np.testing.assert_allclose(ours.state["variance"], kvar, rtol=tol)
    assert [w.path.split("/")[-1] for w in theirs.weights] == ours.weight_names == ["mean", "variance", "count"]
    assert ours.state["count"].dtype == np.int32 and ours.state["count"].shape == ()
    x = data[:7]
    y = ours.forward(x)
    np.testing.assert_allclose(y, np.asarray(theirs(x)), rtol=TOL["float32"] * 10, atol=TOL["float32"] * 10)
    keep = [d for d in range(data.ndim) if axis is not None and d in np.atleast_1d(axis) % data.ndim]
    reduce = tuple(d for d in range(data.ndim) if d not in keep)
    closed = (x - data.mean(axis=reduce, keepdims=True)) / data.std(axis=reduce, keepdims=True)
    np.testing.assert_allclose(y, closed, rtol=TOL[dtype] * 100, atol=TOL[dtype] * 100)
    np.testing.assert_allclose(np.asarray(ours.mean), np.asarray(theirs.mean), rtol=tol)     # broadcast shapes


def test_normalization_adapt_on_batches_equals_adapt_on_the_whole():
    rng = np.random.default_rng(4)
    data = rng.normal(size=(103, 3)) * [1.0, 10.0, 100.0] + [5.0, -3.0, 1e4]
    whole = L.Normalization(dtype="float64")
    whole.adapt(data)
    batched = L.Normalization(dtype="float64")
    batched.adapt(data[i:i + 10] for i in range(0, 103, 10))      # a generator of batches, as Keras allows
    np.testing.assert_allclose(batched.state["mean"], data.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(batched.state["variance"], data.var(axis=0), rtol=1e-10)
    np.testing.assert_allclose(whole.state["variance"], data.var(axis=0), rtol=1e-12)
    assert int(batched.state["count"]) == int(whole.state["count"]) == 103
    # (Keras 3 on torch cannot adapt on a list of batches without TensorFlow installed: NumPy is the reference)


def test_gaussian_noise_adds_noise_of_its_stddev_only_while_training():
    layer = L.GaussianNoise(0.3, seed=1, dtype="float64")
    x = np.zeros((400, 50))
    assert layer.forward(x) is not None and np.array_equal(layer.forward(x), x)
    noisy = layer.forward(x, training=True)
    assert abs(noisy.mean()) < 0.01 and abs(noisy.std() - 0.3) < 0.005
    assert not np.array_equal(noisy, layer.forward(x, training=True))           # drawn afresh each batch
    assert np.array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    again = L.GaussianNoise(0.3, seed=1, dtype="float64")
    assert np.array_equal(again.forward(x, training=True), noisy)              # a seed repeats the draws


def test_the_defaults_are_keras_defaults(keras):
    K = keras.layers
    pairs = [(L.LeakyReLU(), K.LeakyReLU(), ["negative_slope"]),
             (L.ReLU(), K.ReLU(), ["max_value", "negative_slope", "threshold"]),
             (L.ELU(), K.ELU(), ["alpha"]),
             (L.Softmax(), K.Softmax(), ["axis"]),
             (L.LayerNormalization(), K.LayerNormalization(), ["epsilon", "center", "scale"]),
             (L.Embedding(5, 2), K.Embedding(5, 2), ["input_dim", "output_dim", "mask_zero"]),
             (L.GlobalAveragePooling1D(), K.GlobalAveragePooling1D(), ["data_format", "keepdims"]),
             (L.Normalization(), K.Normalization(), ["invert", "mean", "variance"])]
    for ours, theirs, keys in pairs:
        mine, their = ours.get_config(), theirs.get_config()
        for key in keys:
            assert mine[key] == their[key], (type(ours).__name__, key)
    assert L.LeakyReLU().negative_slope == 0.3                    # Keras 3's default (Keras 2's alpha was 0.3 too)
    init = L.Embedding(5, 2).embeddings_initializer                # Keras's "uniform": U(-0.05, 0.05)
    assert (init.minval, init.maxval) == (-0.05, 0.05)
    assert isinstance(L.PReLU().alpha_initializer, gn.initializers.Zeros)
