"""Reference tests for glassnet.initializers: shapes, dtypes, seeds, statistics, names."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import initializers as I

TRUNCATED_STD = 0.87962566103423978      # std of a unit normal truncated to [-2, 2]
RANDOM = [I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.VarianceScaling,
          I.GlorotUniform, I.GlorotNormal, I.HeNormal, I.HeUniform]
ALL = [I.Zeros, I.Ones, I.Constant] + RANDOM

# a large kernel for the statistics: 300 * 500 = 150,000 draws
FAN_IN, FAN_OUT = 300, 500


@pytest.fixture(autouse=True)
def _restore_random_state(isolated_random_state):
    """These tests re-seed the global generator; conftest's fixture puts it back afterwards."""


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_shape_and_dtype(cls):
    init = cls()
    w = init((3, 5))
    assert w.shape == (3, 5) and w.dtype == np.float32          # floatx default
    assert init((4,), dtype="float64").dtype == np.float64
    assert init((2, 3, 4), dtype=np.float64).shape == (2, 3, 4)
    assert np.all(np.isfinite(w))


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_bad_dtype_is_rejected(cls):
    with pytest.raises(ValueError):
        cls()((2, 2), dtype="int32")


def test_constant_initializers():
    np.testing.assert_array_equal(I.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(I.Ones()((2,)), [1.0, 1.0])
    np.testing.assert_array_equal(I.Constant(0.5)((2, 2)), np.full((2, 2), 0.5))


@pytest.mark.parametrize("cls", RANDOM, ids=lambda c: c.__name__)
def test_seeded_initializer_repeats_its_values(cls):
    first = cls(seed=3)((20, 30))
    np.testing.assert_array_equal(first, cls(seed=3)((20, 30)))        # a new object, same seed
    init = cls(seed=3)
    np.testing.assert_array_equal(init((20, 30)), init((20, 30)))      # the same object, called twice (Keras)
    assert not np.array_equal(first, cls(seed=4)((20, 30)))


@pytest.mark.parametrize("cls", RANDOM, ids=lambda c: c.__name__)
def test_unseeded_initializer_is_reproducible_after_set_random_seed(cls):
    gn.set_random_seed(7)
    a = cls()((20, 30))
    b = cls()((20, 30))
    gn.set_random_seed(7)
    np.testing.assert_array_equal(a, cls()((20, 30)))
    np.testing.assert_array_equal(b, cls()((20, 30)))
    assert not np.array_equal(a, b)                                    # successive draws differ


def test_random_normal_is_the_notes_weight_init_std_times_randn():
    shape = (784, 50)
    expected = 0.01 * np.random.default_rng(5).standard_normal(shape)
    np.testing.assert_array_equal(I.RandomNormal(stddev=0.01, seed=5)(shape, dtype="float64"), expected)
    np.testing.assert_array_equal(I.RandomNormal(stddev=0.01, seed=5)(shape), expected.astype(np.float32))
    gn.set_random_seed(11)
    np.testing.assert_array_equal(I.RandomNormal(stddev=0.01)(shape, dtype="float64"),
                                  0.01 * np.random.default_rng(11).standard_normal(shape))


def test_random_normal_mean_and_stddev():
    w = I.RandomNormal(mean=1.0, stddev=0.5, seed=0)((FAN_IN, FAN_OUT), dtype="float64")
    assert np.mean(w) == pytest.approx(1.0, abs=0.01)
    assert np.std(w) == pytest.approx(0.5, rel=0.02)


def test_random_uniform_bounds():
    w = I.RandomUniform(-0.2, 0.3, seed=0)((FAN_IN, FAN_OUT), dtype="float64")
    assert w.min() >= -0.2 and w.max() < 0.3
    assert w.min() < -0.199 and w.max() > 0.299
    assert np.mean(w) == pytest.approx(0.05, abs=0.005)


def test_glorot_uniform_bound_and_variance():
    w = I.GlorotUniform(seed=1)((FAN_IN, FAN_OUT), dtype="float64")
    limit = np.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.max(np.abs(w)) <= limit
    assert np.max(np.abs(w)) > 0.999 * limit                      # the whole interval is used
    assert np.var(w) == pytest.approx(2 / (FAN_IN + FAN_OUT), rel=0.02)
    assert np.mean(w) == pytest.approx(0.0, abs=0.01 * limit)


def test_he_uniform_bound_and_variance():
    w = I.HeUniform(seed=1)((FAN_IN, FAN_OUT), dtype="float64")
    limit = np.sqrt(6 / FAN_IN)
    assert limit * 0.999 < np.max(np.abs(w)) <= limit
    assert np.var(w) == pytest.approx(2 / FAN_IN, rel=0.02)


@pytest.mark.parametrize("cls, stddev", [
    (I.HeNormal, np.sqrt(2 / FAN_IN)),
    (I.GlorotNormal, np.sqrt(2 / (FAN_IN + FAN_OUT))),
], ids=["HeNormal", "GlorotNormal"])
def test_scaled_truncated_normals(cls, stddev):
    w = cls(seed=2)((FAN_IN, FAN_OUT), dtype="float64")
    assert np.std(w) == pytest.approx(stddev, rel=0.02)
    assert np.mean(w) == pytest.approx(0.0, abs=0.01 * stddev)
    # truncated at two standard deviations of the unit normal, then scaled by stddev / 0.8796
    bound = 2 * stddev / TRUNCATED_STD
    assert np.max(np.abs(w)) <= bound
    assert np.max(np.abs(w)) > 0.99 * bound


def test_truncated_normal_never_beyond_two_stddev():
    w = I.TruncatedNormal(mean=0.5, stddev=0.1, seed=3)((FAN_IN, FAN_OUT), dtype="float64")
    assert np.max(np.abs(w - 0.5)) <= 2 * 0.1
    assert np.max(np.abs(w - 0.5)) > 0.199
    assert np.std(w) == pytest.approx(0.1 * TRUNCATED_STD, rel=0.02)


@pytest.mark.parametrize("shape, fans", [((784, 50), (784, 50)), ((7,), (7, 7)), ((3, 3, 16, 32), (144, 288))])
def test_compute_fans(shape, fans):
    assert I.compute_fans(shape) == fans


@pytest.mark.parametrize("identifier, cls", [
    ("glorot_uniform", I.GlorotUniform), ("GlorotUniform", I.GlorotUniform), ("xavier_uniform", I.GlorotUniform),
    ("he_normal", I.HeNormal), ("HeNormal", I.HeNormal), ("he_uniform", I.HeUniform),
    ("glorot_normal", I.GlorotNormal), ("random_normal", I.RandomNormal), ("zeros", I.Zeros),
    ("ones", I.Ones), ("truncated_normal", I.TruncatedNormal), (I.HeUniform, I.HeUniform),
])
def test_get_by_name(identifier, cls):
    assert type(I.get(identifier)) is cls


def test_get_passes_instances_through():
    init = I.RandomNormal(stddev=0.01)
    assert I.get(init) is init


def test_unknown_initializer_raises_value_error_listing_names():
    with pytest.raises(ValueError) as err:
        I.get("lecun_normalish")
    message = str(err.value)
    assert "lecun_normalish" in message
    for known in ("glorot_uniform", "he_normal", "random_normal", "zeros"):
        assert known in message
    with pytest.raises(TypeError):
        I.get(0.01)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError):
        I.GlorotUniform(seed=seed)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        I.RandomNormal(stddev=-1.0)
    with pytest.raises(ValueError):
        I.RandomUniform(minval=1.0, maxval=0.0)
    with pytest.raises(ValueError):
        I.VarianceScaling(mode="fan_sideways")


