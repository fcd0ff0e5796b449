"""Keras 3 `.keras` and `.weights.h5` files for graph models with several outputs.

The reference is real Keras 3 on the torch backend.  The same graph is built in glassnet and in
Keras with list outputs, dict outputs (keys given out of order: Keras orders a dict's outputs by
key) and an output that other layers also read (outputs=[hidden, final]); two of its Dense layers
have the same kernel shape, so weights put in the wrong group would load silently and give other
numbers.  Both ways: predictions (1e-6), the compile settings Keras writes (loss, loss_weights and
metrics per output, byte for byte the layout of Keras's own compile_config), evaluate() (rtol 1e-5),
Adam's moments, and one more epoch of training on both.  Hostile output_layers and per-output
compile settings give a ModelFileError naming the file.
"""
import json
import warnings
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError, keras_file, keras_weights
from glassnet.saving.keras_compile import KerasCompileWarning
from saving.saving_helpers import rewrite_keras_config

h5py = pytest.importorskip("h5py")
pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
TOL = 1e-6
KINDS = ("list", "dict", "hidden")


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _heads(lib, kind):
    """The same graph in glassnet or Keras: inp -> hid -> mid -> kind (softmax), hid -> size; `mid` and
    `size` have kernels of the same shape (6, 6)."""
    L = lib.layers
    x = lib.Input((4,), name="inp")
    hid = L.Dense(6, activation="relu", name="hid")(x)
    mid = L.Dense(6, activation="tanh", name="mid")(L.BatchNormalization(name="norm")(hid))
    kind_out = L.Dense(3, activation="softmax", name="kind")(mid)
    size_out = L.Dense(6, name="size")(hid)
    outputs = {"list": [kind_out, size_out], "dict": {"size": size_out, "kind": kind_out},
               "hidden": [hid, kind_out]}[kind]
    return lib.Model(x, outputs, name="heads")


def _compile_args(kind):
    """compile's per-output settings (glassnet and Keras take the same), with full loss names so the
    compile_config both write can be compared as it stands."""
    return {
        "list": dict(loss=["sparse_categorical_crossentropy", "mean_squared_error"], loss_weights=[1.0, 0.5],
                     metrics=[["accuracy"], ["mae"]]),
        "dict": dict(loss={"kind": "sparse_categorical_crossentropy", "size": "mean_squared_error"},
                     loss_weights={"size": 2.0, "kind": 1.0}, metrics={"size": ["mae", "mse"], "kind": ["accuracy"]}),
        "hidden": dict(loss=["mean_squared_error", "sparse_categorical_crossentropy"],
                       metrics=[[], ["accuracy"]]),
    }[kind]


def _data(kind, n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    labels = np.argmax(x[:, :3], axis=1)
    size = np.tile(np.abs(x).sum(axis=1, keepdims=True), (1, 6)).astype(np.float32)
    y = {"list": [labels, size], "dict": {"kind": labels, "size": size},
         "hidden": [0.5 * size, labels]}[kind]
    return x, y


def _config(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("config.json"))


def _arrays(out, kind):
    """Predictions as {name or position: array}."""
    if kind == "dict":
        assert isinstance(out, dict)
        return {k: np.asarray(v) for k, v in out.items()}
    assert isinstance(out, list) and len(out) == 2
    return {i: np.asarray(v) for i, v in enumerate(out)}


def _same_predictions(a, b, kind):
    pa, pb = _arrays(a, kind), _arrays(b, kind)
    assert sorted(pa, key=str) == sorted(pb, key=str)
    for key in pa:
        assert pa[key].shape == pb[key].shape
        np.testing.assert_allclose(pa[key], pb[key], rtol=TOL, atol=TOL)


def _weights_by_layer(model):
    """{layer name: [arrays]} of a glassnet or Keras model."""
    return {layer.name: [np.asarray(w) for w in layer.get_weights()] for layer in model.layers}


def _same_weights(gmodel, kmodel, atol):
    mine, theirs = _weights_by_layer(gmodel), _weights_by_layer(kmodel)
    assert sorted(mine) == sorted(theirs)
    for name, arrays in mine.items():
        assert len(arrays) == len(theirs[name])
        for a, b in zip(arrays, theirs[name]):
            np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=name)


def _trained(kind, seed=1):
    gn.set_random_seed(seed)
    x, y = _data(kind, seed=seed)
    model = _heads(gn, kind)
    model.compile(optimizer=gn.optimizers.Adam(0.01), **_compile_args(kind))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    return model, x, y


