"""Keras 3 `.keras` and `.weights.h5` files for graph models (glassnet.saving.keras_graph).

The reference is real Keras 3 on the torch backend: a glassnet Functional (branches, every merge
layer, a shared layer) saved as .keras loads in Keras and predicts the same; a Keras Functional
trained and saved loads in glassnet and predicts the same; .weights.h5 goes both ways. Hostile
configs (a reference to a missing layer, a cycle, a call index out of range, an input that is no
InputLayer, a layer posing as a nested model) each give a clear ModelFileError (several inputs and
nested models: test_keras_nested.py). Keras is imported once for the module.
"""
import json
import warnings
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError, keras_weights
from saving.saving_helpers import rewrite_keras_config

h5py = pytest.importorskip("h5py")
pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
TOL = 1e-6


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2, 3)).astype(np.float32), rng.integers(0, 3, n)


def _graph(lib):
    """The same graph in glassnet or Keras: Rescaling, Flatten, branches, every merge, a shared Dense,
    BatchNormalization, Dropout, Activation."""
    L = lib.layers
    x = lib.Input((2, 3))
    h = L.Flatten()(L.Rescaling(0.5, offset=0.1)(x))
    a = L.Dense(4, activation="relu")(h)
    b = L.Dense(4, activation="tanh")(h)
    c = L.Dense(4)(L.BatchNormalization()(h))
    shared = L.Dense(4, activation="sigmoid", name="shared")
    s1, s2 = shared(a), shared(L.Dropout(0.2)(b))
    merged = [L.Add()([a, b, c]), L.Subtract()([a, b]), L.Multiply()([a, c]), L.Average()([b, c]),
              L.Maximum()([s1, c]), L.Minimum()([s2, a])]
    h = L.Concatenate()(merged)
    out = L.Activation("softmax")(L.Dense(3)(h))
    return lib.Model(x, out, name="graph")




# ---------------------------------------------------------------------------- glassnet -> Keras
def test_glassnet_graph_keras_file_loads_in_keras_and_predicts_the_same(keras, tmp_path):
    gn.set_random_seed(1)
    x, y = _data()
    model = _graph(gn)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    path = model.save(tmp_path / "g.keras")
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    assert config["class_name"] == "Functional"
    shared = next(s for s in config["config"]["layers"] if s["name"] == "shared")
    assert len(shared["inbound_nodes"]) == 2
    loaded = _quiet(keras.saving.load_model, path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in keras_weights.keras_layers(model)]
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), model.predict(x), rtol=TOL, atol=TOL)
    assert type(loaded.optimizer).__name__ == "Adam"


def _glassnet_moments(model):
    """{(layer name, k): (m, v)} of a glassnet Adam, for each layer's k-th trainable weight."""
    from glassnet.saving.keras_compile import _split
    slots, weights = model.optimizer.get_state()["slots"], model.trainable_weights
    if len(slots) == 1 and len(weights) > 1:
        ms, vs = _split(slots[0]["m"], weights), _split(slots[0]["v"], weights)
    else:
        ms, vs = [s["m"] for s in slots], [s["v"] for s in slots]
    out, count = {}, {}
    for (layer, _), m, v in zip(model._trainable_entries, ms, vs):
        k = count[layer.name] = count.get(layer.name, -1) + 1
        out[(layer.name, k)] = (m, v)
    return out


