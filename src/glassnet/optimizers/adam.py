"""Adam and AdamW (Keras's form: bias correction folded into the step size, eps outside the root).

    Adam      m += (1 - b1)(g - m);  v += (1 - b2)(g^2 - v)
              w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
    AdamW     w -= lr * weight_decay * w, then the Adam step
"""
from __future__ import annotations

import math

import numpy as np

from .. import _checks, backend
from .._registry import register
from .optimizer import Optimizer

@register("optimizer")
class Adam(Optimizer):
    """Adam, in Keras's form (bias correction folded into the step size, eps outside the root)."""

    _slots = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _checks.fraction(beta_1, "beta_1")
        self.beta_2 = _checks.fraction(beta_2, "beta_2")
        self.epsilon = _checks.positive_number(epsilon, "epsilon", allow_zero=True)
        self.amsgrad = bool(amsgrad)
        if self.amsgrad:
            self._slots = ("m", "v", "v_hat")

    def _update(self, i, w, g, lr):
        s = self.slots[i]
        m, v, v_hat = s["m"], s["v"], s.get("v_hat")
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)   # bias correction, folded
        decay = self._decay(lr)
        kernel = backend.kernel("adam", w.dtype)
        if kernel is not None and g.dtype == w.dtype and w.flags.c_contiguous and g.flags.c_contiguous:
            # the same operations, in the same order, in one compiled pass (glassnet/_kernels.py)
            kernel(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                   None if v_hat is None else v_hat.reshape(-1), decay, 1 - self.beta_1, 1 - self.beta_2,
                   alpha, self.epsilon)
            return
        # Twelve in-place passes over the (flat) buffers, no temporaries: the step is memory-bound
        # (its sqrt is the one pass that costs more).  Python floats stay "weak" scalars under NumPy 2,
        # so float32 state stays float32.
        tmp = self._scratch[i]
        if decay != 1:
            w *= decay                              # AdamW: decoupled weight decay first
        np.subtract(g, m, out=tmp)                  # m += (1 - b1) (g - m)
        tmp *= 1 - self.beta_1
        m += tmp
        np.multiply(g, g, out=tmp)                  # v += (1 - b2) (g^2 - v)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        if v_hat is not None:
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=tmp)                         # w -= alpha m / (sqrt(v) + eps)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        w -= tmp

    def _decay(self, lr):
        """The factor w is multiplied by before the step: 1 for Adam."""
        return 1.0

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


@register("optimizer")
class AdamW(Adam):
    """Adam with decoupled weight decay: w -= lr * weight_decay * w before each Adam step."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, **kwargs)
        self.weight_decay = _checks.positive_number(weight_decay, "weight_decay", allow_zero=True)

    def _decay(self, lr):
        """AdamW's decoupled weight decay: w *= 1 - lr * weight_decay before the Adam step."""
        return 1 - lr * self.weight_decay if self.weight_decay else 1.0

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}
