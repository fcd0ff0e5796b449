"""The speed benchmark's textbook NumPy loop (bench/textbook.py) computes what glassnet computes.

The benchmark's "textbook NumPy" row is the notes' own W1, b1, W2, b2 network in plain NumPy; it is a fair
baseline only if it computes the same network: its gradients equal glassnet's in float64, one SGD step
equals train_on_batch, and its Adam epoch learns in float32.  (tests/project/test_bench.py checks the rest.)
"""
import numpy as np
import pytest

import glassnet as gn
from project.test_bench import _batch
from bench import configs, textbook

# --------------------------------------------------------------------------
# The textbook loop computes what glassnet computes
# --------------------------------------------------------------------------

def _glassnet_model(config, dtype):
    layers = [gn.layers.Dense(config.hidden[0], activation=config.activation, input_shape=(784,), dtype=dtype)]
    layers += [gn.layers.Dense(w, activation=config.activation, dtype=dtype) for w in config.hidden[1:]]
    layers.append(gn.layers.Dense(10, activation="softmax", dtype=dtype))
    model = gn.Sequential(layers)
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=config.learning_rate or 0.1),
                  loss="sparse_categorical_crossentropy")
    return model




@pytest.mark.parametrize("name", ["C1", "C3"])
def test_textbook_gradients_equal_glassnets_in_float64(name, isolated_random_state):
    config = configs.CONFIGS[name]
    gn.set_random_seed(3)
    model = _glassnet_model(config, "float64")
    x, t = _batch(config.batch)
    net = textbook.TextbookNet(config.sizes, config.activation, seed=1, dtype=np.float64)
    for i, w in enumerate(model.get_weights()):       # [W1, b1, W2, b2, ...]: Keras order, as the notes
        net.params[f"{'Wb'[i % 2]}{i // 2 + 1}"][...] = w
    loss, grads = model.compute_gradients(x, t)
    mine = net.gradient(x, t)
    keys = [f"{'Wb'[i % 2]}{i // 2 + 1}" for i in range(len(grads))]
    for key, g in zip(keys, grads):
        assert mine[key].dtype == np.float64
        np.testing.assert_allclose(mine[key], g, rtol=1e-9, atol=1e-12, err_msg=key)
    assert net.loss(x, t) == pytest.approx(loss, rel=1e-5)     # the notes' loss adds 1e-7 inside the log


def test_textbook_sgd_step_equals_glassnets_train_on_batch(isolated_random_state):
    config = configs.CONFIGS["C2"]
    gn.set_random_seed(4)
    model = _glassnet_model(config, "float64")
    x, t = _batch(config.batch, seed=1)
    net = textbook.TextbookNet(config.sizes, config.activation, dtype=np.float64)
    for i, w in enumerate(model.get_weights()):
        net.params[f"{'Wb'[i % 2]}{i // 2 + 1}"][...] = w
    model.train_on_batch(x, t)
    textbook.SGD(lr=config.learning_rate).update(net.params, net.gradient(x, t))
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(net.params[f"{'Wb'[i % 2]}{i // 2 + 1}"], w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["C1", "C3"])
def test_textbook_adam_epoch_stays_float32_and_learns(name):
    config = configs.CONFIGS[name]
    rng = np.random.default_rng(0)
    x = rng.random((300, 784), dtype=np.float32)
    t = (x[:, :10].argmax(axis=1)).astype(np.int64)            # a learnable rule
    net = textbook.TextbookNet(config.sizes, config.activation, seed=0)
    opt = textbook.Adam(lr=1e-3)
    before = net.loss(x, t)
    for _ in range(3):
        textbook.train_epoch(net, opt, x, t, config.batch, rng)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert all(g.dtype == np.float32 for g in net.gradient(x[:5], t[:5]).values())
    assert net.loss(x, t) < before
    assert textbook.predict_batches(net, x, 128).shape == (300, 10)
