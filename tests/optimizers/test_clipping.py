"""Gradient clipping: clipvalue, clipnorm, global_clipnorm.

References: the clipped gradients computed by hand, then the optimizer's own formula.
"""
import numpy as np
import pytest

from glassnet import optimizers as O
from optimizers.optimizer_helpers import f64


# ---------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------

def test_clipvalue_clips_each_element():
    w = np.zeros(4)
    g = f64(0.3, -2.0, 0.7, -0.5)
    g_copy = g.copy()
    O.SGD(1.0, clipvalue=0.5).apply([g], [w])
    np.testing.assert_allclose(w, [-0.3, 0.5, -0.5, 0.5], rtol=1e-15)
    np.testing.assert_array_equal(g, g_copy)


def test_clipnorm_is_per_variable():
    w1, w2 = np.zeros(2), np.zeros(2)
    g1, g2 = f64(3.0, 4.0), f64(0.3, 0.4)      # norms 5 and 0.5
    copies = [g1.copy(), g2.copy()]
    O.SGD(1.0, clipnorm=1.0).apply([g1, g2], [w1, w2])
    np.testing.assert_allclose(w1, [-0.6, -0.8], rtol=1e-15)   # scaled to norm 1
    np.testing.assert_allclose(w2, [-0.3, -0.4], rtol=1e-15)   # below the limit: untouched
    np.testing.assert_array_equal(g1, copies[0])
    np.testing.assert_array_equal(g2, copies[1])


def test_global_clipnorm_uses_all_variables_together():
    w1, w2 = np.zeros(2), np.zeros((1, 1))
    g1, g2 = f64(3.0, 4.0), np.array([[12.0]])  # global norm sqrt(9 + 16 + 144) = 13
    copies = [g1.copy(), g2.copy()]
    O.SGD(1.0, global_clipnorm=1.0).apply([g1, g2], [w1, w2])
    np.testing.assert_allclose(w1, [-3 / 13, -4 / 13], rtol=1e-15)
    np.testing.assert_allclose(w2, [[-12 / 13]], rtol=1e-15)
    np.testing.assert_array_equal(g1, copies[0])
    np.testing.assert_array_equal(g2, copies[1])
    w3 = np.zeros(2)
    O.SGD(1.0, global_clipnorm=10.0).apply([f64(3.0, 4.0)], [w3])   # 5 < 10: untouched
    np.testing.assert_allclose(w3, [-3.0, -4.0], rtol=1e-15)


def test_clipping_is_applied_before_the_optimizer_formula():
    w = f64(0.0, 0.0)
    g = f64(30.0, 40.0)
    # the momentum buffer must accumulate the clipped gradient, not the raw one
    opt = O.SGD(0.5, momentum=0.5, clipnorm=5.0)
    opt.apply([g], [w])
    opt.apply([g], [w])
    # clipped g = [3, 4]; v1 = -0.5 c = [-1.5, -2]; v2 = 0.5 v1 - 0.5 c = [-2.25, -3]; w = v1 + v2
    np.testing.assert_allclose(w, [-3.75, -5.0], rtol=1e-15)
    np.testing.assert_array_equal(g, [30.0, 40.0])


def test_clipvalue_with_several_calls_and_shapes():
    opt = O.SGD(1.0, clipvalue=1.0)
    a, b = np.zeros(3), np.zeros((2, 2))
    for _ in range(2):
        ga, gb = f64(5.0, -0.5, 0.0), np.full((2, 2), -3.0)
        opt.apply([ga, gb], [a, b])
        np.testing.assert_array_equal(ga, [5.0, -0.5, 0.0])
        np.testing.assert_array_equal(gb, np.full((2, 2), -3.0))
    np.testing.assert_allclose(a, [-2.0, 1.0, 0.0])
    np.testing.assert_allclose(b, np.full((2, 2), 2.0))


@pytest.mark.parametrize("kwargs", [
    dict(clipnorm=1.0, clipvalue=1.0),
    dict(clipnorm=1.0, global_clipnorm=1.0),
    dict(clipvalue=1.0, global_clipnorm=1.0),
    dict(clipnorm=1.0, clipvalue=1.0, global_clipnorm=1.0),
])
def test_two_clipping_options_at_once_raise(kwargs):
    with pytest.raises(ValueError):
        O.Adam(**kwargs)


@pytest.mark.parametrize("kwargs", [dict(clipnorm=0.0), dict(clipvalue=-1.0), dict(global_clipnorm=float("nan"))])
def test_invalid_clipping_values_raise(kwargs):
    with pytest.raises(ValueError):
        O.SGD(**kwargs)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "adamw"])
def test_callers_gradients_are_not_modified(name):
    w = f64(1.0, -2.0, 3.0)
    g = f64(0.5, -4.0, 2.0)
    opt = O.get(name)
    for _ in range(3):
        opt.apply([g], [w])
    np.testing.assert_array_equal(g, [0.5, -4.0, 2.0])