def test_graph_adam_state_goes_to_keras_and_back_weight_by_weight(keras, tmp_path):
    gn.set_random_seed(7)
    x, y = _data(seed=7)
    model = _graph(gn)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    mine = _glassnet_moments(model)
    loaded = _quiet(keras.saving.load_model, model.save(tmp_path / "g.keras"))
    opt = loaded.optimizer
    assert int(opt.iterations) == model.optimizer.iterations
    checked = 0
    for layer in loaded.layers:
        for k, var in enumerate(layer.trainable_variables):
            i = opt._get_variable_index(var)
            np.testing.assert_allclose(np.asarray(opt._momentums[i]), mine[(layer.name, k)][0], rtol=TOL, atol=TOL)
            np.testing.assert_allclose(np.asarray(opt._velocities[i]), mine[(layer.name, k)][1], rtol=TOL, atol=TOL)
            checked += 1
    assert checked == len(mine)
    _quiet(loaded.save, tmp_path / "k.keras")
    again = gn.models.load_model(tmp_path / "k.keras")
    assert again.optimizer.iterations == model.optimizer.iterations
    theirs = _glassnet_moments(again)
    for key, (m, v) in mine.items():
        np.testing.assert_allclose(theirs[key][0], m, rtol=TOL, atol=TOL)
        np.testing.assert_allclose(theirs[key][1], v, rtol=TOL, atol=TOL)


# ---------------------------------------------------------------------------- Keras -> glassnet
def test_keras_graph_file_loads_in_glassnet_and_predicts_the_same(keras, tmp_path):
    keras.utils.set_random_seed(2)
    x, y = _data(seed=2)
    model = _graph(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "k.keras")
    loaded = gn.models.load_model(tmp_path / "k.keras")
    assert type(loaded).__name__ == "Functional" and loaded.compiled
    assert [layer.name for layer in keras_weights.keras_layers(loaded)] == [layer.name for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(x), np.asarray(model.predict(x, verbose=0)), rtol=TOL, atol=TOL)
    loaded.fit(x, y, epochs=1, verbose=0)                     # glassnet can keep training it


# ---------------------------------------------------------------------------- .weights.h5 both ways
def test_graph_weights_h5_go_both_ways(keras, tmp_path):
    keras.utils.set_random_seed(3)
    x, _ = _data(seed=3)
    kmodel = _graph(keras)
    kmodel.save(tmp_path / "k.keras")
    gmodel = gn.models.load_model(tmp_path / "k.keras")
    # glassnet -> Keras: new weights in glassnet, read by the Keras model
    rng = np.random.default_rng(4)                            # positive: BatchNormalization's variance
    gmodel.set_weights([(np.abs(rng.normal(size=w.shape)) * 0.3 + 0.05).astype(w.dtype)
                        for w in gmodel.get_weights()])
    gmodel.save_weights(tmp_path / "g.weights.h5")
    _quiet(kmodel.load_weights, tmp_path / "g.weights.h5")
    assert np.all(np.isfinite(gmodel.predict(x)))
    np.testing.assert_allclose(np.asarray(kmodel.predict(x, verbose=0)), gmodel.predict(x), rtol=TOL, atol=TOL)
    # Keras -> glassnet: a freshly built glassnet graph reads Keras's weights
    keras.utils.set_random_seed(5)
    kmodel = _graph(keras)
    kmodel.save_weights(tmp_path / "k.weights.h5")
    gn.set_random_seed(5)
    fresh = _graph(gn)
    fresh.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(fresh.predict(x), np.asarray(kmodel.predict(x, verbose=0)), rtol=TOL, atol=TOL)


# ---------------------------------------------------------------------------- refusals
@pytest.fixture
def saved(tmp_path):
    gn.set_random_seed(6)
    x = gn.Input((3,), name="inp")
    a, b = gn.layers.Dense(2, name="a")(x), gn.layers.Dense(2, name="b")(x)
    model = gn.Model(x, gn.layers.Dense(1, name="out")(gn.layers.Add(name="add")([a, b])))
    return model.save(tmp_path / "g.keras")


def _layer(config, name):
    return next(s for s in config["config"]["layers"] if s["name"] == name)


def _history(config, name, node=0, arg=None):
    args = _layer(config, name)["inbound_nodes"][node]["args"][0]
    return (args[arg] if arg is not None else args)["config"]["keras_history"]


def _missing(config):
    _history(config, "add", arg=1)[0] = "ghost"


def _cycle(config):
    _history(config, "a")[0] = "b"
    _history(config, "b")[0] = "a"


def _out_of_range(config):
    _history(config, "out", arg=None)[1] = 7


def _two_inputs(config):
    config["config"]["input_layers"] = [["inp", 0, 0], ["inp2", 0, 0]]


