"""Optimizers and learning-rate schedules.

References are independent of glassnet: numbers worked out by hand (written
out in each test), closed forms for the schedules, and torch.optim for 20-step
runs.  glassnet follows Keras 3's formulas (see the module docstring of
glassnet.optimizers).
"""
import json
import math
import zlib

import numpy as np
import pytest

from glassnet import optimizers as O


def f64(*values):
    return np.array(values, dtype=np.float64)


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


def _grad_sequence(n, shape, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(n)]


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


# ---------------------------------------------------------------------------
# Against torch.optim (20 steps, float64)
# ---------------------------------------------------------------------------

# Where Keras and torch place epsilon differently we set it to 0 on both sides,
# so the formulas coincide exactly:
#   Adagrad  Keras g / sqrt(a + eps)          torch g / (sqrt(a) + eps)
#   RMSprop  Keras g / sqrt(s + eps)          torch g / (sqrt(s) + eps)
#   Adam     Keras eps added to sqrt(v)       torch eps added to sqrt(v) / sqrt(1 - b2^t)
# With random normal gradients no denominator comes near 0.
# torch's RMSprop `alpha` is Keras's `rho`; torch keeps the SGD/RMSprop momentum
# buffer without the learning rate, which is equivalent for a constant rate.
TORCH_CASES = [
    ("sgd", dict(learning_rate=0.1), dict(lr=0.1)),
    ("sgd-momentum", dict(learning_rate=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9)),
    ("sgd-nesterov", dict(learning_rate=0.1, momentum=0.9, nesterov=True),
     dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=0.0),
     dict(lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
    ("rmsprop", dict(learning_rate=0.01, rho=0.9, epsilon=0.0), dict(lr=0.01, alpha=0.9, eps=0.0)),
    ("rmsprop-momentum", dict(learning_rate=0.01, rho=0.8, momentum=0.5, epsilon=0.0),
     dict(lr=0.01, alpha=0.8, momentum=0.5, eps=0.0)),
    ("rmsprop-centered", dict(learning_rate=0.01, rho=0.9, centered=True, epsilon=0.0),
     dict(lr=0.01, alpha=0.9, centered=True, eps=0.0)),
    ("adam", dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=0.0),
     dict(lr=0.01, betas=(0.9, 0.999), eps=0.0)),
    ("adam-amsgrad", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.9, epsilon=0.0, amsgrad=True),
     dict(lr=0.01, betas=(0.8, 0.9), eps=0.0, amsgrad=True)),
    ("adamw", dict(learning_rate=0.01, weight_decay=0.1, beta_1=0.9, beta_2=0.999, epsilon=0.0),
     dict(lr=0.01, weight_decay=0.1, betas=(0.9, 0.999), eps=0.0)),
]
TORCH_CLASSES = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}


@pytest.mark.parametrize("case,gn_kwargs,torch_kwargs", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_optim_for_20_steps(case, gn_kwargs, torch_kwargs):
    torch = pytest.importorskip("torch")
    kind = case.split("-")[0]
    rng = np.random.default_rng(zlib.crc32(case.encode()))   # hash() is salted per process
    w0 = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    # the gradient of 0.5 * sum(c * w^2) plus noise: depends on the weights, so errors would compound
    scales = [rng.uniform(0.5, 2.0, size=w.shape) for w in w0]
    noise = [[rng.normal(size=w.shape) for w in w0] for _ in range(20)]

    ws = [w.copy() for w in w0]
    opt = getattr(O, TORCH_CLASSES[kind])(**gn_kwargs)
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in w0]
    topt = getattr(torch.optim, TORCH_CLASSES[kind])(params, **torch_kwargs)
    for step in range(20):
        grads = [c * w + n for c, w, n in zip(scales, ws, noise[step])]
        opt.apply(grads, ws)
        for p, c, n in zip(params, scales, noise[step]):
            p.grad = torch.from_numpy(c * p.detach().numpy() + n)
        topt.step()
    for w, p in zip(ws, params):
        assert w.dtype == np.float64
        np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert opt.iterations == 20
    # the parameters actually moved (so the comparison is not vacuous)
    assert not np.allclose(ws[0], w0[0], atol=1e-3)


# ---------------------------------------------------------------------------
# Learning-rate schedules
# ---------------------------------------------------------------------------

def test_exponential_decay_closed_form():
    s = O.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == pytest.approx(0.1, rel=1e-15)
    assert s(5) == pytest.approx(0.1 * 0.5 ** 0.5, rel=1e-15)
    assert s(10) == pytest.approx(0.05, rel=1e-15)
    assert s(25) == pytest.approx(0.1 * 0.5 ** 2.5, rel=1e-15)
    st = O.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert st(9) == pytest.approx(0.1, rel=1e-15)
    assert st(15) == pytest.approx(0.05, rel=1e-15)
    assert st(29) == pytest.approx(0.025, rel=1e-15)


