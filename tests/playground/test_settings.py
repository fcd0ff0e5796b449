"""The settings table: defaults, limits with messages that name setting, range and value, the URL hash."""
import re

import pytest

from glassnet.playground.settings import SETTINGS, Settings, options

# The brief's table, written out again by hand: (name, default, a value below, a value above, words of the range)
NUMBERS = [
    ("noise", 0.1, -0.01, 1.5, "from 0 to 1"),
    ("n_samples", 400, 19, 2001, "from 20 to 2000"),
    ("train_fraction", 0.5, 0.05, 0.95, "from 0.1 to 0.9"),
    ("learning_rate", 0.03, 1e-6, 10.5, "from 1e-05 to 10"),
    ("batch_size", 10, 0, 257, "from 1 to 256"),
    ("regularization_rate", 0.001, -1e-9, 1.01, "from 0 to 1"),
    ("seed", 0, -1, 2**31, f"from 0 to {2**31 - 1}"),
]


def test_defaults_are_the_briefs():
    s = Settings.from_dict({})
    assert s.to_dict() == {
        "dataset": "circles", "noise": 0.1, "n_samples": 400, "train_fraction": 0.5, "features": ["x", "y"],
        "hidden": [4, 2], "activation": "tanh", "loss": "binary_crossentropy", "optimizer": "sgd",
        "learning_rate": 0.03, "batch_size": 10, "initializer": "glorot_uniform", "regularization": "none",
        "regularization_rate": 0.001, "seed": 0}
    assert [row["name"] for row in options()] == [s.name for s in SETTINGS] == list(s.to_dict())


@pytest.mark.parametrize("name, default, low, high, words", NUMBERS)
def test_number_limits(name, default, low, high, words):
    for bad in (low, high):
        with pytest.raises(ValueError) as err:
            Settings.from_dict({name: bad})
        message = str(err.value)
        assert message.startswith(f"{name}: ") and words in message and message.endswith(f"got {bad!r}"), message
    with pytest.raises(ValueError, match=re.escape(f"{name}: ")):
        Settings.from_dict({name: "3"})                     # a string is no number
    with pytest.raises(ValueError, match=re.escape(f"{name}: ")):
        Settings.from_dict({name: True})                    # nor is a bool
    # the limits themselves are allowed
    row = next(r for r in options() if r["name"] == name)
    assert getattr(Settings.from_dict({name: row["min"]}), name) == row["min"]
    assert getattr(Settings.from_dict({name: row["max"]}), name) == row["max"]
    assert row["default"] == default


def test_integer_settings_refuse_fractions():
    with pytest.raises(ValueError, match=r"batch_size: an integer from 1 to 256, got 2\.5"):
        Settings.from_dict({"batch_size": 2.5})
    with pytest.raises(ValueError, match=r"batch_size: an integer from 1 to 256, got 100000"):
        Settings.from_dict({"batch_size": 100000})
    with pytest.raises(ValueError, match=r"learning_rate: .*got nan"):
        Settings.from_dict({"learning_rate": float("nan")})


@pytest.mark.parametrize("name, bad", [("dataset", "spiral"), ("activation", "gelu"), ("optimizer", "lbfgs"),
                                       ("initializer", "orthogonal"), ("regularization", "l3"), ("loss", "hinge")])
def test_choices(name, bad):
    with pytest.raises(ValueError) as err:
        Settings.from_dict({name: bad})
    message = str(err.value)
    row = next(r for r in options() if r["name"] == name)
    assert message.startswith(f"{name}: ") and repr(bad) in message
    assert all(choice in message for choice in row["choices"])


def test_lists():
    assert Settings.from_dict({"features": ["sinx", "x", "xy"]}).features == ("x", "xy", "sinx")   # table order
    assert Settings.from_dict({"hidden": []}).hidden == ()
    with pytest.raises(ValueError, match=r"hidden: at most 8 layers, got 300"):
        Settings.from_dict({"hidden": [1] * 300})
    with pytest.raises(ValueError, match=r"hidden: .*1 to 16 units, got 17 \(layer 2\)"):
        Settings.from_dict({"hidden": [4, 17]})
    with pytest.raises(ValueError, match=r"hidden: .*got 0 \(layer 1\)"):
        Settings.from_dict({"hidden": [0]})
    with pytest.raises(ValueError, match=r"features: a non-empty list .*got \[\]"):
        Settings.from_dict({"features": []})
    with pytest.raises(ValueError, match=r"features: each one of .*got 'z'"):
        Settings.from_dict({"features": ["x", "z"]})
    with pytest.raises(ValueError, match=r"features: each at most once"):
        Settings.from_dict({"features": ["x", "x"]})


def test_unknown_keys_are_named_with_the_known_ones():
    with pytest.raises(ValueError) as err:
        Settings.from_dict({"dataset": "moons", "epochs": 3, "lr": 1})
    message = str(err.value)
    assert "'epochs'" in message and "'lr'" in message and "learning_rate" in message and "seed" in message
    with pytest.raises(ValueError, match="unknown 'bogus'"):
        Settings.from_query("dataset=moons&bogus=1")


def test_plane_loss_default_and_mismatch():
    assert Settings.from_dict({"dataset": "plane"}).loss == "mean_squared_error"
    assert Settings.from_dict({"dataset": "plane"}).task == "regression"
    assert Settings.from_dict({"dataset": "plane", "loss": "mean_absolute_error"}).loss == "mean_absolute_error"
    assert Settings.from_dict({}).task == "classification"
    for loss in ("binary_crossentropy", "sparse_categorical_crossentropy"):
        with pytest.raises(ValueError) as err:
            Settings.from_dict({"dataset": "plane", "loss": loss})
        assert "plane" in str(err.value) and loss in str(err.value) and "loss:" in str(err.value)


def test_query_round_trip():
    values = {"dataset": "spirals", "noise": 0.35, "n_samples": 777, "train_fraction": 0.3,
              "features": ["x", "y", "x2", "sinx"], "hidden": [8, 8, 3], "activation": "leaky_relu",
              "loss": "sparse_categorical_crossentropy", "optimizer": "adam", "learning_rate": 0.0123456789,
              "batch_size": 32, "initializer": "he_normal", "regularization": "l2",
              "regularization_rate": 1e-4, "seed": 2**31 - 1}
    s = Settings.from_dict(values)
    assert s.to_dict() == values
    q = s.to_query()
    assert q.startswith("dataset=spirals&") and "hidden=8,8,3" in q and "features=x,y,x2,sinx" in q
    assert Settings.from_query(q) == s and Settings.from_query("#" + q) == s
    assert Settings.from_query("hidden=&dataset=plane").to_dict()["hidden"] == []
    assert Settings.from_query("hidden=&dataset=plane").loss == "mean_squared_error"
    with pytest.raises(ValueError, match=r"batch_size: an integer, got 'ten'"):
        Settings.from_query("batch_size=ten")
    with pytest.raises(ValueError, match="given twice"):
        Settings.from_query("seed=1&seed=2")


def test_frozen():
    s = Settings.from_dict({})
    with pytest.raises(AttributeError):
        s.seed = 3
