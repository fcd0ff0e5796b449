"""ReduceLROnPlateau: the learning rate after each epoch is the one Keras 3 sets on the same logs.

References: Keras 3's own ReduceLROnPlateau driven with the same on_epoch_end logs (its rate is a
float32 variable, hence rel=1e-6), and a hand-worked sequence.
"""

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import ReduceLROnPlateau
from callbacks.callback_helpers import make_model


def _glassnet_rates(values, monitor, lr0, **kwargs):
    model = make_model(optimizer=gn.optimizers.SGD(learning_rate=lr0))
    callback = ReduceLROnPlateau(monitor=monitor, **kwargs)
    callback.set_model(model)
    return _drive(callback, model, values, monitor)


def _keras_rates(keras, values, monitor, lr0, **kwargs):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr0), loss="mse")
    callback = keras.callbacks.ReduceLROnPlateau(monitor=monitor, **kwargs)
    callback.set_model(model)
    return _drive(callback, model, values, monitor)


def _drive(callback, model, values, monitor):
    """[(logged rate, rate after the epoch, wait, cooldown counter)] per epoch."""
    out = []
    callback.on_train_begin({})
    for epoch, value in enumerate(values):
        logs = {"loss": 1.0, monitor: value}
        callback.on_epoch_end(epoch, logs)
        out.append((logs["learning_rate"], float(np.asarray(model.optimizer.learning_rate)),
                    callback.wait, callback.cooldown_counter))
    return out


def _sequences():
    rng = np.random.default_rng(7)
    walk = 2.0 + np.cumsum(rng.normal(-0.01, 0.05, size=40))              # a noisy, slowly falling loss
    plateau = np.concatenate([np.linspace(1.0, 0.5, 8), np.full(12, 0.5) + rng.normal(0, 1e-5, 12),
                              np.linspace(0.5, 0.2, 6), np.full(14, 0.2)])
    rising = np.concatenate([np.linspace(0.5, 0.9, 10), 0.9 + rng.normal(0, 0.01, 20)])   # an accuracy
    return {"walk": walk.tolist(), "plateau": plateau.tolist(), "rising": rising.tolist()}


SEQUENCES = _sequences()
SETTINGS = [
    dict(),                                                        # Keras's defaults: factor 0.1, patience 10
    dict(factor=0.5, patience=2),
    dict(factor=0.5, patience=0),
    dict(factor=0.2, patience=1, cooldown=3),
    dict(factor=0.5, patience=2, min_delta=0.02),
    dict(factor=0.5, patience=1, min_lr=0.01),
    dict(factor=0.3, patience=3, cooldown=1, min_delta=0.0, min_lr=0.002),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "defaults")
@pytest.mark.parametrize("name, monitor, mode", [("walk", "val_loss", "auto"), ("plateau", "loss_x", "min"),
                                                 ("rising", "val_accuracy", "max")])
def test_rates_follow_keras_on_the_same_logs(keras, settings, name, monitor, mode):
    values = SEQUENCES[name]
    ours = _glassnet_rates(values, monitor, 0.1, mode=mode, **settings)
    theirs = _keras_rates(keras, values, monitor, 0.1, mode=mode, **settings)
    assert [o[2:] for o in ours] == [t[2:] for t in theirs]                # wait and cooldown, epoch by epoch
    np.testing.assert_allclose([o[:2] for o in ours], [t[:2] for t in theirs], rtol=1e-6)
    assert len({o[1] for o in ours}) > 1 or (settings == {} and name != "plateau")   # the rate was reduced


def test_a_hand_worked_sequence():
    # patience 1, factor 0.5, cooldown 2. Keras counts the cooldown down before it looks at it, so
    # cooldown=2 leaves one quiet epoch after a reduction (and cooldown=1 none): epoch 1 does not improve
    # -> 0.05; epoch 2 is quiet; epoch 3 does not improve -> 0.025; epoch 4 is quiet; epoch 5 improves;
    # epoch 6 does not -> 0.0125
    values = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.6]
    rates = [r[1] for r in _glassnet_rates(values, "val_loss", 0.1, factor=0.5, patience=1, cooldown=2)]
    assert rates == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125], rel=1e-12)


def test_auto_mode_maximises_scores_and_minimises_losses():
    for monitor in ("val_accuracy", "accuracy", "val_auc", "precision", "val_recall", "f1_score",
                    "val_sparse_categorical_accuracy"):
        assert ReduceLROnPlateau(monitor=monitor).mode == "max"
    for monitor in ("val_loss", "loss", "mean_absolute_error", "val_false_positives"):
        assert ReduceLROnPlateau(monitor=monitor).mode == "min"