def _nested(config):
    _layer(config, "a")["class_name"] = "Functional"


def _unknown(config):
    _layer(config, "b")["class_name"] = "LSTM"


def _self_loop(config):
    _history(config, "a")[0:2] = ["a", 0]


@pytest.mark.parametrize("edit, match", [
    (_missing, r"layer 'add' reads the layer 'ghost', which the model does not have"),
    (_cycle, r"in a cycle"),
    (_self_loop, r"in a cycle"),
    (_out_of_range, r"reads call 7 of layer 'add', which has 1 call"),
    (_two_inputs, r"input_layers names 'inp2' node 0, not an InputLayer of the model"),
    (_nested, r"the model 'a' \(Functional\) has no list of layers"),
    (_unknown, r"'LSTM', which glassnet does not have"),
])
def test_hostile_graph_configs_are_clear_model_file_errors(saved, tmp_path, edit, match):
    bad = rewrite_keras_config(saved, tmp_path / "bad.keras", edit)
    with pytest.raises(ModelFileError, match=match):
        gn.models.load_model(bad)


def test_a_long_chain_loads_without_recursion(tmp_path):
    x = gn.Input((2,))
    h = x
    for _ in range(1500):
        h = gn.layers.Activation("linear")(h)
    model = gn.Model(x, gn.layers.Dense(1)(h))
    loaded = gn.models.load_model(model.save(tmp_path / "long.keras"))
    data = np.ones((2, 2), np.float32)
    np.testing.assert_allclose(loaded.predict(data), model.predict(data), rtol=TOL, atol=TOL)


def test_deeply_nested_or_malformed_graph_configs_are_model_file_errors(saved, tmp_path):
    def deep(config):
        config["config"]["layers"][1]["inbound_nodes"] = json.loads("[" * 50 + "]" * 50)
    bad = rewrite_keras_config(saved, tmp_path / "deep.keras", deep)
    with pytest.raises(ModelFileError, match="'args'"):
        gn.models.load_model(bad)
    with zipfile.ZipFile(saved) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members["config.json"] = b"[" * 200_000 + b"]" * 200_000          # deeper than Python's recursion limit
    with zipfile.ZipFile(tmp_path / "nest.keras", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError):
        gn.models.load_model(tmp_path / "nest.keras")

    def no_output(config):
        config["config"]["output_layers"] = ["nowhere", 0, 0]
    with pytest.raises(ModelFileError, match="output_layers names call 0 of 'nowhere'"):
        gn.models.load_model(rewrite_keras_config(saved, tmp_path / "out.keras", no_output))

    def not_input(config):
        config["config"]["input_layers"] = ["a", 0, 0]
    with pytest.raises(ModelFileError, match="not an InputLayer"):
        gn.models.load_model(rewrite_keras_config(saved, tmp_path / "in.keras", not_input))


def test_keras_models_glassnet_lacks_are_refused_by_name(keras, tmp_path):
    x = keras.Input((3,))
    unit = keras.Model(x, keras.layers.Dense(1)(keras.layers.UnitNormalization()(x)))
    unit.save(tmp_path / "unit.keras")
    with pytest.raises(ModelFileError, match="'UnitNormalization', which glassnet does not have"):
        gn.models.load_model(tmp_path / "unit.keras")


def test_a_long_chain_listed_backwards_loads_quickly(tmp_path):
    x = gn.Input((2,))
    h = x
    for _ in range(1500):
        h = gn.layers.Activation("linear")(h)
    model = gn.Model(x, gn.layers.Dense(1)(h))
    path = model.save(tmp_path / "long.keras")
    reversed_path = rewrite_keras_config(path, tmp_path / "backwards.keras",
                             lambda c: c["config"].__setitem__("layers", c["config"]["layers"][::-1]))
    data = np.ones((2, 2), np.float32)
    np.testing.assert_allclose(gn.models.load_model(reversed_path).predict(data), model.predict(data),
                               rtol=TOL, atol=TOL)
