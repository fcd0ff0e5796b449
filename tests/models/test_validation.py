"""Bad input is rejected at the public boundary, before any computation, with a message that says
what was expected and what arrived -- and the model is left exactly as it was."""
import functools
import re

import numpy as np
import pytest

import glassnet as gn

# every test may reseed freely: glassnet's, NumPy's and Python's generators are restored afterwards
pytestmark = pytest.mark.usefixtures("isolated_random_state")

N_FEATURES, N_CLASSES = 784, 10


def _mnist_like(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, N_FEATURES)).astype(np.float32), rng.integers(0, N_CLASSES, size=n)


def _model(loss="sparse_categorical_crossentropy", compile=True, metrics=("accuracy",)):
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(5, activation="sigmoid", input_shape=(N_FEATURES,)),
                           gn.layers.Dense(N_CLASSES, activation="softmax")])
    if compile:
        model.compile(optimizer="sgd", loss=loss, metrics=list(metrics))
    return model


def _regressor():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(3,)), gn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


class _ForwardSpy:
    """Counts forward passes of every layer of a model (any computation goes through one)."""

    def __init__(self, model):
        self.calls = 0
        for layer in model.layers:
            for name in ("forward", "forward_logits"):
                original = getattr(layer, name, None)
                if original is not None:
                    setattr(layer, name, self._wrap(original))

    def _wrap(self, fn):
        @functools.wraps(fn)
        def counted(*args, **kwargs):
            self.calls += 1
            return fn(*args, **kwargs)
        return counted


def assert_rejected(model, call, error, match):
    """`call()` raises `error` matching `match`; no layer ran and every weight is bit-identical."""
    before = model.get_weights() if model.built else None
    iterations = model.optimizer.iterations if model.optimizer is not None else None
    spy = _ForwardSpy(model)
    with pytest.raises(error, match=match):
        call()
    assert spy.calls == 0, "a layer computed before the input was rejected"
    if before is not None:
        after = model.get_weights()
        assert len(after) == len(before)
        for a, b in zip(before, after):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
    if iterations is not None:
        assert model.optimizer.iterations == iterations


# ----------------------------------------------------------------------------
# Shapes and values of x
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict", "train_on_batch", "test_on_batch",
                                    "compute_gradients"])
def test_wrong_number_of_features(method):
    model = _model()
    x, y = _mnist_like()
    args = (x[:, :783],) if method == "predict" else (x[:, :783], y)
    kwargs = {"verbose": 0} if method in ("fit", "evaluate") else {}
    assert_rejected(model, lambda: getattr(model, method)(*args, **kwargs), ValueError,
                    re.escape("Dense expects 784 features per sample, got 783"))


def test_wrong_number_of_features_message_shows_the_shape():
    model = _model()
    x, y = _mnist_like()
    assert_rejected(model, lambda: model.fit(x[:, :783], y, verbose=0), ValueError,
                    re.escape("(x has shape (20, 783))"))


def test_one_sample_without_batch_axis_gets_a_hint():
    model = _model()
    x, _ = _mnist_like()
    assert_rejected(model, lambda: model.predict(x[0]), ValueError,
                    r"expects a batch of shape \(n, 784\).*reshape\(1, -1\)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict", "train_on_batch"])
def test_non_finite_x(bad, method):
    model = _model()
    x, y = _mnist_like()
    x[3, 100] = bad
    args = (x,) if method == "predict" else (x, y)
    kwargs = {"verbose": 0} if method in ("fit", "evaluate") else {}
    assert_rejected(model, lambda: getattr(model, method)(*args, **kwargs), ValueError,
                    r"x must be finite, got 1 NaN or infinite value")


def test_float64_values_too_large_for_float32():
    model = _model()                                     # float32 weights
    x, y = _mnist_like()
    x = x.astype(np.float64)
    x[0, 0] = 1e300                                      # finite, but inf once cast to float32
    assert_rejected(model, lambda: model.fit(x, y, verbose=0), ValueError,
                    r"x holds values too large for float32.*1e\+300")


def test_non_numeric_x():
    model = _model()
    _, y = _mnist_like()
    strings = np.full((20, N_FEATURES), "0.5")
    assert_rejected(model, lambda: model.fit(strings, y, verbose=0), TypeError,
                    r"x must hold numbers, got an array of dtype <U3")
    assert_rejected(model, lambda: model.predict([["a"] * N_FEATURES]), TypeError, r"x must hold numbers")
    objects = np.array([[None] * N_FEATURES] * 2)
    assert_rejected(model, lambda: model.predict(objects), TypeError, r"x must hold numbers, got .*dtype object")


