"""The compiled kernels of the convolution layers (glassnet/_conv_kernels.py) against their NumPy twins.

im2col copies numbers, so its kernel must give convolution.im2col's rows exactly; col2im adds them in
another order, so within float32 rounding.  Inside a running float32 model Conv2D and Conv1D use
them (with Dense's fused bias + activation kernels): their y, z, dx, dW and db must equal those of
the NumPy code (gn.backend.set_kernels("numpy")) within a few float32 roundings, and the kernels
must have run (the table is wrapped to count calls); float64 and a layer used by hand never run them.
"""

import numpy as np
import pytest

pytest.importorskip("numba")

import glassnet as gn                                      # noqa: E402
from glassnet import _conv_kernels                         # noqa: E402
from glassnet import convolution as C                      # noqa: E402

pytestmark = pytest.mark.usefixtures("isolated_random_state")
CLOSE = dict(rtol=2e-5, atol=2e-5)


def kernel_geometry(g):
    """Geometry -> the kernels' ints (a 1-D geometry as a 2-D one of height 1)."""
    if g.rank == 1:
        return (1, g.out[0], 1, g.kernel[0], 1, g.strides[0], 1, g.dilation[0], 0, g.pads[0][0])
    return (*g.out, *g.kernel, *g.strides, *g.dilation, g.pads[0][0], g.pads[1][0])


GRID = [(spatial, kernel, strides, dilation, padding, channels)
        for spatial, kernel in [((7, 7), (3, 3)), ((6, 9), (2, 5)), ((5, 4), (1, 1)), ((11,), (3,)), ((8,), (4,))]
        for strides, dilation in [(1, 1), (2, 1), (3, 1), (1, 2)]
        for padding in ("valid", "same", "causal")
        for channels in (1, 3, 8)
        if (padding != "causal" or len(spatial) == 1)
        and (padding != "valid" or all((k - 1) * dilation + 1 <= s for k, s in zip(kernel, spatial)))]


@pytest.mark.parametrize("spatial,kernel,strides,dilation,padding,channels", GRID)
def test_im2col_and_col2im_kernels_equal_the_numpy_functions(spatial, kernel, strides, dilation, padding, channels):
    rng = np.random.default_rng(channels)
    x = rng.normal(size=(3,) + spatial + (channels,)).astype(np.float32)
    g = C.Geometry(spatial, kernel, strides, padding, dilation)
    want = C.im2col(x, kernel, strides, padding, dilation)
    cols = np.full(want.shape, np.nan, np.float32)
    x4 = x if g.rank == 2 else x[:, None]
    _conv_kernels.im2col(x4, cols, *kernel_geometry(g))
    np.testing.assert_array_equal(cols, want)

    c = rng.normal(size=want.shape).astype(np.float32)
    dx = np.full(x.shape, np.nan, np.float32)
    _conv_kernels.col2im(c, dx if g.rank == 2 else dx[:, None], *kernel_geometry(g))
    np.testing.assert_allclose(dx, C.col2im(c, x.shape, kernel, strides, padding, dilation), rtol=1e-6, atol=1e-6)


def conv_step(cls, features, n=5, seed=0, by_hand=False, dtype="float32", **kwargs):
    """A model's second layer (cls(**kwargs)) driven by hand while the model runs (or, by_hand, outside
    it): (y, z, dx, dW, db) as float arrays (db None without a bias)."""
    rng = np.random.default_rng(seed)
    layer = cls(dtype=dtype, **kwargs)
    model = gn.Sequential([gn.layers.Input(features), gn.layers.Identity(dtype=dtype), layer])
    model.compile("sgd", "mse")
    layer.need_input_grad = True                     # (the model's first layer with weights skips dx)
    layer.set_weights([rng.normal(scale=0.3, size=w.shape).astype(dtype) for w in layer.get_weights()])
    x = rng.normal(size=(n,) + features).astype(dtype)
    dy = rng.normal(size=(n,) + layer.compute_output_shape((None,) + features)[1:]).astype(dtype)

    def run():
        y = layer.forward(x, training=True).copy()
        z = layer._z.copy()
        dx = layer.backward(dy).copy()
        return y, z, dx, layer.grads["W"].copy(), layer.grads["b"].copy() if "b" in layer.grads else None
    if by_hand:
        return run()
    with model._running(n):
        run()                                        # twice: the second reuses the kept buffers
        return run()


