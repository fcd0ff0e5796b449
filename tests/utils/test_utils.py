"""glassnet.utils, Keras's keras.utils for NumPy: imports as a module, to_categorical, normalize,
pad_sequences, set_random_seed.

References: Keras 3's keras.utils on the same inputs; closed forms where Keras's NumPy code fails.
"""
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn


def test_imports_as_keras_scripts_write_them():
    code = ("import sys\n"
            "from glassnet.utils import to_categorical, normalize, pad_sequences, set_random_seed, plot_model\n"
            "import glassnet.utils as utils\n"
            "from glassnet import utils as u2\n"
            "import glassnet as keras\n"
            "assert keras.utils is utils is u2 and keras.utils.plot_model is plot_model\n"
            "assert 'matplotlib' not in sys.modules\n"
            "print(to_categorical([0, 2]).tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]"
    assert set(gn.utils.__all__) >= {"to_categorical", "normalize", "pad_sequences", "set_random_seed", "plot_model"}
    with pytest.raises(AttributeError):
        gn.utils.no_such_helper


def test_to_categorical_equals_keras(keras):
    rng = np.random.default_rng(0)
    for y, n in [(rng.integers(0, 5, size=20), None), (rng.integers(0, 3, size=(4, 6)), 7),
                 (rng.integers(0, 4, size=(9, 1)), None), (np.array([2.0, 0.0, 1.0]), 3), ([1, 0, 3], None)]:
        ours = gn.utils.to_categorical(y, num_classes=n)
        theirs = keras.utils.to_categorical(y, num_classes=n)
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
    assert gn.utils.to_categorical([1, 0]).dtype == np.float32          # glassnet's float type
    for bad in ([-1, 0], [0.5], [3]):                                   # Keras would wrap -1 or raise IndexError
        with pytest.raises(ValueError):
            gn.utils.to_categorical(bad, num_classes=3)


def test_normalize_equals_keras_and_the_closed_form(keras):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 5))
    x[2] = 0                                                          # a zero row stays zero
    for order in (2, 1, np.inf, 3):
        np.testing.assert_allclose(gn.utils.normalize(x, order=order), keras.utils.normalize(x, order=order),
                                   rtol=1e-12)
    x3 = rng.normal(size=(3, 4, 5)).astype(np.float32)
    theirs = keras.utils.normalize(x3, axis=1)
    ours = gn.utils.normalize(x3, axis=1)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    # axis=0 (Keras's NumPy path cannot broadcast it): columns of length 1
    cols = gn.utils.normalize(x, axis=0)
    np.testing.assert_allclose(np.sqrt((cols ** 2).sum(axis=0)), 1.0, rtol=1e-12)
    np.testing.assert_allclose(cols * np.linalg.norm(x, axis=0), x, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gn.utils.normalize([3, 4]), [0.6, 0.8])             # 1-D keeps its shape
    assert gn.utils.normalize(np.array([[3, 4]])).dtype == np.float64               # integers: float64, as Keras
    for bad in (dict(x=x, axis=2), dict(x=x, axis=0.5), dict(x=x, order="fro"), dict(x=np.array(3.0)),
                dict(x=np.array([[np.nan, 1.0]])), dict(x=np.array(["a"]))):
        with pytest.raises((ValueError, TypeError)):
            gn.utils.normalize(**bad)


def _random_sequences(rng, n, max_len, item_shape=()):
    return [rng.integers(1, 50, size=(int(rng.integers(0, max_len + 1)),) + item_shape).tolist() for _ in range(n)]


@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 4}, {"maxlen": 12}, {"padding": "post"}, {"truncating": "post", "maxlen": 3},
    {"padding": "post", "truncating": "post", "maxlen": 5, "value": -1}, {"dtype": "float32", "value": 0.5},
    {"dtype": "int64", "maxlen": 1},
])
def test_pad_sequences_equals_keras(keras, kwargs):
    rng = np.random.default_rng(len(str(kwargs)))
    sequences = _random_sequences(rng, 30, 8)
    sequences[0] = [5, 6, 7, 8, 9, 10, 11, 12]                          # at least one of length 8
    ours = gn.utils.pad_sequences(sequences, **kwargs)
    theirs = keras.utils.pad_sequences(sequences, **kwargs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_of_vectors_arrays_and_strings_equals_keras(keras):
    rng = np.random.default_rng(5)
    vectors = _random_sequences(rng, 6, 4, (3,))
    vectors[0] = rng.integers(1, 9, size=(4, 3)).tolist()
    np.testing.assert_array_equal(gn.utils.pad_sequences(vectors, maxlen=3),
                                  keras.utils.pad_sequences(vectors, maxlen=3))
    mixed = [np.array([1, 2, 3]), (4, 5), range(6, 7)]
    np.testing.assert_array_equal(gn.utils.pad_sequences(mixed), keras.utils.pad_sequences(mixed))
    words = [["the", "cat"], ["a"]]
    np.testing.assert_array_equal(gn.utils.pad_sequences(words, dtype=object, value="<pad>"),
                                  keras.utils.pad_sequences(words, dtype=object, value="<pad>"))
    assert gn.utils.pad_sequences([[1, 2], []]).tolist() == [[1, 2], [0, 0]]
    assert gn.utils.pad_sequences([]).shape == (0, 0)                   # Keras fails on an empty list
    assert gn.utils.pad_sequences([[1, 2, 3]], maxlen=0).shape == (1, 0)


@pytest.mark.parametrize("kwargs", [
    dict(sequences=[[1, 2]], padding="middle"), dict(sequences=[[1, 2]], truncating="both"),
    dict(sequences=[[1, 2]], maxlen=-1), dict(sequences=[[1, 2]], maxlen=2.5), dict(sequences=[1, 2]),
    dict(sequences="abc"), dict(sequences=[["a"]], value="x"), dict(sequences=[[[1, 2]], [[1, 2, 3]]]),
    dict(sequences=[["a", "b"]]),
])
def test_pad_sequences_errors_name_the_problem(kwargs):
    with pytest.raises((ValueError, TypeError)):
        gn.utils.pad_sequences(**kwargs)


def test_set_random_seed_repeats_a_run(isolated_random_state):
    def run():
        gn.utils.set_random_seed(42)
        model = gn.Sequential([gn.layers.Dense(4, input_shape=(3,)), gn.layers.Dropout(0.5), gn.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        x = np.random.default_rng(0).normal(size=(32, 3))
        model.fit(x, x[:, :1], epochs=2, verbose=0)
        return model.get_weights()
    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)
    assert gn.utils.set_random_seed is gn.set_random_seed
