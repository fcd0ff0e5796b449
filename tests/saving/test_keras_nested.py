"""Keras 3 `.keras` and `.weights.h5` files for graph models with several inputs and for models used
as layers (glassnet.saving.keras_graph, keras_nested, keras_weights).

The reference is real Keras 3 on the torch backend. Each architecture is written once, for either
library (`lib` is glassnet or keras): glassnet trains and saves it, Keras loads it and predicts the
same (and holds the same Adam moments, matched weight by weight by value); Keras trains and saves
it, glassnet loads it and predicts the same; `.weights.h5` goes both ways and has Keras's exact group
layout. Malformed and hostile variants of the new parts (endpoints naming missing layers, models
nested too deep in config.json or in the HDF5 groups, a nested model of the wrong class or shape,
weights asking for more than the file holds) each give a ModelFileError naming the fault.
"""
import io
import json
import warnings
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError, keras_weights
from glassnet.saving.keras_nested import MAX_NESTING

h5py = pytest.importorskip("h5py")
pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
TOL = 1e-6


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------- the architectures
def _seq_in_seq(lib):
    """A Sequential whose first layer is a Sequential (Dense, BatchNormalization)."""
    L = lib.layers
    inner = lib.Sequential([lib.Input((3,)), L.Dense(5, activation="relu"), L.BatchNormalization()], name="inner")
    return lib.Sequential([inner, L.Dense(3), L.Activation("softmax")], name="outer")


def _graph_calls_models(lib):
    """A graph calling an inner Sequential, then an inner Functional, as layers; in both graphs Keras's
    layer order (deepest first) differs from the order of first calls."""
    L = lib.layers
    inner_seq = lib.Sequential([lib.Input((3,)), L.Dense(4, activation="tanh")], name="inner_seq")
    xi = lib.Input((4,))
    inner_fun = lib.Model(xi, L.Add()([L.Dense(5)(xi), L.Dense(5, activation="relu")(L.Dense(3)(xi))]),
                          name="inner_fun")
    x = lib.Input((3,))
    h = inner_fun(inner_seq(x))
    return lib.Model(x, L.Dense(3, activation="softmax")(L.Concatenate()([L.Dense(2)(x), h])), name="outer")


def _graph_in_seq(lib):
    """A Sequential whose first layer is a graph model, then a nested Sequential two models deep."""
    L = lib.layers
    xi = lib.Input((3,))
    fun = lib.Model(xi, L.Multiply()([L.Dense(4)(xi), L.Dense(4, activation="sigmoid")(xi)]), name="gate")
    deep = lib.Sequential([lib.Input((4,)), lib.Sequential([lib.Input((4,)), L.Dense(4, activation="elu")],
                                                           name="deepest")], name="deeper")
    return lib.Sequential([fun, deep, L.Dense(3, activation="softmax")], name="outer")


def _two_inputs(lib):
    """Two Inputs of different widths, a Dense on each, Concatenate, Dense (the brief's model)."""
    L = lib.layers
    a, b = lib.Input((3,), name="left"), lib.Input((2,), name="right")
    h = L.Concatenate()([L.Dense(4, activation="relu")(a), L.Dense(4)(b)])
    return lib.Model([a, b], L.Dense(3, activation="softmax")(L.BatchNormalization()(h)), name="two")


def _three_inputs_nested(lib):
    """Three Inputs at different depths (Keras's layer order), one read through an inner Sequential."""
    L = lib.layers
    a, b, c = lib.Input((3,), name="a"), lib.Input((2,), name="b"), lib.Input((1,), name="c")
    inner = lib.Sequential([lib.Input((3,)), L.Dense(4, activation="relu"), L.Dense(4)], name="inner")
    h = L.Concatenate()([b, inner(a), c])
    return lib.Model([c, a, b], L.Dense(3, activation="softmax")(h), name="three")


