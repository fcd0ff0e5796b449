"""Adagrad and RMSprop: hand-worked steps and several-step references.

References: steps worked out by hand (written out in each test) and a plain NumPy loop of
each update rule; Keras 3's formulas, epsilon inside the square root.
"""
import math

import numpy as np
import pytest

from glassnet import optimizers as O
from optimizers.optimizer_helpers import f64, _grad_sequence


# ---------------------------------------------------------------------------
# Hand-worked steps (scikit-learn test_fit style)
# ---------------------------------------------------------------------------

def test_adagrad_one_step_initial_accumulator_and_eps_inside_sqrt():
    w = f64(1.0, -2.0)
    # a large epsilon makes its placement visible
    O.Adagrad(learning_rate=0.1, initial_accumulator_value=0.25, epsilon=0.5).apply([f64(0.5, -1.0)], [w])
    # a = 0.25 + g^2 = [0.5, 1.25];  w -= 0.1 g / sqrt(a + 0.5) = 0.1 g / sqrt([1.0, 1.75])
    np.testing.assert_allclose(w, [1.0 - 0.05, -2.0 + 0.1 / math.sqrt(1.75)], rtol=1e-14)


def test_adagrad_defaults_one_step():
    w = f64(1.0)
    O.Adagrad().apply([f64(1.0)], [w])
    # a = 0.1 + 1 = 1.1;  w -= 0.001 * 1 / sqrt(1.1 + 1e-7)
    np.testing.assert_allclose(w, [1.0 - 0.001 / math.sqrt(1.1000001)], rtol=1e-14)


def test_adagrad_several_steps():
    lr, a0, eps = 0.2, 0.3, 1e-3
    w0 = f64(0.3, -0.7, 1.1)
    grads = _grad_sequence(6, 3, seed=2)
    w, opt = w0.copy(), O.Adagrad(lr, initial_accumulator_value=a0, epsilon=eps)
    for g in grads:
        opt.apply([g], [w])
    ref, a = w0.copy(), np.full(3, a0)
    for g in grads:
        a = a + g * g
        ref = ref - lr * g / np.sqrt(a + eps)
    np.testing.assert_allclose(w, ref, rtol=1e-13)


def test_rmsprop_one_step_literal():
    w = f64(1.0, -2.0)
    O.RMSprop(learning_rate=0.1, rho=0.75, epsilon=0.5).apply([f64(2.0, -1.0)], [w])
    # s = 0.25 g^2 = [1.0, 0.25];  w -= 0.1 g / sqrt(s + 0.5) = 0.1 g / sqrt([1.5, 0.75])
    np.testing.assert_allclose(w, [1.0 - 0.2 / math.sqrt(1.5), -2.0 + 0.1 / math.sqrt(0.75)], rtol=1e-14)


def test_rmsprop_centered_one_step_literal():
    w = f64(1.0, -2.0)
    O.RMSprop(learning_rate=0.1, rho=0.75, epsilon=0.5, centered=True).apply([f64(2.0, -1.0)], [w])
    # s = 0.25 g^2 = [1.0, 0.25];  mg = 0.25 g = [0.5, -0.25];  s - mg^2 = [0.75, 0.1875]
    # w -= 0.1 g / sqrt(s - mg^2 + 0.5) = 0.1 g / sqrt([1.25, 0.6875])
    np.testing.assert_allclose(w, [1.0 - 0.2 / math.sqrt(1.25), -2.0 + 0.1 / math.sqrt(0.6875)], rtol=1e-14)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.7])
def test_rmsprop_several_steps(centered, momentum):
    lr, rho, eps = 0.05, 0.8, 1e-3
    w0 = f64(0.3, -0.7, 1.1)
    grads = _grad_sequence(6, 3, seed=3)
    w = w0.copy()
    opt = O.RMSprop(lr, rho=rho, momentum=momentum, epsilon=eps, centered=centered)
    for g in grads:
        opt.apply([g], [w])
    ref, s, mg, mom = w0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in grads:
        s = rho * s + (1 - rho) * g ** 2
        if centered:
            mg = rho * mg + (1 - rho) * g
            denom = np.sqrt(s - mg ** 2 + eps)
        else:
            denom = np.sqrt(s + eps)
        increment = lr * g / denom
        if momentum:
            mom = momentum * mom + increment
            ref = ref - mom
        else:
            ref = ref - increment
    np.testing.assert_allclose(w, ref, rtol=1e-13)


def test_rmsprop_momentum_two_steps_literal():
    w = f64(1.0)
    opt = O.RMSprop(learning_rate=0.1, rho=0.75, momentum=0.5, epsilon=0.0)
    opt.apply([f64(2.0)], [w])
    # s = 0.25 * 4 = 1;  inc = 0.1 * 2 / 1 = 0.2;  mom = 0.2;  w = 0.8
    np.testing.assert_allclose(w, [0.8], rtol=1e-14)
    opt.apply([f64(2.0)], [w])
    # s = 0.75 + 1 = 1.75;  inc = 0.2 / sqrt(1.75);  mom = 0.1 + inc
    np.testing.assert_allclose(w, [0.8 - 0.1 - 0.2 / math.sqrt(1.75)], rtol=1e-14)
