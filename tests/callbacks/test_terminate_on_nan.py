"""TerminateOnNaN: a diverging run stops within its first epoch, a healthy one finishes."""
import math

import numpy as np

import glassnet as gn
from glassnet.callbacks import LambdaCallback, TerminateOnNaN
from callbacks.callback_helpers import make_model


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
