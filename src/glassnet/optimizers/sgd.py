"""SGD: stochastic gradient descent, with optional (Nesterov) momentum.

    v = momentum * v - lr * g;   w += v          (nesterov: w += momentum * v - lr * g)
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._registry import register
from .optimizer import Optimizer

@register("optimizer")
class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum. Keras default lr 0.01."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _checks.fraction(momentum, "momentum")
        self.nesterov = bool(nesterov)
        self._slots = ("momentum",) if self.momentum else ()

    def _update(self, i, w, g, lr):
        step = np.multiply(g, lr, out=self._scratch[i])      # lr * g
        if not self.momentum:
            w -= step
            return
        v = self.slots[i]["momentum"]
        v *= self.momentum
        v -= step                                              # v = momentum * v - lr * g
        if self.nesterov:                                      # w += momentum * v - lr * g
            w -= step
            np.multiply(v, self.momentum, out=step)
            w += step
        else:
            w += v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
