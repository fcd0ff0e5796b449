"""Adaptive per-weight rates: Adagrad and RMSprop.

    Adagrad   a += g^2;                    w -= lr * g / sqrt(a + eps)
    RMSprop   s = rho * s + (1 - rho) g^2; w -= lr * g / sqrt(s + eps)   (centered: s - mean(g)^2)
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._registry import register
from .optimizer import Optimizer

@register("optimizer")
class Adagrad(Optimizer):
    """Adagrad: per-weight rates that shrink with the sum of squared gradients."""

    _slots = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _checks.positive_number(initial_accumulator_value, "initial_accumulator_value",
                                                   allow_zero=True)
        self.epsilon = _checks.positive_number(epsilon, "epsilon", allow_zero=True)

    def _init_slot(self, name, variable):
        return np.full_like(variable, self.initial_accumulator_value)

    def _update(self, i, w, g, lr):
        acc, tmp = self.slots[i]["accumulator"], self._scratch[i]
        np.multiply(g, g, out=tmp)
        acc += tmp
        np.add(acc, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        w -= tmp

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


@register("optimizer")
class RMSprop(Optimizer):
    """RMSprop: divide by a moving root mean square of the gradients."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _checks.fraction(rho, "rho")
        self.momentum = _checks.fraction(momentum, "momentum")
        self.epsilon = _checks.positive_number(epsilon, "epsilon", allow_zero=True)
        self.centered = bool(centered)
        self._slots = ("velocity",) + (("momentum",) if self.momentum else ()) + \
            (("average_gradient",) if self.centered else ())

    def _update(self, i, w, g, lr):
        s, tmp = self.slots[i], self._scratch[i]
        v = s["velocity"]
        v *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        v += tmp
        if self.centered:
            mg = s["average_gradient"]
            mg *= self.rho
            mg += (1 - self.rho) * g
            np.multiply(mg, mg, out=tmp)
            np.subtract(v, tmp, out=tmp)
            tmp += self.epsilon
        else:
            np.add(v, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        if self.momentum:
            mom = s["momentum"]
            mom *= self.momentum
            mom += tmp
            w -= mom
        else:
            w -= tmp

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
