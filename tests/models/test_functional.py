"""Graph models (glassnet.models.functional, Keras's functional API).

References: the same network as a Sequential (bit for bit); a two-branch network with a skip
connection written out in NumPy here, forward, backward and plain gradient descent (its
gradients checked by float64 central differences); a shared layer's weight gradient against central
differences of the loss written in NumPy; the model's file read back.
"""
import runpy
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import Add, Concatenate, Dense
from reference import central_difference, relative_error, saved_random_state

SCRIPTS = Path(__file__).parent / "scripts"


def _chain_pair():
    seq = gn.Sequential([Dense(8, activation="relu", input_shape=(5,)), Dense(3, activation="softmax")])
    x = gn.Input(shape=(5,))
    out = Dense(3, activation="softmax")(Dense(8, activation="relu")(x))
    return seq, gn.Model(x, out)


def test_a_chain_equals_the_same_sequential_bit_for_bit():
    with saved_random_state():
        gn.set_random_seed(1)
        seq, fun = _chain_pair()
    fun.set_weights(seq.get_weights())
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5)).astype(np.float32), rng.integers(0, 3, 16)
    np.testing.assert_array_equal(fun.predict(x), seq.predict(x))
    for model in (seq, fun):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    for _ in range(3):
        assert fun.train_on_batch(x, y) == seq.train_on_batch(x, y)
    for a, b in zip(fun.get_weights(), seq.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert isinstance(fun, gn.models.Functional) and isinstance(fun, gn.models.Model)
    assert [type(l).__name__ for l in fun.layers] == ["InputLayer", "Dense", "Dense"]


# ---------------------------------------------------------------------------- the two-branch network
def _dag(dtype="float64"):
    """x -> a = tanh branch, b = relu branch -> concatenate -> d (tanh) -> d + a -> softmax."""
    x = gn.Input(shape=(2,), dtype=dtype)
    a = Dense(8, activation="tanh", name="a", dtype=dtype)(x)
    b = Dense(8, activation="relu", name="b", dtype=dtype)(x)
    c = Concatenate(name="c", dtype=dtype)([a, b])
    d = Dense(8, activation="tanh", name="d", dtype=dtype)(c)
    e = Add(name="e", dtype=dtype)([d, a])
    out = Dense(2, activation="softmax", name="out", dtype=dtype)(e)
    return gn.Model(x, out, name="two_branches")


def _params(model):
    return {name: [w.astype(np.float64) for w in model.get_layer(name).get_weights()]
            for name in ("a", "b", "d", "out")}


def _numpy_forward(p, x):
    a = np.tanh(x @ p["a"][0] + p["a"][1])
    b = np.maximum(x @ p["b"][0] + p["b"][1], 0)
    c = np.hstack([a, b])
    d = np.tanh(c @ p["d"][0] + p["d"][1])
    e = d + a
    z = e @ p["out"][0] + p["out"][1]
    z = z - z.max(axis=1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return (a, b, c, d, e), prob


def _numpy_loss(p, x, y):
    _, prob = _numpy_forward(p, x)
    return float(-np.mean(np.log(prob[np.arange(len(y)), y])))


def _numpy_grads(p, x, y):
    (a, b, c, d, e), prob = _numpy_forward(p, x)
    dz = prob.copy()
    dz[np.arange(len(y)), y] -= 1
    dz /= len(y)
    de = dz @ p["out"][0].T
    dzd = de * (1 - d ** 2)
    dc = dzd @ p["d"][0].T
    da = dc[:, :8] + de                        # the skip connection adds its share
    dza = da * (1 - a ** 2)
    dzb = dc[:, 8:] * (b > 0)
    return {"a": [x.T @ dza, dza.sum(0)], "b": [x.T @ dzb, dzb.sum(0)], "d": [c.T @ dzd, dzd.sum(0)],
            "out": [e.T @ dz, dz.sum(0)]}


def _moons(n=200):
    x, y = gn.datasets.make_moons(n, noise=0.1, seed=3)
    return x.astype(np.float64), y


def test_the_dag_trains_with_fit_as_numpy_gradient_descent_does():
    x, y = _moons()
    with saved_random_state():
        gn.set_random_seed(5)
        model = _dag()
    p = _params(model)
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=300, batch_size=len(x), shuffle=False, verbose=0, doctor=False)
    for _ in range(300):                       # the same full-batch descent, by hand
        g = _numpy_grads(p, x, y)
        for name in p:
            p[name] = [w - 0.5 * gw for w, gw in zip(p[name], g[name])]
    for name, ws in _params(model).items():
        for mine, ref in zip(ws, p[name]):
            np.testing.assert_allclose(mine, ref, rtol=1e-8, atol=1e-10)
    reference_accuracy = np.mean(_numpy_forward(p, x)[1].argmax(1) == y)
    assert reference_accuracy >= 0.95
    assert history.history["accuracy"][-1] >= 0.95
    assert model.evaluate(x, y, verbose=0)[1] == pytest.approx(reference_accuracy)


def test_dag_gradients_match_central_differences_and_gradient_check_passes():
    x, y = _moons(24)
    with saved_random_state():
        gn.set_random_seed(6)
        model = _dag()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss, grads = model.compute_gradients(x, y)
    p = _params(model)
    assert loss == pytest.approx(_numpy_loss(p, x, y), rel=1e-12)
    analytic = dict(zip(["a", "b", "d", "out"], zip(grads[0::2], grads[1::2])))   # layers in model order
    assert [l.name for l in model.layers if l.params] == ["a", "b", "d", "out"]
    for name in p:
        for k in range(2):
            def f(w, name=name, k=k):
                trial = {n: list(ws) for n, ws in p.items()}
                trial[name][k] = w
                return _numpy_loss(trial, x, y)
            numeric = central_difference(f, p[name][k].copy())
            assert relative_error(analytic[name][k], numeric) < 1e-7, (name, k)
    np.testing.assert_allclose(analytic["d"][0], _numpy_grads(p, x, y)["d"][0], rtol=1e-12)
    assert gn.gradient_check(model, x, y).passed


def test_trace_ends_with_the_weights_of_train_on_batch():
    x, y = _moons(8)
    with saved_random_state():
        gn.set_random_seed(7)
        one, two = _dag(), _dag()
    two.set_weights(one.get_weights())
    for model in (one, two):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    trace = one.trace(x, y)
    two.train_on_batch(x, y)
    for a, b in zip(one.get_weights(), two.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "out" in str(trace)


def test_layers_get_layer_input_output_and_summary():
    with saved_random_state():
        model = _dag("float32")
    assert [l.name for l in model.layers] == ["input_layer", "a", "b", "c", "d", "e", "out"]
    assert model.get_layer("c") is model.layers[3] and model.get_layer(index=-1).name == "out"
    assert model.get_layer("a").output.shape == (None, 8) and model.get_layer("e").input[0].shape == (None, 8)
    assert model.input.shape == (None, 2) and model.output is model.get_layer("out").output
    assert model.layers[0].output is model.input and model.input.dtype == "float32"
    assert model.count_params() == 24 + 24 + 136 + 18
    with pytest.raises(ValueError, match="no layer named 'z'; the layers are input_layer, a, b"):
        model.get_layer("z")
    lines = []
    model.summary(print_fn=lines.append, details=False)
    table = lines[0]
    assert "Connected to" in table
    for row in ["│ c (Concatenate) ", "│ (None, 16) ", "│ a[0][0], b[0][0] "]:
        assert row in table
    assert " 136 │ c[0][0] " in table and "Total params: 202" in table


def test_save_and_load_round_trip(tmp_path):
    x, y = _moons(32)
    with saved_random_state():
        model = _dag("float32")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, doctor=False)
    path = model.save(tmp_path / "dag")
    again = gn.load_model(path)
    assert type(again) is gn.models.Functional and again.get_config() == model.get_config()
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert again.train_on_batch(x, y) == model.train_on_batch(x, y)
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_sequential_still_takes_input():
    model = gn.Sequential([gn.layers.Input(shape=(4,)), Dense(2)])
    assert model.input_shape == (None, 4) and len(model.layers) == 1


# ---------------------------------------------------------------------------- errors
def test_outputs_that_do_not_depend_on_the_inputs_are_refused():
    x, other = gn.Input(shape=(3,)), gn.Input(shape=(3,))
    with pytest.raises(ValueError, match=r"the outputs do not depend on the model's inputs alone.*shape \(None, 3\)"):
        gn.Model(x, Dense(2)(other))
    with pytest.raises(ValueError, match="the outputs are the inputs"):
        gn.Model(x, x)


def test_inputs_must_be_symbolic():
    x = gn.Input(shape=(3,))
    out = Dense(2)(x)
    with pytest.raises(TypeError, match="Model inputs must be symbolic tensors from gn.Input.*got ndarray"):
        gn.Model(np.zeros((4, 3)), out)
    with pytest.raises(ValueError, match=r"Model inputs must come from gn.Input\(...\), got the output of Dense"):
        gn.Model(out, Dense(1)(out))
    with pytest.raises(ValueError, match="no path leads from input 1"):
        gn.Model([x, gn.Input(shape=(3,))], out)


def test_a_layer_called_on_an_incompatible_shape_is_refused():
    x, wide = gn.Input(shape=(3,)), gn.Input(shape=(5,))
    with pytest.raises(ValueError, match=r"Dense was declared for inputs of shape \(4,\), but is called on a tensor "
                                         r"of shape \(None, 3\)"):
        Dense(2, input_shape=(4,))(x)
    dense = Dense(2)
    dense(x)
    with pytest.raises(ValueError, match=r"Dense was built for inputs of shape \(None, 3\), but is called on "
                                         r"\(None, 5\)"):
        dense(wide)
    with pytest.raises(ValueError, match=r"Add cannot take inputs of shape \[\(None, 3\), \(None, 5\)\]: "
                                         r"Add needs inputs of one shape"):
        Add()([x, wide])


# ---------------------------------------------------------------------------- shared layers
def _shared_model():
    """x -> s(x) and s(relu(x V + c)) with one Dense s (weights W, b) -> added -> softmax."""
    x = gn.Input(shape=(3,), dtype="float64")
    shared = Dense(3, activation="tanh", name="s", dtype="float64")
    h = Dense(3, activation="relu", name="h", dtype="float64")(x)
    e = Add(dtype="float64")([shared(x), shared(h)])
    return gn.Model(x, Dense(2, activation="softmax", name="out", dtype="float64")(e)), shared


def test_a_shared_layer_sums_the_gradients_of_its_calls():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(12, 3)), rng.integers(0, 2, 12)
    with saved_random_state():
        gn.set_random_seed(8)
        model, shared = _shared_model()
    assert [l.name for l in model.layers] == ["input_layer", "s", "h", "add", "out"]
    with pytest.raises(AttributeError, match="was called 2 times"):
        shared.output
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    _, grads = model.compute_gradients(x, y)
    (W, b), (V, c), (U, d) = [model.get_layer(n).get_weights() for n in ("s", "h", "out")]

    def loss(W):
        h = np.maximum(x @ V + c, 0)
        z = (np.tanh(x @ W + b) + np.tanh(h @ W + b)) @ U + d
        z = z - z.max(1, keepdims=True)
        return float(-np.mean(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1))))

    assert relative_error(grads[0], central_difference(loss, W.copy())) < 1e-7
    assert gn.gradient_check(model, x, y).passed
    lines = []
    model.summary(print_fn=lines.append, details=False)
    assert "input_layer[0][0], h[0][0]" in lines[0] and "s[0][0], s[1][0]" in lines[0]


