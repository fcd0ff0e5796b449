"""The training doctor's reports: printed only when fit's verbose asks, kept on the History, with advice
that checks what the model already does; and rising_loss / overfitting rises that are real, not noise."""
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet.doctor import Doctor, Finding, TrainingWarning
from glassnet.doctor.watch import noise


def _sick(lr=10.0, **opt_kwargs):
    """A regression that SGD at lr=10 turns into NaN at once."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(8,)), gn.layers.Dense(1)])
    model.compile(optimizer=gn.optimizers.SGD(lr, **opt_kwargs), loss="mse")
    return model, x, y


def _fit(model, x, y, **kwargs):
    """Fit; return (the TrainingWarnings raised, the history)."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        history = model.fit(x, y, **kwargs)
    return [w for w in caught if issubclass(w.category, TrainingWarning)], history


# ---------------------------------------------------------------------------
# verbose and history.findings
# ---------------------------------------------------------------------------
def test_verbose_0_prints_nothing_and_keeps_the_findings_on_the_history(capfd):
    model, x, y = _sick()
    caught, history = _fit(model, x, y, epochs=2, verbose=0)
    assert caught == []
    assert capfd.readouterr() == ("", "")               # not a character, on stdout or stderr
    (finding,) = history.findings
    assert isinstance(finding, Finding) and finding.cause == "nan_loss" and finding.epoch == 0
    assert finding.advice and all(fix in finding.message for fix in finding.advice)
    assert model.history is history and model.history.findings == [finding]


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
def test_verbose_1_and_2_print_each_finding_as_a_warning_at_the_fit_call(verbose, capsys):
    model, x, y = _sick()
    caught, history = _fit(model, x, y, epochs=2, verbose=verbose)
    assert [w.message.cause for w in caught] == ["nan_loss"]
    assert str(caught[0].message) == history.findings[0].message
    assert caught[0].filename == __file__                 # the warning points at the fit(...) line
    assert "Epoch 1/2" in capsys.readouterr().out


def test_a_doctor_s_own_verbose_overrides_fit_s():
    model, x, y = _sick()
    caught, history = _fit(model, x, y, epochs=1, verbose=0, doctor=Doctor(verbose=1))
    assert [w.message.cause for w in caught] == ["nan_loss"] == [f.cause for f in history.findings]
    model, x, y = _sick()
    caught, history = _fit(model, x, y, epochs=1, verbose=2, doctor=Doctor(verbose=0))
    assert caught == [] and [f.cause for f in history.findings] == ["nan_loss"]
    with pytest.raises(ValueError, match="verbose must be 'auto', 0, 1 or 2"):
        Doctor(verbose="loud")


def test_history_findings_is_an_empty_list_when_all_is_well_or_the_doctor_is_off():
    model, x, y = _sick(lr=0.01)
    assert _fit(model, x, y, epochs=2, verbose=0)[1].findings == []
    model, x, y = _sick()
    assert _fit(model, x, y, epochs=1, verbose=0, doctor=False)[1].findings == []


def test_a_doctor_among_the_callbacks_reports_to_the_history_too():
    model, x, y = _sick()
    mine = Doctor()
    caught, history = _fit(model, x, y, epochs=1, verbose=0, callbacks=[mine])
    assert caught == [] and history.findings == mine.findings and len(mine.findings) == 1


def test_the_warning_filters_still_work_with_verbose():
    model, x, y = _sick()
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=TrainingWarning)
        history = model.fit(x, y, epochs=1, verbose=2)
    assert not [w for w in caught if issubclass(w.category, TrainingWarning)]
    assert [f.cause for f in history.findings] == ["nan_loss"]          # silenced, still recorded


# ---------------------------------------------------------------------------
# rising_loss and overfitting: a real rise, not noise (the epoch hooks fed directly)
# ---------------------------------------------------------------------------
def _feed(losses, val=None, optimizer="adam", **kwargs):
    """Run a Doctor's epoch hooks on given losses; return its findings."""
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer=optimizer, loss="mse")
    doctor = Doctor(verbose=0, **kwargs)
    doctor.set_model(model)
    doctor.set_params({"epochs": len(losses), "steps": 1, "verbose": 0})
    doctor.on_train_begin()
    for epoch, loss in enumerate(losses):
        doctor.on_epoch_begin(epoch)
        doctor.on_epoch_end(epoch, {"loss": loss} if val is None else {"loss": loss, "val_loss": val[epoch]})
    return doctor.findings


