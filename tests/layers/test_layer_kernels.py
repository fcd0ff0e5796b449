"""The compiled kernels of Dense and of the fused softmax cross-entropy (glassnet/_kernels.py).

Each kernel is compared with the NumPy code it replaces (gn.backend.set_kernels("numpy")): within a
few float32 roundings, as the kernels' exp is not NumPy's; and with float64 computed here from the
formulas, within float32 precision.  Every comparison also checks that the kernel did run (the
kernel table is wrapped to count calls), or, where it must not (float64, a layer used by hand),
that it did not.
"""

import numpy as np
import pytest

pytest.importorskip("numba")

import glassnet as gn                                      # noqa: E402
from glassnet import _kernels, losses                      # noqa: E402

pytestmark = pytest.mark.usefixtures("isolated_random_state")

CLOSE = dict(rtol=1e-5, atol=1e-6)          # kernel against the NumPy code, both float32


# ----------------------------------------------------------------------------
# References in float64, from the formulas
# ----------------------------------------------------------------------------
def f64(a):
    return np.asarray(a, dtype=np.float64)


def activate(z, activation):
    if activation == "linear":
        return z
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "relu":
        return np.where(z > 0, z, 0.0)
    if activation == "tanh":
        return np.tanh(z)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def activation_vjp(y, dy, activation):
    """dL/dz from dL/dy and the output y."""
    if activation == "linear":
        return dy
    if activation == "sigmoid":
        return dy * y * (1.0 - y)
    if activation == "relu":
        return dy * (y > 0)
    if activation == "tanh":
        return dy * (1.0 - y * y)
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def softmax_xent(z, labels):
    """(mean loss, dz, p) in float64."""
    z = f64(z)
    n, k = z.shape
    shifted = z - z.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    p = np.exp(log_p)
    return -log_p[np.arange(n), labels].mean(), (p - np.eye(k)[labels]) / n, p


# ----------------------------------------------------------------------------
# exp
# ----------------------------------------------------------------------------
def test_the_kernels_exp_is_within_one_ulp_and_keeps_inf_zero_and_nan():
    x = np.concatenate([np.linspace(-103.9, 88.72, 400_001, dtype=np.float32),
                        np.float32([0.0, -0.0, 1e-8, -1e-8, 88.7228, 88.73, 100.0, 1e30, np.inf,
                                    -87.33, -103.97, -104.5, -1e30, -np.inf, np.nan])])
    got = x.copy()
    _kernels._exp_all(got)
    with np.errstate(over="ignore"):
        want = np.exp(f64(x))
        ulp = np.spacing(want.astype(np.float32)).astype(np.float64)
    normal = (want >= np.finfo(np.float32).tiny) & (want <= np.finfo(np.float32).max)
    assert np.max(np.abs(got[normal] - want[normal]) / ulp[normal]) <= 1.0
    tiny = want < np.finfo(np.float32).tiny                       # subnormal results: to the last one
    assert np.max(np.abs(got[tiny] - want[tiny])) <= 2 * np.finfo(np.float32).smallest_subnormal
    assert np.all(got[want > np.finfo(np.float32).max] == np.inf)
    assert got[-2] == 0.0 and got[-3] == 0.0 and np.isnan(got[-1])


# ----------------------------------------------------------------------------
# Dense inside a running model, one layer by hand
# ----------------------------------------------------------------------------
FORWARD_KERNEL = {"linear": "bias_add", "tanh": "bias_add", "sigmoid": "dense_forward_sigmoid",
                  "relu": "dense_forward_relu", "softmax": "dense_forward_softmax"}
BACKWARD_KERNEL = {"linear": "column_sum", "softmax": "column_sum", "sigmoid": "dense_backward_sigmoid",
                   "relu": "dense_backward_relu", "tanh": "dense_backward_tanh"}


