"""EarlyStopping: the patience rule on scripted metrics, min_delta, modes, restore_best_weights.

References: the stopping epoch from the patience rule (expected_stop) applied to a scripted metric.
"""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import EarlyStopping
from callbacks.callback_helpers import CLASSES, FEATURES, Script, WeightsAtEpochEnd, make_model


# --------------------------------------------------------------------------
# EarlyStopping
# --------------------------------------------------------------------------

def expected_stop(values, patience, min_delta=0.0, mode="min"):
    """Number of epochs run under Keras's rule, computed independently."""
    sign = 1 if mode == "min" else -1
    best, wait = math.inf, 0
    for epoch, v in enumerate(values):
        wait += 1
        if sign * v < best - min_delta:
            best, wait = sign * v, 0
            continue
        if wait >= patience and epoch > 0:
            return epoch + 1
    return len(values)


@pytest.mark.parametrize("values, patience", [
    ([1.0, 0.9, 0.95, 0.93, 0.8, 0.7], 2),       # stops after two epochs without improvement
    ([1.0, 0.9, 0.95, 0.93, 0.8, 0.7], 3),       # the 0.8 comes in time
    ([1.0, 0.9, 0.8, 0.7, 0.6, 0.5], 0),         # always improving: never stops
    ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0),         # patience 0: stops at the first non-improvement
    ([1.0, 1.2, 1.3, 1.4, 1.5, 1.6], 1),
])
def test_early_stopping_patience(data, values, patience):
    x, y = data
    model = make_model()
    stop = EarlyStopping(monitor="score", patience=patience)
    history = model.fit(x, y, epochs=len(values), batch_size=32, verbose=0,
                        callbacks=[Script("score", values), stop])
    ran = expected_stop(values, patience)
    assert len(history.history["loss"]) == ran
    assert history.history["score"] == values[:ran]
    assert stop.stopped_epoch == (ran - 1 if ran < len(values) else 0)


def test_early_stopping_min_delta(data):
    x, y = data
    values = [1.0, 0.95, 0.91, 0.88, 0.86]               # improves, but by less than 0.1
    runs = {}
    for min_delta in (0.0, 0.1, -0.1):                   # the sign of min_delta is ignored, as in Keras
        model = make_model()
        history = model.fit(x, y, epochs=len(values), batch_size=32, verbose=0,
                            callbacks=[Script("score", values),
                                       EarlyStopping(monitor="score", patience=1, min_delta=min_delta)])
        runs[min_delta] = len(history.history["loss"])
    assert runs[0.0] == expected_stop(values, 1) == 5
    assert runs[0.1] == runs[-0.1] == expected_stop(values, 1, min_delta=0.1) == 2


@pytest.mark.parametrize("monitor", ["accuracy", "val_accuracy", "acc", "val_acc", "auc"])
def test_early_stopping_auto_mode_maximises_accuracy_keys(data, monitor):
    x, y = data
    rising = [0.5, 0.6, 0.7, 0.8]
    model = make_model()
    stop = EarlyStopping(monitor=monitor, patience=0)
    assert stop.mode == "max"
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0, callbacks=[Script(monitor, rising), stop])
    assert len(history.history["loss"]) == 4 == expected_stop(rising, 0, mode="max")
    model = make_model()
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0,
                        callbacks=[Script(monitor, rising[::-1]), EarlyStopping(monitor=monitor, patience=0)])
    assert len(history.history["loss"]) == 2 == expected_stop(rising[::-1], 0, mode="max")


@pytest.mark.parametrize("monitor", ["loss", "val_loss", "mae"])
def test_early_stopping_auto_mode_minimises_other_keys(monitor):
    assert EarlyStopping(monitor=monitor).mode == "min"
    assert EarlyStopping(monitor="val_accuracy", mode="min").mode == "min"


def test_early_stopping_restore_best_weights_restores_exactly_the_best_epoch(data):
    x, y = data
    values = [0.9, 0.5, 0.7, 0.8, 0.6, 0.9]              # best at epoch 1; patience 2 stops at epoch 3
    seen = WeightsAtEpochEnd()
    model = make_model()
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0,
                        callbacks=[seen, Script("score", values),
                                   EarlyStopping(monitor="score", patience=2, restore_best_weights=True)])
    assert len(history.history["loss"]) == 4
    final = model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(final, seen.weights[1]))
    assert not all(np.array_equal(a, b) for a, b in zip(final, seen.weights[3]))
    # and the weights are really in use: predictions match a model set to epoch 1's weights
    twin = make_model()
    twin.set_weights(seen.weights[1])
    np.testing.assert_array_equal(model.predict(x), twin.predict(x))


def test_early_stopping_without_restore_keeps_the_last_weights(data):
    x, y = data
    seen = WeightsAtEpochEnd()
    model = make_model()
    model.fit(x, y, epochs=6, batch_size=16, verbose=0,
              callbacks=[seen, Script("score", [0.9, 0.5, 0.7, 0.8, 0.6, 0.9]),
                         EarlyStopping(monitor="score", patience=2)])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), seen.weights[-1]))
    assert len(seen.weights) == 4


def test_early_stopping_restore_includes_batchnorm_statistics(data):
    x, y = data
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(FEATURES,)),
                           gn.layers.BatchNormalization(),
                           gn.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    seen = WeightsAtEpochEnd()
    model.fit(x, y, epochs=5, batch_size=16, verbose=0,
              callbacks=[seen, Script("score", [3, 1, 2, 2, 2]),
                         EarlyStopping(monitor="score", patience=2, restore_best_weights=True)])
    assert len(seen.weights) == 4
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), seen.weights[1]))


def test_early_stopping_missing_monitor_key_raises(data):
    x, y = data
    model = make_model()
    with pytest.raises(ValueError, match="val_loss"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[EarlyStopping(monitor="val_loss")])
    with pytest.raises(ValueError, match="val_accuracy"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[EarlyStopping(monitor="val_accuracy")])


@pytest.mark.parametrize("kwargs", [{"mode": "biggest"}, {"patience": -1}, {"patience": 1.5},
                                    {"patience": True}])
def test_early_stopping_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        EarlyStopping(**kwargs)


def test_early_stopping_accepts_numpy_integer_patience():
    assert EarlyStopping(patience=np.int64(3)).patience == 3