def test_empty_data():
    model = _model()
    x, y = _mnist_like()
    assert_rejected(model, lambda: model.fit(x[:0], y[:0], verbose=0), ValueError,
                    re.escape("x is empty: got shape (0, 784), expected at least one sample"))
    assert_rejected(model, lambda: model.predict(x[:0]), ValueError, r"x is empty")
    assert_rejected(model, lambda: model.fit(x, y[:0], verbose=0), ValueError,
                    r"x and y must have the same number of samples, got 20 and 0")
    assert_rejected(model, lambda: model.fit(None, y, verbose=0), ValueError, r"x is required, got None")
    assert_rejected(model, lambda: model.fit(x, None, verbose=0), ValueError, r"y is required, got None")


def test_x_and_y_of_different_lengths():
    model = _model()
    x, y = _mnist_like()
    assert_rejected(model, lambda: model.fit(x, y[:-1], verbose=0), ValueError,
                    re.escape("x and y must have the same number of samples, got 20 and 19"))
    assert_rejected(model, lambda: model.train_on_batch(x[:5], y), ValueError,
                    re.escape("got 5 and 20"))


# ----------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_regression_target(bad):
    model = _regressor()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    y[5] = bad
    assert_rejected(model, lambda: model.fit(x, y, verbose=0), ValueError,
                    r"y must be finite, got 1 NaN or infinite value")
    assert_rejected(model, lambda: model.evaluate(x, y, verbose=0), ValueError, r"y must be finite")
    assert_rejected(model, lambda: model.train_on_batch(x, y), ValueError, r"y must be finite")


def test_regression_target_of_wrong_width():
    model = _regressor()
    x = np.zeros((8, 3))
    assert_rejected(model, lambda: model.fit(x, np.zeros((8, 2)), verbose=0), ValueError,
                    re.escape("y must have shape (n, 1) to match the model's output, got (8, 2)"))


@pytest.mark.parametrize("label,shown", [(10, "got values from 0 to 10"), (-1, "got values from -1 to")])
def test_labels_out_of_range(label, shown):
    model = _model()
    x, y = _mnist_like()
    y[7] = label
    expected = r"y labels must lie in \[0, 9\] for a model with 10 outputs, " + shown
    assert_rejected(model, lambda: model.fit(x, y, verbose=0), ValueError, expected)
    assert_rejected(model, lambda: model.evaluate(x, y, verbose=0), ValueError, expected)
    assert_rejected(model, lambda: model.train_on_batch(x, y), ValueError, expected)


def test_fractional_and_non_finite_labels():
    model = _model()
    x, y = _mnist_like()
    yf = y.astype(np.float64)
    yf[2] = 2.5
    assert_rejected(model, lambda: model.fit(x, yf, verbose=0), ValueError, r"integer class labels.*2\.5")
    yf[2] = np.nan
    assert_rejected(model, lambda: model.fit(x, yf, verbose=0), ValueError, r"y must be finite")


def test_one_hot_y_with_sparse_loss():
    model = _model()
    x, y = _mnist_like()
    assert_rejected(model, lambda: model.fit(x, np.eye(N_CLASSES)[y], verbose=0), ValueError,
                    r"one integer class label per sample \(shape \(n,\)\), got shape \(20, 10\); "
                    r"for one-hot targets use loss='categorical_crossentropy'")


def test_integer_labels_with_categorical_loss():
    model = _model(loss="categorical_crossentropy")
    x, y = _mnist_like()
    assert_rejected(model, lambda: model.fit(x, y, verbose=0), ValueError,
                    r"y must have shape \(n, 10\).*got \(20,\); for integer labels use "
                    r"loss='sparse_categorical_crossentropy'")


def test_binary_crossentropy_targets_outside_unit_interval():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert_rejected(model, lambda: model.fit(np.zeros((4, 3)), np.array([0, 1, 2, 1]), verbose=0), ValueError,
                    r"y must lie in \[0, 1\] for binary cross-entropy, got values from 0 to 2")


# ----------------------------------------------------------------------------
# Order of calls
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch", "compute_gradients"])
def test_calls_before_compile(method):
    model = _model(compile=False)
    x, y = _mnist_like()
    kwargs = {"verbose": 0} if method in ("fit", "evaluate") else {}
    assert_rejected(model, lambda: getattr(model, method)(x, y, **kwargs), ValueError,
                    r"must be compiled before training or evaluating: call model.compile")


def test_before_compile_wins_over_bad_data():
    model = _model(compile=False)
    assert_rejected(model, lambda: model.fit(np.zeros((3, 5)), [0, 1, 2], verbose=0), ValueError,
                    r"must be compiled")


