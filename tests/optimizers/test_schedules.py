"""Learning-rate schedules: closed forms, config, validation, and an optimizer stepping through one.

References: the closed form of each schedule, evaluated independently.
"""
import math

import numpy as np
import pytest

from glassnet import optimizers as O
from optimizers.optimizer_helpers import f64


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
