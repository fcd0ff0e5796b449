"""Adam, AMSGrad and AdamW: hand-worked steps and several-step references; separate state per variable.

References: steps worked out by hand (written out in each test) and _adam_reference, Keras 3's
formula with the bias correction folded into the step size.
"""
import math

import numpy as np
import pytest

from glassnet import optimizers as O
from optimizers.optimizer_helpers import f64, _grad_sequence


# ---------------------------------------------------------------------------
# Hand-worked steps (scikit-learn test_fit style)
# ---------------------------------------------------------------------------

def test_adam_one_step_literal_eps_outside_sqrt():
    w = f64(1.0, -2.0)
    O.Adam(learning_rate=0.1, beta_1=0.5, beta_2=0.75, epsilon=0.5).apply([f64(2.0, -1.0)], [w])
    # m = 0.5 g = [1, -0.5];  v = 0.25 g^2 = [1, 0.25];  alpha = 0.1 sqrt(1 - 0.75) / (1 - 0.5) = 0.1
    # w -= 0.1 m / (sqrt(v) + 0.5) = 0.1 * [1 / 1.5, -0.5 / 1.0]
    np.testing.assert_allclose(w, [1.0 - 0.1 / 1.5, -2.0 + 0.05], rtol=1e-14)


def test_adam_defaults_first_step_is_about_lr_times_sign():
    w = f64(1.0, -2.0)
    O.Adam().apply([f64(3.0, -0.5)], [w])
    # m = 0.1 g, v = 0.001 g^2, alpha = 0.001 sqrt(0.001) / 0.1
    # step = alpha * 0.1 g / (sqrt(0.001) |g| + 1e-7)
    s = math.sqrt(0.001)
    np.testing.assert_allclose(w, [1.0 - 0.001 * s * 3.0 / (s * 3.0 + 1e-7),
                                   -2.0 + 0.001 * s * 0.5 / (s * 0.5 + 1e-7)], rtol=1e-14)


def _adam_reference(w0, grads, lr, b1, b2, eps, amsgrad=False, weight_decay=0.0):
    w, m, v, vhat = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, start=1):
        w = w - lr * weight_decay * w
        m = m + (1 - b1) * (g - m)
        v = v + (1 - b2) * (g * g - v)
        if amsgrad:
            vhat = np.maximum(vhat, v)
            denom = np.sqrt(vhat) + eps
        else:
            denom = np.sqrt(v) + eps
        w = w - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / denom
    return w


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_several_steps(amsgrad):
    w0 = f64(0.3, -0.7, 1.1, 0.0)
    # large gradients first, then small ones, so v decreases and amsgrad's max matters
    grads = [g * s for g, s in zip(_grad_sequence(8, 4, seed=4), [5, 5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])]
    w = w0.copy()
    opt = O.Adam(0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-3, amsgrad=amsgrad)
    for g in grads:
        opt.apply([g], [w])
    ref = _adam_reference(w0, grads, 0.01, 0.8, 0.9, 1e-3, amsgrad=amsgrad)
    np.testing.assert_allclose(w, ref, rtol=1e-13)
    other = _adam_reference(w0, grads, 0.01, 0.8, 0.9, 1e-3, amsgrad=not amsgrad)
    assert not np.allclose(ref, other, rtol=1e-6)        # the two variants really differ here


def test_amsgrad_two_steps_literal():
    w = f64(0.0)
    opt = O.Adam(learning_rate=1.0, beta_1=0.5, beta_2=0.5, epsilon=0.0, amsgrad=True)
    opt.apply([f64(2.0)], [w])
    # m = 1, v = 2, vhat = 2, alpha = sqrt(0.5) / 0.5;  w -= alpha * 1 / sqrt(2) = 1
    np.testing.assert_allclose(w, [-1.0], rtol=1e-14)
    opt.apply([f64(0.0)], [w])
    # m = 0.5, v = 1, vhat = max(2, 1) = 2, alpha = sqrt(0.75) / 0.75;  step = alpha * 0.5 / sqrt(2)
    np.testing.assert_allclose(w, [-1.0 - math.sqrt(0.75) / 0.75 * 0.5 / math.sqrt(2)], rtol=1e-14)


def test_adamw_one_step_literal_decay_before_adam_step():
    w = f64(1.0, -2.0)
    O.AdamW(learning_rate=0.1, weight_decay=0.5, beta_1=0.5, beta_2=0.75, epsilon=0.5).apply(
        [f64(2.0, -1.0)], [w])
    # decay: w -= 0.1 * 0.5 * w -> [0.95, -1.9]; then the Adam step of test_adam_one_step_literal
    np.testing.assert_allclose(w, [0.95 - 0.1 / 1.5, -1.9 + 0.05], rtol=1e-14)


def test_adamw_default_weight_decay_is_keras_0_004():
    w = f64(10.0)
    O.AdamW(learning_rate=0.1, epsilon=0.0).apply([f64(1.0)], [w])
    # decay 10 * (1 - 0.1 * 0.004) = 9.996; Adam's first step with eps = 0 is exactly lr * sign(g)
    np.testing.assert_allclose(w, [9.996 - 0.1], rtol=1e-14)


def test_adamw_several_steps():
    w0 = f64(0.3, -0.7, 1.1)
    grads = _grad_sequence(6, 3, seed=5)
    w, opt = w0.copy(), O.AdamW(0.05, weight_decay=0.2, beta_1=0.8, beta_2=0.9, epsilon=1e-3)
    for g in grads:
        opt.apply([g], [w])
    ref = _adam_reference(w0, grads, 0.05, 0.8, 0.9, 1e-3, weight_decay=0.2)
    np.testing.assert_allclose(w, ref, rtol=1e-13)


def test_several_variables_have_separate_state():
    a, b = f64(1.0, 2.0), np.ones((2, 2))
    opt = O.Adam(0.1, epsilon=0.0)
    ga, gb = f64(1.0, -1.0), np.full((2, 2), 3.0)
    for _ in range(3):
        opt.apply([ga, gb], [a, b])
    # constant gradients: m = (1 - b1^t) g, v = (1 - b2^t) g^2, so each Adam step is exactly lr * sign(g)
    np.testing.assert_allclose(a, [1.0 - 0.3, 2.0 + 0.3], rtol=1e-13)
    np.testing.assert_allclose(b, np.full((2, 2), 0.7), rtol=1e-13)
