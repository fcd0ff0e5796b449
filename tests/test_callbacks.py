"""Callbacks: History, EarlyStopping, TerminateOnNaN, LearningRateScheduler, LambdaCallback,
and the progress display (ProgbarLogger), checked through model.fit.

References are computed independently: validation scores by hand from predict(), the
early-stopping epoch from the patience rule applied to a scripted metric, learning rates
from the schedule, and SGD steps from compute_gradients.
"""
import io
import math
import re

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import (Callback, EarlyStopping, History, LambdaCallback, LearningRateScheduler,
                                ProgbarLogger, TerminateOnNaN)

N, FEATURES, CLASSES = 60, 4, 3


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


def make_model(optimizer="adam", seed=0, loss="sparse_categorical_crossentropy"):
    gn.set_random_seed(seed)
    model = gn.Sequential([gn.layers.Dense(8, activation="tanh", input_shape=(FEATURES,)),
                           gn.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    yield


class Script(Callback):
    """Puts scripted values under `key` into the epoch logs (callbacks after it see them)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class WeightsAtEpochEnd(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def by_hand(model, x, y):
    """(cross-entropy, accuracy) from predict(), in float64."""
    p = model.predict(x).astype(np.float64)
    loss = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)))
    return loss, float(np.mean(np.argmax(p, axis=1) == y))


# --------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------

def test_history_lists_have_one_entry_per_epoch(data):
    x, y = data
    model = make_model()
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0)
    assert isinstance(history, History)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 4 for v in history.history.values())
    assert history.epoch == [0, 1, 2, 3]
    assert model.history is history
    assert all(isinstance(v, float) and math.isfinite(v) for vs in history.history.values() for v in vs)


def test_history_validation_scores_equal_evaluate_and_a_hand_computation(data):
    x, y = data
    model = make_model()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    split = int(N * 0.75)                              # Keras: the last 25% validate
    x_val, y_val = x[split:], y[split:]
    loss, acc = model.evaluate(x_val, y_val, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(loss, rel=1e-6)
    assert history.history["val_accuracy"][-1] == pytest.approx(acc, abs=1e-12)
    hand_loss, hand_acc = by_hand(model, x_val, y_val)
    assert history.history["val_loss"][-1] == pytest.approx(hand_loss, rel=1e-5)
    assert history.history["val_accuracy"][-1] == pytest.approx(hand_acc, abs=1e-12)


def test_history_validation_data_scores_each_epoch(data):
    x, y = data
    model = make_model()
    hand = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: hand.append(by_hand(model, x[:20], y[:20])))
    history = model.fit(x, y, epochs=3, batch_size=16, validation_data=(x[:20], y[:20]), verbose=0,
                        callbacks=[record])
    assert history.history["val_loss"] == pytest.approx([h[0] for h in hand], rel=1e-5)
    assert history.history["val_accuracy"] == pytest.approx([h[1] for h in hand], abs=1e-12)


def test_history_training_loss_is_the_sample_weighted_epoch_mean(data):
    # With a learning rate too small to matter (steps of ~1e-30), every batch sees the same weights,
    # so the epoch's mean loss (last batch smaller: 60 = 7 * 8 + 4) equals evaluate on all of x.
    x, y = data
    model = make_model(optimizer=gn.optimizers.SGD(learning_rate=1e-30))
    before = model.get_weights()
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(np.allclose(a, b, rtol=0, atol=1e-25) for a, b in zip(before, model.get_weights()))
    loss, acc = model.evaluate(x, y, verbose=0)
    hand_loss, hand_acc = by_hand(model, x, y)
    assert history.history["loss"] == pytest.approx([loss, loss], rel=1e-5)
    assert history.history["loss"][0] == pytest.approx(hand_loss, rel=1e-5)
    assert history.history["accuracy"] == pytest.approx([hand_acc, hand_acc], abs=1e-12)


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


# --------------------------------------------------------------------------
# TerminateOnNaN
# --------------------------------------------------------------------------

def test_terminate_on_nan_stops_within_the_first_epoch(capsys):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (rng.normal(size=(64, 1)) * 1e3).astype(np.float32)
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(4,)), gn.layers.Dense(1)])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=1e6), loss="mse")
    batches = []
    count = LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append((batch, logs["loss"])))
    with np.errstate(all="ignore"):
        history = model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[count, TerminateOnNaN()],
                            doctor=False)
    steps = 64 // 8
    assert len(history.history["loss"]) == 1                  # one (partial) epoch recorded, then stop
    assert not math.isfinite(history.history["loss"][0])
    assert len(batches) < steps                                # stopped inside the first epoch
    assert not math.isfinite(batches[-1][1])
    assert all(math.isfinite(loss) for _, loss in batches[:-1])
    assert model.stop_training is True
    assert f"Batch {batches[-1][0]}: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_lets_a_healthy_run_finish(data):
    x, y = data
    history = make_model().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[TerminateOnNaN()])
    assert len(history.history["loss"]) == 3


# --------------------------------------------------------------------------
# LearningRateScheduler
# --------------------------------------------------------------------------

def test_learning_rate_scheduler_sets_and_logs_the_rate_per_epoch(data):
    x, y = data
    model = make_model(optimizer=gn.optimizers.Adam(learning_rate=0.1))
    seen = []
    calls = []

    def schedule(epoch, lr):
        calls.append((epoch, lr))
        return 0.1 * 0.5 ** epoch

    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0,
                        callbacks=[LearningRateScheduler(schedule),
                                   LambdaCallback(on_epoch_begin=lambda e, l: seen.append(
                                       model.optimizer.learning_rate))])
    expected = [0.1, 0.05, 0.025, 0.0125]
    assert seen == pytest.approx(expected, rel=1e-12)
    assert history.history["learning_rate"] == pytest.approx(expected, rel=1e-12)
    assert [e for e, _ in calls] == [0, 1, 2, 3]
    assert [lr for _, lr in calls] == pytest.approx([0.1] + expected[:-1], rel=1e-12)   # the rate in force
    assert model.optimizer.learning_rate == pytest.approx(0.0125)


def test_learning_rate_scheduler_accepts_a_one_argument_schedule(data):
    x, y = data
    model = make_model()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0,
                        callbacks=[LearningRateScheduler(lambda epoch: 0.01 / (epoch + 1))])
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.005, 0.01 / 3], rel=1e-12)


def test_learning_rate_scheduler_rate_is_the_one_sgd_uses(data):
    # One full batch per epoch, plain SGD: w_next = w - lr_epoch * dL/dw, from compute_gradients.
    x, y = data
    model = make_model(optimizer=gn.optimizers.SGD(learning_rate=1.0))
    rates = [0.5, 0.1, 0.02]
    expected = []

    def predict_step(epoch, logs):
        _, grads = model.compute_gradients(x, y)
        expected.append([w - np.float32(rates[epoch]) * g for w, g in zip(model.get_weights(), grads)])

    seen = WeightsAtEpochEnd()
    model.fit(x, y, epochs=3, batch_size=N, shuffle=False, verbose=0,
              callbacks=[LearningRateScheduler(lambda epoch, lr: rates[epoch]),
                         LambdaCallback(on_epoch_begin=predict_step), seen])
    for got, want in zip(seen.weights, expected):
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), "0.1", None])
def test_learning_rate_scheduler_rejects_bad_rates(data, bad):
    x, y = data
    with pytest.raises(ValueError, match="schedule"):
        make_model().fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: bad)])


def test_learning_rate_scheduler_needs_a_function():
    with pytest.raises(TypeError):
        LearningRateScheduler(0.1)


def test_learning_rate_scheduler_verbose_message(data, capsys):
    x, y = data
    make_model().fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: 0.002, verbose=1)])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.002." in capsys.readouterr().out


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


# --------------------------------------------------------------------------
# Progress display
# --------------------------------------------------------------------------

NUM = r"\d+\.\d{4}"
LINE = re.compile(rf"^(\d+)/\1 - \d+s - \d+(?:us|ms|s)/step - accuracy: {NUM} - loss: {NUM}"
                  rf" - val_accuracy: {NUM} - val_loss: {NUM}$")


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
def test_progress_lines_when_output_is_not_a_terminal(data, capsys, verbose):
    x, y = data
    make_model().fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=verbose)
    lines = capsys.readouterr().out.splitlines()
    steps = math.ceil(int(N * 0.8) / 16)
    assert [l for l in lines if l.startswith("Epoch")] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    summaries = [l for l in lines if not l.startswith("Epoch")]
    assert len(summaries) == 3
    for line in summaries:
        match = LINE.match(line)
        assert match, line
        assert int(match.group(1)) == steps
    assert lines == ["Epoch 1/3", summaries[0], "Epoch 2/3", summaries[1], "Epoch 3/3", summaries[2]]
    assert "━" not in "".join(lines) and "\r" not in "".join(lines)


def test_progress_line_values_are_the_history_values(data, capsys):
    x, y = data
    history = make_model().fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=2)
    lines = [l for l in capsys.readouterr().out.splitlines() if not l.startswith("Epoch")]
    for epoch, line in enumerate(lines):
        for key in ("accuracy", "loss", "val_accuracy", "val_loss"):
            shown = float(re.search(rf"(?:^| ){key}: ({NUM})", line).group(1))
            assert shown == pytest.approx(history.history[key][epoch], abs=5.001e-5)


def test_verbose_zero_prints_nothing(data, capsys):
    x, y = data
    make_model().fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=0)
    assert capsys.readouterr().out == ""


def test_live_bar_on_a_terminal(data, capsys):
    x, y = data
    stream = FakeTTY()
    steps = math.ceil(N / 16)
    make_model().fit(x, y, epochs=2, batch_size=16, verbose=1, callbacks=[ProgbarLogger(stream=stream)])
    text = stream.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "━" in text
    assert f"{steps}/{steps}" in text
    assert re.search(rf"{steps}/{steps} ━+ \d+s \d+(?:us|ms|s)/step - accuracy: {NUM} - loss: {NUM}", text)
    assert capsys.readouterr().out == ""          # the ProgbarLogger passed in replaces fit's own


def test_verbose_two_on_a_terminal_prints_lines_not_a_bar(data):
    x, y = data
    stream = FakeTTY()
    make_model().fit(x, y, epochs=2, batch_size=16, callbacks=[ProgbarLogger(verbose=2, stream=stream)],
                     verbose=0)
    text = stream.getvalue()
    assert "━" not in text
    assert len(re.findall(r"^\d+/\d+ - \d+s - ", text, flags=re.M)) == 2


def test_a_passed_progbar_follows_fits_verbose(data):
    x, y = data
    stream = FakeTTY()
    make_model().fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[ProgbarLogger(stream=stream)])
    assert stream.getvalue() == ""
    make_model().fit(x, y, epochs=1, batch_size=16, verbose=2, callbacks=[ProgbarLogger(stream=stream)])
    assert "━" not in stream.getvalue() and "Epoch 1/1" in stream.getvalue()


def test_progbar_rejects_bad_verbose():
    with pytest.raises(ValueError):
        ProgbarLogger(verbose=3)


def test_progress_line_counts_the_steps_actually_run_when_stopped_mid_epoch(capsys):
    class StopAtBatchOne(gn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    model = gn.Sequential([gn.layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((100, 3))
    y = np.zeros(100, dtype=int)
    model.fit(x, y, batch_size=10, epochs=1, verbose=2, callbacks=[StopAtBatchOne()])
    out = capsys.readouterr().out
    assert re.search(r"^2/10 - ", out, flags=re.M), out


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
