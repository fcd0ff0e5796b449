"""A model's structure: layers, add and pop, building, the flat weight buffer, weights and config.

The training step reaches a model only through Model's small interface (layers, output_layer,
run_forward, run_backward, trainable_entries); those are checked here against the layers' own
forward and backward passes.
"""
import json

import numpy as np
import pytest

import glassnet as gn
from glassnet._registry import lookup
from glassnet.models import Model, Sequential

pytestmark = pytest.mark.usefixtures("isolated_random_state")


def _net(dtype="float64"):
    gn.set_random_seed(2)
    return Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(3,), dtype=dtype),
                       gn.layers.BatchNormalization(dtype=dtype),
                       gn.layers.Dense(2, activation="softmax", dtype=dtype)], name="net")


# ----------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------
def test_the_public_names_and_the_registry():
    assert gn.Sequential is gn.models.Sequential is Sequential
    assert issubclass(Sequential, Model)
    assert lookup("model", "Sequential") is Sequential
    # the base class cannot rebuild itself from a file, so a file naming it is refused by name, not half-loaded
    assert lookup("model", "Model") is None
    assert gn.models.load_model.__module__ == "glassnet.models.config"


def test_layers_get_unique_snake_case_names():
    model = Sequential([gn.layers.Dense(2, input_shape=(3,)), gn.layers.Dense(2), gn.layers.Dropout(0.1),
                        gn.layers.Dense(1, name="out")])
    assert [l.name for l in model.layers] == ["dense", "dense_1", "dropout", "out"]
    with pytest.raises(ValueError, match="a layer named 'out' is already in this model"):
        model.add(gn.layers.Dense(1, name="out"))
    with pytest.raises(ValueError, match="already in this model"):
        model.add(model.layers[0])
    with pytest.raises(TypeError, match="expects a glassnet layer"):
        model.add("dense")


def test_input_declares_the_shape_and_must_come_first():
    model = Sequential([gn.Input(shape=(5,)), gn.layers.Dense(2)])
    assert model.built and model.input_shape == (None, 5) and model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="must come before the other layers"):
        model.add(gn.Input(shape=(5,)))


def test_add_and_pop_rebuild():
    model = _net()
    assert model.count_params() == 3 * 4 + 4 + 4 * 4 + 4 * 2 + 2
    layer = model.pop()
    assert layer.units == 2 and model.built and model.output_shape == (None, 4)
    assert model.count_params() == 3 * 4 + 4 + 4 * 4
    model.add(gn.layers.Dense(3, dtype="float64"))
    assert model.output_shape == (None, 3)
    model.pop(), model.pop(), model.pop()
    with pytest.raises(ValueError, match=r"pop\(\) on a model with no layers"):
        model.pop()


def test_a_model_without_an_input_shape_waits_to_be_built():
    model = Sequential([gn.layers.Dense(2), gn.layers.Dense(1)])
    assert not model.built and model.input_shape is None
    with pytest.raises(ValueError, match="has not been built yet"):
        model.count_params()
    model.build((None, 6))
    assert model.built and model.input_shape == (None, 6) and model.count_params() == 6 * 2 + 2 + 2 + 1
    with pytest.raises(ValueError, match=r"declared for inputs of shape \(6,\), got \(7,\)"):
        model.build((None, 7))
    with pytest.raises(ValueError, match="the model has no layers"):
        Sequential().build((None, 3))


def test_layers_of_one_model_share_a_dtype():
    with pytest.raises(ValueError, match="must share one dtype"):
        Sequential([gn.layers.Dense(2, input_shape=(3,), dtype="float32"), gn.layers.Dense(1, dtype="float64")])


def test_n_d_feature_shapes_build_and_train():
    gn.set_random_seed(0)
    model = Sequential([gn.layers.Dense(4, activation="relu", input_shape=(5, 3)), gn.layers.Flatten(),
                        gn.layers.Dense(2, activation="softmax")])
    assert model.layers[0].output_shape == (None, 5, 4) and model.output_shape == (None, 2)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(6, 5, 3))
    loss = model.train_on_batch(x, np.array([0, 1, 0, 1, 1, 0]))
    assert np.isfinite(loss) and model.predict(x).shape == (6, 2)


