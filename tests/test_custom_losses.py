"""A loss of your own (Keras's custom losses): a plain function of (y_true, y_pred), or a Loss
subclass with call.  glassnet differentiates it with respect to the predictions by central
differences (glassnet.loss_gradient); checked against the closed-form gradients of glassnet's own
losses, brute-force differences, and Keras 3 training from the same weights."""
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import losses, ops
from reference import central_difference, relative_error

rng = np.random.default_rng(0)
Y_TRUE = rng.normal(size=(6, 4))
Y_PRED = rng.normal(size=(6, 4))


def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def log_cosh(y_true, y_pred):
    """log(cosh(d)) = logsumexp(d, -d) - log 2, per sample."""
    d = y_pred - y_true
    return ops.mean(ops.logsumexp(ops.stack([d, -d]), axis=0) - np.log(2.0), axis=-1)


class CustomMSE(losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


def test_a_function_of_ops_gets_the_closed_form_gradient_of_the_same_loss():
    wrapped = losses.get(custom_mean_squared_error)
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "custom_mean_squared_error"
    assert wrapped(Y_TRUE, Y_PRED) == pytest.approx(losses.MeanSquaredError()(Y_TRUE, Y_PRED), rel=1e-12)
    exact = losses.MeanSquaredError().gradient(Y_TRUE, Y_PRED)
    assert relative_error(wrapped.gradient(Y_TRUE, Y_PRED), exact) < 1e-8
    w = np.linspace(0.5, 2.0, len(Y_TRUE))
    assert relative_error(wrapped.weighted_gradient(Y_TRUE, Y_PRED, w),
                          losses.MeanSquaredError().weighted_gradient(Y_TRUE, Y_PRED, w)) < 1e-8


def test_a_loss_subclass_with_call_is_differentiated_like_its_batch_mean():
    loss = CustomMSE()
    assert loss.name == "custom_mse" and loss(np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]])) == 0.25
    numeric = central_difference(lambda p: loss(Y_TRUE, p), Y_PRED.copy())
    assert relative_error(loss.gradient(Y_TRUE, Y_PRED), numeric) < 1e-7

    class FocalishLoss(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.sum(ops.abs(y_true - y_pred) ** 1.5, axis=-1)

    assert FocalishLoss().name == "focalish_loss"                         # Keras's default name
    with pytest.raises(NotImplementedError, match=r"must define call\(y_true, y_pred\)"):
        losses.Loss()(Y_TRUE, Y_PRED)


def test_a_loss_of_one_number_per_batch_is_differentiated_one_prediction_at_a_time():
    def batch_mean(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred))                      # no axis: one number

    wrapped = losses.get(batch_mean)
    with pytest.warns(UserWarning, match="returns one number for the batch.*2 x 24 calls"):
        grad = wrapped.gradient(Y_TRUE, Y_PRED)
    assert relative_error(grad, losses.MeanSquaredError().gradient(Y_TRUE, Y_PRED)) < 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                    # warned once per loss
        wrapped.gradient(Y_TRUE, Y_PRED)
    with pytest.raises(ValueError, match="cannot weigh samples"):
        wrapped(Y_TRUE, Y_PRED, sample_weight=np.ones(len(Y_TRUE)))


def test_a_loss_that_compares_samples_is_caught_and_still_differentiated_right():
    def centred(y_true, y_pred):                                          # reads the batch's mean prediction
        return ops.mean(ops.square(y_pred - ops.mean(y_pred, axis=0) - y_true), axis=-1)

    wrapped = losses.get(centred)
    with pytest.warns(UserWarning, match="depends on other samples' predictions"):
        grad = wrapped.gradient(Y_TRUE, Y_PRED)
    numeric = central_difference(lambda p: float(np.mean(centred(Y_TRUE, p))), Y_PRED.copy())
    assert relative_error(grad, numeric) < 1e-7


def test_what_a_loss_of_your_own_must_return():
    with pytest.raises(ValueError, match=r"returned losses of shape \(3,\) for a batch of 6 samples"):
        losses.get(lambda t, p: ops.mean(p, axis=0)[:3]).gradient(Y_TRUE, Y_PRED)
    with pytest.raises(TypeError, match="must return numbers"):
        losses.get(lambda t, p: np.array(["x"] * len(p)))(Y_TRUE, Y_PRED)
    with pytest.raises(ValueError, match="reduce by the mean over the batch"):
        losses.Loss(reduction="sum")


def test_a_model_trains_on_a_function_as_on_the_same_builtin_loss(isolated_random_state):
    x = rng.normal(size=(32, 5))
    y = rng.normal(size=(32, 3))

    def model(loss):
        gn.set_random_seed(4)
        m = gn.Sequential([gn.Input((5,)), gn.layers.Dense(8, activation="tanh", dtype="float64"),
                           gn.layers.Dense(3, dtype="float64")])
        m.compile(optimizer=gn.optimizers.SGD(0.1), loss=loss)
        m.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        return m

    ours, builtin = model(custom_mean_squared_error), model("mse")
    for a, b in zip(ours.get_weights(), builtin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(builtin.evaluate(x, y, verbose=0), rel=1e-9)


def test_training_on_a_loss_of_your_own_follows_keras(keras, isolated_random_state):
    """log-cosh written with ops, one SGD epoch from the same weights: the same weights as Keras 3."""
    x = rng.normal(size=(64, 5)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")

    def keras_log_cosh(y_true, y_pred):
        d = y_pred - y_true
        return keras.ops.mean(keras.ops.logsumexp(keras.ops.stack([d, -d]), axis=0) - np.log(2.0), axis=-1)

    ours = gn.Sequential([gn.Input((5,)), gn.layers.Dense(6, activation="relu"), gn.layers.Dense(2)])
    theirs = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu"), keras.layers.Dense(2)])
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer=gn.optimizers.SGD(0.5), loss=log_cosh)
    theirs.compile(optimizer=keras.optimizers.SGD(0.5), loss=keras_log_cosh)
    ours_history = ours.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    theirs_history = theirs.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours_history.history["loss"], theirs_history.history["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_model_file_names_its_loss_function_and_loads_it_from_custom_objects(tmp_path):
    model = gn.Sequential([gn.Input((3,)), gn.layers.Dense(2)])
    model.compile(optimizer="adam", loss=custom_mean_squared_error)
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    model.fit(x, y, verbose=0)
    model.save(tmp_path / "mine.glassnet")
    with pytest.raises(gn.ModelFileError, match=r"your own loss function 'custom_mean_squared_error'; pass "
                                                r"custom_objects=\{'custom_mean_squared_error': the function\}"):
        gn.load_model(tmp_path / "mine.glassnet")
    again = gn.load_model(tmp_path / "mine.glassnet",
                          custom_objects={"custom_mean_squared_error": custom_mean_squared_error})
    assert again.loss.fn is custom_mean_squared_error
    assert again.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    assert not gn.load_model(tmp_path / "mine.glassnet", compile=False).compiled