LAYERS = [(gn.layers.Conv2D, (9, 8, 8), dict(filters=6, kernel_size=3)),
          (gn.layers.Conv2D, (7, 10, 12), dict(filters=4, kernel_size=(2, 3), strides=(2, 1), padding="same")),
          (gn.layers.Conv2D, (9, 9, 8), dict(filters=5, kernel_size=3, dilation_rate=2, padding="same")),
          (gn.layers.Conv1D, (12, 8), dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2)),
          (gn.layers.Conv2D, (8, 8, 1), dict(filters=4, kernel_size=3))]        # one channel: NumPy's unfold
FORWARD = {"relu": "dense_forward_relu", "sigmoid": "dense_forward_sigmoid", "softmax": "dense_forward_softmax",
           "linear": "bias_add", "tanh": "bias_add"}
BACKWARD = {"relu": "dense_backward_relu", "sigmoid": "dense_backward_sigmoid", "tanh": "dense_backward_tanh",
            "linear": "column_sum", "softmax": "column_sum"}


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "linear", "softmax"])
@pytest.mark.parametrize("case", range(len(LAYERS)))
def test_conv_layers_with_kernels_equal_the_numpy_code(kernels, case, activation, use_bias):
    cls, features, kwargs = LAYERS[case]
    kwargs = dict(kwargs, activation=activation, use_bias=use_bias)
    kernels("numpy")
    numpy_results = conv_step(cls, features, **kwargs)
    calls = kernels("auto")
    kernel_results = conv_step(cls, features, **kwargs)
    wanted = {FORWARD[activation] if use_bias or activation not in ("linear", "tanh") else None,
              BACKWARD[activation] if use_bias or activation not in ("linear", "softmax") else None}
    if features[-1] >= 8:
        wanted |= {"im2col", "col2im"}
    assert set(calls) == wanted - {None}
    for name, got, want in zip(["y", "z", "dx", "dW", "db"], kernel_results, numpy_results):
        if want is None:
            assert got is None
            continue
        assert got.dtype == np.float32, name
        np.testing.assert_allclose(got, want, **CLOSE, err_msg=name)
    # and the NumPy code against float64
    float64 = conv_step(cls, features, dtype="float64", **kwargs)
    for name, got, want in zip(["y", "z", "dx", "dW", "db"], numpy_results, float64):
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=name)


def test_float64_and_layers_used_by_hand_run_no_kernel(kernels):
    calls = kernels("auto")
    conv_step(gn.layers.Conv2D, (9, 8, 8), dtype="float64", filters=3, kernel_size=3, activation="relu")
    conv_step(gn.layers.Conv2D, (9, 8, 8), by_hand=True, filters=3, kernel_size=3, activation="relu")
    assert not calls


def test_fit_with_kernels_equals_fit_without(kernels):
    """A small convnet trained for an epoch (last batch smaller: views of the kept buffers)."""
    def train():
        gn.set_random_seed(3)
        rng = np.random.default_rng(3)
        model = gn.Sequential([gn.layers.Input((10, 10, 2)), gn.layers.Conv2D(8, 3, activation="relu"),
                               gn.layers.Conv2D(8, 3, strides=2, padding="same", activation="tanh"),
                               gn.layers.Flatten(), gn.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(rng.normal(size=(45, 10, 10, 2)).astype(np.float32), rng.integers(0, 3, 45), batch_size=16,
                  epochs=2, verbose=0, shuffle=False)
        return model.get_weights()
    kernels("numpy")
    want = train()
    calls = kernels("auto")
    got = train()
    assert calls["im2col"] == 6 and calls["col2im"] == 6           # 3 batches x 2 epochs, second conv only
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