def test_a_fit_reduces_the_rate_the_optimizer_uses(data):
    x, y = data
    model = make_model(optimizer=gn.optimizers.SGD(learning_rate=0.1))
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0,
                        callbacks=[gn.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(score=1.0)),
                                   ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, verbose=1)])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.0125, 0.00625], rel=1e-12)
    assert model.optimizer.learning_rate == pytest.approx(0.003125, rel=1e-12)


def test_verbose_prints_keras_message(capsys):
    _glassnet_rates([1.0, 1.0], "val_loss", 0.1, factor=0.5, patience=1, verbose=1)
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05." in capsys.readouterr().out


def test_a_missing_monitor_warns_and_leaves_the_rate():
    model = make_model(optimizer=gn.optimizers.SGD(learning_rate=0.1))
    callback = ReduceLROnPlateau(patience=0)
    callback.set_model(model)
    callback.on_train_begin({})
    with pytest.warns(UserWarning, match=r"'val_loss', which is not among .*loss"):
        callback.on_epoch_end(0, {"loss": 1.0})
    assert model.optimizer.learning_rate == 0.1


def test_a_schedule_cannot_be_reduced():
    schedule = gn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9)
    model = make_model(optimizer=gn.optimizers.SGD(learning_rate=schedule))
    callback = ReduceLROnPlateau(monitor="loss", patience=0)
    callback.set_model(model)
    callback.on_train_begin({})
    callback.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(TypeError, match="schedule"):
        callback.on_epoch_end(1, {"loss": 1.0})


@pytest.mark.parametrize("kwargs, error, match", [
    ({"factor": 1.0}, ValueError, r"factor must be a number in \(0, 1\)"),
    ({"factor": 0.0}, ValueError, "factor"),
    ({"patience": -1}, ValueError, "patience must be an integer >= 0"),
    ({"patience": 1.5}, ValueError, "patience"),
    ({"cooldown": True}, ValueError, "cooldown"),
    ({"min_lr": -0.1}, ValueError, "min_lr"),
    ({"mode": "best"}, ValueError, "mode must be 'auto', 'min' or 'max'"),
    ({"monitor": None}, TypeError, "monitor"),
])
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        ReduceLROnPlateau(**kwargs)


def test_mode_auto_follows_the_compiled_metrics_direction_whatever_its_name(isolated_random_state, tmp_path):
    """AUC(name="prc") is maximised and a metric named like a score but measuring an error
    (MeanAbsoluteError(name="score_recall")) minimised, as Keras reads a metric's direction."""
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile("sgd", "binary_crossentropy",
                  metrics=[gn.metrics.AUC(curve="PR", name="prc"), gn.metrics.MeanAbsoluteError(name="score_recall")])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 2)), rng.integers(0, 2, (20, 1)).astype(float)
    callbacks = [gn.callbacks.EarlyStopping(monitor="val_prc", patience=50),
                 gn.callbacks.ReduceLROnPlateau(monitor="score_recall", patience=50),
                 gn.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="val_prc",
                                              save_best_only=True)]
    assert [cb.mode for cb in callbacks] == ["min", "max", "min"]          # the names alone mislead
    model.fit(x, y, epochs=1, validation_split=0.25, callbacks=callbacks, verbose=0)
    assert [cb.mode for cb in callbacks] == ["max", "min", "max"]


def test_callbacks_wait_for_validated_epochs_under_validation_freq(isolated_random_state, tmp_path):
    """fit(validation_freq=2): epochs 1, 3, ... have no val_* logs; EarlyStopping and ModelCheckpoint
    act on the validated epochs only (Keras warns and skips), and a misspelled monitor still fails."""
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile("sgd", "binary_crossentropy")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(20, 2)), rng.integers(0, 2, (20, 1)).astype(float)
    saved = []

    class Spy(gn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(sorted(p.name for p in tmp_path.iterdir()))

    stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=10)
    best = gn.callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}.keras"), monitor="val_loss", save_best_only=True)
    history = model.fit(x, y, epochs=4, validation_split=0.25, validation_freq=2, callbacks=[stop, best, Spy()],
                        verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert saved[0] == [] and saved[1] == ["best-2.keras"]                # epoch 1 unvalidated: nothing saved
    with pytest.raises(ValueError, match="'val_los', which is not among"):
        model.fit(x, y, epochs=1, validation_split=0.25,
                  callbacks=[gn.callbacks.EarlyStopping(monitor="val_los")], verbose=0)
