"""sample_weight and class_weight: Keras 3's reduction sum(w_i * l_i) / n, its exact gradient (the fused
softmax/sigmoid + cross-entropy path included), per output of a model with several outputs, in
validation and in evaluate; against Keras 3 on the same weights, float64 central differences and
closed forms."""
import numpy as np
import pytest

import glassnet as gn

N = 12


def _weights(units_in, hidden, units_out, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(units_in, hidden)).astype(dtype), (0.1 * rng.normal(size=hidden)).astype(dtype),
            rng.normal(size=(hidden, units_out)).astype(dtype), (0.1 * rng.normal(size=units_out)).astype(dtype)]


def _ours(activation, units, loss, dtype="float32", weights=None):
    model = gn.Sequential([gn.layers.Dense(5, activation="tanh", input_shape=(4,), dtype=dtype),
                           gn.layers.Dense(units, activation=activation, dtype=dtype)])
    model.set_weights(weights or _weights(4, 5, units, dtype=dtype))
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.1), loss=loss)
    return model


def _theirs(keras, activation, units, loss, weights=None):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(units, activation=activation)])
    model.set_weights(weights or _weights(4, 5, units))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss)
    return model


def _data(seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 4)).astype(np.float32)
    w = rng.uniform(0.1, 3.0, size=N).astype(np.float32)
    labels = rng.integers(0, 3, N)
    return rng, x, w, labels


CASES = {       # name: (output activation, units, our loss, Keras's loss, targets)
    "softmax + sparse cross-entropy (fused)": ("softmax", 3, "sparse_categorical_crossentropy",
                                               "sparse_categorical_crossentropy", "labels"),
    "softmax + categorical cross-entropy (fused)": ("softmax", 3, "categorical_crossentropy",
                                                    "categorical_crossentropy", "onehot"),
    "sigmoid + binary cross-entropy, 2 units (fused)": ("sigmoid", 2, "binary_crossentropy",
                                                        "binary_crossentropy", "binary"),
    "linear + mse": ("linear", 2, "mse", "mse", "real"),
    "linear + mae": ("linear", 2, "mae", "mae", "real"),
    "logits + sparse cross-entropy": ("linear", 3, "sparse_logits", "sparse_logits", "labels"),
    "logits + binary cross-entropy": ("linear", 2, "binary_logits", "binary_logits", "binary"),
}


def _loss(name, module):
    if name == "sparse_logits":
        return module.losses.SparseCategoricalCrossentropy(from_logits=True)
    if name == "binary_logits":
        return module.losses.BinaryCrossentropy(from_logits=True)
    return name


def _targets(kind, rng, labels, dtype=np.float32):
    if kind == "labels":
        return labels
    if kind == "onehot":
        return np.eye(3, dtype=dtype)[labels]
    if kind == "binary":
        return rng.integers(0, 2, size=(N, 2)).astype(dtype)
    return rng.normal(size=(N, 2)).astype(dtype)


