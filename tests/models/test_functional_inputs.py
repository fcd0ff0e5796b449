"""Graph models with several inputs (Model(inputs=[a, b], outputs=y)).

Reference: the network written out in NumPy (concatenate, tanh layer, softmax layer, categorical
cross-entropy), its gradient by float64 central differences, and one plain SGD step by hand.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import Concatenate, Dense
from reference import central_difference, relative_error, saved_random_state


def _model():
    a, b = gn.Input(shape=(3,), name="a"), gn.Input(shape=(2,), name="b")
    h = Dense(4, activation="tanh", name="h")(Concatenate()([a, b]))
    y = Dense(3, activation="softmax", name="out")(h)
    return gn.Model(inputs=[a, b], outputs=y)


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 2)), rng.integers(0, 3, size=n)


def _numpy_probs(w, xa, xb):
    h = np.tanh(np.concatenate([xa, xb], axis=1) @ w[0] + w[1])
    z = h @ w[2] + w[3]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _numpy_loss(w, xa, xb, y):
    return float(-np.mean(np.log(_numpy_probs(w, xa, xb)[np.arange(len(y)), y])))


def _float64_model():
    with saved_random_state():
        gn.set_random_seed(3)
        gn.backend.set_floatx("float64")
        try:
            return _model()
        finally:
            gn.backend.set_floatx("float32")


def test_predictions_one_sgd_step_and_gradients_match_numpy():
    xa, xb, y = _data()
    model = _float64_model()
    assert model.input_shape == [(None, 3), (None, 2)] and len(model.inputs) == 2
    w = [v.astype(np.float64) for v in model.get_weights()]
    np.testing.assert_allclose(model.predict([xa, xb]), _numpy_probs(w, xa, xb), rtol=1e-12)
    np.testing.assert_allclose(model.predict({"b": xb, "a": xa}), _numpy_probs(w, xa, xb), rtol=1e-12)
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    loss, grads = model.compute_gradients([xa, xb], y)
    assert loss == pytest.approx(_numpy_loss(w, xa, xb, y), rel=1e-12)
    numeric = []
    for k in range(4):
        def f(v, k=k):
            trial = list(w)
            trial[k] = v
            return _numpy_loss(trial, xa, xb, y)
        numeric.append(central_difference(f, w[k].copy()))
        assert relative_error(grads[k], numeric[k]) < 1e-7, k
    model.train_on_batch([xa, xb], y)
    for mine, start, g in zip(model.get_weights(), w, numeric):
        np.testing.assert_allclose(mine, start - 0.1 * g, rtol=1e-6, atol=1e-9)
    assert gn.gradient_check(model, [xa, xb], y).passed


def test_fit_evaluate_and_a_file_round_trip(tmp_path):
    xa, xb, y = _data(40, seed=1)
    model = _float64_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit({"a": xa, "b": xb}, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                        doctor=False)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss, acc = model.evaluate([xa, xb], y, verbose=0)
    w = model.get_weights()
    assert loss == pytest.approx(_numpy_loss(w, xa, xb, y), rel=1e-9)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.models.load_model(tmp_path / "m.glassnet")
    np.testing.assert_array_equal(loaded.predict([xa, xb]), model.predict([xa, xb]))


def test_the_data_is_checked_against_each_input():
    xa, xb, y = _data()
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match=r"the model has 2 inputs \(a, b\): x must be a list of 2 arrays.*got ndarray"):
        model.predict(xa)
    with pytest.raises(ValueError, match="x must be a list of 2 arrays, got a list of 3"):
        model.predict([xa, xb, xb])
    with pytest.raises(ValueError, match=r"x\[0\] and x\[1\] must have the same number of samples, got 12 and 5"):
        model.fit([xa, xb[:5]], y, verbose=0)
    with pytest.raises(ValueError, match=r"expects 2 features per sample, got 3 \(x\[1\] has shape \(12, 3\)\)"):
        model.train_on_batch([xa, xa], y)
    with pytest.raises(ValueError, match=r"dict keyed by the model's input names \['a', 'b'\], got keys \['a', 'c'\]"):
        model.predict({"a": xa, "c": xb})
    with pytest.raises(ValueError, match="x and y must have the same number of samples, got 12 and 4"):
        model.train_on_batch([xa, xb], y[:4])


def test_every_input_must_reach_the_outputs():
    a, b = gn.Input(shape=(3,)), gn.Input(shape=(3,))
    with pytest.raises(ValueError, match="no path leads from input 1"):
        gn.Model([a, b], Dense(2)(a))
    with pytest.raises(ValueError, match="the same Input is given twice"):
        gn.Model([a, a], Dense(2)(a))


def test_the_same_output_twice_is_refused_clearly():
    a = gn.Input(shape=(3,))
    out = Dense(2)(a)
    with pytest.raises(ValueError, match="the same tensor is given twice as outputs"):
        gn.Model(a, [out, out])


def test_an_input_may_be_one_of_several_outputs_as_in_keras():
    """Keras's feature extractors take every layer's output, an InputLayer's (the input) among them."""
    a = gn.Input(shape=(3,))
    out = Dense(2)(a)
    model = gn.Model(a, [a, out])
    x = np.arange(12, dtype="float32").reshape(4, 3)
    first, second = model.predict(x)
    np.testing.assert_array_equal(first, x)
    np.testing.assert_allclose(second, x @ out._layer.params["W"] + out._layer.params["b"], rtol=1e-6)