@pytest.mark.parametrize("init", [I.GlorotUniform(seed=1), I.RandomNormal(0.1, 0.2, seed=3), I.Constant(2.0),
                                  I.VarianceScaling(0.5, "fan_out", "untruncated_normal", seed=4)], ids=repr)
def test_serialize_round_trip_gives_the_same_values(init):
    rebuilt = I.deserialize(I.serialize(init))
    assert type(rebuilt) is type(init) and rebuilt.get_config() == init.get_config()
    np.testing.assert_array_equal(rebuilt((6, 4)), init((6, 4)))


def test_constant_broadcasts_an_array_as_keras_does(keras):
    """The imbalanced-data tutorial's output bias: Constant(np.log([pos / neg])) for a one-unit bias."""
    bias = np.log([42 / 7000])
    ours = I.Constant(bias)((1,), dtype="float64")
    theirs = np.asarray(keras.initializers.Constant(bias)(shape=(1,), dtype="float64"))
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(I.Constant([1.0, 2.0])((3, 2)), [[1, 2], [1, 2], [1, 2]])   # broadcast rows
    dense = gn.layers.Dense(1, bias_initializer=I.Constant(bias), input_shape=(4,))
    dense.build((None, 4))
    assert dense.bias.numpy()[0] == pytest.approx(bias[0], rel=1e-6)
    assert I.deserialize(I.serialize(I.Constant(bias))).get_config() == {"value": [bias[0]]}
    with pytest.raises(ValueError, match=r"value of shape \(2,\), which cannot fill a weight of shape \(3,\)"):
        I.Constant([1.0, 2.0])((3,))
    with pytest.raises(TypeError, match="a number or an array of numbers"):
        I.Constant("big")


def test_an_initializer_of_none_draws_glorot_uniform_as_a_keras_layer_does(keras):
    """Keras 3 layers give a weight whose initializer is None glorot_uniform (Layer.add_weight), so
    the tutorial's make_model(output_bias=None) gets a random bias, not zeros."""
    units = 50
    limit = np.sqrt(6 / (units + units))            # a bias (units,) has fan_in = fan_out = units
    theirs = keras.layers.Dense(units, bias_initializer=None)
    theirs.build((None, 3))
    ours = gn.layers.Dense(units, bias_initializer=None)
    ours.build((None, 3))
    for bias in (np.asarray(theirs.bias.numpy()), ours.bias.numpy()):
        assert np.abs(bias).max() <= limit and np.abs(bias).max() > limit / 2
    assert isinstance(I.get(None), I.GlorotUniform)
