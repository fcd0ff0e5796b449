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
    with pytest.raises(ValueError, match=r"batch_size: an integer from 1 to 256, got 'ten'"):
        Settings.from_query("batch_size=ten")
    with pytest.raises(ValueError, match="given twice"):
        Settings.from_query("seed=1&seed=2")


def test_frozen():
    s = Settings.from_dict({})
    with pytest.raises(AttributeError):
        s.seed = 3


# ------------------------------------------------------------------------------------------------ odd values
@pytest.mark.parametrize("name, words", [("seed", "an integer from 0 to 2147483647"), ("n_samples", "from 20 to 2000"),
                                         ("noise", "a number from 0 to 1"), ("learning_rate", "from 1e-05 to 10")])
def test_integers_too_big_for_a_float_are_refused_by_name(name, words):
    """10**400 is a valid JSON number (Python reads it as an int); comparing it must not overflow."""
    with pytest.raises(ValueError) as err:
        Settings.from_dict({name: 10 ** 400})
    message = str(err.value)
    assert message.startswith(f"{name}: ") and words in message and "got 1000" in message
    assert len(message) < 200                      # the 401 digits are cut, not echoed whole


def test_negative_zero_is_plain_zero():
    s = Settings.from_dict({"noise": -0.0, "regularization_rate": -0.0})
    assert str(s.noise) == "0.0" and str(s.regularization_rate) == "0.0"
    assert "noise=0.0&" in s.to_query() and "-0.0" not in s.to_query()


def test_plane_with_a_loss_that_is_no_loss_says_what_is_allowed():
    with pytest.raises(ValueError) as err:
        Settings.from_dict({"dataset": "plane", "loss": ["x"]})
    message = str(err.value)
    assert message.startswith("loss: ") and "mean_squared_error, mean_absolute_error" in message
    assert "got ['x']" in message and "a classification loss" not in message


@pytest.mark.parametrize("query, needles", [
    ("hidden=\u0663", ["hidden: integers from 1 to 16", "at most 8", "'\u0663'"]),     # Arabic-Indic three
    ("seed=\uff11", ["seed: an integer from 0 to 2147483647", "got '\uff11'"]),        # a fullwidth one
    ("n_samples=1_000", ["n_samples: an integer from 20 to 2000", "'1_000'"]),
    ("noise=0_1", ["noise: a number from 0 to 1", "'0_1'"]),
    ("batch_size= 4", ["batch_size: an integer from 1 to 256", "' 4'"]),
    ("hidden=4,,2", ["hidden: integers from 1 to 16", "'4,,2'"]),
    ("hidden=4,2,", ["hidden: integers from 1 to 16", "'4,2,'"]),
    pytest.param("seed=" + "9" * 5000, ["seed: an integer from 0 to 2147483647", "got '9999"], id="5000-digits"),
    ("noise=nan", ["noise: a number from 0 to 1", "nan"]),
])
def test_query_numbers_are_plain_ascii_and_refusals_name_the_range(query, needles):
    """The URL hash holds what to_query writes: ASCII digits.  int() and float() would also take other
    scripts' digits, underscores and spaces; a refusal names the setting, its range and the text."""
    with pytest.raises(ValueError) as err:
        Settings.from_query(query)
    message = str(err.value)
    for needle in needles:
        assert needle in message, message
    assert len(message) < 300


def test_query_accepts_every_number_to_query_writes():
    s = Settings.from_dict({"learning_rate": 1e-05, "noise": 1.0, "regularization_rate": 0.0, "seed": 2**31 - 1,
                            "train_fraction": 0.9, "hidden": [16] * 8})
    assert Settings.from_query(s.to_query()) == s
    assert Settings.from_query("learning_rate=2E-3&noise=.5&seed=007").to_dict()["seed"] == 7


def test_long_values_are_cut_in_messages():
    for values in ({"dataset": "x" * 50000}, {"x" * 50000: 1}, {"hidden": [10 ** 400]}, {"features": ["y" * 50000]}):
        with pytest.raises(ValueError) as err:
            Settings.from_dict(values)
        assert len(str(err.value)) < 400, str(err.value)[:100]