def test_step_decay_closed_form():
    s = O.StepDecay(0.1, decay_steps=3, decay_rate=0.5)
    assert [s(k) for k in range(8)] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], rel=1e-15)
    assert O.StepDecay(1.0, 2)(4) == pytest.approx(0.25)                 # default decay_rate 0.5


def test_cosine_decay_closed_form():
    s = O.CosineDecay(0.1, decay_steps=10, alpha=0.2)
    assert s(0) == pytest.approx(0.1, rel=1e-15)
    assert s(5) == pytest.approx(0.1 * (0.8 * 0.5 + 0.2), rel=1e-14)    # cos(pi/2) = 0
    assert s(10) == pytest.approx(0.02, rel=1e-14)
    assert s(15) == pytest.approx(0.02, rel=1e-14)                       # constant after decay_steps
    assert s(50) == pytest.approx(0.02, rel=1e-14)
    assert s(2) == pytest.approx(0.1 * (0.8 * 0.5 * (1 + math.cos(math.pi * 0.2)) + 0.2), rel=1e-14)
    assert O.CosineDecay(1.0, 4)(4) == pytest.approx(0.0, abs=1e-15)      # alpha defaults to 0


def test_piecewise_constant_decay():
    s = O.PiecewiseConstantDecay(boundaries=[2, 5], values=[1.0, 0.5, 0.1])
    assert [s(k) for k in range(8)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError):
        O.PiecewiseConstantDecay([2, 5], [1.0, 0.5])
    with pytest.raises(ValueError):
        O.PiecewiseConstantDecay([5, 2], [1.0, 0.5, 0.1])      # boundaries must increase


def test_schedule_config_is_a_copy():
    s = O.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1])
    config = s.get_config()
    config["boundaries"].append(9)
    config["values"][0] = 123.0
    assert s.boundaries == [2, 5] and s.values == [1.0, 0.5, 0.1]
    assert O.PiecewiseConstantDecay(**s.get_config())(3) == 0.5


@pytest.mark.parametrize("bad", [
    lambda: O.ExponentialDecay(0.0, 10, 0.5),
    lambda: O.ExponentialDecay(0.1, 0, 0.5),
    lambda: O.StepDecay(0.1, 0),
    lambda: O.StepDecay(0.1, 0.5),          # would round to 0 steps and divide by zero
    lambda: O.StepDecay(float("nan"), 3),
    lambda: O.CosineDecay(0.1, 10, alpha=1.5),
    lambda: O.CosineDecay(0.1, 10, alpha=float("nan")),
])
def test_schedules_reject_invalid_arguments(bad):
    with pytest.raises(ValueError):
        bad()


def test_optimizer_uses_the_schedule_at_its_iterations():
    w = f64(0.0)
    opt = O.SGD(learning_rate=O.StepDecay(0.1, decay_steps=2, decay_rate=0.5))
    steps = []
    for _ in range(5):
        assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** (opt.iterations // 2), rel=1e-15)
        before = w.copy()
        opt.apply([f64(1.0)], [w])
        steps.append(float(before[0] - w[0]))
    # lr(0), lr(1), ... : the first step uses the schedule's value at step 0
    assert steps == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-14)
    assert opt.iterations == 5


def test_adam_with_schedule_uses_lr_of_each_step():
    sched = O.PiecewiseConstantDecay([0], [1.0, 0.25])
    w = f64(0.0)
    opt = O.Adam(learning_rate=sched, epsilon=0.0)
    opt.apply([f64(1.0)], [w])
    opt.apply([f64(1.0)], [w])
    # with a constant gradient Adam's step is exactly lr * sign(g): 1.0 at step 0, 0.25 at step 1
    np.testing.assert_allclose(w, [-1.25], rtol=1e-14)