@pytest.mark.parametrize("case", list(CASES))
def test_one_sgd_step_with_sample_weight_matches_keras(keras, case):
    activation, units, ours_loss, keras_loss, kind = CASES[case]
    rng, x, w, labels = _data()
    y = _targets(kind, rng, labels)
    ours = _ours(activation, units, _loss(ours_loss, gn))
    theirs = _theirs(keras, activation, units, _loss(keras_loss, keras))
    assert ours.evaluate(x, y, sample_weight=w, batch_size=5, verbose=0) == \
        pytest.approx(theirs.evaluate(x, y, sample_weight=w, batch_size=5, verbose=0), rel=1e-5)
    assert ours.test_on_batch(x, y, sample_weight=w) == \
        pytest.approx(float(theirs.test_on_batch(x, y, sample_weight=w)), rel=1e-5)
    history = ours.fit(x, y, sample_weight=w, batch_size=N, epochs=1, shuffle=False, verbose=0, doctor=False)
    keras_history = theirs.fit(x, y, sample_weight=w, batch_size=N, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(keras_history.history["loss"][0], rel=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert ours.train_on_batch(x, y, sample_weight=w) == \
        pytest.approx(float(theirs.train_on_batch(x, y, sample_weight=w)), rel=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("kind", ["labels", "onehot", "binary_column", "binary_vector"])
def test_class_weight_turns_into_keras_sample_weights(keras, kind):
    rng, x, _, labels = _data(2)
    class_weight = {0: 0.5, 1: 4.0, 2: 1.5}
    if kind == "labels":
        settings, y = ("softmax", 3, "sparse_categorical_crossentropy"), labels
    elif kind == "onehot":
        settings, y = ("softmax", 3, "categorical_crossentropy"), np.eye(3, dtype=np.float32)[labels]
    else:
        settings = ("sigmoid", 1, "binary_crossentropy")
        y = (labels % 2).astype(np.float32)
        y = y.reshape(-1, 1) if kind == "binary_column" else y
    ours, theirs = _ours(*settings), _theirs(keras, *settings)
    for epoch in range(2):
        a = ours.fit(x, y, class_weight=class_weight, batch_size=5, shuffle=False, verbose=0, doctor=False)
        b = theirs.fit(x, y, class_weight=class_weight, batch_size=5, shuffle=False, verbose=0)
        assert a.history["loss"][0] == pytest.approx(b.history["loss"][0], rel=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert ours.train_on_batch(x, y, class_weight=class_weight) == \
        pytest.approx(float(theirs.train_on_batch(x, y, class_weight=class_weight)), rel=1e-5)


def test_class_weight_equals_the_sample_weights_it_stands_for_bit_for_bit(isolated_random_state):
    _, x, _, labels = _data(3)
    class_weight = {0: 2.0, 2: 0.25}                 # class 1 missing: weight 1
    w = np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=np.float32)
    runs = []
    for kwargs in ({"class_weight": class_weight}, {"sample_weight": w}):
        gn.set_random_seed(7)
        model = _ours("softmax", 3, "sparse_categorical_crossentropy")
        model.fit(x, labels, batch_size=4, epochs=3, verbose=0, doctor=False, **kwargs)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_validation_loss_is_weighted_by_validation_sample_weights_as_keras(keras):
    rng, x, w, labels = _data(4)
    y = labels
    settings = ("softmax", 3, "sparse_categorical_crossentropy")
    results = []
    for model, extra in ((_ours(*settings), {"doctor": False}), (_theirs(keras, *settings), {})):
        split = model.fit(x, y, sample_weight=w, validation_split=0.25, batch_size=3, epochs=2, shuffle=False,
                          verbose=0, **extra).history
        given = model.fit(x[:8], y[:8], sample_weight=w[:8], validation_data=(x[8:], y[8:], w[8:]), batch_size=3,
                          epochs=1, shuffle=False, verbose=0, **extra).history
        results.append((split, given))
    (ours_split, ours_given), (keras_split, keras_given) = results
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(ours_split[key], keras_split[key], rtol=1e-5)
        np.testing.assert_allclose(ours_given[key], keras_given[key], rtol=1e-5)


def test_evaluate_with_sample_weight_is_the_weighted_sum_over_n_in_closed_form():
    rng, x, w, _ = _data(5)
    y = rng.integers(0, 2, size=(N, 1)).astype(np.float64)
    model = _ours("sigmoid", 1, "binary_crossentropy", dtype="float64", weights=_weights(4, 5, 1, dtype=np.float64))
    p = model.predict(x)
    per_sample = gn.losses.binary_crossentropy(y, p)
    expected = float(np.sum(w * per_sample)) / N             # not / sum(w)
    for batch_size in (N, 5, 1):                            # batch losses weighted by batch size: the same
        assert model.evaluate(x, y, sample_weight=w, batch_size=batch_size, verbose=0) == \
            pytest.approx(expected, rel=1e-12)
    assert model.evaluate(x, y, sample_weight=w.reshape(-1, 1), verbose=0) == pytest.approx(expected, rel=1e-12)
    assert gn.losses.BinaryCrossentropy()(y, p, sample_weight=w) == pytest.approx(expected, rel=1e-12)


def test_zero_weights_drop_samples_and_the_gradient_scales_with_their_share():
    """w = (1, ..., 1, 0, ..., 0): the loss and gradient are those of the kept samples times k / n."""
    rng, x, _, labels = _data(6)
    x = x.astype(np.float64)
    model = _ours("softmax", 3, "sparse_categorical_crossentropy", dtype="float64",
                  weights=_weights(4, 5, 3, dtype=np.float64))
    k = 5
    w = np.r_[np.ones(k), np.zeros(N - k)]
    loss, grads = model.compute_gradients(x, labels, sample_weight=w)
    kept_loss, kept_grads = model.compute_gradients(x[:k], labels[:k])
    assert loss == pytest.approx(kept_loss * k / N, rel=1e-12)
    for g, h in zip(grads, kept_grads):
        np.testing.assert_allclose(g, h * k / N, rtol=1e-12, atol=1e-15)


def test_the_fused_gradient_is_w_times_p_minus_t_over_n():
    """One softmax layer: dL/dW = x^T dz with dz_i = w_i (p_i - t_i) / n, in closed form."""
    rng, x, w, labels = _data(7)
    x, w = x.astype(np.float64), w.astype(np.float64)
    model = gn.Sequential([gn.layers.Dense(3, activation="softmax", input_shape=(4,), dtype="float64")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    _, (dW, db) = model.compute_gradients(x, labels, sample_weight=w)
    p = model.predict(x)
    dz = w[:, None] * (p - np.eye(3)[labels]) / N
    np.testing.assert_allclose(dW, x.T @ dz, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(db, dz.sum(axis=0), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("case", list(CASES))
def test_weighted_gradients_match_float64_central_differences(case):
    activation, units, loss, _, kind = CASES[case]
    rng, x, w, labels = _data(8)
    x, w = x.astype(np.float64), w.astype(np.float64)
    y = _targets(kind, rng, labels, np.float64)
    model = _ours(activation, units, _loss(loss, gn), dtype="float64", weights=_weights(4, 5, units, 9, np.float64))
    _, analytic = model.compute_gradients(x, y, sample_weight=w)
    h = 1e-6
    for weight, grad in zip(model.weights, analytic):
        flat, numeric = weight.reshape(-1), np.empty(weight.size)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + h
            up = model.test_on_batch(x, y, sample_weight=w)
            flat[i] = original - h
            down = model.test_on_batch(x, y, sample_weight=w)
            flat[i] = original
            numeric[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(grad.reshape(-1), numeric, rtol=1e-6, atol=1e-9, err_msg=case)


def test_unit_weights_give_the_unweighted_numbers(isolated_random_state):
    _, x, _, labels = _data(10)
    runs = []
    for kwargs in ({}, {"sample_weight": np.ones(N)}):
        gn.set_random_seed(3)
        model = _ours("softmax", 3, "sparse_categorical_crossentropy")
        history = model.fit(x, labels, batch_size=5, epochs=2, verbose=0, doctor=False, **kwargs)
        runs.append((history.history["loss"], model.get_weights()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-6)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
                                  "CategoricalCrossentropy", "SparseCategoricalCrossentropy"])
def test_loss_objects_take_sample_weight_as_keras(keras, name):
    rng, _, w, labels = _data(14)
    p = rng.dirichlet(np.ones(3), size=N).astype(np.float32)
    y = {"SparseCategoricalCrossentropy": labels, "BinaryCrossentropy": rng.integers(0, 2, (N, 3)).astype(np.float32)}\
        .get(name, np.eye(3, dtype=np.float32)[labels])
    ours = getattr(gn.losses, name)()(y, p, sample_weight=w)
    theirs = float(getattr(keras.losses, name)()(y, p, sample_weight=w))
    assert ours == pytest.approx(theirs, rel=1e-5)
    with pytest.raises(ValueError, match=r"sample_weight must hold one weight per sample, shape \(12,\)"):
        getattr(gn.losses, name)()(y, p, sample_weight=w[:3])


# ---------------------------------------------------------------------------- several outputs
def _two_heads(module):
    i = module.Input(shape=(4,)) if module is gn else module.Input((4,))
    h = module.layers.Dense(5, activation="tanh", name="h")(i)
    kind = module.layers.Dense(3, activation="softmax", name="kind")(h)
    size = module.layers.Dense(1, name="size")(h)
    model = module.Model(i, [kind, size])
    rng = np.random.default_rng(11)
    model.set_weights([rng.normal(size=s).astype(np.float32) for s in ((4, 5), (5,), (5, 3), (3,), (5, 1), (1,))])
    model.compile(optimizer=module.optimizers.SGD(learning_rate=0.1), loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[1.0, 0.5])
    return model


@pytest.mark.parametrize("form", ["one array", "a list", "a dict with one output"])
def test_sample_weight_applies_to_each_output_as_keras(keras, form):
    rng, x, w, labels = _data(12)
    sizes = rng.normal(size=(N, 1)).astype(np.float32)
    w2 = rng.uniform(0.5, 2.0, size=N).astype(np.float32)
    sample_weight = {"one array": w, "a list": [w, w2], "a dict with one output": {"size": w2}}[form]
    ours, theirs = _two_heads(gn), _two_heads(keras)
    if form == "a dict with one output":          # Keras wants y's structure (a list): ones for "kind"
        keras_weight = [np.ones(N, np.float32), w2]
    else:
        keras_weight = sample_weight
    a = ours.evaluate(x, [labels, sizes], sample_weight=sample_weight, verbose=0, return_dict=True)
    b = theirs.evaluate(x, [labels, sizes], sample_weight=keras_weight, verbose=0, return_dict=True)
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key] == pytest.approx(b[key], rel=1e-5), key
    ours.fit(x, [labels, sizes], sample_weight=sample_weight, batch_size=N, shuffle=False, verbose=0, doctor=False)
    theirs.fit(x, [labels, sizes], sample_weight=keras_weight, batch_size=N, shuffle=False, verbose=0)
    for p, q in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(p, q, atol=1e-6)


def test_weighted_outputs_pass_float64_central_differences(isolated_random_state):
    def build():
        i = gn.Input(shape=(4,), dtype="float64")
        h = gn.layers.Dense(5, activation="tanh", dtype="float64")(i)
        a = gn.layers.Dense(3, activation="softmax", name="a", dtype="float64")(h)
        b = gn.layers.Dense(2, activation="relu", name="b", dtype="float64")(h)
        return gn.Model(i, [a, b])
    gn.set_random_seed(0)
    model = build()
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[0.7, 1.9])
    rng = np.random.default_rng(13)
    x, labels, t = rng.normal(size=(6, 4)), rng.integers(0, 3, 6), rng.uniform(size=(6, 2))
    sw = [rng.uniform(0.2, 2, 6), rng.uniform(0.2, 2, 6)]
    _, analytic = model.compute_gradients(x, [labels, t], sample_weight=sw)
    h = 1e-6
    for weight, grad in zip(model.weights, analytic):
        flat = weight.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + h
            up = model.test_on_batch(x, [labels, t], sample_weight=sw)[0]
            flat[i] = original - h
            down = model.test_on_batch(x, [labels, t], sample_weight=sw)[0]
            flat[i] = original
            assert grad.reshape(-1)[i] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)


# ---------------------------------------------------------------------------- errors
def test_bad_weights_are_refused_naming_what_was_expected_and_what_arrived():
    _, x, w, labels = _data()
    model = _ours("softmax", 3, "sparse_categorical_crossentropy")
    fit = lambda **kw: model.fit(x, labels, verbose=0, doctor=False, **kw)   # noqa: E731
    with pytest.raises(ValueError, match="either sample_weight or class_weight, not both"):
        fit(sample_weight=w, class_weight={0: 2.0})
    with pytest.raises(ValueError, match=r"one weight per sample, shape \(12,\) or \(12, 1\), got shape \(11,\)"):
        fit(sample_weight=w[:-1])
    with pytest.raises(ValueError, match="sample_weight must be finite, got 1 NaN"):
        fit(sample_weight=np.where(np.arange(N) == 3, np.nan, w))
    with pytest.raises(TypeError, match="sample_weight must hold numbers"):
        fit(sample_weight=np.array(["a"] * N))
    with pytest.raises(TypeError, match="class_weight must be a dict .* got list"):
        fit(class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="class_weight keys must be class indices .* got 'a'"):
        fit(class_weight={"a": 1.0})
    with pytest.raises(ValueError, match=r"class_weight\[1\] must be a finite number"):
        fit(class_weight={1: np.inf})
    with pytest.raises(ValueError, match="val_sample_weight must hold one weight per sample"):
        fit(validation_data=(x, labels, w[:3]))
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        fit(validation_data=(x,))
    with pytest.raises(ValueError, match="sample_weight must hold one weight per sample"):
        model.evaluate(x, labels, sample_weight=w[:2], verbose=0)
    two = _two_heads(gn)
    with pytest.raises(ValueError, match="class_weight is supported for models with one output; this model has 2"):
        two.fit(x, [labels, np.zeros((N, 1))], class_weight={0: 1.0}, verbose=0, doctor=False)
    with pytest.raises(ValueError, match=r"outputs are \['kind', 'size'\], got unknown keys \['sizes'\]"):
        two.fit(x, [labels, np.zeros((N, 1))], sample_weight={"sizes": w}, verbose=0, doctor=False)


def test_weighted_metrics_read_the_sample_weights_fit_evaluate_and_test_on_batch_get(keras, isolated_random_state):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = rng.integers(0, 2, (40, 1)).astype("float32")
    w = rng.uniform(size=40).astype("float32")
    gn.set_random_seed(0)
    ours = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"], weighted_metrics=["accuracy"])
    a = ours.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    b = theirs.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert a["weighted_accuracy"] != a["accuracy"]
    for key in b:
        assert a[key] == pytest.approx(b[key], rel=1e-6)
    a = ours.test_on_batch(x, y, sample_weight=w, return_dict=True)
    assert a["weighted_accuracy"] == pytest.approx(b["weighted_accuracy"], rel=1e-6)
    a = ours.fit(x, y, sample_weight=w, batch_size=40, shuffle=False, verbose=0).history
    b = theirs.fit(x, y, sample_weight=w, batch_size=40, shuffle=False, verbose=0).history
    assert a["weighted_accuracy"][0] == pytest.approx(b["weighted_accuracy"][0], rel=1e-6)