# ---------------------------------------------------------------------------- glassnet -> Keras
@pytest.mark.parametrize("kind", KINDS)
def test_glassnet_several_outputs_load_in_keras_with_the_same_numbers(keras, tmp_path, kind):
    model, x, y = _trained(kind)
    path = model.save(tmp_path / "g.keras")
    outputs = _config(path)["config"]["output_layers"]
    assert outputs == {"list": [["kind", 0, 0], ["size", 0, 0]],
                       "dict": {"size": ["size", 0, 0], "kind": ["kind", 0, 0]},
                       "hidden": [["hid", 0, 0], ["kind", 0, 0]]}[kind]
    loaded = _quiet(keras.saving.load_model, path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in keras_weights.keras_layers(model)]
    _same_predictions(model.predict(x), loaded.predict(x, verbose=0), kind)
    # compiled: evaluate() gives the same numbers under the same names
    mine = model.evaluate(x, y, return_dict=True, verbose=0)
    theirs = loaded.evaluate(x, y, return_dict=True, verbose=0)
    assert sorted(mine) == sorted(theirs)
    for name, value in mine.items():
        np.testing.assert_allclose(theirs[name], value, rtol=1e-5, err_msg=name)
    assert int(loaded.optimizer.iterations) == model.optimizer.iterations
    # Adam's moments went along: one more epoch on both gives the same weights
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    _quiet(loaded.fit, x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    _same_weights(model, loaded, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_compile_config_is_written_as_keras_writes_it(keras, tmp_path, kind):
    model, _, _ = _trained(kind)
    mine = _config(model.save(tmp_path / "g.keras"))["compile_config"]
    kmodel = _heads(keras, kind)
    kmodel.compile(optimizer="adam", **_compile_args(kind))
    kmodel.save(tmp_path / "k.keras")
    theirs = _config(tmp_path / "k.keras")["compile_config"]
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        assert mine[key] == theirs[key], key
    assert mine["optimizer"]["class_name"] == theirs["optimizer"]["class_name"] == "Adam"


def test_outputs_without_loss_or_metrics_and_one_loss_for_all(keras, tmp_path):
    gn.set_random_seed(2)
    x, (labels, size) = _data("list", seed=2)
    model = _heads(gn, "list")
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss=[None, "mse"], metrics=[None, ["mae"]])
    model.fit(x, [None, size], epochs=2, batch_size=8, verbose=0, doctor=False)   # no loss reaches kind
    config = _config(model.save(tmp_path / "a.keras"))["compile_config"]
    assert (config["loss"], config["loss_weights"], config["metrics"]) == ([None, "mean_squared_error"], None,
                                                                         [[], ["mae"]])
    loaded = _quiet(keras.saving.load_model, tmp_path / "a.keras")
    theirs = loaded.evaluate(x, [labels, size], return_dict=True, verbose=0)
    mine = model.evaluate(x, [None, size], return_dict=True, verbose=0)
    assert sorted(theirs) == sorted(mine) == ["loss", "size_mae"]
    np.testing.assert_allclose([theirs[k] for k in sorted(mine)], [mine[k] for k in sorted(mine)], rtol=1e-5)
    again = gn.models.load_model(tmp_path / "a.keras")
    assert again.loss[0] is None and type(again.loss[1]).__name__ == "MeanSquaredError"
    assert again._metric_specs == [[], ["mae"]]

    model.compile(optimizer="sgd", loss="mse")                   # one loss for every output
    config = _config(model.save(tmp_path / "b.keras"))["compile_config"]
    assert config["loss"] == ["mean_squared_error", "mean_squared_error"] and config["metrics"] is None
    again = gn.models.load_model(tmp_path / "b.keras")
    assert again.metrics_names == ["loss", "kind_loss", "size_loss"]


def test_a_shared_layer_whose_calls_are_both_outputs(keras, tmp_path):
    gn.set_random_seed(3)
    x = gn.Input((4,), name="inp")
    shared = gn.layers.Dense(3, activation="tanh", name="shared")
    model = gn.Model(x, [shared(gn.layers.Dense(4, name="pre")(x)), shared(x)])
    path = model.save(tmp_path / "s.keras")
    assert _config(path)["config"]["output_layers"] == [["shared", 0, 0], ["shared", 1, 0]]
    data = np.random.default_rng(3).normal(size=(8, 4)).astype(np.float32)
    _same_predictions(model.predict(data), _quiet(keras.saving.load_model, path).predict(data, verbose=0), "list")
    _same_predictions(model.predict(data), gn.models.load_model(path).predict(data), "list")


# ---------------------------------------------------------------------------- Keras -> glassnet
def _keras_trained(keras, kind, seed=4):
    keras.utils.set_random_seed(seed)
    x, y = _data(kind, seed=seed)
    kmodel = _heads(keras, kind)
    kmodel.compile(optimizer=keras.optimizers.Adam(0.01), **_compile_args(kind))
    history = kmodel.fit(x, y, epochs=3, batch_size=8, verbose=0)
    return kmodel, history, x, y


@pytest.mark.parametrize("kind", KINDS)
def test_keras_several_outputs_load_in_glassnet_with_the_same_numbers(keras, tmp_path, kind):
    kmodel, history, x, y = _keras_trained(keras, kind)
    kmodel.save(tmp_path / "k.keras")
    model = gn.models.load_model(tmp_path / "k.keras")
    assert type(model).__name__ == "Functional" and model.compiled
    assert [layer.name for layer in keras_weights.keras_layers(model)] == [layer.name for layer in kmodel.layers]
    _same_predictions(model.predict(x), kmodel.predict(x, verbose=0), kind)
    # the compile settings
    names = {"list": ["kind", "size"], "dict": ["kind", "size"], "hidden": ["hid", "kind"]}[kind]
    assert model.output_names == names                          # a dict's outputs in Keras's order: by key
    losses = {"list": ["SparseCategoricalCrossentropy", "MeanSquaredError"],
              "dict": ["SparseCategoricalCrossentropy", "MeanSquaredError"],
              "hidden": ["MeanSquaredError", "SparseCategoricalCrossentropy"]}[kind]
    assert [type(loss).__name__ for loss in model.loss] == losses
    assert model._loss_weights == {"list": [1.0, 0.5], "dict": [1.0, 2.0], "hidden": [1.0, 1.0]}[kind]
    assert model._metric_specs == {"list": [["accuracy"], ["mae"]], "dict": [["accuracy"], ["mae", "mse"]],
                                   "hidden": [[], ["accuracy"]]}[kind]
    assert sorted(model.metrics_names) == sorted(history.history)
    theirs = kmodel.evaluate(x, y, verbose=0)                  # a list, in Keras's order
    assert len(theirs) == len(model.metrics_names)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), theirs, rtol=1e-5)
    assert model.optimizer.iterations == int(kmodel.optimizer.iterations)
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    kmodel.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    _same_weights(model, kmodel, atol=1e-5)