def test_learning_rate_property_and_setter():
    opt = O.Adam()
    assert opt.learning_rate == 0.001
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    w = f64(0.0)
    O_sgd = O.SGD(0.1)
    O_sgd.learning_rate = 0.25
    O_sgd.apply([f64(2.0)], [w])
    np.testing.assert_allclose(w, [-0.5], rtol=1e-15)        # the new rate is used
    O_sgd.learning_rate = O.ExponentialDecay(1.0, 1, 0.5)
    assert O_sgd.learning_rate == pytest.approx(0.5)           # evaluated at iterations == 1
    for bad in (0, -0.1, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(ValueError):
            opt.learning_rate = bad
    assert opt.learning_rate == 0.5                            # unchanged by the failed sets


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


# ---------------------------------------------------------------------------
# API: apply_gradients, get, validation, config, dtype, in-place, state
# ---------------------------------------------------------------------------

def test_apply_gradients_zip_form_equals_apply():
    a1, b1 = f64(1.0, 2.0), f64(-1.0)
    a2, b2 = a1.copy(), b1.copy()
    ga, gb = f64(0.5, -0.5), f64(2.0)
    o1, o2 = O.Adam(0.1), O.Adam(0.1)
    for _ in range(3):
        o1.apply_gradients(zip([ga, gb], [a1, b1]))
        o2.apply([ga, gb], [a2, b2])
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    assert o1.iterations == 3
    w = f64(1.0)
    O.SGD(0.5).apply_gradients([(f64(1.0), w)])
    np.testing.assert_allclose(w, [0.5])


def test_get_returns_fresh_instances_with_keras_defaults():
    a, b = O.get("adam"), O.get("Adam")
    assert isinstance(a, O.Adam) and a is not b
    assert a.iterations == 0
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)
    assert a.clipnorm is None and a.clipvalue is None and a.global_clipnorm is None
    s = O.get("sgd")
    assert (type(s), s.learning_rate, s.momentum, s.nesterov) == (O.SGD, 0.01, 0.0, False)
    ag = O.get("adagrad")
    assert (ag.learning_rate, ag.initial_accumulator_value, ag.epsilon) == (0.001, 0.1, 1e-7)
    r = O.get("rmsprop")
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    aw = O.get("adamw")
    assert (type(aw), aw.learning_rate, aw.weight_decay, aw.beta_1, aw.beta_2, aw.epsilon) == \
        (O.AdamW, 0.001, 0.004, 0.9, 0.999, 1e-7)
    inst = O.SGD(0.3)
    assert O.get(inst) is inst
    assert isinstance(O.get(O.RMSprop), O.RMSprop)
    # a used optimizer's state does not leak into the next get()
    w = f64(1.0)
    a.apply([f64(1.0)], [w])
    assert O.get("adam").iterations == 0


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError) as err:
        O.get("nadamax")
    message = str(err.value)
    assert "nadamax" in message
    for known in ("sgd", "adagrad", "rmsprop", "adam", "adamw"):
        assert known in message
    with pytest.raises(TypeError):
        O.get(3)


@pytest.mark.parametrize("make", [
    lambda: O.SGD(learning_rate=0.0),
    lambda: O.SGD(learning_rate=-0.01),
    lambda: O.Adam(learning_rate=float("nan")),
    lambda: O.Adam(learning_rate=float("inf")),
    lambda: O.SGD(momentum=-0.1),
    lambda: O.SGD(momentum=1.0),
    lambda: O.SGD(momentum=float("nan")),
    lambda: O.RMSprop(momentum=1.5),
    lambda: O.RMSprop(rho=1.0),
    lambda: O.Adam(beta_1=1.0),
    lambda: O.Adam(beta_1=-0.1),
    lambda: O.Adam(beta_2=1.0),
    lambda: O.AdamW(beta_1=1.0),
    lambda: O.AdamW(weight_decay=-0.1),
    lambda: O.Adam(epsilon=-1e-7),
    lambda: O.Adagrad(initial_accumulator_value=-0.1),
    lambda: O.Adagrad(epsilon=float("nan")),
])
def test_invalid_hyper_parameters_raise(make):
    with pytest.raises(ValueError):
        make()


def test_numpy_scalars_are_accepted_as_hyper_parameters():
    opt = O.SGD(np.float32(0.5), momentum=np.int64(0))
    assert opt.learning_rate == 0.5 and opt.momentum == 0.0
    assert O.Adam(np.float64(0.01), beta_1=np.float32(0.5)).beta_1 == 0.5


@pytest.mark.parametrize("opt", [
    O.SGD(0.05, momentum=0.9, nesterov=True, clipvalue=0.5),
    O.Adagrad(0.02, initial_accumulator_value=0.3, epsilon=1e-6),
    O.RMSprop(0.003, rho=0.8, momentum=0.1, epsilon=1e-5, centered=True, clipnorm=2.0),
    O.Adam(0.004, beta_1=0.85, beta_2=0.95, epsilon=1e-6, amsgrad=True, global_clipnorm=3.0),
    O.AdamW(0.002, weight_decay=0.01, amsgrad=True),
    O.SGD(O.ExponentialDecay(0.1, 100, 0.9, staircase=True)),
    O.Adam(O.CosineDecay(0.01, 1000, alpha=0.1)),
    O.RMSprop(O.StepDecay(0.01, 10, 0.3)),
    O.AdamW(O.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])),
], ids=lambda o: type(o).__name__)
def test_get_config_from_config_round_trip(opt):
    config = opt.get_config()
    config = json.loads(json.dumps(config))          # JSON-serialisable
    clone = type(opt).from_config(config)
    assert type(clone) is type(opt)
    assert clone.get_config() == opt.get_config()
    again = O.deserialize(json.loads(json.dumps(O.serialize(opt))))
    assert again.get_config() == opt.get_config()
    # the clones step exactly like the original
    ws = [f64(0.5, -1.5, 2.0) for _ in range(3)]
    g = f64(0.3, -0.6, 0.9)
    for o, w in zip((opt, clone, again), ws):
        fresh = type(o).from_config(o.get_config())    # do not mutate the parametrized object
        for _ in range(3):
            fresh.apply([g], [w])
    np.testing.assert_array_equal(ws[0], ws[1])
    np.testing.assert_array_equal(ws[0], ws[2])