def test_a_shared_output_layer_trains_saves_and_loads(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(10, 3)).astype(np.float32)
    t = (x > 0).astype(np.float32)
    inputs = gn.Input(shape=(3,))
    shared = Dense(3, activation="sigmoid")
    model = gn.Model(inputs, shared(Add()([shared(inputs), inputs])))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    assert gn.gradient_check(model, x, t).passed
    model.fit(x, t, epochs=2, batch_size=4, verbose=0, doctor=False)
    again = gn.load_model(model.save(tmp_path / "shared"))
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert again.train_on_batch(x, t) == model.train_on_batch(x, t)


def test_a_regularized_shared_layer_is_refused():
    x = gn.Input(shape=(3,))
    shared = Dense(3, kernel_regularizer="l2")
    with pytest.raises(ValueError, match="called 2 times \\(shared weights\\) and has a regularizer"):
        gn.Model(x, Add()([shared(x), shared(Dense(3)(x))]))


def test_fit_checks_the_data_against_the_input():
    x = gn.Input(shape=(3,))
    model = gn.Model(x, Dense(2, activation="softmax")(x))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="expects 3 features per sample, got 4"):
        model.fit(np.zeros((4, 4)), np.zeros(4, int), verbose=0)


def test_the_tutorial_script_runs(capsys):
    runpy.run_path(str(SCRIPTS / "two_branch_moons.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "test accuracy" in out
    accuracy = float(out.split("test accuracy")[-1].split()[0])
    assert accuracy >= 0.9
