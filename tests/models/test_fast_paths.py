"""The fast paths of fit, evaluate and predict compute what the textbook computes.

Each optimisation of the hot loop (kept layer buffers, the fused softmax + cross-entropy kernel
on labels checked once, accuracy counted from the logits, batches read and converted one at a
time, one BLAS thread for small products) is compared here with a straightforward NumPy
computation written out in this file: tight in float64 (1e-12), within float32 rounding in
float32.  No timing is asserted here; docs/benchmarks.md measures the speed.
"""
import tracemalloc
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import activations, backend, losses

pytestmark = pytest.mark.usefixtures("isolated_random_state")


# ----------------------------------------------------------------------------
# The reference: a plain NumPy training loop, as a textbook writes it
# ----------------------------------------------------------------------------
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS = {  # f(z), f'(z) from the output a
    "sigmoid": (_sigmoid, lambda a: a * (1.0 - a)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda a: (a > 0).astype(a.dtype)),
    "tanh": (np.tanh, lambda a: 1.0 - a * a),
}


def reference_fit(weights, x, y, batch_size, optimizer, activation, epochs=1):
    """Weights [W1, b1, W2, b2, ...] after `epochs` unshuffled epochs of minibatch training of a
    dense network (hidden layers `activation`, softmax output, mean cross-entropy), and per epoch
    the mean loss and accuracy of the batches as they were before each update.

    optimizer: ("sgd", lr) or ("adam", lr, beta_1, beta_2, epsilon) -- Keras's Adam.
    """
    f, df = ACTIVATIONS[activation]
    w = [np.array(a, dtype=np.float64) for a in weights]
    x = np.asarray(x, dtype=np.float64)
    m = [np.zeros_like(a) for a in w]
    v = [np.zeros_like(a) for a in w]
    t = 0
    history = {"loss": [], "accuracy": []}
    layers = len(w) // 2
    for _ in range(epochs):
        loss_sum, hits = 0.0, 0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            nb = len(xb)
            # forward
            outputs = [xb]
            for i in range(layers):
                z = outputs[-1] @ w[2 * i] + w[2 * i + 1]
                outputs.append(f(z) if i < layers - 1 else z)
            z = outputs[-1]
            shifted = z - z.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            loss_sum += -log_p[np.arange(nb), yb].sum()
            hits += int(np.sum(np.argmax(z, axis=1) == yb))
            # backward: dL/dz = (softmax - onehot) / n, then layer by layer
            onehot = np.eye(z.shape[1])[yb]
            dz = (np.exp(log_p) - onehot) / nb
            grads = [None] * len(w)
            for i in reversed(range(layers)):
                grads[2 * i] = outputs[i].T @ dz
                grads[2 * i + 1] = dz.sum(axis=0)
                if i:
                    dz = (dz @ w[2 * i].T) * df(outputs[i])
            # update
            t += 1
            if optimizer[0] == "sgd":
                for a, g in zip(w, grads):
                    a -= optimizer[1] * g
            else:
                _, lr, b1, b2, eps = optimizer
                alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                for a, g, mi, vi in zip(w, grads, m, v):
                    mi[...] = b1 * mi + (1 - b1) * g
                    vi[...] = b2 * vi + (1 - b2) * g * g
                    a -= alpha * mi / (np.sqrt(vi) + eps)
        history["loss"].append(loss_sum / len(x))
        history["accuracy"].append(hits / len(x))
    return w, history


def make_data(n=45, features=20, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, features))
    y = rng.integers(0, classes, size=n)
    return x, y


def make_model(units, activation, optimizer, dtype="float64", features=20, seed=1):
    rng = np.random.default_rng(seed)
    layers = []
    n_in = features
    for i, u in enumerate(units):
        act = activation if i < len(units) - 1 else "softmax"
        kwargs = {"input_shape": (features,)} if i == 0 else {}
        layers.append(gn.layers.Dense(u, activation=act, dtype=dtype, **kwargs))
        n_in = u
    model = gn.Sequential(layers)
    weights = []
    n_in = features
    for u in units:
        weights += [rng.normal(scale=0.5, size=(n_in, u)), rng.normal(scale=0.1, size=u)]
        n_in = u
    model.set_weights(weights)
    opt = gn.optimizers.SGD(optimizer[1]) if optimizer[0] == "sgd" else \
        gn.optimizers.Adam(optimizer[1], beta_1=optimizer[2], beta_2=optimizer[3], epsilon=optimizer[4])
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, [w.astype(dtype) for w in model.get_weights()]


