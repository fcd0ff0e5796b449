"""optimizer.learning_rate as Keras scripts use it: read as a number, set three ways (attribute,
.assign, backend.set_value), used by the next step, kept in files.

References: SGD's update w -= lr * g worked by hand; Keras 3's optimizer doing the same sets.
"""
import json
import pickle

import numpy as np
import pytest

import glassnet as gn
from glassnet import optimizers as O
from glassnet.optimizers import LearningRate


def _sgd_steps(opt, lrs_to_set, setter):
    """One SGD step on w (g = 1) per rate; returns each step's size."""
    w = np.zeros(1)
    sizes = []
    for lr in lrs_to_set:
        if lr is not None:
            setter(opt, lr)
        before = w.copy()
        opt.apply([np.ones(1)], [w])
        sizes.append(float(before[0] - w[0]))
    return sizes


@pytest.mark.parametrize("setter", [
    lambda opt, lr: setattr(opt, "learning_rate", lr),
    lambda opt, lr: opt.learning_rate.assign(lr),
    lambda opt, lr: gn.backend.set_value(opt.learning_rate, lr),
    lambda opt, lr: gn.backend.set_value(opt.learning_rate, np.float32(lr)),
    lambda opt, lr: opt.learning_rate.assign(np.array(lr)),
], ids=["attribute", "assign", "set_value", "set_value-float32", "assign-0d-array"])
def test_each_way_of_setting_takes_effect_at_the_next_step(setter):
    sizes = _sgd_steps(O.SGD(0.1), [None, 0.25, None, 0.5], setter)
    assert sizes == pytest.approx([0.1, 0.25, 0.25, 0.5], rel=1e-7)


def test_the_reading_is_a_float_with_keras_variable_methods():
    opt = O.Adam(0.001, name="adam")
    lr = opt.learning_rate
    assert isinstance(lr, float) and isinstance(lr, LearningRate) and lr == 0.001
    assert lr.path == "adam/learning_rate" and lr.name == "learning_rate" and lr.shape == ()
    assert lr * 2 == 0.002 and 1 - lr == 0.999 and lr < 0.01 and f"{lr:.0e}" == "1e-03"
    assert json.dumps({"lr": lr}) == '{"lr": 0.001}'                       # safe in logs and histories
    assert pickle.loads(pickle.dumps(lr)) == 0.001 and type(pickle.loads(pickle.dumps(lr))) is float
    value = lr.numpy()
    assert isinstance(value, np.ndarray) and value.shape == () and value == 0.001
    assert gn.backend.get_value(lr) == 0.001 and isinstance(gn.backend.get_value(lr), np.ndarray)
    assert np.array(lr, dtype=np.float32).dtype == np.float32
    new = lr.assign(0.01)
    assert new == 0.01 and opt.learning_rate == 0.01
    assert lr == 0.001                              # a reading keeps its value: read the optimizer again
    assert opt.learning_rate.assign_add(0.005) == pytest.approx(0.015)
    assert opt.learning_rate.assign_sub(0.01) == pytest.approx(0.005)
    assert float(opt.learning_rate) == pytest.approx(0.005)


def test_keras_gives_the_same_rates_for_the_same_sets(keras):
    sets = [("attr", 0.01), ("assign", 0.02), ("attr", 0.5), ("assign", 0.003)]
    for lib in (keras, gn):
        opt = lib.optimizers.SGD(0.1)
        seen = [float(opt.learning_rate)]
        for how, value in sets:
            if how == "attr":
                opt.learning_rate = value
            else:
                opt.learning_rate.assign(value)
            seen.append(float(opt.learning_rate))
        if lib is keras:
            expected = seen
        else:
            assert seen == pytest.approx(expected, rel=1e-7)       # Keras keeps float32


def test_invalid_rates_are_refused_and_leave_the_rate_alone():
    opt = O.SGD(0.1)
    for bad in (0, -0.1, float("nan"), float("inf"), "0.1", True, None, [0.1]):
        with pytest.raises((ValueError, TypeError)):
            opt.learning_rate.assign(bad)
        with pytest.raises((ValueError, TypeError)):
            gn.backend.set_value(opt.learning_rate, bad)
    with pytest.raises(TypeError):
        opt.learning_rate.assign_add("x")
    assert opt.learning_rate == 0.1
    with pytest.raises(TypeError, match="no optimizer"):
        LearningRate(0.1).assign(0.2)


def test_a_schedule_reads_at_the_current_step_and_a_number_replaces_it():
    opt = O.SGD(O.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5))
    assert _sgd_steps(opt, [None, None], lambda *a: None) == pytest.approx([1.0, 0.5])
    assert opt.learning_rate == pytest.approx(0.25)            # iterations == 2
    opt.learning_rate.assign(0.1)                              # Keras refuses; glassnet: a constant from now on
    assert _sgd_steps(opt, [None, None], lambda *a: None) == pytest.approx([0.1, 0.1])
    assert opt.get_config()["learning_rate"] == 0.1


def _model(lr=0.1):
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(3,)), gn.layers.Dense(1)])
    model.compile(optimizer=O.SGD(lr), loss="mse")
    return model


def test_set_in_a_callback_the_next_batch_uses_it(isolated_random_state):
    """A Keras-2-style callback: keras.backend.set_value(model.optimizer.learning_rate, ...) each epoch."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    model = _model()

    class Halve(gn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch:
                lr = float(gn.backend.get_value(self.model.optimizer.learning_rate))
                gn.backend.set_value(self.model.optimizer.learning_rate, lr / 2)

    used = []
    spy = gn.callbacks.LambdaCallback(on_train_batch_begin=lambda b, l: used.append(
        float(model.optimizer.learning_rate)))
    model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0, callbacks=[Halve(), spy])
    assert used == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    # the steps used them: the same batches stepped by hand at those rates give the same weights
    replay, constant = _model(), _model()
    for k, lr in enumerate(used):
        batch = slice(16 * (k % 2), 16 * (k % 2) + 16)
        replay.optimizer.learning_rate = lr
        replay.train_on_batch(x[batch], y[batch])
        constant.train_on_batch(x[batch], y[batch])
    for a, b in zip(model.get_weights(), replay.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(model.get_weights()[0], constant.get_weights()[0], rtol=1e-4)


def test_a_rate_set_after_training_is_saved(tmp_path, keras):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 3)).astype(np.float32), rng.normal(size=(32, 1)).astype(np.float32)
    model = _model()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    model.optimizer.learning_rate.assign(0.0123)
    for name in ("m.glassnet", "m.keras"):
        model.save(tmp_path / name)
        loaded = gn.load_model(tmp_path / name)
        assert float(loaded.optimizer.learning_rate) == pytest.approx(0.0123, rel=1e-7)
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    assert float(theirs.optimizer.learning_rate) == pytest.approx(0.0123, rel=1e-6)
