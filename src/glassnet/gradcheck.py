"""Numerical gradients and gradient checking.

`numerical_gradient(f, x)` is the notes' central difference: for each entry
x_i, (f(x + h e_i) - f(x - h e_i)) / 2h, with f called on the perturbed x.

`gradient_check(model, x, y)` compares backpropagation against float64
central differences of the model's training loss and returns, for every
parameter ("dense/W", "dense/b", ...), the largest relative error

    |analytic - numeric| / max(|analytic| + |numeric|, floor)

The floor keeps entries whose true gradient is ~0 from dividing rounding noise by
rounding noise: a central difference is only accurate to about eps * |loss| / h in
absolute terms, so gradient_check floors the denominator at 1e7 times that (~2e-4
for h = 1e-5 and a loss of order 1; see `noise_floor`).  Below 1e-6 is a pass.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .models.nested import AsLayer


def numerical_gradient(f, x, h=1e-4):
    """Central-difference gradient of scalar f at x (x is perturbed in place and restored).

    The notes' `numerical_gradient(f, x)`: for each entry, (f(x + h) - f(x - h)) / 2h.  In float64
    the step is exactly the notes' 2h; in lower precision x + h and x - h are rounded, so the
    quotient divides by the step actually taken.  x is restored even when f raises.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient needs x as a float ndarray (it is perturbed in place), "
                        f"got {type(x).__name__}{'' if not isinstance(x, np.ndarray) else ' of dtype ' + str(x.dtype)}")
    if not x.flags.writeable:
        raise ValueError("numerical_gradient needs a writeable x (it is perturbed in place)")
    h = float(h)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"numerical_gradient needs a step h > 0, got {h!r}")
    exact_step = x.dtype == np.float64
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        try:
            x[i] = original + h
            plus_step = float(x[i])
            f_plus = _scalar(f(x))
            x[i] = original - h
            minus_step = float(x[i])
            f_minus = _scalar(f(x))
        finally:
            x[i] = original
        step = 2 * h if exact_step else plus_step - minus_step
        if step == 0:
            raise ValueError(f"numerical_gradient: h={h} is lost when added to x{list(i)}={float(original)} "
                             f"in {x.dtype}; use a larger h or a float64 x")
        grad[i] = (f_plus - f_minus) / step
    return grad


def _scalar(value) -> float:
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(f"numerical_gradient needs f to return a scalar, got an array of shape {value.shape}")
    return float(value.reshape(()))


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

    The model is copied into float64 first: its own weights, moving statistics and random
    generators (and glassnet's global one) are not touched.  Dropout masks are held fixed, so
    networks with Dropout check too; BatchNormalization uses batch statistics as in training.
    `max_entries` limits how many entries of each parameter are perturbed (chosen at random with
    `seed`); None checks all of them.

    Central differences carry rounding noise of about eps * |loss| / h (~1e-11 here), so the
    relative error's denominator is floored at `noise_floor(loss, h)` (~1e-4 for a loss of order
    1): a gradient entry smaller than that is compared to it, not to itself.
    """
    if not getattr(model, "compiled", False):
        raise ValueError("gradient_check needs a compiled model (it checks the model's own loss)")
    h = float(h)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"gradient_check needs a step h > 0, got {h!r}")
    if max_entries is not None and (isinstance(max_entries, bool) or not isinstance(max_entries, (int, np.integer))
                                    or max_entries < 1):
        raise ValueError(f"max_entries must be None or a positive integer, got {max_entries!r}")
    model._require_built()
    global_rng = backend.global_rng()
    global_state = global_rng.bit_generator.state       # building the copy draws initial weights
    try:
        clone = type(model).from_config(model.get_config(), dtype="float64")
        clone.build((None,) + tuple(model._input_feature_shape))
    finally:
        global_rng.bit_generator.state = global_state
    clone.set_weights([w.astype(np.float64) for w in model.get_weights()])
    if getattr(model, "_heads", None) is not None:          # several outputs: a loss (or None) each
        clone.compile(optimizer="sgd", loss=[None if l is None else type(l)(**l.get_config()) for l in model.loss],
                      loss_weights=list(model._loss_weights))
    else:
        clone.compile(optimizer="sgd", loss=type(model.loss)(**model.loss.get_config()))
    clone._prepare()
    x64, y64 = clone._check_xy(x, y)
    rngs = [layer.rng for _, layer in _named_leaves(clone.layers)
            if isinstance(getattr(layer, "rng", None), np.random.Generator)]
    rng_states = [r.bit_generator.state for r in rngs]

    def reset():
        for r, s in zip(rngs, rng_states):
            r.bit_generator.state = s

    def loss_value():
        reset()
        states = [{k: v.copy() for k, v in l.state.items()} for _, l in _named_leaves(clone.layers)]
        loss, _, _ = clone._forward_loss(x64, y64, training=True)
        for (_, l), s in zip(_named_leaves(clone.layers), states):
            for k, v in s.items():
                l.state[k][...] = v
        return loss + clone._regularization_loss()

    reset()
    loss0, grads = clone.compute_gradients(x64, y64)
    floor = noise_floor(loss0, h)
    chooser = np.random.default_rng(seed)
    errors = {}
    gi = 0
    for prefix, layer in _named_leaves(clone.layers):
        for key, w in layer.params.items():
            analytic = grads[gi]
            gi += 1
            flat_w = w.reshape(-1)
            if not np.shares_memory(flat_w, w):
                raise RuntimeError(f"{layer.name}/{key} is not contiguous; cannot perturb it in place")
            idx = np.arange(flat_w.size)
            if max_entries is not None and flat_w.size > max_entries:
                idx = np.sort(chooser.choice(flat_w.size, size=max_entries, replace=False))
            numeric = np.empty(len(idx))
            for j, i in enumerate(idx):
                original = flat_w[i]
                flat_w[i] = original + h
                plus = loss_value()
                flat_w[i] = original - h
                minus = loss_value()
                flat_w[i] = original
                numeric[j] = (plus - minus) / (2 * h)
            err = relative_error(analytic.reshape(-1)[idx], numeric, floor)
            errors[f"{prefix}{layer.name}/{key}"] = float(err.max()) if err.size else 0.0
        gi += len(layer.state)
    return GradientCheck(errors, tolerance)


def _named_leaves(layers, prefix=""):
    """[(prefix, layer)]: the layers that hold weights, a model used as a layer opened up ("inner/")."""
    out = []
    for layer in layers:
        if isinstance(layer, AsLayer):
            out.extend(_named_leaves(layer.layers, f"{prefix}{layer.name}/"))
        else:
            out.append((prefix, layer))
    return out


def noise_floor(loss, h, floor=1e-7) -> float:
    """The smallest denominator `gradient_check` uses: 1e7 times a central difference's rounding
    noise eps * max(|loss|, 1) / h, and at least `floor`.  Pure rounding noise then scores ~1e-7."""
    eps = np.finfo(np.float64).eps
    return max(floor, 1e7 * eps * max(abs(float(loss)), 1.0) / h)
