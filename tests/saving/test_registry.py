"""glassnet._registry: how a model file finds its classes, and the shared name lookup of every get()."""
import json
import zipfile

import pytest

import glassnet as gn
from glassnet import _registry
from glassnet.saving import ModelFileError, load_model
from saving.saving_helpers import _members, _rewrite

pytestmark = pytest.mark.usefixtures("isolated_random_state")


def test_every_class_a_file_may_name_is_registered():
    assert _registry.lookup("layer", "Dense") is gn.layers.Dense
    assert set(_registry.classes("layer")) >= {"Dense", "Activation", "Flatten", "InputLayer", "Dropout",
                                               "BatchNormalization", "Rescaling"}
    assert _registry.lookup("model", "Sequential") is gn.Sequential
    assert _registry.lookup("loss", "CategoricalCrossentropy") is gn.losses.CategoricalCrossentropy
    assert _registry.lookup("optimizer", "Adam") is gn.optimizers.Adam
    assert _registry.lookup("schedule", "ExponentialDecay") is gn.optimizers.ExponentialDecay
    assert _registry.lookup("initializer", "glorot_uniform") is gn.initializers.GlorotUniform
    assert _registry.lookup("regularizer", "l2") is gn.regularizers.L2
    assert _registry.lookup("layer", "Conv3D") is None


def test_a_registered_class_is_found_and_a_duplicate_name_is_refused(monkeypatch):
    monkeypatch.setitem(_registry._CLASSES, "layer", dict(_registry._CLASSES["layer"]))   # undone afterwards

    @_registry.register("layer")
    class Doubler(gn.layers.Activation):
        pass

    assert _registry.lookup("layer", "Doubler") is Doubler
    assert _registry.register("layer")(Doubler) is Doubler            # the same class again is fine
    with pytest.raises(ValueError, match="a layer class named 'Doubler' is registered already"):
        _registry.register("layer")(type("Doubler", (gn.layers.Activation,), {}))
    with pytest.raises(ValueError, match="a layer class named 'Dense' is registered already"):
        _registry.register("layer", "Dense")(Doubler)
    with pytest.raises(ValueError, match="unknown kind 'widget'"):
        _registry.register("widget")


def test_classes_returns_a_copy():
    table = _registry.classes("layer")
    table["Fake"] = object
    assert _registry.lookup("layer", "Fake") is None


def test_load_model_refuses_an_unregistered_class_name(tmp_path):
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))])
    path = model.save(tmp_path / "m.glassnet")
    config = json.loads(_members(path)["config.json"])
    config["model"]["config"]["layers"][0]["class_name"] = "Conv3D"
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    with pytest.raises(ModelFileError, match=r"uses the layer class 'Conv3D', which glassnet does not have "
                                             r"\(known: .*Dense.*\); pass custom_objects=\{'Conv3D': \.\.\.\}"):
        load_model(path)
    config["model"]["class_name"] = "Subclassed"
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    with pytest.raises(ModelFileError, match=r"uses the model class 'Subclassed'.*known: Functional, Sequential"):
        load_model(path)
    with zipfile.ZipFile(path) as zf:
        assert "manifest.json" in zf.namelist()


def test_save_refuses_objects_that_are_not_registered_models(tmp_path):
    with pytest.raises(TypeError, match="expected a glassnet Sequential model, got list"):
        gn.saving.save_model([], tmp_path / "m.glassnet")


# ----------------------------------------------------------------------
# the shared lookup helper
# ----------------------------------------------------------------------
class Thing:
    def __init__(self, size=1):
        self.size = size


class Big(Thing):
    @classmethod
    def from_config(cls, config):
        return cls(size=config.get("size", 1) * 10)


TABLE = {"thing": Thing, "big": Big}


def test_find_lowercases_follows_aliases_and_lists_known_names():
    assert _registry.find("BIG", TABLE, "thing") == "big"
    assert _registry.find("large", TABLE, "thing", aliases={"large": "big"}) == "big"
    with pytest.raises(ValueError, match=r"^Unknown thing 'huge'; known things: big, thing$"):
        _registry.find("huge", TABLE, "thing")
    with pytest.raises(ValueError, match=r"^Unknown box 'x'; known boxes: a, b$"):
        _registry.find("x", TABLE, "box", known=["a", "b"], plural="boxes")


def test_resolve_takes_instances_classes_specs_and_names():
    kw = {"accepts": "a name (str) or a Thing"}
    t = Thing(5)
    assert _registry.resolve(t, "thing", TABLE, Thing, **kw) is t
    assert type(_registry.resolve(Big, "thing", TABLE, Thing, **kw)) is Big
    assert type(_registry.resolve("Thing", "thing", TABLE, Thing, **kw)) is Thing
    assert _registry.resolve({"class_name": "Thing", "config": {"size": 3}}, "thing", TABLE, Thing, **kw).size == 3
    assert _registry.resolve({"class_name": "big", "config": {"size": 3}}, "thing", TABLE, Thing, **kw).size == 30
    with pytest.raises(ValueError, match="Unknown thing class 'Small'; known things: big, thing"):
        _registry.resolve({"class_name": "Small"}, "thing", TABLE, Thing, **kw)
    with pytest.raises(TypeError, match=r"^thing must be a name \(str\) or a Thing, got float$"):
        _registry.resolve(1.5, "thing", TABLE, Thing, **kw)


@pytest.mark.parametrize("module, name", [(gn.optimizers, "Adam"), (gn.initializers, "he_normal"),
                                          (gn.regularizers, "l2"), (gn.losses, "mse")])
def test_every_get_accepts_a_name_and_a_spec(module, name):
    obj = module.get(name)
    spec = {"class_name": type(obj).__name__, "config": obj.get_config()}
    again = module.get(spec)
    assert type(again) is type(obj) and again.get_config() == obj.get_config()


def test_the_messages_of_each_get_are_kept():
    with pytest.raises(ValueError, match=r"^Unknown optimizer 'adamz'; known optimizers: adagrad, adam, adamw, "):
        gn.optimizers.get("adamz")
    with pytest.raises(ValueError, match=r"^Unknown loss 'msee'; known losses: "):
        gn.losses.get("msee")
    with pytest.raises(ValueError, match=r"^Unknown metric 'acc2'; known metrics: accuracy, acc, "):
        gn.metrics.get("acc2")
    with pytest.raises(ValueError, match=r"^Unknown activation 'relux'; known activations: "):
        gn.activations.get("relux")
    with pytest.raises(ValueError, match=r"^Unknown regularizer 'l3'; known regularizers: l1, l1_l2, l2$"):
        gn.regularizers.get("l3")
    with pytest.raises(TypeError, match=r"^initializer must be a name \(str\) or an Initializer, got float$"):
        gn.initializers.get(0.1)
    assert gn.regularizers.get(None) is None
