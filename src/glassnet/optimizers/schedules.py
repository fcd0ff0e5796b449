"""Learning-rate schedules (Keras's keras.optimizers.schedules): functions of the step.

Steps are optimizer iterations, i.e. batches:

    schedule = gn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.5)
    opt = gn.optimizers.SGD(learning_rate=schedule)     # evaluated at opt.iterations each step

The classes are also importable from glassnet.optimizers itself.
"""
from __future__ import annotations

import math

from .. import _checks, _registry
from .._registry import register

__all__ = ["LearningRateSchedule", "ExponentialDecay", "StepDecay", "CosineDecay", "PiecewiseConstantDecay"]

class LearningRateSchedule:
    """A function of the step: schedule(step) -> learning rate."""

    def __call__(self, step) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {k: list(v) if isinstance(v, list) else v for k, v in self.__dict__.items()}

    __repr__ = _registry.config_repr


@register("schedule")
class ExponentialDecay(LearningRateSchedule):
    """lr * decay_rate ** (step / decay_steps); with staircase=True the exponent is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _checks.positive_number(decay_steps, "decay_steps")
        self.decay_rate = _checks.positive_number(decay_rate, "decay_rate")
        self.staircase = bool(staircase)

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p


@register("schedule")
class StepDecay(LearningRateSchedule):
    """Step decay: lr * decay_rate ** floor(step / decay_steps), e.g. halve every 1,000 batches."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate=0.5):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        steps = _checks.positive_number(decay_steps, "decay_steps")
        if steps != int(steps):                        # int(0.5) would be 0: a division by zero later
            raise ValueError(f"decay_steps must be a whole number of steps >= 1, got {decay_steps!r}")
        self.decay_steps = int(steps)
        self.decay_rate = _checks.positive_number(decay_rate, "decay_rate")

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** (step // self.decay_steps)


@register("schedule")
class CosineDecay(LearningRateSchedule):
    """Cosine annealing from lr to alpha * lr over decay_steps, then constant."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _checks.positive_number(decay_steps, "decay_steps")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)

    def __call__(self, step):
        t = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1 + math.cos(math.pi * t))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)


@register("schedule")
class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while step <= boundaries[i] (the last value after the last boundary)."""

    def __init__(self, boundaries, values):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay needs len(values) == len(boundaries) + 1, "
                             f"got {len(values)} values and {len(boundaries)} boundaries")
        self.boundaries = [int(b) for b in boundaries]
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay boundaries must increase, got {self.boundaries}")
        self.values = [_checks.positive_number(v, "learning rate value") for v in values]

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