# ----------------------------------------------------------------------------
# Weights: one flat buffer
# ----------------------------------------------------------------------------
def test_trainable_weights_are_views_of_one_flat_buffer():
    model = _net()
    entries = model.trainable_entries
    assert [(l.name, k) for l, k in entries] == [("dense", "W"), ("dense", "b"), ("batch_normalization", "gamma"),
                                                 ("batch_normalization", "beta"), ("dense_1", "W"), ("dense_1", "b")]
    flat = model._flat_weights
    assert flat.size == sum(l.params[k].size for l, k in entries)
    for layer, key in entries:
        assert np.shares_memory(layer.params[key], flat)
        assert np.shares_memory(layer.grads[key], model._flat_grads)
    assert [w is layer.params[key] for w, (layer, key) in zip(model.trainable_weights, entries)] == [True] * 6
    assert len(model.weights) == 8                             # and BatchNormalization's moving statistics


def test_get_weights_copies_and_set_weights_writes_in_place():
    model = _net()
    weights = model.get_weights()
    weights[0][...] = 7.0
    assert not np.any(model.layers[0].params["W"] == 7.0)
    model.set_weights(weights)
    assert np.all(model.layers[0].params["W"] == 7.0) and np.all(model._flat_weights[:12] == 7.0)


def test_frozen_layers_stay_out_of_the_buffer():
    model = _net()
    model.layers[0].trainable = False
    model.build()
    assert [l.name for l, _ in model.trainable_entries] == ["batch_normalization"] * 2 + ["dense_1"] * 2


# ----------------------------------------------------------------------------
# The interface the step uses
# ----------------------------------------------------------------------------
def test_run_forward_and_run_backward_are_the_layers_own_passes():
    model = _net()
    x = np.random.default_rng(1).normal(size=(5, 3))
    h = model.run_forward(x, training=False)
    expected = model.layers[1].forward(model.layers[0].forward(x))
    assert model.output_layer is model.layers[-1]
    assert np.array_equal(h, expected)
    seen = []
    h2 = model.run_forward(x, False, call=lambda i, layer, a: seen.append(i) or layer.forward(a))
    assert seen == [0, 1] and np.array_equal(h2, h)
    d = np.ones((5, 4))
    back = []
    assert model.run_backward(d, call=lambda i, layer, g: back.append(i) or layer.backward(g)) is None
    assert back == [1, 0]                                   # the first layer hands nothing further back


# ----------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------
def test_config_round_trip_and_dtype_override():
    model = _net()
    config = model.get_config()
    assert config["name"] == "net" and config["input_shape"] == [3]
    assert [spec["class_name"] for spec in config["layers"]] == ["Dense", "BatchNormalization", "Dense"]
    assert json.loads(json.dumps(config)) == config
    clone = Sequential.from_config(config)
    assert clone.get_config() == config
    as32 = Sequential.from_config(config, dtype="float32")
    assert as32.dtype == "float32" and all(l.dtype == "float32" for l in as32.layers)
    assert repr(clone) == "<Sequential name='net' layers=3 built=True>"


def test_the_base_model_has_no_config_of_its_own():
    with pytest.raises(NotImplementedError):
        Model().get_config()
    with pytest.raises(NotImplementedError):
        Model.from_config({})


def test_adding_a_layer_after_training_restarts_the_optimizer_state():
    gn.set_random_seed(3)
    x = np.random.default_rng(0).normal(size=(64, 4))
    y = (x[:, 0] > 0).astype(int)
    model = gn.Sequential([gn.layers.Dense(6, activation="tanh", input_shape=(4,))])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((64, 6)), epochs=1, verbose=0)
    assert model.optimizer.iterations == 2
    model.add(gn.layers.Dense(2, activation="softmax"))
    model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)             # used to fail: state held for the old weight shapes
    (slots,) = model.optimizer.slots
    assert model.optimizer.iterations == 2           # counted afresh with the new state
    assert slots["m"].shape == (4 * 6 + 6 + 6 * 2 + 2,)


def test_dropout_given_a_generator_keeps_a_json_config():
    import json
    layer = gn.layers.Dropout(0.5, seed=np.random.default_rng(0))
    assert json.loads(json.dumps(layer.get_config()))["seed"] is None