NETWORKS = [((7, 4), "sigmoid"), ((9, 6, 4), "relu"), ((5, 4), "tanh")]
OPTIMIZERS = [("sgd", 0.5), ("adam", 0.01, 0.9, 0.999, 1e-7)]


# ----------------------------------------------------------------------------
# fit: one epoch equals the reference loop
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("units, activation", NETWORKS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: o[0])
def test_one_fit_epoch_equals_the_reference_loop_in_float64(units, activation, optimizer):
    x, y = make_data()
    model, start = make_model(units, activation, optimizer)
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, doctor=False)   # 45 = 5 x 8 + 5
    expected, ref_history = reference_fit(start, x, y, 8, optimizer, activation, epochs=2)
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(history.history["loss"], ref_history["loss"], rtol=1e-12)
    assert history.history["accuracy"] == ref_history["accuracy"]
    assert all(type(v) is float for v in history.history["accuracy"] + history.history["loss"])


@pytest.mark.parametrize("units, activation", NETWORKS)
def test_one_fit_epoch_in_float32_stays_within_rounding_of_the_reference(units, activation):
    x, y = make_data()
    optimizer = ("sgd", 0.5)
    model, start = make_model(units, activation, optimizer, dtype="float32")
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, doctor=False)
    expected, ref_history = reference_fit(start, x.astype(np.float32), y, 8, optimizer, activation)
    for got, want in zip(model.get_weights(), expected):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(history.history["loss"], ref_history["loss"], rtol=1e-5)


def test_adam_in_float32_follows_the_float64_run():
    x, y = make_data(n=64)
    optimizer = OPTIMIZERS[1]
    m32, start = make_model((7, 4), "sigmoid", optimizer, dtype="float32")
    h32 = m32.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, doctor=False)
    _, ref = reference_fit(start, x.astype(np.float32), y, 16, optimizer, "sigmoid", epochs=3)
    np.testing.assert_allclose(h32.history["loss"], ref["loss"], rtol=1e-4)


def test_train_on_batch_is_one_step_of_fit():
    x, y = make_data(n=16)
    a, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[1])
    b, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[1])
    loss, acc = a.train_on_batch(x, y)
    history = b.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, doctor=False)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert loss == history.history["loss"][0] and acc == history.history["accuracy"][0]


def test_shuffled_fit_repeats_bit_for_bit_with_the_same_seed():
    x, y = make_data(n=100)
    runs = []
    for _ in range(2):
        gn.set_random_seed(7)
        model, _ = make_model((9, 6, 4), "relu", OPTIMIZERS[1], dtype="float32")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, doctor=False)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------
# evaluate and predict
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [1, 7, 45, 100])
def test_evaluate_accumulates_loss_and_accuracy_like_the_reference(batch_size):
    x, y = make_data()
    model, weights = make_model((7, 4), "sigmoid", OPTIMIZERS[0])
    loss, acc = model.evaluate(x, y, batch_size=batch_size, verbose=0)
    z = _sigmoid(x @ weights[0] + weights[1]) @ weights[2] + weights[3]
    shifted = z - z.max(axis=1, keepdims=True)
    per_sample = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(y)), y]
    assert loss == pytest.approx(per_sample.mean(), rel=1e-12)
    assert acc == np.mean(np.argmax(z, axis=1) == y)
    p = model.predict(x, batch_size=batch_size)
    np.testing.assert_allclose(p, np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True), rtol=1e-13)


def test_evaluate_with_a_metric_on_probabilities_uses_the_probabilities():
    x, y = make_data()
    model, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[0])
    onehot = np.eye(4)[y]

    def probability_error(y_true, y_pred):           # a user's metric: it needs p, not the logits
        return np.sum(np.abs(y_pred - np.eye(4)[np.asarray(y_true)]), axis=-1)

    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", probability_error])
    _, acc, err = model.evaluate(x, y, batch_size=8, verbose=0)
    p = model.predict(x)
    assert acc == np.mean(np.argmax(p, axis=1) == y)
    assert err == pytest.approx(np.mean(np.sum(np.abs(p - onehot), axis=1)), rel=1e-12)


def test_categorical_accuracy_from_one_hot_targets():
    x, y = make_data()
    model = gn.Sequential([gn.layers.Dense(4, activation="softmax", input_shape=(20,), dtype="float64")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    _, acc = model.evaluate(x, np.eye(4)[y], batch_size=8, verbose=0)
    assert acc == np.mean(np.argmax(model.predict(x), axis=1) == y)


# ----------------------------------------------------------------------------
# Inputs that are never converted whole: uint8, memmap, float64 into float32
# ----------------------------------------------------------------------------
def _pixels(n=120, features=20, seed=3):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, features)).astype(np.uint8), rng.integers(0, 4, size=n)


