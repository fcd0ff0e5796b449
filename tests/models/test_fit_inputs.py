"""What fit, evaluate and predict accept: pandas DataFrames and Series (a dict of Series for several
inputs) as their NumPy arrays, a 1-D x for a model whose samples are one number (as Keras), and a
clear error for anything else."""
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"


def _data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x[:, 0] - x[:, 2] > 0).astype(np.int64)
    return x, y


def _model(inputs=3, dtype="float32"):
    gn.set_random_seed(5)
    model = gn.Sequential([gn.layers.Dense(4, activation="relu", input_shape=(inputs,), dtype=dtype),
                           gn.layers.Dense(2, activation="softmax", dtype=dtype)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _trained(x, y, **kwargs):
    model = _model()
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, doctor=False, **kwargs)
    return model, history


def test_dataframes_and_series_train_bit_for_bit_as_their_arrays(isolated_random_state):
    pd = pytest.importorskip("pandas")
    x, y = _data()
    w = np.linspace(0.5, 2, len(x))
    frame = pd.DataFrame(x, columns=["a", "b", "c"], index=np.arange(100, 100 + len(x)))   # an index that is not 0..n
    labels, weights = pd.Series(y, index=frame.index), pd.Series(w, index=frame.index)
    theirs, history = _trained(frame, labels, sample_weight=weights, validation_split=0.25)
    ours, expected = _trained(x, y, sample_weight=w, validation_split=0.25)
    assert history.history == expected.history
    for a, b in zip(theirs.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(theirs.predict(frame), ours.predict(x))
    assert theirs.evaluate(frame, labels, verbose=0) == ours.evaluate(x, y, verbose=0)
    assert theirs.evaluate(frame, labels.to_frame(), sample_weight=weights, verbose=0) == \
        ours.evaluate(x, y, sample_weight=w, verbose=0)
    model = _model()
    model.fit(frame, labels, class_weight={0: 1.0, 1: 3.0}, verbose=0, doctor=False)


def test_a_dict_of_series_feeds_a_model_with_several_inputs(isolated_random_state):
    pd = pytest.importorskip("pandas")
    x, y = _data()

    def build():
        gn.set_random_seed(1)
        age, income = gn.Input(shape=(1,), name="age"), gn.Input(shape=(2,), name="income")
        h = gn.layers.Concatenate()([age, income])
        out = gn.layers.Dense(2, activation="softmax")(gn.layers.Dense(4, activation="relu")(h))
        model = gn.Model([age, income], out)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model
    frame = pd.DataFrame(x, columns=["age", "i1", "i2"])
    inputs = {"age": frame["age"], "income": frame[["i1", "i2"]]}       # a 1-D Series for a one-number input
    a = build()                                       # build() seeds the generator that fit shuffles with
    a.fit(inputs, pd.Series(y), epochs=2, verbose=0, doctor=False)
    b = build()
    b.fit({"age": x[:, :1], "income": x[:, 1:]}, y, epochs=2, verbose=0, doctor=False)
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(a.predict(inputs), b.predict({"age": x[:, :1], "income": x[:, 1:]}))


def test_a_1d_x_feeds_a_one_feature_model_as_in_keras(keras):
    x = np.linspace(-1, 1, 16).astype(np.float32)
    y = 3 * x - 1
    ours = gn.Sequential([gn.layers.Dense(1, input_shape=(1,))])
    theirs = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    theirs.set_weights(ours.get_weights())
    for model, module in ((ours, gn), (theirs, keras)):
        model.compile(optimizer=module.optimizers.SGD(learning_rate=0.1), loss="mse")
    assert ours.predict(x).shape == theirs.predict(x, verbose=0).shape == (16, 1)
    ours.fit(x, y, batch_size=16, verbose=0, doctor=False)
    theirs.fit(x, y, batch_size=16, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(theirs.evaluate(x, y, verbose=0), rel=1e-5)
    assert ours.train_on_batch(x, y) == pytest.approx(float(theirs.train_on_batch(x, y)), rel=1e-5)
    np.testing.assert_allclose(ours(x), ours.predict(x))


@pytest.mark.parametrize("bad, error, message", [
    ("0.5", TypeError, "x must be a NumPy array of numbers, a list of lists of numbers, or a pandas DataFrame or "
                       "Series, got a str '0.5'"),
    ({"a": [1, 2, 3]}, TypeError, "x must be a NumPy array of numbers, .* got a dict"),
    (np.full((4, 3), "0.5"), TypeError, "x must hold numbers, got an array of dtype <U3 holding strings such as "
                                        "'0.5'; expected a NumPy array of numbers"),
    (np.array([[1.0, 2.0, "a"]] * 4, dtype=object), TypeError,
     "x must hold numbers, got an array of dtype object holding values such as 'a' \\(str\\)"),
    ([[1.0, 2.0, 3.0], [1.0, 2.0]], ValueError,
     "x must be a rectangular array of numbers \\(every sample of the same shape\\), got a ragged list \\(rows of "
     "length 3 and length 2\\)"),
    (None, ValueError, "x is required, got None"),
    (np.zeros(4, dtype=np.float32), ValueError, "Dense expects a batch of shape \\(n, 3\\)|Dense expects samples"),
])
def test_other_inputs_get_a_clear_error(bad, error, message, isolated_random_state):
    model = _model()
    y = np.zeros(len(bad) if isinstance(bad, (list, np.ndarray)) else 4, dtype=np.int64)
    for call in (lambda: model.fit(bad, y, verbose=0), lambda: model.predict(bad),
                 lambda: model.evaluate(bad, y, verbose=0)):
        with pytest.raises(error, match=message):
            call()


def test_pandas_columns_that_are_not_numbers_are_named(isolated_random_state):
    pd = pytest.importorskip("pandas")
    model = _model()
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": pd.Categorical(["u", "v"])})
    with pytest.raises(TypeError, match="x must hold numbers, got a DataFrame with non-numeric columns "
                                        r"\{'b': '(object|str)', 'c': 'category'\}"):
        model.predict(frame)
    with pytest.raises(TypeError, match="y must hold numbers, got a Series of dtype (object|str)"):
        model.fit(np.zeros((2, 3)), pd.Series(["cat", "dog"]), verbose=0)
    nullable = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"), "b": [1.0, 2.0, 3.0],
                             "c": [0.0, 0.0, 0.0]})
    with pytest.raises(ValueError, match="x must be finite, got 1 NaN or infinite value"):
        model.predict(nullable)
    filled = nullable.fillna(0)
    np.testing.assert_array_equal(model.predict(filled), model.predict(filled.to_numpy(dtype=np.float32)))


def test_pandas_is_never_imported_by_glassnet():
    assert not any(re.search(r"^\s*(import pandas|from pandas)", path.read_text(), re.M)
                   for path in (SRC / "glassnet").rglob("*.py"))
    code = ("import sys, numpy as np, glassnet as gn\n"
            "m = gn.Sequential([gn.layers.Dense(2, activation='softmax', input_shape=(3,))])\n"
            "m.compile('sgd', 'sparse_categorical_crossentropy')\n"
            "m.fit(np.zeros((4, 3)), np.zeros(4, int), sample_weight=np.ones(4), verbose=0)\n"
            "m.evaluate(np.zeros((4, 3)), np.zeros(4, int), verbose=0); m.predict(np.zeros(3).reshape(1, 3))\n"
            "print('pandas' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": ""})
    assert out.stdout.strip() == "False"
