"""History: one entry per epoch; validation and training scores against evaluate() and by-hand values.

References: validation scores by hand from predict(), and evaluate().
"""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import History, LambdaCallback
from callbacks.callback_helpers import N, by_hand, make_model


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
