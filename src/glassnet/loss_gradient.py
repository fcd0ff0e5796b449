"""dL/dy_pred of a loss you wrote yourself, by central differences: glassnet has no automatic
differentiation, and this is the one gradient a loss of your own needs.

A model learns by backpropagation from dL/dy_pred, the gradient of the batch's loss with respect to
the predictions.  glassnet's own losses know it in closed form (losses.py).  For a loss of your own
(a function of (y_true, y_pred), or a Loss subclass that defines call) it is found numerically,
here; everything behind the predictions (the layers' gradients) is backpropagated exactly as always.

    def custom_mean_squared_error(y_true, y_pred):          # one loss per sample, as Keras's are
        return ops.mean(ops.square(y_true - y_pred), axis=-1)
    model.compile(optimizer="adam", loss=custom_mean_squared_error)

How, and what it costs per batch of n samples with m predictions each:

- The function returns one loss per sample (shape (n,), or (n, ...)): sample i's loss depends on
  row i of y_pred only, so shifting column j of every row by +-h at once gives dl_i/dy_ij for all
  samples together: 2 x m calls of your function.  The first batch checks that independence (a
  shift of one prediction of sample 0 must leave the other samples' losses as they were).
- The function returns one number for the batch, or the check fails (a loss that compares samples
  with each other): each prediction is shifted on its own, 2 x n x m calls (a warning says so once).

The step is h = eps**(1/3) * max(1, |y|), eps the precision of what the function returns: the
predictions reach it in float64 (6e-6; with NumPy or glassnet.ops the loss stays float64, and the
error is about h**2, near 1e-10 for smooth losses), 5e-3 if it computes in float32.  At a kink
(|x| at 0, a clip's edge) the difference gives the mean of the two one-sided slopes.
"""
from __future__ import annotations

import warnings

import numpy as np


def losses_of(call, y_true, y_pred, name):
    """The losses `call(y_true, y_pred)` returns, as an array: one per sample (shape (n, ...)) or one
    number; anything else is refused with what was expected."""
    try:
        out = np.asarray(call(y_true, y_pred))
    except (TypeError, ValueError) as err:
        raise type(err)(f"the loss {name!r} failed on y_true of shape {np.shape(y_true)} and y_pred of shape "
                        f"{np.shape(y_pred)}: {err}") from err
    if out.dtype.kind not in "biuf":
        raise TypeError(f"the loss {name!r} must return numbers, got {out.dtype}")
    n = np.shape(y_pred)[0] if np.ndim(y_pred) else 1
    if out.ndim and out.shape[0] != n:
        raise ValueError(f"the loss {name!r} returned losses of shape {out.shape} for a batch of {n} samples; "
                         f"return one loss per sample (shape ({n},)), e.g. ops.mean(..., axis=-1), or one number")
    return out


def _step(losses):
    eps = np.finfo(losses.dtype if losses.dtype.kind == "f" else np.float64).eps
    return eps ** (1 / 3)


def gradient(call, y_true, y_pred, name, state):
    """d mean(losses) / d y_pred, same shape and dtype as y_pred; `state` (a dict the loss keeps)
    remembers whether the per-sample shortcut was checked and whether the warning was given."""
    y_pred = np.asarray(y_pred)
    wide = np.array(y_pred, dtype=np.float64)                 # a copy the differences shift in place
    base = losses_of(call, y_true, wide, name)
    n = wide.shape[0] if wide.ndim else 1
    flat = wide.reshape(n, -1)
    h0 = _step(base)
    if base.ndim == 0:
        per_sample = False
    elif "rows_independent" in state:
        per_sample = state["rows_independent"]
    else:
        per_sample = _rows_independent(call, y_true, wide, base, h0, name, state)
    if per_sample:
        grad = _by_columns(call, y_true, wide, flat, h0, name) / base.size
    else:
        if not state.get("warned"):
            state["warned"] = True
            why = ("returns one number for the batch" if base.ndim == 0 else
                   "gives a sample a loss that depends on other samples' predictions")
            warnings.warn(f"the loss {name!r} {why}, so glassnet differentiates it one prediction at a time: "
                          f"2 x {flat.size} calls per batch of {n}. A loss that returns one value per sample "
                          f"(reduce with axis=-1, not over the batch) needs {2 * flat.shape[1]}", UserWarning,
                          stacklevel=6)
        grad = _one_by_one(call, y_true, wide, flat, h0, name)
    return grad.reshape(y_pred.shape).astype(y_pred.dtype if y_pred.dtype.kind == "f" else np.float64, copy=False)


def _row_sums(call, y_true, wide, n, name):
    return losses_of(call, y_true, wide, name).reshape(n, -1).sum(axis=1, dtype=np.float64)


def _by_columns(call, y_true, wide, flat, h0, name):
    n, m = flat.shape
    grad = np.empty((n, m))
    for j in range(m):
        column = flat[:, j].copy()
        h = h0 * np.maximum(1.0, np.abs(column))
        flat[:, j] = column + h
        up = _row_sums(call, y_true, wide, n, name)
        flat[:, j] = column - h
        down = _row_sums(call, y_true, wide, n, name)
        flat[:, j] = column
        grad[:, j] = (up - down) / ((column + h) - (column - h))
    return grad


def _one_by_one(call, y_true, wide, flat, h0, name):
    grad = np.empty(flat.shape)
    for index in np.ndindex(*flat.shape):
        value = flat[index]
        h = h0 * max(1.0, abs(value))
        flat[index] = value + h
        up = float(np.mean(losses_of(call, y_true, wide, name), dtype=np.float64))
        flat[index] = value - h
        down = float(np.mean(losses_of(call, y_true, wide, name), dtype=np.float64))
        flat[index] = value
        grad[index] = (up - down) / ((value + h) - (value - h))
    return grad


def _rows_independent(call, y_true, wide, base, h0, name, state):
    """Once per loss: does shifting a prediction of sample 0 leave every other sample's loss alone?"""
    n = wide.shape[0]
    if n < 2:
        return True                                       # nothing to compare with yet: check next time
    flat = wide.reshape(n, -1)
    before = base.reshape(n, -1).sum(axis=1, dtype=np.float64)
    value = flat[0, 0]
    flat[0, 0] = value + h0 * max(1.0, abs(value)) * 10
    after = _row_sums(call, y_true, wide, n, name)
    flat[0, 0] = value
    state["rows_independent"] = bool(np.array_equal(before[1:], after[1:]))
    return state["rows_independent"]