def test_noise_is_the_spread_around_a_trend():
    assert noise([1.0, 2.0, 3.0, 4.0, 5.0]) == 0.0                     # a straight line has none
    rng = np.random.default_rng(0)
    series = 5.0 - 0.01 * np.arange(2000) + rng.normal(scale=0.2, size=2000)
    assert noise(series) == pytest.approx(0.2, rel=0.05)
    assert noise([1.0, 2.0]) == 0.0


def test_a_plateau_drifting_up_by_half_a_percent_is_no_rising_loss():
    # the case: 3.46 -> 3.48, on a plateau reached from 10
    assert _feed([10.0, 5.0, 3.5, 3.46, 3.465, 3.47, 3.48]) == []


def test_a_loss_near_zero_that_wobbles_up_is_no_rising_loss():
    assert _feed([0.7, 0.05, 0.002, 1.0e-4, 1.1e-4, 1.25e-4, 1.4e-4]) == []


def test_three_noisy_rises_inside_the_run_s_own_noise_are_no_rising_loss():
    # moons, Adam: the loss jitters by about 0.005 around 0.08 (measured: bench/doctor_cases.py)
    rng = np.random.default_rng(1)
    losses = list(0.5 * np.exp(-np.arange(12) / 2) + 0.08) + list(0.08 + rng.normal(scale=0.005, size=20))
    losses[-4:] = [0.079, 0.081, 0.083, 0.086]
    assert _feed(losses) == []


def test_a_real_rise_is_found_and_the_advice_fits_the_optimizer():
    losses = [0.863, 0.297, 0.203, 0.134, 0.105, 0.101, 0.138, 0.169, 0.254]    # Adam at lr=0.02, measured
    (adam,) = _feed(losses, optimizer=gn.optimizers.Adam(0.02))
    assert adam.cause == "rising_loss" and adam.epoch == 8
    assert "use Adam" not in adam.message and "Adam, now 0.02; Adam's default is 0.001" in adam.message
    assert "ExponentialDecay" in adam.message
    (sgd,) = _feed(losses, optimizer=gn.optimizers.SGD(0.5))
    assert "use Adam" in sgd.message
    schedule = gn.optimizers.schedules.ExponentialDecay(0.5, decay_steps=100, decay_rate=0.9)
    (decaying,) = _feed(losses, optimizer=gn.optimizers.SGD(schedule))
    assert "ExponentialDecay" not in decaying.message and "initial_learning_rate" in decaying.message


def test_overfitting_needs_a_rise_beyond_the_validation_noise():
    # moons (measured): val_loss jumps about 0.07 -> 0.09 and back while the training loss falls
    train = [0.52, 0.29, 0.24, 0.21, 0.18, 0.155, 0.13, 0.113, 0.104, 0.1, 0.092, 0.087, 0.084, 0.082, 0.08]
    val = [0.324, 0.259, 0.225, 0.196, 0.165, 0.141, 0.119, 0.104, 0.086, 0.082, 0.096, 0.084, 0.066, 0.072,
           0.077]
    assert _feed(train + [0.079, 0.078], val + [0.079, 0.080]) == []
    # 200 MNIST images, 784-512-512 (measured): val_loss climbs steadily from its best, 0.843
    train = [2.19, 1.3, 0.764, 0.41, 0.218, 0.115, 0.056, 0.031, 0.02, 0.0137, 0.0093]
    val = [1.93, 1.596, 1.269, 1.08, 0.955, 0.844, 0.843, 0.85, 0.927, 0.964, 1.028]
    (found,) = _feed(train, val)
    assert found.cause == "overfitting" and found.epoch == 10
    assert "Dropout(0.3)" in found.message and "L2(1e-4)" in found.message