def dense_step(activation, use_bias, units=11, n=37, features=9, seed=0, x_scale=1.0, **layer_kwargs):
    """A float32 model's second Dense layer, driven by hand while the model runs: (y, z, dx, dW, db)
    and the float32 inputs (x, dy, W, b)."""
    rng = np.random.default_rng(seed)
    layer = gn.layers.Dense(units, activation=activation, use_bias=use_bias, dtype="float32", **layer_kwargs)
    model = gn.Sequential([gn.layers.Dense(features, input_shape=(4,), dtype="float32"), layer])
    model.compile("sgd", "mse")
    W = rng.normal(scale=0.7, size=(features, units)).astype(np.float32)
    b = rng.normal(scale=0.5, size=units).astype(np.float32)
    layer.set_weights([W, b] if use_bias else [W])
    x = (rng.normal(size=(n, features)) * x_scale).astype(np.float32)
    dy = rng.normal(size=(n, units)).astype(np.float32)
    with model._running(n):
        y = layer.forward(x, training=True).copy()
        z = layer._z.copy()
        dx = layer.backward(dy).copy()
    grads = [layer.grads["W"].copy(), layer.grads["b"].copy() if use_bias else None]
    return (y, z, dx, *grads), (x, dy, W, b if use_bias else np.zeros_like(b))


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("activation", ["linear", "sigmoid", "relu", "tanh", "softmax"])
def test_dense_forward_and_backward_in_a_model(kernels, activation, use_bias):
    kernels("numpy")
    numpy_results, (x, dy, W, b) = dense_step(activation, use_bias)
    calls = kernels("auto")
    kernel_results, _ = dense_step(activation, use_bias)
    forward = FORWARD_KERNEL[activation] if use_bias or activation not in ("linear", "tanh") else None
    backward = BACKWARD_KERNEL[activation] if use_bias or activation not in ("linear", "softmax") else None
    wanted = {forward, backward} - {None}
    assert set(calls) == wanted

    z = f64(x) @ f64(W) + f64(b)
    y = activate(z, activation)
    dz = activation_vjp(y, f64(dy), activation)
    reference = (y, z, dz @ f64(W).T, f64(x).T @ dz, dz.sum(axis=0) if use_bias else None)
    for name, got, same, want in zip(["y", "z", "dx", "dW", "db"], kernel_results, numpy_results, reference):
        if want is None:
            assert got is None and same is None
            continue
        assert got.dtype == np.float32, name
        np.testing.assert_allclose(got, same, **CLOSE, err_msg=name)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "softmax"])
def test_dense_forward_kernels_at_extreme_inputs(kernels, activation):
    """Logits of +-1e4 (sigmoid's exp overflows, softmax's rows have one winner or ties)."""
    kernels("numpy")
    (y_np, *_), (x, _, W, b) = dense_step(activation, True, x_scale=3e3)
    calls = kernels("auto")
    (y, *_), _ = dense_step(activation, True, x_scale=3e3)
    assert calls[FORWARD_KERNEL[activation]] == 1
    z = f64(x) @ f64(W) + f64(b)
    assert np.abs(z).max() > 1e4
    with np.errstate(over="ignore"):
        want = activate(z, activation)
    np.testing.assert_allclose(y, y_np, **CLOSE)
    # z itself is rounded in float32 as it sums terms of 1e4: its error scales with their sizes
    z_error = 1e-6 * (np.abs(f64(x)) @ np.abs(f64(W)) + np.abs(f64(b))) if activation == "relu" else 0
    assert np.all(np.abs(y - want) <= z_error + 1e-5 * np.abs(want) + 1e-6)
    assert np.all(np.isfinite(y))