def test_predict_needs_no_compile():
    model = _model(compile=False)
    x, _ = _mnist_like()
    assert model.predict(x).shape == (20, N_CLASSES)


def test_model_without_input_shape_is_built_by_fit():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(4, activation="relu"), gn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert not model.built
    x, y = np.random.default_rng(0).normal(size=(10, 3)), np.zeros(10)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert model.built and model.input_shape == (None, 3)
    assert len(history.history["loss"]) == 2
    assert [w.shape for w in model.get_weights()] == [(3, 4), (4,), (4, 1), (1,)]
    # and once built, the width is checked
    assert_rejected(model, lambda: model.evaluate(np.zeros((2, 4)), np.zeros(2), verbose=0), ValueError,
                    re.escape("Dense expects 3 features per sample, got 4"))


def test_model_without_input_shape_rejects_one_dimensional_x():
    model = gn.Sequential([gn.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=re.escape("x must be a batch of shape (n, features), got shape (3,)")):
        model.fit(np.ones(3), np.ones(3), verbose=0)
    assert not model.built


def test_evaluate_builds_a_model_without_input_shape():
    model = gn.Sequential([gn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(np.ones((4, 3)), np.array([0, 1, 0, 1]), verbose=0)
    assert np.isfinite(loss) and 0 <= acc <= 1


# ----------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------
def test_unknown_optimizer():
    model = _model(compile=False)
    assert_rejected(model, lambda: model.compile(optimizer="adamz", loss="mse"), ValueError,
                    r"Unknown optimizer 'adamz'; known optimizers: .*adam.*sgd")


def test_unknown_loss():
    model = _model(compile=False)
    assert_rejected(model, lambda: model.compile(optimizer="adam", loss="msee"), ValueError,
                    r"Unknown loss 'msee'; known losses: .*categorical_crossentropy.*mean_squared_error")
    assert_rejected(model, lambda: model.compile(optimizer="adam"), ValueError,
                    r"compile needs a loss; known losses: ")


def test_unknown_metric():
    model = _model(compile=False)
    assert_rejected(model, lambda: model.compile(optimizer="adam", loss="mse", metrics=["acuracy"]), ValueError,
                    r"Unknown metric 'acuracy'; known metrics: accuracy, acc, .*mean_squared_error")
    assert_rejected(model, lambda: model.compile(optimizer="adam", loss="mse", metrics=[3]), TypeError,
                    r"a metric must be a name \(str\), a function or a Metric, got int")


def test_failed_compile_leaves_the_previous_compile_in_place():
    model = _model()
    optimizer, loss, names = model.optimizer, model.loss, list(model.metrics_names)
    x, y = _mnist_like()
    before = model.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match="Unknown metric"):
        model.compile(optimizer="adam", loss="mse", metrics=["nope"])
    with pytest.raises(ValueError, match="Unknown loss"):
        model.compile(optimizer="adam", loss="nope")
    assert model.optimizer is optimizer and model.loss is loss
    assert model.metrics_names == names
    assert model.evaluate(x, y, verbose=0) == before


def test_metric_function_without_a_name():
    model = _regressor()
    metric = functools.partial(gn.metrics.mean_absolute_error)
    model.compile(optimizer="sgd", loss="mse", metrics=[metric])
    assert model.metrics_names == ["loss", "partial"]
    logs = model.evaluate(np.zeros((4, 3)), np.zeros(4), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "partial"}


def test_unknown_activation():
    with pytest.raises(ValueError, match=r"Unknown activation 'sigmoidd'; known activations: .*relu.*sigmoid"):
        gn.layers.Dense(3, activation="sigmoidd")


def test_unknown_initializer():
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'; known initializers: .*glorot_uniform"):
        gn.layers.Dense(3, kernel_initializer="glorot")


# ----------------------------------------------------------------------------
# set_weights
# ----------------------------------------------------------------------------
def test_set_weights_wrong_number_of_arrays():
    model = _model()
    w = model.get_weights()
    assert_rejected(model, lambda: model.set_weights(w[:3]), ValueError,
                    re.escape("set_weights expects a list of 4 arrays (shapes [(784, 5), (5,), (5, 10), (10,)]), "
                              "got 3"))
    assert_rejected(model, lambda: model.set_weights(w + [w[-1]]), ValueError, r"expects a list of 4 arrays.*got 5")


def test_set_weights_wrong_shape_changes_nothing_even_if_only_the_last_is_wrong():
    model = _model()
    w = model.get_weights()
    new = [np.full_like(a, 0.5) for a in w]
    new[-1] = np.zeros(9)
    assert_rejected(model, lambda: model.set_weights(new), ValueError,
                    re.escape("set_weights: dense_1/b expects shape (10,), got (9,)"))
    new[-1] = np.zeros((10, 1))
    assert_rejected(model, lambda: model.set_weights(new), ValueError, re.escape("expects shape (10,), got (10, 1)"))
    new = [np.full_like(a, 0.5) for a in w]
    new[0] = new[0].T
    assert_rejected(model, lambda: model.set_weights(new), ValueError,
                    re.escape("set_weights: dense/W expects shape (784, 5), got (5, 784)"))


def test_set_weights_non_finite_changes_nothing():
    model = _model()
    new = [np.full_like(a, 0.5) for a in model.get_weights()]
    new[-1][3] = np.nan
    assert_rejected(model, lambda: model.set_weights(new), ValueError, r"dense_1/b must hold finite numbers")


# ----------------------------------------------------------------------------
# Layer and fit arguments
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("units", [0, -3, 2.5, True])
def test_dense_units_must_be_positive(units):
    with pytest.raises(ValueError, match=re.escape(f"Dense units must be a positive integer, got {units!r}")):
        gn.layers.Dense(units)


@pytest.mark.parametrize("rate", [1.5, -0.1, 1.0])
def test_dropout_rate(rate):
    with pytest.raises(ValueError, match=re.escape(f"Dropout rate must be a number in [0, 1), got {rate!r}")):
        gn.layers.Dropout(rate)


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"batch_size": -4}, "batch_size must be a positive integer, got -4"),
    ({"epochs": -1}, "epochs must be an integer >= 0, got -1"),
    ({"epochs": 2.5}, "epochs must be an integer >= 0, got 2.5"),
    ({"validation_split": 1.0}, "validation_split must be a number in [0, 1), got 1.0"),
    ({"validation_split": -0.2}, "validation_split must be a number in [0, 1), got -0.2"),
    ({"initial_epoch": -1}, "initial_epoch must be an integer >= 0, got -1"),
    ({"verbose": 3}, "verbose must be 'auto', 0, 1 or 2, got 3"),
])
def test_fit_arguments(kwargs, match):
    model = _model()
    x, y = _mnist_like()
    kwargs = {"verbose": 0, **kwargs}
    assert_rejected(model, lambda: model.fit(x, y, **kwargs), ValueError, re.escape(match))


