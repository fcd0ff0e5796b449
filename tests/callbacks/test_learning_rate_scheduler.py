"""LearningRateScheduler: the rate set and logged per epoch is the one SGD uses.

References: learning rates from the schedule, and SGD steps from compute_gradients.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import LambdaCallback, LearningRateScheduler
from callbacks.callback_helpers import N, WeightsAtEpochEnd, make_model


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
