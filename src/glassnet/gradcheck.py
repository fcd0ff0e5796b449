"""Numerical gradients and gradient checking.

`numerical_gradient(f, x)` is the notes' central difference: for each entry
x_i, (f(x + h e_i) - f(x - h e_i)) / 2h, with f called on the perturbed x.

`gradient_check(model, x, y)` compares backpropagation against float64
central differences of the model's training loss and returns, for every
parameter ("dense/W", "dense/b", ...), the largest relative error

    |analytic - numeric| / max(|analytic| + |numeric|, floor)

(floor = 1e-7 keeps entries whose true gradient is ~0 from dividing noise by
noise).  Below 1e-6 is a pass for a float64 model with smooth activations.
"""
from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, h=1e-4):
    """Central-difference gradient of scalar f at x (x is perturbed in place and restored)."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient needs x as a float ndarray (it is perturbed in place), "
                        f"got {type(x).__name__}{'' if not isinstance(x, np.ndarray) else ' of dtype ' + str(x.dtype)}")
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient needs a contiguous x")
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        f_plus = float(f(x))
        flat_x[i] = original - h
        f_minus = float(f(x))
        flat_x[i] = original
        flat_g[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(analytic, numeric, floor=1e-7):
    """Elementwise |a - n| / max(|a| + |n|, floor)."""
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), floor)


class GradientCheck(dict):
    """{parameter name: max relative error}, with a readable table and a pass/fail verdict."""

    def __init__(self, errors, tolerance):
        super().__init__(errors)
        self.tolerance = tolerance

    @property
    def max_error(self) -> float:
        return max(self.values()) if self else 0.0

    @property
    def passed(self) -> bool:
        return self.max_error < self.tolerance

    def __str__(self):
        width = max([len("parameter")] + [len(k) for k in self])
        lines = [f"{'parameter':<{width}}  max relative error  result"]
        for name, err in self.items():
            lines.append(f"{name:<{width}}  {err:18.3e}  {'pass' if err < self.tolerance else 'FAIL'}")
        return "\n".join(lines)


def gradient_check(model, x, y, h=1e-5, tolerance=1e-6, max_entries=None, seed=0):
    """Backprop against float64 central differences, per parameter. Returns a GradientCheck dict.

    The model is copied into float64 first (its own weights are not touched).  Dropout masks
    are held fixed, so networks with Dropout check too.  `max_entries` limits how many entries
    of each parameter are perturbed (chosen at random with `seed`); None checks all of them.
    """
    from .models import Sequential

    if not model.compiled:
        raise ValueError("gradient_check needs a compiled model (it checks the model's own loss)")
    model._require_built()
    clone = Sequential.from_config(model.get_config(), dtype="float64")
    clone.build((None,) + model._input_feature_shape)
    clone.set_weights([w.astype(np.float64) for w in model.get_weights()])
    clone.compile(optimizer="sgd", loss=type(model.loss)(**model.loss.get_config()))
    clone._prepare()
    x64, y64 = clone._check_xy(x, y)
    rngs = [layer.rng for layer in clone.layers if hasattr(layer, "rng")]
    rng_states = [r.bit_generator.state for r in rngs]

    def reset():
        for r, s in zip(rngs, rng_states):
            r.bit_generator.state = s

    def loss_value():
        reset()
        states = [{k: v.copy() for k, v in l.state.items()} for l in clone.layers]
        loss, _, _ = clone._forward_loss(x64, y64, training=True)
        for l, s in zip(clone.layers, states):
            for k, v in s.items():
                l.state[k][...] = v
        return loss + clone._regularization_loss()

    reset()
    _, grads = clone.compute_gradients(x64, y64)
    chooser = np.random.default_rng(seed)
    errors = {}
    gi = 0
    for layer in clone.layers:
        for key, w in layer.params.items():
            analytic = grads[gi]
            gi += 1
            flat_w = w.reshape(-1)
            idx = np.arange(flat_w.size)
            if max_entries is not None and flat_w.size > max_entries:
                idx = chooser.choice(flat_w.size, size=max_entries, replace=False)
            numeric = np.empty(len(idx))
            for j, i in enumerate(idx):
                original = flat_w[i]
                flat_w[i] = original + h
                plus = loss_value()
                flat_w[i] = original - h
                minus = loss_value()
                flat_w[i] = original
                numeric[j] = (plus - minus) / (2 * h)
            err = relative_error(analytic.reshape(-1)[idx], numeric)
            errors[f"{layer.name}/{key}"] = float(err.max()) if err.size else 0.0
        gi += len(layer.state)
    return GradientCheck(errors, tolerance)