def test_batch_size_of_evaluate_and_predict():
    model = _model()
    x, y = _mnist_like()
    assert_rejected(model, lambda: model.evaluate(x, y, batch_size=0, verbose=0), ValueError,
                    "batch_size must be a positive integer, got 0")
    assert_rejected(model, lambda: model.predict(x, batch_size=0), ValueError,
                    "batch_size must be a positive integer, got 0")


def test_validation_split_leaving_no_samples():
    model = _model()
    x, y = _mnist_like(1)
    assert_rejected(model, lambda: model.fit(x, y, validation_split=0.5, verbose=0), ValueError,
                    r"validation_split=0.5 leaves no samples for training or validation with 1 samples")


def test_validation_data_of_wrong_width():
    model = _model()
    x, y = _mnist_like()
    assert_rejected(model, lambda: model.fit(x, y, validation_data=(x[:, :783], y), verbose=0), ValueError,
                    re.escape("Dense expects 784 features per sample, got 783 (x_val has shape (20, 783))"))


def test_validation_data_bad_labels_and_form():
    model = _model()
    x, y = _mnist_like()
    bad = y.copy()
    bad[0] = 12
    assert_rejected(model, lambda: model.fit(x, y, validation_data=(x, bad), verbose=0), ValueError,
                    r"y_val labels must lie in \[0, 9\].*got values from 0 to 12")
    assert_rejected(model, lambda: model.fit(x, y, validation_data=(x, y[:5]), verbose=0), ValueError,
                    r"x_val and y_val must have the same number of samples, got 20 and 5")
    assert_rejected(model, lambda: model.fit(x, y, validation_data=x, verbose=0), ValueError,
                    re.escape("validation_data must be a tuple (x_val, y_val)"))
    assert_rejected(model, lambda: model.fit(x, y, validation_data=(x, y), validation_split=0.1, verbose=0),
                    ValueError, "pass either validation_data or validation_split, not both")


def test_callbacks_must_be_callbacks():
    model = _model()
    x, y = _mnist_like()
    assert_rejected(model, lambda: model.fit(x, y, callbacks=[print], verbose=0), TypeError,
                    r"callbacks must be glassnet Callback objects, got builtin_function_or_method")


def test_valid_input_after_rejections_still_trains():
    model = _model()
    x, y = _mnist_like()
    for bad in (x[:, :783], x[:0]):
        with pytest.raises(ValueError):
            model.fit(bad, y, verbose=0)
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
