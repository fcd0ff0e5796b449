"""Activation functions and their derivatives, as plain NumPy functions.

Every activation `f(x)` has a derivative `f_derivative(x)` (elementwise, with
respect to the input).  Softmax is not elementwise; `softmax_derivative(x)`
returns the Jacobian of each row, and layers use the cheaper vector-Jacobian
product in `backward`.

All functions are stable for any finite input: no overflow warnings at +-1000.

    >>> import numpy as np, glassnet as gn
    >>> gn.activations.sigmoid(np.array([0.0, 1000.0, -1000.0]))
    array([0.5, 1. , 0. ])

`get("relu")` resolves a name (or passes a callable through); an unknown name
raises ValueError that lists the known ones.  The table `ACTIVATIONS` holds,
for each name, the function, its derivative and the fast backward rule used
by layers.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from . import _registry


# --------------------------------------------------------------------------
# The functions
# --------------------------------------------------------------------------

def step(x):
    """Binary step: 1 where x > 0, else 0 (the perceptron's activation)."""
    x = np.asarray(x)
    return (x > 0).astype(_float_type(x))


def step_derivative(x):
    """Zero everywhere (undefined at 0): why step networks cannot learn by gradient descent."""
    x = np.asarray(x)
    return np.zeros_like(x, dtype=_float_type(x))


def linear(x):
    """Identity: f(x) = x."""
    return np.asarray(x)


def linear_derivative(x):
    x = np.asarray(x)
    return np.ones_like(x, dtype=_float_type(x))


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), finite and warning-free for any x."""
    x = np.asarray(x)
    if x.ndim == 0:                              # ufuncs return scalars for 0-d input: no out= buffer
        return sigmoid(x.reshape(1))[0]
    if x.dtype.kind != "f":                      # integers: negating uint8 would wrap around
        x = x.astype(np.float64)
    return _sigmoid_into(x, np.empty(x.shape, x.dtype))


def _sigmoid_into(z, out):
    """sigmoid(z) written into `out` (float z, same shape): four in-place passes, no temporaries.

    For very negative z (below -88.7 in float32, -709 in float64) exp(-z) overflows to inf and
    1 / (1 + inf) is exactly 0, the limit; the true value is then below the smallest normal
    number, so nothing but a subnormal is lost, and the expected overflow is silenced.
    """
    np.negative(z, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def sigmoid_derivative(x):
    """sigmoid(x) * (1 - sigmoid(x))."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    """Hyperbolic tangent."""
    x = np.asarray(x)
    return np.tanh(x, dtype=_float_type(x))


def tanh_derivative(x):
    """1 - tanh(x)^2."""
    t = tanh(x)
    return 1 - t * t


def relu(x):
    """Rectified linear unit: max(0, x)."""
    x = np.asarray(x)
    return np.maximum(x, 0, dtype=_float_type(x))


def relu_derivative(x):
    """1 where x > 0, else 0 (the subgradient at 0 is taken as 0, as Keras and PyTorch do)."""
    x = np.asarray(x)
    return (x > 0).astype(_float_type(x))


def leaky_relu(x, negative_slope=0.2):
    """x where x > 0, else negative_slope * x (Keras's default slope is 0.2)."""
    x = np.asarray(x)
    dtype = _float_type(x)
    return np.where(x > 0, x, x * dtype.type(negative_slope)).astype(dtype, copy=False)


def leaky_relu_derivative(x, negative_slope=0.2):
    x = np.asarray(x)
    dtype = _float_type(x)
    return np.where(x > 0, dtype.type(1), dtype.type(negative_slope)).astype(dtype, copy=False)


def elu(x, alpha=1.0):
    """Exponential linear unit: x where x > 0, else alpha * (exp(x) - 1)."""
    x = np.asarray(x)
    dtype = _float_type(x)
    neg = np.expm1(np.minimum(x, 0, dtype=dtype)) * dtype.type(alpha)   # never overflows
    return np.where(x > 0, x, neg).astype(dtype, copy=False)


def elu_derivative(x, alpha=1.0):
    """1 where x > 0, else alpha * exp(x)."""
    x = np.asarray(x)
    dtype = _float_type(x)
    neg = np.exp(np.minimum(x, 0, dtype=dtype)) * dtype.type(alpha)
    return np.where(x > 0, dtype.type(1), neg).astype(dtype, copy=False)


def swish(x):
    """Swish / SiLU: x * sigmoid(x)."""
    x = np.asarray(x)
    return x * sigmoid(x)


def swish_derivative(x):
    """s + x * s * (1 - s), with s = sigmoid(x)."""
    x = np.asarray(x)
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


silu = swish
silu_derivative = swish_derivative


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`; subtracts the max first, so never overflows."""
    x = np.asarray(x)
    if x.dtype.kind != "f":                      # integers: uint8's x - max would wrap around
        x = x.astype(np.float64)
    dtype = x.dtype
    with np.errstate(over="ignore"):             # x - max beyond -max float is -inf, and exp(-inf) = 0
        e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf), dtype=dtype)   # initial: rows of 0
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def _softmax_into(z, out):
    """softmax over the last axis of a 2-D float z, written into `out`: the same numbers as softmax(z)."""
    with np.errstate(over="ignore"):             # as in softmax: a shift below -max float is -inf, exp gives 0
        np.subtract(z, _row_max(z), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)
    return out


_ROW_OFFSETS: dict[tuple[int, int], np.ndarray] = {}


def _row_offsets(n, k):
    """[0, k, 2k, ...]: where each row of a flattened (n, k) array starts (kept per shape)."""
    offsets = _ROW_OFFSETS.get((n, k))
    if offsets is None:
        if len(_ROW_OFFSETS) > 64:                   # a handful of batch shapes per run
            _ROW_OFFSETS.clear()
        offsets = _ROW_OFFSETS[(n, k)] = np.arange(0, n * k, k, dtype=np.intp)
    return offsets


def _row_max(z):
    """z.max(axis=-1, keepdims=True) of a 2-D z, as z[i, argmax(z[i])]: the same numbers (NaN rows
    give NaN), but NumPy's argmax runs several times faster than its max along short rows
    (10 classes: 2.2 against 0.9 us for 32 rows, 42 against 10 us for 1,000)."""
    n, k = z.shape
    at = z.argmax(axis=-1)
    at += _row_offsets(n, k)
    return z.reshape(-1).take(at).reshape(n, 1)


def softmax_derivative(x):
    """Jacobian of softmax per row: diag(s) - s s^T, shape (..., k, k)."""
    s = softmax(x)
    if s.ndim == 0:
        raise ValueError("softmax_derivative expects an array with a last axis (the classes), got a scalar")
    return s[..., :, None] * (np.eye(s.shape[-1], dtype=s.dtype) - s[..., None, :])


# --------------------------------------------------------------------------
# Forward rules used by layers: f(z) written into a buffer `out` of z's shape
# (a layer inside a running model reuses one buffer per batch instead of
# allocating).  Activations without one here compute f(z) and copy it in.
# --------------------------------------------------------------------------

def _linear_into(z, out):
    return z                                     # identity: no copy at all


def _tanh_into(z, out):
    return np.tanh(z, out=out)


def _relu_into(z, out):
    return np.maximum(z, 0, out=out)


def _into(function):
    def forward_into(z, out):
        np.copyto(out, function(z))
        return out
    return forward_into


# --------------------------------------------------------------------------
# Backward rules used by layers: given the cached input z, output y and the
# upstream gradient dy, return dL/dz.  Output-based where that is cheaper.
# `out` is an optional buffer of dy's shape.
# --------------------------------------------------------------------------

def _linear_backward(z, y, dy, out=None):
    return dy


def _sigmoid_backward(z, y, dy, out=None):
    out = np.subtract(1, y, out=out)
    out *= y
    out *= dy
    return out


def _tanh_backward(z, y, dy, out=None):
    out = np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)
    out *= dy
    return out


def _relu_backward(z, y, dy, out=None):
    return np.multiply(dy, y > 0, out=out)


def _softmax_backward(z, y, dy, out=None):
    # vector-Jacobian product: y * (dy - sum(dy * y))
    dot = np.sum(dy * y, axis=-1, keepdims=True)
    out = np.subtract(dy, dot, out=out)
    out *= y
    return out


def _elementwise_backward(derivative):
    def backward(z, y, dy, out=None):
        return np.multiply(dy, derivative(z), out=out)
    return backward


class ActivationFn(NamedTuple):
    """One row of the activation table."""
    name: str
    function: Callable
    derivative: Callable
    backward: Callable          # (z, y, dy, out=None) -> dL/dz
    forward_into: Callable      # (z, out) -> f(z), written into out (float z; linear returns z itself)


ACTIVATIONS: dict[str, ActivationFn] = {
    "linear": ActivationFn("linear", linear, linear_derivative, _linear_backward, _linear_into),
    "step": ActivationFn("step", step, step_derivative, _elementwise_backward(step_derivative), _into(step)),
    "sigmoid": ActivationFn("sigmoid", sigmoid, sigmoid_derivative, _sigmoid_backward, _sigmoid_into),
    "tanh": ActivationFn("tanh", tanh, tanh_derivative, _tanh_backward, _tanh_into),
    "relu": ActivationFn("relu", relu, relu_derivative, _relu_backward, _relu_into),
    "leaky_relu": ActivationFn("leaky_relu", leaky_relu, leaky_relu_derivative,
                               _elementwise_backward(leaky_relu_derivative), _into(leaky_relu)),
    "elu": ActivationFn("elu", elu, elu_derivative, _elementwise_backward(elu_derivative), _into(elu)),
    "swish": ActivationFn("swish", swish, swish_derivative, _elementwise_backward(swish_derivative),
                          _into(swish)),
    "softmax": ActivationFn("softmax", softmax, softmax_derivative, _softmax_backward, _softmax_into),
}
ALIASES = {"silu": "swish", "identity": "linear", "binary_step": "step", None: "linear"}


def names() -> list[str]:
    """The known activation names (aliases included)."""
    return sorted(ACTIVATIONS) + sorted(k for k in ALIASES if k is not None)


def canonical_name(identifier) -> str:
    """The table name for `identifier` ("silu" -> "swish", None -> "linear")."""
    if (identifier is None or isinstance(identifier, str)) and identifier in ALIASES:     # a list is not hashable
        return ALIASES[identifier]
    if isinstance(identifier, str):
        return _registry.find(identifier, ACTIVATIONS, "activation", aliases=ALIASES, known=names())
    if callable(identifier):
        for row in ACTIVATIONS.values():
            if identifier is row.function:
                return row.name
        raise ValueError(f"{identifier!r} is not one of glassnet's activations; "
                         f"layers take a name from: {', '.join(names())}")
    raise TypeError(f"activation must be a name (str), a glassnet activation function or None, "
                    f"got {type(identifier).__name__}")


def lookup(identifier) -> ActivationFn:
    """The table row (function, derivative, backward) for a name or function."""
    return ACTIVATIONS[canonical_name(identifier)]


def get(identifier):
    """The activation function for `identifier` ("relu", "silu", None -> linear, or a function)."""
    return lookup(identifier).function


def get_derivative(identifier):
    """The derivative function for `identifier`."""
    return lookup(identifier).derivative


def serialize(identifier) -> str:
    return canonical_name(identifier)


def _float_type(x) -> np.dtype:
    """Float inputs keep their dtype; integers and booleans compute in float64, as NumPy does."""
    dt = np.asarray(x).dtype
    return dt if dt.kind == "f" else np.dtype("float64")