ARCHITECTURES = [_seq_in_seq, _graph_calls_models, _graph_in_seq, _two_inputs, _three_inputs_nested]
_WIDTHS = {_two_inputs: (3, 2), _three_inputs_nested: (1, 3, 2)}


def _data(arch, n=16, seed=0):
    """x for `arch` (one array, or a list in the model's input order) and labels of 3 classes."""
    rng = np.random.default_rng(seed)
    widths = _WIDTHS.get(arch, (3,))
    xs = [rng.normal(size=(n, w)).astype(np.float32) for w in widths]
    return (xs if len(xs) > 1 else xs[0]), rng.integers(0, 3, n)


def _weights_of(path):
    """{h5 path: dataset shape or None for a group} of a Keras weights file, the layout to compare."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: out.__setitem__(name, item.shape if isinstance(item, h5py.Dataset)
                                                        else None))
    return out


def _glassnet_moments(model):
    """[(weight, m, v)] of a glassnet model's Adam, one per trainable weight."""
    slots, weights = model.optimizer.get_state()["slots"], model.trainable_weights
    if len(slots) == 1 and len(weights) > 1:
        sizes = np.cumsum([0] + [w.size for w in weights])
        return [(w, slots[0]["m"][i:j].reshape(w.shape), slots[0]["v"][i:j].reshape(w.shape))
                for w, i, j in zip(weights, sizes[:-1], sizes[1:])]
    return [(w, s["m"], s["v"]) for w, s in zip(weights, slots)]


def _same_moments(kmodel, gmodel):
    """Each Keras trainable variable's Adam moments equal those of the glassnet weight with its value."""
    opt, mine = kmodel.optimizer, _glassnet_moments(gmodel)
    variables = kmodel.trainable_variables
    assert len(variables) == len(mine) and int(opt.iterations) == gmodel.optimizer.iterations
    for var in variables:
        value = np.asarray(var)
        match = [(m, v) for w, m, v in mine if w.shape == value.shape and np.array_equal(w, value)]
        assert len(match) == 1
        i = opt._get_variable_index(var)
        np.testing.assert_allclose(np.asarray(opt._momentums[i]), match[0][0], rtol=TOL, atol=TOL)
        np.testing.assert_allclose(np.asarray(opt._velocities[i]), match[0][1], rtol=TOL, atol=TOL)


# ---------------------------------------------------------------------------- glassnet -> Keras
@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: a.__name__.strip("_"))
def test_glassnet_file_loads_in_keras_and_predicts_the_same(keras, tmp_path, arch):
    gn.set_random_seed(1)
    x, y = _data(arch)
    model = arch(gn)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    loaded = _quiet(keras.saving.load_model, model.save(tmp_path / "g.keras"))
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in keras_weights.keras_layers(model)]
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), model.predict(x), rtol=TOL, atol=TOL)
    _same_moments(loaded, model)
    # .weights.h5: the Keras model reads glassnet's new weights
    rng = np.random.default_rng(2)                 # positive: BatchNormalization's moving variance
    model.set_weights([(np.abs(rng.normal(size=w.shape)) * 0.4 + 0.05).astype(w.dtype) for w in model.get_weights()])
    model.save_weights(tmp_path / "g.weights.h5")
    _quiet(loaded.load_weights, tmp_path / "g.weights.h5")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), model.predict(x), rtol=TOL, atol=TOL)


def test_dict_keyed_inputs_go_to_keras_as_a_dict(keras, tmp_path):
    gn.set_random_seed(3)
    a, b = gn.Input((3,), name="zed"), gn.Input((2,), name="bee")
    model = gn.Model({"z": a, "b": b}, gn.layers.Dense(2)(gn.layers.Concatenate()([gn.layers.Dense(4)(a), b])))
    path = model.save(tmp_path / "d.keras")
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))["config"]
    assert config["input_layers"] == {"z": ["zed", 0, 0], "b": ["bee", 0, 0]}
    (xa, xb), _ = _data(_two_inputs)
    x = {"z": xa, "b": xb}
    loaded = _quiet(keras.saving.load_model, path)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), model.predict(x), rtol=TOL, atol=TOL)
    again = gn.models.load_model(path)
    assert again._input_keys == ["z", "b"]
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=TOL, atol=TOL)


