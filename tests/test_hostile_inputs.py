"""Valid-looking input that used to crash (issue 13): each case is a clean ValueError naming the shapes or
the limit, before anything big is allocated."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import backend
from glassnet.datasets import utils as data_utils


def test_sparse_labels_for_a_3d_output_are_refused_with_the_shapes():
    model = gn.Sequential([gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 4, 5)).astype("float32")
    y = np.arange(8) % 10
    with pytest.raises(ValueError, match=r"output has shape \(n, 4, 10\).*y has shape \(8,\).*Flatten"):
        model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\(n, 4, 10\)"):
        model.evaluate(x, y, verbose=0)


def test_sparse_labels_with_a_flat_output_still_train():
    model = gn.Sequential([gn.layers.Flatten(), gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 4, 5)).astype("float32")
    model.fit(x, np.arange(8) % 10, epochs=1, verbose=0)


@pytest.mark.parametrize("labels", [[1.0, 1e300], [3e16], [1e20], [2**40]])
def test_to_categorical_refuses_huge_labels_naming_the_limit(labels):
    with pytest.raises(ValueError, match=r"class index .*MAX_CLASSES"):
        gn.utils.to_categorical(labels)


@pytest.mark.parametrize("labels, message", [([-1.0], ">= 0"), ([1.5], "whole"), ([np.nan], "NaN"),
                                             ([-3], ">= 0")])
def test_to_categorical_refuses_labels_that_are_not_class_indices(labels, message):
    with pytest.raises(ValueError, match=message):
        gn.utils.to_categorical(labels)


def test_to_categorical_accepts_integral_floats():
    out = gn.utils.to_categorical([2.0, 0.0])
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])


def test_to_categorical_num_classes_limit(monkeypatch):
    with pytest.raises(ValueError, match=r"num_classes=1,000,000,000,000 .*MAX_CLASSES"):
        gn.utils.to_categorical([1, 2], num_classes=10**12)
    monkeypatch.setattr(data_utils, "MAX_CLASSES", 4)
    with pytest.raises(ValueError, match=r"num_classes=5 .*limit of 4"):
        gn.utils.to_categorical([1], num_classes=5)
    assert gn.utils.to_categorical([3]).shape == (1, 4)


def test_to_categorical_output_size_limit(monkeypatch):
    monkeypatch.setattr(backend, "MAX_ARRAY_SIZE", 100)
    with pytest.raises(ValueError, match=r"to_categorical's output would hold 110 numbers.*MAX_ARRAY_SIZE = 100"):
        gn.utils.to_categorical(np.zeros(11, int), num_classes=10)
    assert gn.utils.to_categorical(np.zeros(10, int), num_classes=10).shape == (10, 10)


def test_dense_units_beyond_the_limit():
    layer = gn.layers.Dense(10**12)                  # nothing allocated yet; building it is refused
    with pytest.raises(ValueError, match=r"Dense\(1000000000000\)'s kernel for inputs of width 3 would hold "
                                         r"3,000,000,000,000 numbers.*MAX_ARRAY_SIZE"):
        gn.Sequential([gn.layers.Input((3,)), layer])


def test_dense_kernel_beyond_the_limit_is_refused_before_allocation(monkeypatch):
    monkeypatch.setattr(backend, "MAX_ARRAY_SIZE", 1000)
    layer = gn.layers.Dense(100)
    with pytest.raises(ValueError, match=r"kernel for inputs of width 11 would hold 1,100 numbers.*MAX_ARRAY_SIZE"):
        gn.Sequential([gn.layers.Input((11,)), layer])
    gn.Sequential([gn.layers.Input((10,)), gn.layers.Dense(100)])       # exactly the limit: fine


def test_initializers_refuse_weights_beyond_the_limit(monkeypatch):
    monkeypatch.setattr(backend, "MAX_ARRAY_SIZE", 1000)
    for init in (gn.initializers.Zeros(), gn.initializers.GlorotUniform(), gn.initializers.RandomNormal()):
        with pytest.raises(ValueError, match="MAX_ARRAY_SIZE = 1,000"):
            init((100, 11))
        assert init((100, 10)).shape == (100, 10)
