"""SGD: hand-worked steps and several-step references (momentum, Nesterov).

References: steps worked out by hand (written out in each test) and a plain NumPy loop of
the update rule; Keras 3's formulas (the module docstring of glassnet.optimizers).
"""
import numpy as np

from glassnet import optimizers as O
from optimizers.optimizer_helpers import f64, _grad_sequence


# ---------------------------------------------------------------------------
# Hand-worked steps (scikit-learn test_fit style)
# ---------------------------------------------------------------------------

def test_sgd_one_step_literal():
    w = f64(1.0, -2.0)
    O.SGD(learning_rate=0.1).apply([f64(0.5, -1.0)], [w])
    np.testing.assert_allclose(w, [0.95, -1.9], rtol=1e-14)      # w - 0.1 g


def test_sgd_default_learning_rate_is_keras_0_01():
    w = f64(1.0)
    O.SGD().apply([f64(1.0)], [w])
    np.testing.assert_allclose(w, [0.99], rtol=1e-14)


def test_sgd_momentum_two_steps_literal():
    w = f64(1.0, -2.0)
    opt = O.SGD(learning_rate=0.1, momentum=0.9)
    opt.apply([f64(0.5, -1.0)], [w])
    # v1 = -0.1 g1 = [-0.05, 0.1];  w = [0.95, -1.9]
    np.testing.assert_allclose(w, [0.95, -1.9], rtol=1e-14)
    opt.apply([f64(0.2, 0.4)], [w])
    # v2 = 0.9 v1 - 0.1 g2 = [-0.045 - 0.02, 0.09 - 0.04] = [-0.065, 0.05]
    np.testing.assert_allclose(w, [0.95 - 0.065, -1.9 + 0.05], rtol=1e-14)


def test_sgd_nesterov_two_steps_literal():
    w = f64(1.0, -2.0)
    opt = O.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    opt.apply([f64(0.5, -1.0)], [w])
    # v1 = [-0.05, 0.1];  w += 0.9 v1 - 0.1 g1 = [-0.045 - 0.05, 0.09 + 0.1]
    np.testing.assert_allclose(w, [1.0 - 0.095, -2.0 + 0.19], rtol=1e-14)
    opt.apply([f64(0.2, 0.4)], [w])
    # v2 = [-0.065, 0.05];  w += 0.9 v2 - 0.1 g2 = [-0.0585 - 0.02, 0.045 - 0.04]
    np.testing.assert_allclose(w, [0.905 - 0.0785, -1.81 + 0.005], rtol=1e-13)


def test_sgd_momentum_several_steps():
    lr, mu = 0.05, 0.8
    w0 = f64(0.3, -0.7, 1.1)
    grads = _grad_sequence(5, 3)
    w, opt = w0.copy(), O.SGD(lr, momentum=mu)
    for g in grads:
        opt.apply([g], [w])
    ref, v = w0.copy(), np.zeros(3)
    for g in grads:
        v = mu * v - lr * g
        ref = ref + v
    np.testing.assert_allclose(w, ref, rtol=1e-13)


def test_sgd_nesterov_several_steps():
    lr, mu = 0.05, 0.8
    w0 = f64(0.3, -0.7, 1.1)
    grads = _grad_sequence(5, 3, seed=1)
    w, opt = w0.copy(), O.SGD(lr, momentum=mu, nesterov=True)
    for g in grads:
        opt.apply([g], [w])
    ref, v = w0.copy(), np.zeros(3)
    for g in grads:
        v = mu * v - lr * g
        ref = ref + mu * v - lr * g
    np.testing.assert_allclose(w, ref, rtol=1e-13)