def _trained(x, y, shuffle=True, **fit_kwargs):
    gn.set_random_seed(11)
    model, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[1], dtype="float32")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=shuffle, verbose=0, doctor=False, **fit_kwargs)
    return model, history.history


@pytest.mark.parametrize("shuffle", [True, False])
def test_uint8_and_memmap_inputs_train_exactly_as_their_float32_conversion(tmp_path, shuffle):
    x8, y = _pixels()
    mm = np.memmap(tmp_path / "x.u8", dtype=np.uint8, mode="w+", shape=x8.shape)
    mm[:] = x8
    mm.flush()
    mm = np.memmap(tmp_path / "x.u8", dtype=np.uint8, mode="r", shape=x8.shape)
    ref_model, ref_history = _trained(x8.astype(np.float32), y, shuffle, validation_split=0.25)
    for x in (x8, mm):
        model, history = _trained(x, y, shuffle, validation_split=0.25)
        assert history == ref_history
        for a, b in zip(model.get_weights(), ref_model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_predict_and_evaluate_on_a_memmap_equal_those_on_the_array(tmp_path):
    x = np.random.default_rng(5).random((97, 20)).astype(np.float32)
    y = np.random.default_rng(6).integers(0, 4, size=97)
    mm = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="w+", shape=x.shape)
    mm[:] = x
    mm.flush()
    mm = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="r", shape=x.shape)
    model, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[0], dtype="float32")
    p = model.predict(mm, batch_size=10)
    assert type(p) is np.ndarray and p.dtype == np.float32
    np.testing.assert_array_equal(p, model.predict(x, batch_size=10))
    assert model.evaluate(mm, y, batch_size=10, verbose=0) == model.evaluate(x, y, batch_size=10, verbose=0)


def test_float64_input_is_converted_per_batch_as_a_whole_cast_would():
    x, y = make_data(n=64)
    a, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[1], dtype="float32")
    b, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[1], dtype="float32")
    a.fit(x, y, batch_size=16, shuffle=False, verbose=0, doctor=False)
    b.fit(x.astype(np.float32), y, batch_size=16, shuffle=False, verbose=0, doctor=False)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.predict(x), a.predict(x.astype(np.float32)))


def _peak_during(call):
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        call()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_fit_and_predict_make_no_copy_of_the_data(dtype):
    """A float32 copy of this uint8 x would take 16 MB, a finiteness mask of the float32 x 4 MB."""
    n, features = 5000, 784
    x = np.random.default_rng(0).integers(0, 256, size=(n, features)).astype(dtype)
    y = np.random.default_rng(1).integers(0, 10, size=n)
    model = gn.Sequential([gn.layers.Rescaling(1 / 255, input_shape=(features,)),
                           gn.layers.Dense(16, activation="relu"), gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:64], y[:64], verbose=0, doctor=False)                  # the optimizer's state exists
    limit = 3 * 2**20
    assert _peak_during(lambda: model.fit(x, y, batch_size=32, verbose=0, doctor=False)) < limit
    assert _peak_during(lambda: model.evaluate(x, y, batch_size=256, verbose=0)) < limit
    out = n * 10 * 4                                                     # predict's own result
    assert _peak_during(lambda: model.predict(x, batch_size=256)) < limit + out


def test_non_finite_values_are_still_found_in_any_chunk():
    x, y = make_data(n=3000)
    x[2999, 5] = np.nan                              # in the last chunk of the scan
    model, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[0])
    with pytest.raises(ValueError, match="x must be finite, got 1 NaN"):
        model.fit(x, y, verbose=0)
    x[2999, 5] = 0.0
    x[0, 0] = 1e300
    model32, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[0], dtype="float32")
    with pytest.raises(ValueError, match="too large for float32"):
        model32.predict(x)


# ----------------------------------------------------------------------------
# The kernels
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_kernel_variants_agree_with_the_public_loss(dtype, monkeypatch):
    """NumPy's fused variants, bit for bit (the compiled one: tests/layers/test_layer_kernels.py)."""
    monkeypatch.setattr(backend, "_KERNELS_WANTED", "numpy")
    monkeypatch.setattr(backend, "_KERNEL_TABLE", {})
    rng = np.random.default_rng(0)
    z = (rng.normal(size=(13, 5)) * 4).astype(dtype)
    labels = rng.integers(0, 5, size=13)
    loss = losses.SparseCategoricalCrossentropy()
    value, dz, p = loss.logits_forward_backward(labels, z)
    buf = np.empty_like(z)
    v2, dz2, p2 = loss._fused(labels.astype(np.intp), z, buf, want_p=False)
    assert v2 == value and p2 is None and dz2 is buf
    np.testing.assert_array_equal(dz2, dz)
    v3, dz3, p3 = loss._fused(labels.astype(np.intp), z, np.empty_like(z), want_dz=False)
    assert v3 == value and dz3 is None
    np.testing.assert_array_equal(p3, p)
    assert loss._fused(labels.astype(np.intp), z, None, want_p=False, want_dz=False)[0] == value
    np.testing.assert_array_equal(p, activations.softmax(z))
    np.testing.assert_array_equal(dz, (activations.softmax(z) - np.eye(5, dtype=dtype)[labels]) / 13)


