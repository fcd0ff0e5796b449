"""Regularizers under Keras's lowercase names, and model.losses, against Keras 3 on the same weights.

References: Keras 3 (its regularizers, model.losses and evaluate on identical weights); the
penalties' closed forms.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet import regularizers as R


def test_lowercase_names_are_the_classes_with_keras_defaults(keras):
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    for name in ("l1", "l2", "l1_l2"):
        ours, theirs = getattr(R, name)(), getattr(keras.regularizers, name)()
        assert ours.get_config() == pytest.approx(theirs.get_config(), rel=1e-6), name
    assert R.l2(0.001).get_config() == {"l2": 0.001}
    assert R.l1_l2(l1=0.01, l2=0.02).get_config() == {"l1": 0.01, "l2": 0.02}
    for name in ("l1", "l2", "L1", "L2", "L1L2"):                          # the names Keras's get() reads
        assert R.get(name).get_config() == pytest.approx(keras.regularizers.get(name).get_config(), rel=1e-6)
    assert type(R.get("l1_l2")) is R.L1L2


def test_penalties_equal_keras_on_the_same_weights(keras):
    w = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    for ours, theirs in ((R.l1(0.03), keras.regularizers.l1(0.03)), (R.l2(0.02), keras.regularizers.l2(0.02)),
                         (R.l1_l2(0.01, 0.04), keras.regularizers.l1_l2(0.01, 0.04))):
        assert ours(w) == pytest.approx(float(theirs(w)), rel=1e-6)
    assert R.l1_l2(0.01, 0.04)(w) == pytest.approx(0.01 * np.abs(w).sum() + 0.04 * (w.astype(float) ** 2).sum(),
                                                    rel=1e-6)


def _pair(keras, frozen=False):
    """The same regularized network in Keras and glassnet, with the same weights."""
    def layers(lib):
        L, reg = lib.layers, lib.regularizers
        return [L.Dense(6, activation="relu", kernel_regularizer=reg.l2(0.01), bias_regularizer=reg.l1(0.1),
                        trainable=not frozen),
                L.Dense(4, activation="tanh"),
                L.Dense(2, kernel_regularizer=reg.l1_l2(l1=0.02, l2=0.03))]
    theirs = keras.Sequential([keras.Input((5,))] + layers(keras))
    ours = gn.Sequential(layers(gn))
    ours.build((None, 5))
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return theirs, ours


@pytest.mark.parametrize("frozen", [False, True], ids=["all-trainable", "first-layer-frozen"])
def test_model_losses_equal_keras(keras, frozen):
    theirs, ours = _pair(keras, frozen)
    expected = [float(keras.ops.convert_to_numpy(v)) for v in theirs.losses]
    assert len(ours.losses) == len(expected) == (1 if frozen else 3)     # one per regularized trainable weight
    assert ours.losses == pytest.approx(expected, rel=1e-6)
    assert all(isinstance(v, float) for v in ours.losses)
    # the loss training reports is the data loss plus their sum, as Keras's
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 5)).astype(np.float32), rng.normal(size=(20, 2)).astype(np.float32)
    theirs.compile(optimizer="sgd", loss="mse")
    ours.compile(optimizer="sgd", loss="mse")
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(theirs.evaluate(x, y, verbose=0), rel=1e-5)
    data_loss = float(np.mean((ours.predict(x, verbose=0) - y) ** 2))
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(data_loss + sum(ours.losses), rel=1e-5)


def test_model_losses_follow_the_weights_and_reach_into_nested_models(keras):
    theirs, ours = _pair(keras)
    first = ours.layers[0]
    first.kernel.assign(np.zeros(first.kernel.shape))
    assert ours.losses[0] == 0.0 and ours.losses[1] > 0
    inner = gn.Sequential([gn.layers.Dense(3, input_shape=(2,), kernel_regularizer=R.l2(0.5))], name="inner")
    outer = gn.Sequential([inner, gn.layers.Dense(1, bias_regularizer=R.l1(0.25))])
    outer.build((None, 2))
    w = inner.layers[0].params["W"].astype(float)
    b = outer.layers[1].params["b"].astype(float)
    assert outer.losses == pytest.approx([0.5 * (w ** 2).sum(), 0.25 * np.abs(b).sum()], rel=1e-6)
    assert inner.losses == pytest.approx([0.5 * (w ** 2).sum()], rel=1e-6)
    assert gn.Sequential([gn.layers.Dense(2, kernel_regularizer="l2")]).losses == []        # not built yet
    assert gn.Sequential([gn.layers.Dense(2, input_shape=(3,))]).losses == []               # nothing regularized


def test_model_losses_of_a_graph_model(keras):
    def build(lib):
        a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
        ha = lib.layers.Dense(4, kernel_regularizer=lib.regularizers.l2(0.1), name="ha")(a)
        hb = lib.layers.Dense(4, kernel_regularizer=lib.regularizers.l1(0.2), name="hb")(b)
        out = lib.layers.Dense(1, name="out")(lib.layers.Concatenate(name="cat")([ha, hb]))
        return lib.Model([a, b], out)
    theirs, ours = build(keras), build(gn)
    weights = [np.random.default_rng(3).normal(size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    assert sorted(ours.losses) == pytest.approx(sorted(float(keras.ops.convert_to_numpy(v)) for v in theirs.losses),
                                                rel=1e-6)