# ---------------------------------------------------------------------------
# Advice: never what the model already does
# ---------------------------------------------------------------------------
def test_nan_advice_leaves_out_clipping_and_terminate_on_nan_when_they_are_there():
    model, x, y = _sick()
    _, history = _fit(model, x, y, epochs=1, verbose=0)
    text = history.findings[0].message
    assert "clipnorm" in text and "TerminateOnNaN" in text and "now 10" in text
    assert "scale the inputs" not in text                # the inputs are standard normal
    model, x, y = _sick()
    _, history = _fit(model, x, y, epochs=2, verbose=0, callbacks=[gn.callbacks.TerminateOnNaN()])
    (finding,) = history.findings
    assert finding.cause == "nan_loss" and "TerminateOnNaN" not in finding.message
    model, x, y = _sick(lr=1e4, clipnorm=1.0)                  # clipped: the loss explodes, but stays finite
    _, history = _fit(model, x, y, epochs=2, verbose=0)
    assert [f.cause for f in history.findings][0] == "exploding_loss"
    assert all("clip" not in f.message for f in history.findings)
    assert "try 0.01 (SGD's default)" in history.findings[0].message


def test_dead_relu_advice_reads_the_initializers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 20)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    messages = {}
    for name, kwargs in {"he": dict(kernel_initializer="he_normal", bias_initializer=gn.initializers.Constant(-10)),
                         "glorot": dict(bias_initializer=gn.initializers.Constant(-10)),
                         "zeros": dict(kernel_initializer="zeros")}.items():
        gn.set_random_seed(0)
        model = gn.Sequential([gn.layers.Dense(32, activation="relu", input_shape=(20,), **kwargs),
                               gn.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        (finding,) = _fit(model, x, y, epochs=1, verbose=0)[1].findings
        messages[name] = finding.message
    assert "He initialisation" not in messages["he"] and "instead of -10" in messages["he"]
    assert "He initialisation" in messages["glorot"]
    assert "kernel starts at zeros" in messages["zeros"] and "instead of zeros" in messages["zeros"]
    assert "biases at 0" not in messages["zeros"]
    assert all("lower the learning rate" not in m for m in messages.values())   # Adam at its default rate


def test_exploding_gradient_advice_leaves_out_what_is_there():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")
    big = gn.initializers.RandomNormal(stddev=1.0)
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(64, input_shape=(8,), kernel_initializer=big),
                           gn.layers.BatchNormalization(),
                           gn.layers.Dense(64, kernel_initializer=big), gn.layers.Dense(1)])
    model.compile(optimizer=gn.optimizers.Adam(clipnorm=1.0), loss="mse")
    (finding,) = _fit(model, x * 100, y * 1000, epochs=1, verbose=0)[1].findings
    assert finding.cause == "exploding_gradients"
    assert "clip the gradients" not in finding.message and "BatchNormalization" not in finding.message
    assert "random_normal(stddev=1)" in finding.message and "scale the inputs (the largest" in finding.message


def test_a_doctor_among_the_callbacks_runs_and_reports_even_with_doctor_false():
    model, x, y = _sick()
    mine = Doctor()
    caught, history = _fit(model, x, y, epochs=1, verbose=0, doctor=False, callbacks=[mine])
    assert caught == [] and [f.cause for f in history.findings] == ["nan_loss"] == [f.cause for f in mine.findings]
    with pytest.raises(TypeError, match="doctor must be True, False or a glassnet.doctor.Doctor, got 'yes'"):
        model.fit(x, y, doctor="yes", verbose=0)


def test_nan_advice_points_at_a_loss_of_your_own_only_when_there_is_one():
    class LogLoss(gn.losses.Loss):
        """A hand-made loss with a log(0) waiting to happen."""
        def per_sample(self, y_true, y_pred):
            return np.mean(-np.log(y_pred - y_pred.min()), axis=-1)

        def gradient(self, y_true, y_pred):
            return -1.0 / (y_pred - y_pred.min()) / y_pred.size

    model, x, y = _sick(lr=0.01)
    model.compile(optimizer="sgd", loss=LogLoss())
    (finding,) = _fit(model, x, y, epochs=1, verbose=0)[1].findings
    assert finding.cause == "nan_loss" and "your own loss" in finding.message
    model, x, y = _sick()
    assert "your own loss" not in _fit(model, x, y, epochs=1, verbose=0)[1].findings[0].message
