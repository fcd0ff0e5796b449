"""Learning-rate schedules (Keras's keras.optimizers.schedules): functions of the step.

Steps are optimizer iterations, i.e. batches:

    schedule = gn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.5)
    opt = gn.optimizers.SGD(learning_rate=schedule)     # evaluated at opt.iterations each step

With s the step, lr0 the initial learning rate and d the decay steps:

    ExponentialDecay        lr0 * decay_rate ** (s / d)                  (staircase: floor(s / d))
    InverseTimeDecay        lr0 / (1 + decay_rate * s / d)               (staircase: floor(s / d))
    PolynomialDecay         (lr0 - end) * (1 - min(s, d) / d) ** power + end
                            (cycle: d grows to the next multiple of d above s, so the decay restarts)
    PiecewiseConstantDecay  values[i] for boundaries[i-1] < s <= boundaries[i]
    CosineDecay             lr0 * ((1 - alpha) * (1 + cos(pi * min(s, d) / d)) / 2 + alpha),
                            after an optional linear warm-up from lr0 to warmup_target
    CosineDecayRestarts     cosine decays that restart (SGDR): the i-th period lasts
                            first_decay_steps * t_mul ** i steps and starts at lr0 * m_mul ** i
    StepDecay               lr0 * decay_rate ** floor(s / d)             (glassnet's; not in Keras)

A schedule is called with a step (a number or an array of steps) and returns a float (an array
for an array), computed in float64.  The classes are also importable from glassnet.optimizers.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _checks, _registry
from .._registry import register

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "PolynomialDecay",
           "PiecewiseConstantDecay", "CosineDecay", "CosineDecayRestarts", "StepDecay",
           "serialize", "deserialize"]


def _steps(step):
    """The step(s) as float64: a float for one step, an array for several; each a finite number >= 0."""
    s = np.asarray(step, dtype=np.float64) if not isinstance(step, (str, bytes)) else None
    if s is None or s.dtype.kind != "f" or not np.isfinite(s).all() or (s < 0).any():
        raise ValueError(f"a learning-rate schedule takes a step number >= 0 (or an array of them), got {step!r}")
    return s


def _out(values):
    values = np.asarray(values, dtype=np.float64)
    return float(values) if values.ndim == 0 else values


def _name(name, default):
    if name is None:
        return default
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    return name


class LearningRateSchedule:
    """A function of the step: schedule(step) -> learning rate.  Subclasses define __call__."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {k: list(v) if isinstance(v, list) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    __repr__ = _registry.config_repr


@register("schedule")
class ExponentialDecay(LearningRateSchedule):
    """lr0 * decay_rate ** (step / decay_steps); with staircase=True the exponent is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _checks.positive_number(decay_steps, "decay_steps")
        self.decay_rate = _checks.positive_number(decay_rate, "decay_rate")
        self.staircase = bool(staircase)
        self.name = _name(name, "ExponentialDecay")

    def __call__(self, step):
        p = _steps(step) / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return _out(self.initial_learning_rate * self.decay_rate ** p)


@register("schedule")
class InverseTimeDecay(LearningRateSchedule):
    """lr0 / (1 + decay_rate * step / decay_steps); with staircase=True, step / decay_steps is floored.

        InverseTimeDecay(0.001, decay_steps=1000, decay_rate=1)   # halves by step 1000, a third by 2000
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _checks.positive_number(decay_steps, "decay_steps")
        self.decay_rate = _checks.positive_number(decay_rate, "decay_rate", allow_zero=True)
        self.staircase = bool(staircase)
        self.name = _name(name, "InverseTimeDecay")

    def __call__(self, step):
        p = _steps(step) / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return _out(self.initial_learning_rate / (1 + self.decay_rate * p))