def test_keras_dict_losses_for_some_outputs_and_loss_classes(keras, tmp_path):
    keras.utils.set_random_seed(5)
    x, y = _data("dict", seed=5)
    kmodel = _heads(keras, "dict")
    kmodel.compile(optimizer="adam", loss={"kind": keras.losses.SparseCategoricalCrossentropy()},
                   metrics={"kind": "accuracy"})
    history = _quiet(kmodel.fit, x, y, epochs=1, verbose=0)          # Keras warns: no loss reaches size
    kmodel.save(tmp_path / "k.keras")
    assert _config(tmp_path / "k.keras")["compile_config"]["metrics"] == {"kind": "accuracy"}
    model = gn.models.load_model(tmp_path / "k.keras")
    assert model.metrics_names == ["loss", "kind_accuracy"] == sorted(history.history)[::-1]
    assert model.loss[1] is None and model._metric_specs == [["accuracy"], []]
    np.testing.assert_allclose(model.evaluate(x, {"kind": y["kind"]}, verbose=0), kmodel.evaluate(x, y, verbose=0),
                               rtol=1e-5)


def test_a_dict_of_one_output_goes_both_ways(keras, tmp_path):
    x, (_, size) = _data("list", seed=8)
    y = size[:, :1]
    keras.utils.set_random_seed(8)
    inp = keras.Input((4,), name="inp")
    kmodel = keras.Model(inp, {"a": keras.layers.Dense(1, name="d")(inp)})
    kmodel.compile(optimizer="adam", loss={"a": "mse"}, metrics={"a": ["mae"]})
    kmodel.fit(x, {"a": y}, epochs=2, verbose=0)
    kmodel.save(tmp_path / "k.keras")
    assert _config(tmp_path / "k.keras")["config"]["output_layers"] == {"a": ["d", 0, 0]}
    model = gn.models.load_model(tmp_path / "k.keras")
    assert model.compiled and model.output_names == ["a"] and model.metrics_names == ["loss", "mae"]
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), kmodel.evaluate(x, {"a": y}, verbose=0), rtol=1e-5)
    path = model.save(tmp_path / "g.keras")
    assert _config(path)["config"]["output_layers"] == {"a": ["d", 0, 0]}
    loaded = _quiet(keras.saving.load_model, path)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)["a"]), model.predict(x), rtol=TOL, atol=TOL)


# ---------------------------------------------------------------------------- .weights.h5 both ways
@pytest.mark.parametrize("kind", ["dict", "hidden"])
def test_several_output_weights_h5_go_both_ways(keras, tmp_path, kind):
    data, _ = _data(kind, seed=6)
    gn.set_random_seed(6)
    gmodel = _heads(gn, kind)
    rng = np.random.default_rng(6)                              # positive: BatchNormalization's variance
    gmodel.set_weights([(np.abs(rng.normal(size=w.shape)) * 0.3 + 0.05).astype(w.dtype)
                        for w in gmodel.get_weights()])
    gmodel.save_weights(tmp_path / "g.weights.h5")
    kmodel = _heads(keras, kind)
    _quiet(kmodel.load_weights, tmp_path / "g.weights.h5")
    _same_predictions(gmodel.predict(data), kmodel.predict(data, verbose=0), kind)
    keras.utils.set_random_seed(7)
    kmodel = _heads(keras, kind)
    kmodel.save_weights(tmp_path / "k.weights.h5")
    gmodel.load_weights(tmp_path / "k.weights.h5")
    _same_predictions(gmodel.predict(data), kmodel.predict(data, verbose=0), kind)


