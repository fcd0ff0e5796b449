"""LambdaCallback and the hooks' calling pattern in fit and evaluate."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import Callback, LambdaCallback
from callbacks.callback_helpers import N, make_model


# --------------------------------------------------------------------------
# LambdaCallback and the hooks' calling pattern
# --------------------------------------------------------------------------

def test_lambda_callback_hooks_are_called_the_right_number_of_times(data):
    x, y = data
    calls = {name: [] for name in LambdaCallback._HOOKS}
    hooks = {
        "on_train_begin": lambda logs: calls["on_train_begin"].append(logs),
        "on_train_end": lambda logs: calls["on_train_end"].append(logs),
        "on_epoch_begin": lambda epoch, logs: calls["on_epoch_begin"].append(epoch),
        "on_epoch_end": lambda epoch, logs: calls["on_epoch_end"].append((epoch, dict(logs))),
        "on_train_batch_begin": lambda batch, logs: calls["on_train_batch_begin"].append(batch),
        "on_train_batch_end": lambda batch, logs: calls["on_train_batch_end"].append((batch, dict(logs))),
    }
    epochs, batch_size = 3, 16
    steps = math.ceil(N / batch_size)
    make_model().fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[LambdaCallback(**hooks)])
    assert len(calls["on_train_begin"]) == len(calls["on_train_end"]) == 1
    assert calls["on_epoch_begin"] == list(range(epochs))
    assert [e for e, _ in calls["on_epoch_end"]] == list(range(epochs))
    assert calls["on_train_batch_begin"] == list(range(steps)) * epochs
    assert [b for b, _ in calls["on_train_batch_end"]] == list(range(steps)) * epochs
    # batch logs hold running means; the last batch of an epoch agrees with the epoch's log
    for epoch in range(epochs):
        last = calls["on_train_batch_end"][(epoch + 1) * steps - 1][1]
        assert last["loss"] == pytest.approx(calls["on_epoch_end"][epoch][1]["loss"])
        assert last["accuracy"] == pytest.approx(calls["on_epoch_end"][epoch][1]["accuracy"])


def test_per_batch_indices_run_from_zero_to_steps_minus_one(data):
    x, y = data
    for batch_size in (7, 32, 60, 100):
        seen = []
        make_model().fit(x, y, epochs=2, batch_size=batch_size, verbose=0,
                         callbacks=[LambdaCallback(on_train_batch_end=lambda b, l: seen.append(b))])
        steps = math.ceil(N / batch_size)
        assert seen == list(range(steps)) * 2


def test_subclass_batch_hooks_are_called(data):
    x, y = data

    class Counter(Callback):
        def __init__(self):
            super().__init__()
            self.begin, self.end = [], []

        def on_train_batch_begin(self, batch, logs=None):
            self.begin.append(batch)

        def on_train_batch_end(self, batch, logs=None):
            self.end.append(batch)

    counter = Counter()
    make_model().fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=[counter])
    assert counter.begin == counter.end == [0, 1, 2, 0, 1, 2]
    assert counter.model is not None and counter.params["epochs"] == 2 and counter.params["steps"] == 3


def test_lambda_callback_ignores_none_hooks_and_accepts_keras2_batch_names(data):
    x, y = data
    seen = []
    cb = LambdaCallback(on_epoch_end=None, on_batch_end=lambda batch, logs: seen.append(batch))
    make_model().fit(x, y, epochs=1, batch_size=30, verbose=0, callbacks=[cb])
    assert seen == [0, 1]


def test_lambda_callback_rejects_unknown_hooks_and_non_functions():
    with pytest.raises(ValueError, match="on_epoch_ends"):
        LambdaCallback(on_epoch_ends=lambda e, l: None)
    with pytest.raises(TypeError):
        LambdaCallback(on_epoch_end=3)


def test_fit_rejects_objects_that_are_not_callbacks(data):
    x, y = data
    with pytest.raises(TypeError):
        make_model().fit(x, y, epochs=1, verbose=0, callbacks=[lambda epoch, logs: None])


def test_evaluate_calls_the_test_hooks_with_running_logs():
    seen = []

    class Recorder(gn.callbacks.Callback):
        def on_test_begin(self, logs=None):
            seen.append("begin")

        def on_test_batch_end(self, batch, logs=None):
            seen.append((batch, round(logs["loss"], 12)))

        def on_test_end(self, logs=None):
            seen.append(("end", round(logs["loss"], 12)))

    model = gn.Sequential([gn.layers.Dense(1, input_shape=(2,), dtype="float64")])
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([np.array([[1.0], [0.0]]), np.array([0.0])])
    x = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    y = np.zeros((3, 1))
    loss = model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[Recorder()])
    # batch 0: mean(1, 4) = 2.5; batch 1 running mean over 3 samples: (1 + 4 + 9) / 3
    assert seen == ["begin", (0, 2.5), (1, round(14 / 3, 12)), ("end", round(14 / 3, 12))]
    assert loss == pytest.approx(14 / 3)
