"""The training doctor: each rule fires on a run that has its problem, once, and stays quiet otherwise.

Runs here use verbose=0, so the findings are read from history.findings, and `_fit` checks that
nothing was printed (no TrainingWarning).  Printing, the History attribute and the advice are
tested in test_doctor_report.py; the measured healthy and broken runs in test_doctor_cases.py.
"""
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet.doctor import Doctor, TrainingWarning


def _fit(model, x, y, **kwargs):
    """Fit with verbose=0; return (the causes found, in order, the findings, the history).

    Under verbose=0 the doctor prints nothing: no TrainingWarning may be raised."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        history = model.fit(x, y, verbose=0, **kwargs)
    assert not [w for w in caught if issubclass(w.category, TrainingWarning)]
    return [f.cause for f in history.findings], history.findings, history


def _rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------------------
# Models and data for each rule
# ---------------------------------------------------------------------------
def _mnist():
    (x, y), _ = gn.datasets.mnist_mini.load_data()
    return x.reshape(len(x), -1).astype("float32") / 255.0, y


def _notes_network(activation="sigmoid"):
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(50, activation=activation, input_shape=(784,)),
                           gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _regression():
    rng = _rng()
    x = rng.normal(size=(256, 8)).astype("float32")
    return x, (x @ rng.normal(size=(8, 1))).astype("float32")


def _relu_regressor(lr):
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(8,)), gn.layers.Dense(1)])
    model.compile(optimizer=gn.optimizers.SGD(lr), loss="mse")
    return model


def _line():
    """y = 3x, one weight, full batch: the loss is a parabola in w with curvature H = 2 mean(x^2)."""
    x = _rng().normal(size=(64, 1)).astype("float32")
    return x, 3 * x, 2 * float(np.mean(x.astype("float64") ** 2))


def _one_weight(lr):
    model = gn.Sequential([gn.layers.Dense(1, use_bias=False, input_shape=(1,), kernel_initializer="zeros")])
    model.compile(optimizer=gn.optimizers.SGD(lr), loss="mse")
    return model


def _classes():
    x = _rng().normal(size=(256, 20)).astype("float32")
    return x, (x[:, 0] > 0).astype(int)


def _deep_sigmoid(init):
    gn.set_random_seed(0)
    layers = [gn.layers.Dense(32, activation="sigmoid", input_shape=(20,), kernel_initializer=init)]
    layers += [gn.layers.Dense(32, activation="sigmoid", kernel_initializer=init) for _ in range(4)]
    layers += [gn.layers.Dense(2, activation="softmax")]
    model = gn.Sequential(layers)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _deep_linear(init):
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(64, input_shape=(8,), kernel_initializer=init)]
                          + [gn.layers.Dense(64, kernel_initializer=init) for _ in range(4)]
                          + [gn.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _one_hidden(activation, **dense_kwargs):
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(32, activation=activation, input_shape=(20,), **dense_kwargs),
                           gn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _noise():
    """80 samples of noise with random labels: nothing to learn, everything to memorise."""
    rng = _rng()
    return rng.normal(size=(80, 20)).astype("float32"), rng.integers(0, 2, size=80)


def _big_network():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(256, activation="relu", input_shape=(20,)),
                           gn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


# ---------------------------------------------------------------------------
# A healthy run says nothing
# ---------------------------------------------------------------------------
def test_the_notes_network_on_mnist_mini_trains_without_a_warning():
    x, y = _mnist()
    causes, _, history = _fit(_notes_network(), x, y, epochs=3, batch_size=32, validation_split=0.1)
    assert causes == []
    assert history.history["accuracy"][-1] > 0.85


def test_a_relu_network_on_mnist_mini_trains_without_a_warning():
    x, y = _mnist()
    causes, _, _ = _fit(_notes_network("relu"), x[:4000], y[:4000], epochs=2, batch_size=32, validation_split=0.1)
    assert causes == []


def test_the_doctor_only_reads_training_is_bit_for_bit_the_same():
    x, y = _classes()
    weights = []
    for doctor in (True, False):
        model = _one_hidden("tanh")
        gn.set_random_seed(1)
        _fit(model, x, y, epochs=2, batch_size=32, doctor=doctor)
        weights.append(model.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


# ---------------------------------------------------------------------------
# One test per rule that triggers it, one that does not
# ---------------------------------------------------------------------------
def test_nan_loss_from_a_learning_rate_far_too_high():
    x, y = _regression()
    causes, found, history = _fit(_relu_regressor(10.0), x, y, epochs=3, batch_size=32)
    assert not np.isfinite(history.history["loss"][-1])
    assert causes == ["nan_loss"]                         # once, though three epochs were NaN
    assert "learning rate" in found[0].message and "Fix:" in found[0].message


def test_nan_loss_from_huge_inputs():
    x, y = _regression()
    causes, _, _ = _fit(_relu_regressor(0.01), x * 1e18, y, epochs=2, batch_size=32)
    assert causes[0] == "nan_loss"


def test_no_nan_warning_at_a_sane_learning_rate():
    x, y = _regression()
    causes, _, _ = _fit(_relu_regressor(0.01), x, y, epochs=3, batch_size=32)
    assert causes == []


def test_exploding_loss():
    x, y, curvature = _line()
    causes, found, history = _fit(_one_weight(2.6 / curvature), x, y, epochs=6, batch_size=64)
    assert history.history["loss"][-1] > 10 * history.history["loss"][0]
    assert causes == ["exploding_loss"]                   # rising_loss is implied, not repeated
    assert "10x" in found[0].message


def test_rising_loss_from_sgd_overshooting_a_parabola():
    x, y, curvature = _line()                             # SGD diverges for lr > 2 / curvature
    causes, found, history = _fit(_one_weight(2.1 / curvature), x, y, epochs=6, batch_size=64)
    losses = history.history["loss"]
    assert all(b > a for a, b in zip(losses[1:], losses[2:])) and losses[-1] < 10 * losses[0]
    assert causes == ["rising_loss"]
    assert "learning rate" in found[0].message


def test_no_rising_loss_when_sgd_converges():
    x, y, curvature = _line()
    causes, _, history = _fit(_one_weight(0.9 / curvature), x, y, epochs=6, batch_size=64)
    assert history.history["loss"][-1] < 1e-3 * history.history["loss"][0]
    assert causes == []


def test_vanishing_gradients_in_a_deep_sigmoid_stack_with_tiny_weights():
    x, y = _classes()
    causes, found, _ = _fit(_deep_sigmoid(gn.initializers.RandomNormal(stddev=1e-4)), x, y, epochs=2,
                            batch_size=32)
    assert causes == ["vanishing_gradients"]
    assert "'dense'" in found[0].message and "relu" in found[0].message


def test_no_vanishing_gradients_with_glorot_weights():
    x, y = _classes()
    causes, _, _ = _fit(_deep_sigmoid("glorot_uniform"), x, y, epochs=2, batch_size=32)
    assert causes == []


def test_exploding_gradients_in_a_deep_linear_stack_with_large_weights():
    x, y = _regression()
    causes, found, history = _fit(_deep_linear(gn.initializers.RandomNormal(stddev=1.0)), x, y, epochs=2,
                                  batch_size=32)
    assert np.isfinite(history.history["loss"][-1])       # Adam keeps its steps small: no NaN
    assert causes == ["exploding_gradients"]
    assert "clipnorm" in found[0].message


def test_no_exploding_gradients_with_glorot_weights():
    x, y = _regression()
    causes, _, _ = _fit(_deep_linear("glorot_uniform"), x, y, epochs=2, batch_size=32)
    assert causes == []


def test_dead_relu_from_a_large_negative_bias():
    x, y = _classes()
    model = _one_hidden("relu", bias_initializer=gn.initializers.Constant(-10))
    causes, found, _ = _fit(model, x, y, epochs=3, batch_size=32)
    assert causes == ["dead_relu"]                        # the zero gradients behind it are not "vanishing"
    text = found[0].message
    assert "32 of 32 ReLU units" in text and "-10" in text and "leaky_relu" in text


def test_dead_relu_behind_a_relu_layer():
    """Dense(linear) then layers.ReLU() is the same rectifier: its dead units are found too."""
    x, y = _classes()
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(32, input_shape=(20,), bias_initializer=gn.initializers.Constant(-10)),
                           gn.layers.ReLU(), gn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    causes, found, _ = _fit(model, x, y, epochs=3, batch_size=32)
    assert causes == ["dead_relu"] and "32 of 32 ReLU units" in found[0].message
    assert gn.layers.ReLU(negative_slope=0.1).activation is None      # a leaky one never dies


def test_no_dead_relu_with_zero_biases():
    x, y = _classes()
    causes, _, _ = _fit(_one_hidden("relu"), x, y, epochs=3, batch_size=32)
    assert causes == []


def _dead_share(layer, x):
    z = x @ layer.params["W"] + layer.params["b"]
    return float(np.mean(np.all(z <= 0, axis=0)))


def test_dead_relu_counts_the_whole_epoch_so_sparse_units_are_not_dead():
    """A unit that is 0 on one batch may fire on the next: MNIST's 512 ReLU units, 16 images a batch.

    Counted on 32 samples at a time (the old rule), up to 8% of the units look dead; on the whole
    training set under 1% are.  A threshold between the two separates the rules."""
    x, y = _mnist()
    x, y = x[:2000], y[:2000]
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(512, activation="relu", input_shape=(784,)),
                           gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    worst = []

    class PerCheck(gn.callbacks.Callback):        # what the old rule saw: one checked batch pair at a time
        def on_train_batch_end(self, batch, logs=None):
            if batch % 10 == 0:
                worst.append(float(np.mean(np.all(model.layers[0]._z <= 0, axis=0))))

    causes, _, _ = _fit(model, x, y, epochs=1, batch_size=16, doctor=Doctor(dead_fraction=0.05),
                        callbacks=[PerCheck()])
    assert max(worst) > 0.05 > 0.01 > _dead_share(model.layers[0], x)
    assert causes == []


def test_dead_relu_reports_units_that_died_during_training():
    """Adam at 50x its default learning rate kills most of the units within the first epoch."""
    x, y = _mnist()
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(256, activation="relu", input_shape=(784,)),
                           gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    causes, found, _ = _fit(model, x[:2000], y[:2000], epochs=3, batch_size=32, doctor=Doctor(ignore=["exploding_loss"]))
    assert "dead_relu" in causes
    finding = found[causes.index("dead_relu")]
    share = int(finding.message.split("(")[1].split("%")[0]) / 100
    assert _dead_share(model.layers[0], x[:2000]) > 0.5 and share > 0.5
    assert finding.epoch >= 1                                  # alive at the start: it needs a whole dead epoch
    assert "lower the learning rate (Adam, now 0.05" in finding.message


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_saturated_units_from_unscaled_inputs(activation):
    x, y = _classes()
    causes, found, _ = _fit(_one_hidden(activation), 100 * x, y, epochs=2, batch_size=32)
    assert causes == ["saturated"]                        # and not the vanishing gradients it causes
    assert "scale the inputs" in found[0].message


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_no_saturated_units_from_scaled_inputs(activation):
    x, y = _classes()
    causes, _, _ = _fit(_one_hidden(activation), x, y, epochs=2, batch_size=32)
    assert causes == []


def test_overfitting_a_big_network_on_a_few_noisy_labels():
    x, y = _noise()
    causes, found, history = _fit(_big_network(), x, y, epochs=30, batch_size=40, validation_split=0.5)
    assert history.history["loss"][-1] < 0.05 < history.history["val_loss"][-1]
    assert causes == ["overfitting"]
    assert "EarlyStopping" in found[0].message and "Dropout" in found[0].message


def test_no_overfitting_warning_when_early_stopping_watches_val_loss():
    x, y = _noise()
    stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    causes, _, _ = _fit(_big_network(), x, y, epochs=30, batch_size=40, validation_split=0.5, callbacks=[stop])
    assert causes == []


def test_no_overfitting_warning_without_validation_or_on_learnable_data():
    x, y = _noise()
    assert _fit(_big_network(), x, y, epochs=30, batch_size=40)[0] == []
    x, y = _classes()
    assert _fit(_one_hidden("relu"), x, y, epochs=8, batch_size=32, validation_split=0.25)[0] == []


# ---------------------------------------------------------------------------
# Switches, tuning and reporting
# ---------------------------------------------------------------------------
def test_fit_doctor_false_silences_it():
    x, y = _regression()
    assert _fit(_relu_regressor(10.0), x, y, epochs=1, doctor=False)[0] == []


def test_disable_silences_every_fit_but_an_explicit_doctor():
    x, y = _regression()
    assert gn.doctor.is_enabled()
    gn.doctor.disable()
    try:
        assert not gn.doctor.is_enabled()
        assert _fit(_relu_regressor(10.0), x, y, epochs=1)[0] == []
        assert _fit(_relu_regressor(10.0), x, y, epochs=1, doctor=Doctor())[0] == ["nan_loss"]
    finally:
        gn.doctor.enable()
    assert _fit(_relu_regressor(10.0), x, y, epochs=1)[0] == ["nan_loss"]


def test_warnings_filters_silence_the_category():
    x, y = _regression()
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=TrainingWarning)
        _relu_regressor(10.0).fit(x, y, epochs=1, verbose=0)
    assert not [w for w in caught if issubclass(w.category, TrainingWarning)]
    assert issubclass(TrainingWarning, UserWarning)


def test_a_tuned_doctor_ignores_rules_and_records_findings():
    x, y = _classes()
    quiet = Doctor(ignore=["dead_relu"])
    model = _one_hidden("relu", bias_initializer=gn.initializers.Constant(-10))
    assert _fit(model, x, y, epochs=1, doctor=quiet)[0] == []
    assert quiet.findings == []

    strict = Doctor(dead_fraction=0.99)
    model = _one_hidden("relu", bias_initializer=gn.initializers.Constant(-10))
    causes, found, _ = _fit(model, x, y, epochs=2, doctor=strict)
    assert causes == ["dead_relu"]
    (finding,) = strict.findings
    assert finding.cause == "dead_relu" and finding.epoch == 0 and finding.batch is None    # judged per epoch
    assert finding == found[0] and finding.message.startswith("glassnet doctor [dead_relu]: ")


def test_a_doctor_passed_in_callbacks_is_the_only_one():
    x, y = _regression()
    mine = Doctor()
    causes, _, _ = _fit(_relu_regressor(10.0), x, y, epochs=1, callbacks=[mine])
    assert causes == ["nan_loss"] and [f.cause for f in mine.findings] == ["nan_loss"]


def test_each_fit_starts_afresh():
    x, y = _classes()
    doctor = Doctor()
    model = _one_hidden("relu", bias_initializer=gn.initializers.Constant(-10))
    assert _fit(model, x, y, epochs=1, doctor=doctor)[0] == ["dead_relu"]
    assert _fit(model, x, y, epochs=1, doctor=doctor)[0] == ["dead_relu"]
    assert len(doctor.findings) == 1


def test_statistics_are_read_only_on_sampled_batches(monkeypatch):
    x, y = _classes()                                         # 256 samples, batch 8: 32 steps an epoch
    doctor = Doctor(every=10)
    calls = []
    monkeypatch.setattr(doctor, "_check_batch", lambda batch, logs: calls.append(batch))
    _fit(_one_hidden("relu"), x, y, epochs=2, batch_size=8, doctor=doctor)
    assert calls == [0, 10, 20, 30] * 2


def test_bad_arguments_are_refused():
    x, y = _classes()
    with pytest.raises(TypeError, match="doctor must be True, False or a glassnet.doctor.Doctor"):
        _one_hidden("relu").fit(x, y, doctor="yes", verbose=0)
    with pytest.raises(ValueError, match="every must be an integer > 0"):
        Doctor(every=0)
    with pytest.raises(ValueError, match="dead_fraction"):
        Doctor(dead_fraction=1.5)
    with pytest.raises(ValueError, match="unknown rules \\['dead_relus'\\]"):
        Doctor(ignore=["dead_relus"])
    assert set(gn.doctor.RULES) == {"nan_loss", "exploding_loss", "rising_loss", "vanishing_gradients",
                                    "exploding_gradients", "dead_relu", "saturated", "overfitting"}
