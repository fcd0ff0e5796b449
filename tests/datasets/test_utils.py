"""glassnet.datasets.utils: to_categorical, train_test_split, normalize and standardize."""
import math
import re

import numpy as np
import pytest

import glassnet as gn


def test_to_categorical_matches_np_eye():
    y = np.array([3, 0, 2, 2, 1])
    np.testing.assert_array_equal(gn.datasets.to_categorical(y), np.eye(4)[y])
    out = gn.datasets.to_categorical(y.reshape(-1, 1), num_classes=6)
    assert out.shape == (5, 6) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(6)[y])
    grid = np.array([[0, 1], [2, 0]])
    np.testing.assert_array_equal(gn.datasets.to_categorical(grid, 3, dtype="int64"), np.eye(3, dtype=int)[grid])
    np.testing.assert_array_equal(gn.datasets.to_categorical([1.0, 0.0]), [[0, 1], [1, 0]])


@pytest.mark.parametrize("y, num_classes, message", [
    ([0, 3], 3, "label 3 is outside the class range 0..2"),
    ([0, -1], None, ">= 0"),
    ([0.5, 1], None, "whole class indices"),
    ([], None, "empty"),
    ([1, 2], 0, "num_classes must be a positive integer"),
])
def test_to_categorical_checks(y, num_classes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gn.datasets.to_categorical(y, num_classes)


def test_split_sizes_and_disjoint_cover():
    x = np.arange(50).reshape(25, 2)
    y = np.arange(25)
    x_tr, x_val, y_tr, y_val = gn.datasets.train_test_split(x, y, test_size=0.2, seed=0)
    assert len(x_val) == math.ceil(0.2 * 25) == 5 and len(x_tr) == 20
    assert sorted(np.r_[y_tr, y_val].tolist()) == list(range(25))
    np.testing.assert_array_equal(x_tr[:, 0] // 2, y_tr)                  # rows stay with their labels
    again = gn.datasets.train_test_split(x, y, test_size=0.2, seed=0)
    np.testing.assert_array_equal(again[3], y_val)
    _, _, _, y_last = gn.datasets.train_test_split(x, y, test_size=3, shuffle=False)
    assert y_last.tolist() == [22, 23, 24]                                 # Keras's validation_split: the tail


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    x = np.arange(100)
    _, _, y_tr, y_val = gn.datasets.train_test_split(x, y, test_size=0.2, stratify=True, seed=1)
    assert np.bincount(y_val).tolist() == [12, 6, 2] and np.bincount(y_tr).tolist() == [48, 24, 8]
    _, _, y_tr, y_val = gn.datasets.train_test_split(x, y, test_size=0.25, stratify=True, seed=1)
    assert np.bincount(y_val).tolist() == [15, 8, 2] or np.bincount(y_val).tolist() == [15, 7, 3]
    assert len(y_val) == 25
    _, x_val, _, y_val = gn.datasets.train_test_split(x, y, test_size=0.1, stratify=y, shuffle=False)
    assert x_val.tolist() == list(range(54, 60)) + list(range(87, 90)) + [99]
    onehot = np.eye(3)[y]
    _, _, _, t = gn.datasets.train_test_split(x, onehot, test_size=0.2, stratify=True, seed=0)
    assert t.sum(axis=0).tolist() == [12, 6, 2]


@pytest.mark.parametrize("kwargs, message", [
    (dict(x=np.zeros(5), y=np.zeros(4)), "same number of samples, got 5 and 4"),
    (dict(x=np.zeros(5), y=np.zeros(5), test_size=1.0), "strictly between 0 and 1"),
    (dict(x=np.zeros(5), y=np.zeros(5), test_size=5), "both need at least one"),
    (dict(x=np.zeros(5), y=np.array([0, 0, 0, 0, 1]), stratify=True), "class 1 has 1"),
    (dict(x=np.zeros(1), y=np.zeros(1)), "at least 2 samples"),
])
def test_split_checks(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gn.datasets.train_test_split(**kwargs)


def test_normalize_scales_pixels_to_unit_range():
    x = np.array([[0, 51, 255], [128, 1, 254]], dtype=np.uint8)
    z = gn.datasets.normalize(x)
    assert z.dtype == np.float32 and z.min() == 0 and z.max() == 1
    np.testing.assert_array_equal(z, x.astype(np.float32) / np.float32(255))
    np.testing.assert_allclose(gn.datasets.normalize(x * 1.0, max_value=255, dtype="float64"), x / 255.0, rtol=1e-15)
    (x_train, _), _ = gn.datasets.mnist_mini.load_data()
    z = gn.datasets.normalize(x_train)
    assert 0 <= z.min() and z.max() <= 1 and z.max() == 1
    with pytest.raises(ValueError, match="max_value"):
        gn.datasets.normalize(x * 1.0)
    with pytest.raises(ValueError, match=re.escape("[0, 255]")):
        gn.datasets.normalize(np.array([-1.0, 3.0]), max_value=255)


def test_standardize_returns_and_reuses_the_statistics():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[3.0, -2.0, 7.0], scale=[2.0, 0.5, 1.0], size=(500, 3))
    x[:, 2] = 7.0                                                    # a constant feature
    z, mean, std = gn.datasets.standardize(x)
    assert z.dtype == np.float64 and mean.shape == (3,) and std.shape == (3,)
    np.testing.assert_allclose(z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1, rtol=1e-12)
    assert np.all(z[:, 2] == 0) and std[2] == 1                       # divided by 1, not by 0
    np.testing.assert_allclose(mean[:2], x[:, :2].mean(axis=0))
    np.testing.assert_allclose(std[:2], x[:, :2].std(axis=0))
    z2, m2, s2 = gn.datasets.standardize(x[:10], mean, std)
    np.testing.assert_array_equal(z2, z[:10])
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    zp, m, s = gn.datasets.standardize(pixels, axis=None)
    assert zp.dtype == np.float32 and m.shape == () and abs(float(m) - 5.5) < 1e-6
    with pytest.raises(ValueError, match="both mean and std"):
        gn.datasets.standardize(x, mean=mean)
    with pytest.raises(ValueError, match="std must be positive"):
        gn.datasets.standardize(x, mean, np.zeros(3))
    with pytest.raises(ValueError, match="do not fit"):
        gn.datasets.standardize(x, np.zeros(4), np.ones(4))