def test_list_inputs_and_nested_models_are_written_in_keras_layout(tmp_path):
    model = _three_inputs_nested(gn)
    with zipfile.ZipFile(model.save(tmp_path / "t.keras")) as zf:
        config = json.loads(zf.read("config.json"))["config"]
    assert config["input_layers"] == [["c", 0, 0], ["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == ["dense", 0, 0]
    inner = next(spec for spec in config["layers"] if spec["name"] == "inner")
    assert inner["class_name"] == "Sequential" and inner["config"]["layers"][0]["class_name"] == "InputLayer"
    assert inner["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == ["a", 0, 0]
    model.save_weights(tmp_path / "t.weights.h5")
    layout = _weights_of(tmp_path / "t.weights.h5")
    assert layout["layers/sequential/layers/dense/vars/0"] == (3, 4)
    assert layout["layers/sequential/layers/dense_1/vars/0"] == (4, 4)
    assert "layers/sequential/vars" in layout and "layers/input_layer_2/vars" in layout
    with h5py.File(tmp_path / "t.weights.h5", "r") as f:
        assert f["layers/sequential/vars"].attrs["name"] == "inner" and len(f["layers/sequential/vars"]) == 0


# ---------------------------------------------------------------------------- Keras -> glassnet
@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: a.__name__.strip("_"))
def test_keras_file_loads_in_glassnet_and_predicts_the_same(keras, tmp_path, arch):
    keras.utils.set_random_seed(4)
    x, y = _data(arch, seed=4)
    model = arch(keras)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "k.keras")
    loaded = gn.models.load_model(tmp_path / "k.keras")
    assert loaded.compiled and type(loaded).__name__ == type(model).__name__
    assert [layer.name for layer in keras_weights.keras_layers(loaded)] == [layer.name for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(x), np.asarray(model.predict(x, verbose=0)), rtol=TOL, atol=TOL)
    _same_moments(model, loaded)
    if isinstance(x, list):                                   # the inputs by name too
        names = [t._layer.name for t in loaded.inputs]
        np.testing.assert_allclose(loaded.predict(dict(zip(names, x))), loaded.predict(x), rtol=0, atol=0)
    loaded.fit(x, y, epochs=1, verbose=0)                     # glassnet can keep training it


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: a.__name__.strip("_"))
def test_keras_weights_h5_load_into_the_same_glassnet_architecture(keras, tmp_path, arch):
    keras.utils.set_random_seed(5)
    x, _ = _data(arch, seed=5)
    kmodel = arch(keras)
    rng = np.random.default_rng(6)
    kmodel.set_weights([(np.abs(rng.normal(size=w.shape)) * 0.4 + 0.05).astype("float32")
                        for w in kmodel.get_weights()])
    kmodel.save_weights(tmp_path / "k.weights.h5")
    gn.set_random_seed(5)
    fresh = arch(gn)
    fresh.save_weights(tmp_path / "g.weights.h5")
    assert _weights_of(tmp_path / "g.weights.h5") == _weights_of(tmp_path / "k.weights.h5")   # Keras's layout
    fresh.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(fresh.predict(x), np.asarray(kmodel.predict(x, verbose=0)), rtol=TOL, atol=TOL)


def test_a_model_that_is_not_trainable_stays_so_both_ways(keras, tmp_path):
    gn.set_random_seed(7)
    model = _seq_in_seq(gn)
    model.layers[0].trainable = False
    model.build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data(_seq_in_seq, seed=7)
    model.fit(x, y, epochs=1, verbose=0)
    assert len(model.trainable_weights) == 2
    loaded = _quiet(keras.saving.load_model, model.save(tmp_path / "f.keras"))
    # Keras restores the flag on the inner model's layers (as it writes it), not on the model itself
    assert not any(layer.trainable for layer in loaded.layers[0].layers) and len(loaded.trainable_variables) == 2
    _same_moments(loaded, model)
    again = gn.models.load_model(tmp_path / "f.keras")
    assert not again.layers[0].trainable and len(again.trainable_weights) == 2


