"""The playground's data: the features (their expressions equal their functions bit for bit) and the split."""
import numpy as np
import pytest

from glassnet.datasets.toy import make_2d
from glassnet.playground import data
from glassnet.playground.settings import FEATURE_NAMES, Settings


def test_feature_expressions_equal_the_functions_bit_for_bit():
    p = np.random.default_rng(5).uniform(-6, 6, size=(1001, 2))
    assert tuple(data.FEATURES) == FEATURE_NAMES
    for name, feature in data.FEATURES.items():
        by_expression = eval(feature.expression, {"np": np, "p": p})        # what the exported script runs
        assert by_expression.dtype == np.float64
        assert np.array_equal(by_expression, feature.function(p)), name
    x = data.features(p, ("x", "y2", "xy", "siny"))
    hand = np.column_stack([p[:, 0], p[:, 1] * p[:, 1], p[:, 0] * p[:, 1], np.sin(p[:, 1])])
    np.testing.assert_allclose(x, hand, rtol=1e-15, atol=0)


def test_features_checks():
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        data.features(np.zeros((3, 3)), ("x",))
    with pytest.raises(ValueError, match="'z'"):
        data.features(np.zeros((3, 2)), ("x", "z"))


@pytest.mark.parametrize("names", ["xy", "x", ["x", ["y"]], 5, None, [], ("x", 0)])
def test_features_names_are_a_list_of_names(names):
    """"xy" is the product feature's name, not the list ["x", "y"]: a string is refused, so it can never
    quietly give two columns x and y; an unhashable name is a ValueError naming the list too."""
    with pytest.raises(ValueError) as err:
        data.features(np.ones((3, 2)), names)
    assert str(err.value).startswith("features: names must be a non-empty list of x, y, x2")
    assert repr(names) in str(err.value)


@pytest.mark.parametrize("n, fraction, expected", [(400, 0.5, 200), (20, 0.1, 2), (21, 0.5, 10), (2000, 0.9, 1800),
                                                   (3, 0.1, 1), (3, 0.9, 2)])
def test_split_sizes(n, fraction, expected):
    assert data.n_train(n, fraction) == expected


def test_load_is_make_2d_split():
    s = Settings.from_dict({"dataset": "moons", "n_samples": 101, "train_fraction": 0.3, "features": ["x", "y", "xy"],
                            "noise": 0.2, "seed": 9})
    d = data.load(s)
    points, y = make_2d("moons", 101, noise=0.2, seed=9)
    assert d["n_train"] == 30
    assert np.array_equal(d["x_train"][:, 2], points[:30, 0] * points[:30, 1])
    assert np.array_equal(d["x_test"][:, :2], points[30:])
    assert np.array_equal(d["y_train"], y[:30]) and d["y_train"].dtype == np.int64
    plane = data.load(Settings.from_dict({"dataset": "plane"}))
    assert plane["y_train"].dtype == np.float64