@register("schedule")
class PolynomialDecay(LearningRateSchedule):
    """From lr0 to end_learning_rate along (1 - step / decay_steps) ** power, then constant.

    cycle=True starts the decay again instead of staying at the end: at step s the decay runs over
    decay_steps * ceil(s / decay_steps) steps (decay_steps at step 0), so it restarts after each
    multiple of decay_steps, each time more slowly.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _checks.positive_number(decay_steps, "decay_steps")
        self.end_learning_rate = _checks.positive_number(end_learning_rate, "end_learning_rate", allow_zero=True)
        self.power = _checks.positive_number(power, "power")
        self.cycle = bool(cycle)
        self.name = _name(name, "PolynomialDecay")

    def __call__(self, step):
        s = _steps(step)
        if self.cycle:
            periods = np.where(s == 0, 1.0, np.ceil(s / self.decay_steps))
            p = s / (self.decay_steps * periods)
        else:
            p = np.minimum(s, self.decay_steps) / self.decay_steps
        lr0, end = self.initial_learning_rate, self.end_learning_rate
        return _out((lr0 - end) * (1 - p) ** self.power + end)


@register("schedule")
class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
    values[-1] after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        try:
            boundaries, values = list(boundaries), list(values)
        except TypeError:
            raise TypeError(f"PiecewiseConstantDecay needs lists of boundaries and values, got "
                            f"{type(boundaries).__name__} and {type(values).__name__}") from None
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay needs len(values) == len(boundaries) + 1, "
                             f"got {len(values)} values and {len(boundaries)} boundaries")
        self.boundaries = [_checks.finite_number(b, "boundary") for b in boundaries]
        self.boundaries = [int(b) if b == int(b) else b for b in self.boundaries]
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay boundaries must increase, got {self.boundaries}")
        self.values = [_checks.positive_number(v, "learning rate value") for v in values]
        self.name = _name(name, "PiecewiseConstant")

    def __call__(self, step):
        s = _steps(step)
        index = np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), s, side="left")
        return _out(np.asarray(self.values)[index])


def _cosine(fraction, alpha):
    """(1 - alpha) * (1 + cos(pi * fraction)) / 2 + alpha: from 1 at fraction 0 to alpha at 1."""
    return (1 - alpha) * 0.5 * (1 + np.cos(math.pi * fraction)) + alpha


@register("schedule")
class CosineDecay(LearningRateSchedule):
    """Cosine annealing from lr0 to alpha * lr0 over decay_steps, then constant.

    With warmup_target, the rate first climbs linearly from lr0 to warmup_target over warmup_steps,
    then decays from warmup_target to alpha * warmup_target over the next decay_steps (Keras 3).
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _checks.positive_number(decay_steps, "decay_steps")
        self.alpha = _checks.fraction(alpha, "alpha", closed=True)
        self.name = _name(name, "CosineDecay")
        self.warmup_target = None if warmup_target is None else \
            _checks.positive_number(warmup_target, "warmup_target")
        self.warmup_steps = _checks.positive_number(warmup_steps, "warmup_steps", allow_zero=True)
        if self.warmup_steps == int(self.warmup_steps):
            self.warmup_steps = int(self.warmup_steps)

    def __call__(self, step):
        s = _steps(step)
        if self.warmup_target is None:
            fraction = np.minimum(s, self.decay_steps) / self.decay_steps
            return _out(self.initial_learning_rate * _cosine(fraction, self.alpha))
        warm = self.warmup_steps
        lr0, top = self.initial_learning_rate, self.warmup_target
        rising = lr0 + (top - lr0) * (s / warm if warm else 0.0)
        fraction = np.minimum(np.maximum(s - warm, 0.0), self.decay_steps) / self.decay_steps
        return _out(np.where(s < warm, rising, top * _cosine(fraction, self.alpha)))


@register("schedule")
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov and Hutter): a cosine decay from lr0 to
    alpha * lr0 over first_decay_steps, then again over t_mul times as many steps starting from
    m_mul times the previous peak, and so on."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.first_decay_steps = _checks.positive_number(first_decay_steps, "first_decay_steps")
        self.t_mul = _checks.finite_number(t_mul, "t_mul")
        if self.t_mul < 1:            # periods would shrink: all of them would end after a finite step
            raise ValueError(f"t_mul must be >= 1 (each period as long as the last or longer), got {t_mul!r}")
        self.m_mul = _checks.positive_number(m_mul, "m_mul", allow_zero=True)
        self.alpha = _checks.fraction(alpha, "alpha", closed=True)
        self.name = _name(name, "SGDRDecay")

    def restart(self, step):
        """(which period the step falls in, 0 for the first; how far through it, from 0 to 1); arrays
        for an array of steps."""
        period, fraction = self._restart(_steps(step) / self.first_decay_steps)
        return (int(period), float(fraction)) if np.ndim(period) == 0 else (period.astype(np.int64), fraction)

    def _restart(self, done):
        """restart() for `done`, the step in units of the first period (float64)."""
        if self.t_mul == 1.0:
            period = np.floor(done)
            return period, done - period
        # periods 0..i-1 last (t_mul ** i - 1) / (t_mul - 1) first periods together
        period = np.floor(np.log1p(done * (self.t_mul - 1)) / math.log(self.t_mul))
        start = (self.t_mul ** period - 1) / (self.t_mul - 1)
        for _ in range(64):                         # correct log's rounding at the restarts themselves
            late = done < start
            early = done >= (self.t_mul ** (period + 1) - 1) / (self.t_mul - 1)
            if not (np.any(late) or np.any(early)):
                break
            period = period - late + early
            start = (self.t_mul ** period - 1) / (self.t_mul - 1)
        return period, (done - start) / self.t_mul ** period

    def __call__(self, step):
        period, fraction = self._restart(_steps(step) / self.first_decay_steps)
        peak = self.m_mul ** period                 # alpha stays a fraction of lr0 itself, as in Keras
        cosine = (1 - self.alpha) * peak * 0.5 * (1 + np.cos(math.pi * fraction)) + self.alpha
        return _out(self.initial_learning_rate * cosine)


@register("schedule")
class StepDecay(LearningRateSchedule):
    """Step decay: lr0 * decay_rate ** floor(step / decay_steps), e.g. halve every 1,000 batches.
    (Keras writes it ExponentialDecay(..., staircase=True).)"""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate=0.5, name="StepDecay"):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        steps = _checks.positive_number(decay_steps, "decay_steps")
        if steps != int(steps):                        # int(0.5) would be 0: a division by zero later
            raise ValueError(f"decay_steps must be a whole number of steps >= 1, got {decay_steps!r}")
        self.decay_steps = int(steps)
        self.decay_rate = _checks.positive_number(decay_rate, "decay_rate")
        self.name = _name(name, "StepDecay")

    def __call__(self, step):
        return _out(self.initial_learning_rate * self.decay_rate ** np.floor(_steps(step) / self.decay_steps))


def serialize(schedule) -> dict:
    """{"class_name", "config"} of a schedule (Keras's keras.optimizers.schedules.serialize)."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"serialize expects a LearningRateSchedule, got {type(schedule).__name__}")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config) -> LearningRateSchedule:
    """The schedule a serialize() dict describes."""
    return _registry.from_spec(config, "learning-rate schedule", _registry.classes("schedule"))