# ---------------------------------------------------------------------------- malformed and hostile
def _rewrite(src, dst, edit=None, weights=None):
    """Copy the .keras archive `src` to `dst`, its config.json changed by edit(config), its weights by
    weights(h5py.File)."""
    with zipfile.ZipFile(src) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    if edit is not None:
        config = json.loads(members["config.json"])
        edit(config)
        members["config.json"] = json.dumps(config).encode()
    if weights is not None:
        buffer = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buffer, "r+") as f:
            weights(f)
        members["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dst


@pytest.fixture
def three(tmp_path):
    gn.set_random_seed(8)
    return _three_inputs_nested(gn).save(tmp_path / "three.keras")


@pytest.fixture
def nested(tmp_path):
    gn.set_random_seed(9)
    return _seq_in_seq(gn).save(tmp_path / "nested.keras")


def _spec(config, name):
    return next(s for s in config["config"]["layers"] if s.get("name", s["config"].get("name")) == name)


def _set_inputs(value):
    return lambda config: config["config"].__setitem__("input_layers", value)


def _wrap(times):
    """Put the inner model of _seq_in_seq `times` more Sequentials deep."""
    def edit(config):
        inner = config["config"]["layers"][1]
        for k in range(times):
            inner = {"module": "keras", "class_name": "Sequential", "registered_name": None,
                     "config": {"name": f"wrap_{k}", "trainable": True,
                                "layers": [config["config"]["layers"][0], inner]}}
        config["config"]["layers"][1] = inner
    return edit


def _inner(edit):
    return lambda config: edit(config["config"]["layers"][1])


@pytest.mark.parametrize("fixture, edit, match", [
    ("three", _set_inputs([["c", 0, 0], ["ghost", 0, 0], ["b", 0, 0]]),
     r"input_layers names 'ghost' node 0, not an InputLayer of the model"),
    ("three", _set_inputs([["c", 0, 0], ["inner", 0, 0], ["b", 0, 0]]), r"names 'inner' node 0, not an InputLayer"),
    ("three", _set_inputs([["c", 0, 0], ["c", 0, 0], ["b", 0, 0]]), r"input_layers names an InputLayer twice"),
    ("three", _set_inputs([["c", 0, 0], ["a", 1, 0], ["b", 0, 0]]), r"names 'a' node 1, not an InputLayer"),
    ("three", _set_inputs([["c", 0, 0], ["a", 0], ["b", 0, 0]]), r"input_layers holds \['a', 0\]; expected"),
    ("three", _set_inputs({"x": ["c", 0, 0], "y": "a"}), r"input_layers holds 'a'; expected \[layer name"),
    ("three", _set_inputs([]), r"input_layers holds \[\]; expected \[layer name, node, 0\]"),
    ("three", _set_inputs([["c", 0, 0], ["b", 0, 0]]), r"not describe a graph glassnet can build: the outputs do "
                                                       r"not depend on the model's inputs alone"),
    ("three", lambda c: c["config"].__setitem__("output_layers", [["dense", 0, 0], ["inner", 1, 0]]),
     r"output_layers names call 1 of 'inner', which the model does not have"),
    ("nested", _wrap(MAX_NESTING), rf"the model 'wrap_{MAX_NESTING - 1}' > .* > 'wrap_0' > 'inner' is nested "
                                   rf"{MAX_NESTING + 1} models deep; glassnet reads models nested at most "
                                   rf"{MAX_NESTING} deep"),
    ("nested", _inner(lambda s: s.__setitem__("class_name", "Model")),
     r"the layer 'inner' is a 'Model' model; glassnet reads Keras Sequential and Functional models only"),
    ("nested", _inner(lambda s: s["config"].pop("layers")), r"the model 'inner' \(Sequential\) has no list of layers"),
    ("nested", _inner(lambda s: s["config"].__setitem__("trainable", "no")), r"'inner' has trainable='no'"),
    ("nested", _inner(lambda s: s["config"]["layers"][0]["config"].__setitem__("batch_shape", [None, 7])),
     r"the model 'inner' takes inputs of shape \(7,\), but receives \(3,\)"),
    ("nested", _inner(lambda s: s["config"]["layers"][1]["config"].__setitem__("units", 10**8)),
     r"far more than model.weights.h5 holds"),
])
def test_malformed_several_input_and_nested_configs_are_model_file_errors(request, tmp_path, fixture, edit, match):
    bad = _rewrite(request.getfixturevalue(fixture), tmp_path / "bad.keras", edit)
    with pytest.raises(ModelFileError, match=match):
        gn.models.load_model(bad)


def _chain(depth):
    """A Sequential holding a Sequential holding ... `depth` models deep, a Dense at the bottom."""
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))], name="m0")
    for k in range(1, depth + 1):
        model = gn.Sequential([model, gn.layers.Dense(2)], name=f"m{k}")
    return model