# ---------------------------------------------------------------------------- refusals


@pytest.fixture(params=["list", "dict"])
def saved(request, tmp_path):
    model, _, _ = _trained(request.param)
    return model.save(tmp_path / f"{request.param}.keras")


def _set_outputs(value):
    def edit(config):
        config["config"]["output_layers"] = value
    return edit


def _set_compile(key, value):
    def edit(config):
        config["compile_config"][key] = value
    return edit


@pytest.mark.parametrize("edit, match", [
    (_set_outputs([["kind", 0, 0], ["ghost", 0, 0]]), r"output_layers names call 0 of 'ghost', which the model"),
    (_set_outputs([["kind", 0, 0], ["size", 3, 0]]), r"output_layers names call 3 of 'size', which the model"),
    (_set_outputs({"a": ["kind", 0, 0], "b": ["ghost", 0, 0]}), r"output_layers names call 0 of 'ghost'"),
    (_set_outputs({"a": ["kind", 0, 0], "b": "size"}), r"output_layers holds 'size'; expected \[layer name"),
    (_set_outputs([["kind", 0, 0], ["size", 0, 1]]), r"names output 1 of layer 'size'; glassnet layers have one"),
    (_set_outputs([["kind", 0, 0], ["kind", 0, 0]]), r"the same tensor is given twice as outputs"),
    (_set_outputs({}), r"output_layers names 0 outputs; expected 1 to 1000"),
    (_set_outputs([]), r"output_layers holds \[\]; expected \[layer name, node, 0\]"),
])
def test_hostile_output_layers_are_clear_model_file_errors(saved, tmp_path, edit, match):
    bad = rewrite_keras_config(saved, tmp_path / "bad.keras", edit)
    with pytest.raises(ModelFileError, match=match) as err:
        gn.models.load_model(bad)
    assert str(bad) in str(err.value)


def test_output_keys_that_are_not_strings_are_refused(saved, tmp_path):
    config, _ = keras_file.read_members(saved)
    config["config"]["output_layers"] = {1: ["kind", 0, 0], 2: ["size", 0, 0]}     # JSON itself cannot say so
    with pytest.raises(ModelFileError, match="output_layers has keys that are not strings"):
        keras_file.build_model(saved, config, {})


@pytest.mark.parametrize("key, value, match", [
    ("loss", ["mse", "mse", "mse"], r"compile_config's loss is a list of 3, but the model has 2 outputs"),
    ("loss", ["mse"], r"compile_config's loss is a list of 1, but the model has 2 outputs"),
    ("loss_weights", [1.0], r"compile_config's loss_weights is a list of 1, but the model has 2 outputs"),
    ("metrics", [["mae"], ["mae"], ["mae"]], r"compile_config's metrics is a list of 3"),
    ("loss", {"kind": "mse", "ghost": "mse"}, r"compile_config's loss names the outputs ghost, which the model"),
    ("metrics", {"ghost": ["mae"]}, r"compile_config's metrics names the outputs ghost"),
])
def test_per_output_compile_settings_that_contradict_the_outputs_are_refused(saved, tmp_path, key, value, match):
    bad = rewrite_keras_config(saved, tmp_path / "bad.keras", _set_compile(key, value))
    with pytest.raises(ModelFileError, match=match) as err:
        gn.models.load_model(bad)
    assert str(bad) in str(err.value)
    assert not gn.models.load_model(bad, compile=False).compiled     # the settings are not read then


@pytest.mark.parametrize("key, value, match", [
    ("loss_weights", ["a", 1.0], "are not numbers"),
    ("loss_weights", 0.5, "is not a list or a dict"),
    ("loss", ["huber", "mse"], "huber"),
    ("metrics", [[{"class_name": "MeanIoU", "config": {}}], []], "is not one glassnet has"),
    ("weighted_metrics", [["mae"], []], "weighted_metrics of several outputs are set"),
])
def test_per_output_settings_glassnet_lacks_load_the_model_uncompiled(saved, tmp_path, key, value, match):
    bad = rewrite_keras_config(saved, tmp_path / "bad.keras", _set_compile(key, value))
    with pytest.warns(KerasCompileWarning, match=match):
        model = gn.models.load_model(bad)
    assert not model.compiled and len(model.outputs) == 2
