"""A model used as a layer: Sequential([inner, Dense]) and inner(t) in a graph model.

Reference: the same layers written out flat (one Sequential), with the same initial weights; after a
few Adam steps on the same batches both must hold the same numbers bit for bit, and so must the
file read back.  The nested gradients are also checked by float64 central differences
(gradient_check).
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import Dense
from reference import saved_random_state


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, size=n)


def _inner_sequential():
    return gn.Sequential([Dense(6, activation="relu", input_shape=(4,)), Dense(5, activation="tanh")])


def _inner_graph():
    t = gn.Input(shape=(4,))
    a = Dense(6, activation="relu")(t)
    b = Dense(5, activation="tanh")(a)
    return gn.Model(t, b)


def _flat():
    return gn.Sequential([Dense(6, activation="relu", input_shape=(4,)), Dense(5, activation="tanh"),
                          Dense(3, activation="softmax")])


def _in_sequential(inner):
    return gn.Sequential([inner, Dense(3, activation="softmax")])


def _in_graph(inner):
    t = gn.Input(shape=(4,))
    return gn.Model(t, Dense(3, activation="softmax")(inner(t)))


@pytest.mark.parametrize("make_inner", [_inner_sequential, _inner_graph])
@pytest.mark.parametrize("wrap", [_in_sequential, _in_graph])
def test_the_nested_model_trains_as_the_flat_one_bit_for_bit(make_inner, wrap, tmp_path):
    x, y = _data()
    inner = make_inner()
    nested, flat = wrap(inner), _flat()
    flat.set_weights(nested.get_weights())
    assert [w.shape for w in nested.get_weights()] == [w.shape for w in flat.get_weights()]
    for model in (nested, flat):
        model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    for k in range(4):
        batch = slice(4 * k, 4 * k + 8)
        assert nested.train_on_batch(x[batch], y[batch]) == flat.train_on_batch(x[batch], y[batch])
    for mine, ref in zip(nested.get_weights(), flat.get_weights()):
        np.testing.assert_array_equal(mine, ref)
    assert any(not np.array_equal(a, b) for a, b in zip(inner.get_weights(), _flat().get_weights()[:4]))
    np.testing.assert_array_equal(nested.predict(x), flat.predict(x))
    np.testing.assert_array_equal(inner.predict(x), flat.layers[1].forward(flat.layers[0].forward(x)))
    nested.save(tmp_path / "nested.glassnet")
    loaded = gn.load_model(tmp_path / "nested.glassnet")
    for mine, ref in zip(loaded.get_weights(), nested.get_weights()):
        np.testing.assert_array_equal(mine, ref)
    np.testing.assert_array_equal(loaded.predict(x), nested.predict(x))
    history = loaded.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, doctor=False)
    flat.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, doctor=False)
    assert history.history["loss"] == flat.history.history["loss"]


def test_nested_gradients_pass_gradient_check():
    x, y = _data(8)
    for model in (_in_sequential(_inner_graph()), _in_graph(_inner_sequential())):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        assert gn.gradient_check(model, x.astype(np.float64), y).passed


def test_a_frozen_inner_model_does_not_train():
    x, y = _data()
    inner = _inner_sequential()
    inner.trainable = False
    model = _in_sequential(inner)
    before = inner.get_weights()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.train_on_batch(x, y)
    for mine, ref in zip(inner.get_weights(), before):
        np.testing.assert_array_equal(mine, ref)
    assert model.count_params() == sum(w.size for w in model.get_weights())


def test_models_that_cannot_be_layers_are_refused():
    a, b = gn.Input(shape=(2,)), gn.Input(shape=(2,))
    two = gn.Model([a, b], Dense(1)(gn.layers.Concatenate()([a, b])))
    with pytest.raises(ValueError, match="has 2 inputs; only a model with one input and one output"):
        gn.Sequential([two])
    with pytest.raises(ValueError, match="has 2 inputs; only a model with one input and one output"):
        two(gn.Input(shape=(2,)))
    inner = _inner_sequential()
    _in_sequential(inner)
    with pytest.raises(ValueError, match="model 'sequential' is a layer of model 'sequential' already"):
        _in_graph(inner)
    model = _inner_sequential()
    with pytest.raises(ValueError, match="a model cannot be a layer of itself"):
        model.add(model)
    with pytest.raises(ValueError, match=r"was declared for inputs of shape \(4,\), but is called on a tensor of shape \(None, 3\)"):
        model(gn.Input(shape=(3,)))


def test_an_inner_model_with_moving_statistics_and_dropout_checks_and_lists_its_gradients_in_place():
    x, y = _data(12)
    with saved_random_state():
        gn.set_random_seed(2)
        inner = gn.Sequential([Dense(6, activation="tanh", input_shape=(4,)), gn.layers.BatchNormalization(),
                               gn.layers.Dropout(0.3, seed=1), Dense(5, activation="tanh")], name="inner")
        model = gn.Sequential([Dense(4, activation="tanh", input_shape=(4,)), inner,
                               Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss, grads = model.compute_gradients(x, y)
    assert [g.shape for g in grads] == [w.shape for w in model.get_weights()]
    check = gn.gradient_check(model, x.astype(np.float64), y)
    assert "inner/dense/W" in check and check.passed


def test_a_nested_model_cannot_be_changed_or_rebuilt():
    """Its weights live in the outer model's buffer: add, pop and build on it are refused, nothing changes."""
    inner = gn.Sequential([gn.layers.Dense(3, activation="tanh", input_shape=(4,))], name="inner")
    outer = gn.Sequential([inner, gn.layers.Dense(2, activation="softmax")], name="outer")
    before = outer.get_weights()
    for call, what in ((lambda: inner.add(gn.layers.Dense(2)), "adding a layer to"),
                       (inner.pop, "removing a layer from"), (lambda: inner._pack_weights(), "rebuilding")):
        with pytest.raises(ValueError, match=f"model 'inner' is a layer of model 'outer': {what} it"):
            call()
    assert len(inner.layers) == 1
    assert all(np.array_equal(u, v) for u, v in zip(before, outer.get_weights()))
    assert np.shares_memory(inner.layers[0].params["W"], outer._flat_weights)