def test_models_nested_as_deep_as_the_limit_go_both_ways(keras, tmp_path):
    gn.set_random_seed(10)
    model = _chain(MAX_NESTING)
    x, _ = _data(_seq_in_seq)
    path = model.save(tmp_path / "deep.keras")
    np.testing.assert_allclose(gn.models.load_model(path).predict(x), model.predict(x), rtol=0, atol=0)
    np.testing.assert_allclose(np.asarray(_quiet(keras.saving.load_model, path).predict(x, verbose=0)),
                               model.predict(x), rtol=TOL, atol=TOL)
    model.save_weights(tmp_path / "deep.weights.h5")
    bottom = "layers/" + "sequential/layers/" * MAX_NESTING + "dense/vars/0"
    assert _weights_of(tmp_path / "deep.weights.h5")[bottom] == (3, 2)
    again = _chain(MAX_NESTING)
    again.load_weights(tmp_path / "deep.weights.h5")
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=0, atol=0)


def test_weights_nested_too_deep_or_missing_are_model_file_errors(nested, tmp_path):
    def deep(f):
        group = f["layers"]
        for _ in range(MAX_NESTING + 1):
            group = group.create_group("sequential_9").create_group("layers")
    with pytest.raises(ModelFileError, match=rf"models nested more than {MAX_NESTING} deep"):
        gn.models.load_model(_rewrite(nested, tmp_path / "deep.keras", weights=deep))

    def drop(f):
        del f["layers/sequential/layers/batch_normalization"]
    with pytest.raises(ModelFileError, match=r"no weights for the layers layers/sequential/layers/batch_normalization"):
        gn.models.load_model(_rewrite(nested, tmp_path / "drop.keras", weights=drop))

    def linked(f):
        del f["layers/sequential/layers/dense"]
        f["layers/sequential/layers/dense"] = h5py.ExternalLink("elsewhere.h5", "/x")
    with pytest.raises(ModelFileError, match="links are refused"):
        gn.models.load_model(_rewrite(nested, tmp_path / "link.keras", weights=linked))


def test_glassnet_refuses_to_write_models_nested_deeper_than_it_reads(tmp_path):
    model = _chain(MAX_NESTING + 1)
    for name, call in (("m.keras", model.save), ("m.weights.h5", model.save_weights)):
        with pytest.raises(TypeError, match=rf"nested at most {MAX_NESTING} deep, got 'm0' deeper"):
            call(tmp_path / name)
        assert not (tmp_path / name).exists()
    model.save(tmp_path / "m.glassnet")                       # glassnet's own format has no such limit