def test_bias_gradient_keeps_the_regularizers(kernels):
    kw = dict(kernel_regularizer=gn.regularizers.L1(0.03), bias_regularizer=gn.regularizers.L2(0.2))
    kernels("numpy")
    numpy_results, (x, dy, W, b) = dense_step("sigmoid", True, **kw)
    calls = kernels("auto")
    kernel_results, _ = dense_step("sigmoid", True, **kw)
    assert calls["dense_backward_sigmoid"] == 1
    y = activate(f64(x) @ f64(W) + f64(b), "sigmoid")
    dz = activation_vjp(y, f64(dy), "sigmoid")
    want_db = dz.sum(axis=0) + 2 * 0.2 * f64(b)
    want_dW = f64(x).T @ dz + 0.03 * np.sign(f64(W))
    np.testing.assert_allclose(kernel_results[4], want_db, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(kernel_results[3], want_dW, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(kernel_results[4], numpy_results[4], **CLOSE)


def test_dense_on_3d_input_in_a_model(kernels):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4, 5)).astype(np.float32)
    dy = rng.normal(size=(6, 4, 3)).astype(np.float32)
    W, b = rng.normal(size=(5, 3)).astype(np.float32), np.float32([0.5, -0.5, 0.1])
    out = {}
    for mode in ("numpy", "auto"):
        calls = kernels(mode)
        layer = gn.layers.Dense(3, activation="relu", dtype="float32")
        model = gn.Sequential([gn.layers.Dense(5, input_shape=(5,), dtype="float32"), layer])
        layer.set_weights([W, b])
        with model._running(24):
            y = layer.forward(x).copy()
            dx = layer.backward(dy).copy()
        out[mode] = (y, dx, layer.grads["b"].copy())
    assert calls["dense_forward_relu"] == 1 and calls["dense_backward_relu"] == 1
    assert out["auto"][0].shape == (6, 4, 3) and out["auto"][1].shape == (6, 4, 5)
    y = np.maximum(f64(x) @ f64(W) + f64(b), 0)
    dz = f64(dy) * (y > 0)
    for got, same, want in zip(out["auto"], out["numpy"], (y, dz @ f64(W).T, dz.sum(axis=(0, 1)))):
        np.testing.assert_allclose(got, same, **CLOSE)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_layer_used_by_hand_and_float64_never_run_kernels(kernels):
    rng = np.random.default_rng(4)
    x, dy = rng.normal(size=(8, 5)), rng.normal(size=(8, 3))
    calls = kernels("auto")
    for dtype in ("float32", "float64"):
        layer = gn.layers.Dense(3, activation="relu", dtype=dtype)
        y = layer.forward(x.astype(dtype))
        layer.backward(dy.astype(dtype))
        np.testing.assert_allclose(y, np.maximum(x.astype(dtype) @ layer.params["W"], 0), rtol=1e-6)
    model = gn.Sequential([gn.layers.Dense(4, activation="sigmoid", input_shape=(5,), dtype="float64"),
                           gn.layers.Dense(3, activation="softmax", dtype="float64")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, rng.integers(0, 3, 8), batch_size=4, verbose=0, doctor=False)
    model.predict(x)
    assert not calls


# ----------------------------------------------------------------------------
# The fused softmax cross-entropy
# ----------------------------------------------------------------------------
def logits(k, seed=0):
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(40, k)) * 5).astype(np.float32)
    z[0] = 1e4                                        # all tied, and huge
    z[1, :] = -1e4
    z[1, k // 2] = 1e4                                # one huge winner, the rest far below
    z[2, :2] = z[2].max() + 1                         # a tie for the maximum
    z[3] = 0.0
    labels = rng.integers(0, k, size=40).astype(np.intp)
    labels[1] = 0                                     # a hopeless label: loss 2e4
    return z, labels


@pytest.mark.parametrize("k", [3, 10, 200])
@pytest.mark.parametrize("want_p, want_dz", [(False, True), (True, True), (True, False), (False, False)])
def test_fused_softmax_cross_entropy(kernels, k, want_p, want_dz):
    """The kernel against SparseCategoricalCrossentropy._fused, whose work it does (not wired into
    _fused yet: see the note at the end of this file)."""
    z, labels = logits(k)
    loss = losses.SparseCategoricalCrossentropy()
    kernels("numpy")
    v_np, dz_np, p_np = loss._fused(labels, z, np.empty_like(z), want_p, want_dz)
    buf = np.empty_like(z)
    value, dz, p = _kernels.TABLE["softmax_cross_entropy"](labels, z, buf, want_p, want_dz)
    v_ref, dz_ref, p_ref = softmax_xent(z, labels)
    assert value == pytest.approx(v_ref, rel=1e-6) and value == pytest.approx(v_np, rel=1e-6)
    assert type(value) is float and v_ref > 2e4 / 40
    if want_dz:
        assert dz is buf
        np.testing.assert_allclose(dz, dz_np, **CLOSE)
        np.testing.assert_allclose(dz, dz_ref, rtol=1e-5, atol=1e-7)
    else:
        assert dz is None and dz_np is None
    if want_p:
        assert (p is buf) == (not want_dz)                  # the buffer, unless it holds dz
        np.testing.assert_allclose(p, p_np, **CLOSE)
        np.testing.assert_allclose(p, p_ref, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(p[0], 1 / k, rtol=1e-6)
        assert p[1, k // 2] == 1 and np.all(np.delete(p[1], k // 2) == 0)
    else:
        assert p is None and p_np is None


def test_softmax_kernels_give_nan_rows_as_numpy():
    z, labels = logits(10)
    z[5, 3] = np.nan
    z[6, 0] = np.nan                                   # first in its row
    _, dz, p = _kernels.softmax_cross_entropy(labels, z, np.empty_like(z))
    y = np.empty_like(z)
    _kernels.dense_forward_softmax(z.copy(), None, y)
    for a in (dz, p, y):
        assert np.all(np.isnan(a[5])) and np.all(np.isnan(a[6]))
        assert np.all(np.isfinite(np.delete(a, [5, 6], axis=0)))


# ----------------------------------------------------------------------------
# Whole models: fit, evaluate, predict
# ----------------------------------------------------------------------------
def small_model(dtype, loss="sparse_categorical_crossentropy", out="softmax", classes=5):
    gn.set_random_seed(7)
    model = gn.Sequential([
        gn.layers.Dense(12, activation="sigmoid", input_shape=(8,), dtype=dtype,
                        bias_regularizer=gn.regularizers.L2(1e-3)),
        gn.layers.Dense(10, activation="relu", dtype=dtype, bias_initializer="ones"),
        gn.layers.Dense(9, activation="tanh", dtype=dtype, use_bias=False),
        gn.layers.Dense(7, activation="linear", dtype=dtype),
        gn.layers.Dense(classes, activation=out, dtype=dtype)])
    model.compile(gn.optimizers.Adam(0.01), loss, metrics=["accuracy"] if out == "softmax" else [])
    return model


def data(n=150, classes=5):
    rng = np.random.default_rng(11)
    return rng.normal(size=(n, 8)).astype(np.float32), rng.integers(0, classes, n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_evaluate_predict_with_and_without_kernels(kernels, dtype):
    x, y = data()
    runs = {}
    for mode in ("numpy", "auto"):
        calls = kernels(mode)
        model = small_model(dtype)
        history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, doctor=False)   # 150 = 4 x 32 + 22
        runs[mode] = (model.get_weights(), history.history["loss"], model.evaluate(x, y, verbose=0),
                      model.predict(x, batch_size=64))
    if dtype == "float64":
        assert not calls
        for a, b in zip(runs["numpy"][0] + [runs["numpy"][3]], runs["auto"][0] + [runs["auto"][3]]):
            np.testing.assert_array_equal(a, b)
        assert runs["numpy"][1:3] == runs["auto"][1:3]
        return
    assert {"dense_forward_sigmoid", "dense_forward_relu", "bias_add",
            "dense_forward_softmax", "column_sum", "dense_backward_sigmoid", "dense_backward_relu",
            "dense_backward_tanh", "adam"} <= set(calls)
    (w_np, loss_np, ev_np, p_np), (w, loss, ev, p) = runs["numpy"], runs["auto"]
    for a, b in zip(w, w_np):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(loss, loss_np, rtol=1e-5)
    np.testing.assert_allclose(ev, ev_np, rtol=1e-5)
    np.testing.assert_allclose(p, p_np, rtol=1e-4, atol=1e-6)
    # predict against the trained weights, in float64
    h = f64(x)
    for layer, act in zip(model_layers(w), ["sigmoid", "relu", "tanh", "linear", "softmax"]):
        h = activate(h @ layer[0] + layer[1], act)
    np.testing.assert_allclose(p, h, rtol=1e-5, atol=1e-6)
    assert ev[1] == np.mean(h.argmax(axis=1) == y)


def model_layers(weights):
    """[(W, b)] in float64 from get_weights() of small_model (its third layer has no bias)."""
    w = [f64(a) for a in weights]
    return [(w[0], w[1]), (w[2], w[3]), (w[4], 0.0), (w[5], w[6]), (w[7], w[8])]


def test_fit_with_a_linear_output_and_mse(kernels):
    x, labels = data()
    y = np.eye(5, dtype=np.float32)[labels]
    runs = {}
    for mode in ("numpy", "auto"):
        calls = kernels(mode)
        model = small_model("float32", loss="mse", out="linear")
        runs[mode] = (model.fit(x, y, batch_size=32, epochs=2, verbose=0, doctor=False).history["loss"],
                      model.get_weights())
    assert calls["column_sum"] > 0 and calls["dense_backward_tanh"] > 0
    np.testing.assert_allclose(runs["auto"][0], runs["numpy"][0], rtol=1e-5)
    for a, b in zip(runs["auto"][1], runs["numpy"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------
# Note: the fused loss kernel is not used by SparseCategoricalCrossentropy._fused yet.  Wiring it in
# (for a given dz_out buffer in float32) changes _fused's float32 results in the last bits, which
# tests/models/test_fast_paths.py::test_fused_kernel_variants_agree_with_the_public_loss[float32] checks
# bit for bit.  The tests above compare _fused under set_kernels("numpy"), so they hold either way.
# ----------------------------------------------------------------------------