def test_from_config_rebuilds_the_schedule():
    opt = O.SGD(O.ExponentialDecay(0.1, 10, 0.5))
    clone = O.SGD.from_config(json.loads(json.dumps(opt.get_config())))
    assert isinstance(clone._learning_rate, O.ExponentialDecay)
    clone.iterations = 10
    assert clone.learning_rate == pytest.approx(0.05, rel=1e-15)


@pytest.mark.parametrize("opt", [
    O.SGD(0.1), O.SGD(0.1, momentum=0.9, nesterov=True), O.Adagrad(0.1), O.RMSprop(0.01, momentum=0.5, centered=True),
    O.Adam(0.01, amsgrad=True), O.AdamW(0.01), O.SGD(0.1, clipvalue=0.1), O.Adam(0.01, clipnorm=0.1),
    O.RMSprop(0.01, global_clipnorm=0.1),
], ids=lambda o: repr(o)[:40])
def test_float32_variables_stay_float32(opt):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    b = np.zeros(3, np.float32)
    ref = [w, b]
    for _ in range(3):
        grads = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)]
        opt.apply(grads, [w, b])
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert w is ref[0] and b is ref[1]
    for slot in opt.slots:
        for value in slot.values():
            assert value.dtype == np.float32
    assert np.all(np.isfinite(w)) and np.any(b != 0)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "adamw"])
def test_updates_are_in_place_even_through_views(name):
    flat = np.arange(1.0, 7.0)
    W, b = flat[:4].reshape(2, 2), flat[4:]       # views into one buffer, as inside a model
    before = flat.copy()
    opt = O.get(name)
    opt.learning_rate = 0.1
    opt.apply([np.ones((2, 2)), np.ones(2)], [W, b])
    assert np.shares_memory(W, flat) and np.shares_memory(b, flat)
    assert np.all(flat < before)                   # every element of the shared buffer moved down


def test_state_kept_for_a_new_list_holding_the_same_arrays():
    grads = _grad_sequence(4, 3, seed=7)
    w_ref = f64(1.0, 2.0, 3.0)
    ref_opt = O.Adam(0.1)
    for g in grads:
        ref_opt.apply([g], [w_ref])

    w = f64(1.0, 2.0, 3.0)
    opt = O.Adam(0.1)
    for g in grads:
        opt.apply([g], list([w]))                   # a new list object every call
    np.testing.assert_array_equal(w, w_ref)
    assert opt.iterations == 4

    # a fresh optimizer (no state) would give something else: the check above can fail
    w_fresh = f64(1.0, 2.0, 3.0)
    for g in grads:
        O.Adam(0.1).apply([g], [w_fresh])
    assert not np.allclose(w_fresh, w_ref, rtol=1e-6)


def test_state_kept_when_variables_are_replaced_by_same_shaped_arrays():
    grads = _grad_sequence(4, 3, seed=8)
    w_ref = f64(1.0, 2.0, 3.0)
    ref_opt = O.SGD(0.1, momentum=0.9)
    for g in grads:
        ref_opt.apply([g], [w_ref])
    w = f64(1.0, 2.0, 3.0)
    opt = O.SGD(0.1, momentum=0.9)
    for g in grads:
        w = w.copy()                                 # e.g. a model that repacked its weights
        opt.apply([g], [w])
    np.testing.assert_array_equal(w, w_ref)
    with pytest.raises(ValueError):
        opt.apply([np.ones(4)], [np.zeros(4)])       # other shapes: refuse, do not mix state


def test_apply_without_variables_reuses_the_built_ones():
    w = f64(1.0)
    opt = O.SGD(0.5)
    with pytest.raises(ValueError):
        opt.apply([f64(1.0)])
    opt.apply([f64(1.0)], [w])
    opt.apply([f64(1.0)])
    np.testing.assert_allclose(w, [0.0])


def test_mismatched_gradients_raise():
    opt = O.Adam()
    with pytest.raises(ValueError):
        opt.apply([f64(1.0), f64(1.0)], [f64(0.0)])
    with pytest.raises(ValueError):
        opt.apply([f64(1.0, 2.0)], [f64(0.0)])