def test_row_max_is_max_even_with_nan_and_ties():
    z = np.array([[1.0, 3.0, 3.0], [np.nan, 5.0, 1.0], [-np.inf, -np.inf, -1.0], [2.0, np.nan, 7.0]])
    np.testing.assert_array_equal(activations._row_max(z), z.max(axis=-1, keepdims=True))


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_forward_into_a_buffer_equals_the_function(name, dtype):
    z = np.random.default_rng(0).normal(size=(6, 5)).astype(dtype) * 3
    row = activations.ACTIVATIONS[name]
    out = np.empty_like(z)
    got = row.forward_into(z, out)
    assert got is z if name == "linear" else got is out
    np.testing.assert_allclose(got, row.function(z), rtol=1e-6 if dtype == np.float32 else 1e-15, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_extremes_without_warnings(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = activations.sigmoid(np.array([-1e4, -80.0, 0.0, 80.0, 1e4], dtype=dtype))
    assert s.dtype == dtype
    assert s[0] == 0.0 and s[2] == 0.5 and s[3] == 1.0 and s[4] == 1.0
    assert s[1] == pytest.approx(np.exp(-80.0), rel=1e-6)          # tiny, but not lost


def test_dense_used_by_hand_returns_fresh_arrays():
    layer = gn.layers.Dense(3, activation="sigmoid", dtype="float64")
    x = np.ones((2, 4))
    a, b = layer.forward(x), layer.forward(2 * x)
    assert not np.shares_memory(a, b)


# ----------------------------------------------------------------------------
# BLAS threads
# ----------------------------------------------------------------------------
def _blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    """{library: threads} of NumPy's own BLAS (numba's first compile may load SciPy's too; NumPy never calls it)."""
    return {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == "blas" and "numpy" in lib["filepath"]}


class _ThreadSpy(gn.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.seen = _blas_threads()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_blas_thread_for_small_products_leaves_the_results_unchanged(monkeypatch, dtype):
    before = _blas_threads()
    x, y = make_data(n=200)
    runs = []
    for threshold in (0, 10**12):                   # never limit / always limit
        monkeypatch.setattr(backend, "SMALL_MATMUL_FLOPS", threshold)
        gn.set_random_seed(3)
        model, _ = make_model((9, 6, 4), "relu", OPTIMIZERS[1], dtype=dtype)
        spy = _ThreadSpy()
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, doctor=False, callbacks=[spy])
        if threshold:
            assert spy.seen and all(n == 1 for n in spy.seen.values())
        runs.append((model.get_weights(), history.history["loss"], model.predict(x)))
        assert _blas_threads() == before            # restored after fit
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=1e-4, atol=1e-6)
    (w0, l0, p0), (w1, l1, p1) = runs
    for a, b in zip(w0, w1):
        np.testing.assert_allclose(a, b, **tol)
    np.testing.assert_allclose(l0, l1, **tol)
    np.testing.assert_allclose(p0, p1, **tol)


def test_without_threadpoolctl_fit_runs_unchanged(monkeypatch):
    monkeypatch.setattr(backend, "_BLAS", False)      # as if threadpoolctl were not installed
    x, y = make_data()
    model, start = make_model((7, 4), "sigmoid", OPTIMIZERS[0])
    model.fit(x, y, batch_size=8, shuffle=False, verbose=0, doctor=False)
    expected, _ = reference_fit(start, x, y, 8, OPTIMIZERS[0], "sigmoid")
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_predict_from_a_callback_leaves_fit_as_it_was():
    x, y = make_data(n=64)
    a, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[1])
    b, _ = make_model((7, 4), "sigmoid", OPTIMIZERS[1])
    probe = gn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: b.predict(x[:5]))
    a.fit(x, y, batch_size=16, shuffle=False, verbose=0, doctor=False)
    b.fit(x, y, batch_size=16, shuffle=False, verbose=0, doctor=False, callbacks=[probe])
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not any(layer._reuse for layer in b.layers) and not b._reusing
