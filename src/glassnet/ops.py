"""Keras's `keras.ops`, on NumPy: the tensor functions Keras scripts write their own losses, metrics
and data steps with, under Keras's names and arguments.

    from glassnet import ops

    def custom_mean_squared_error(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    ops.one_hot([0, 2], num_classes=3)         # float32 one-hot rows, as Keras gives them

Each function takes arrays, lists or numbers and returns a NumPy array (or NumPy scalar): a
"tensor" here is an ndarray, so ops mix freely with NumPy and `convert_to_numpy` is a no-op copy.
Python numbers and lists of floats become the default float type (gn.backend.floatx(), float32),
as Keras converts them; NumPy arrays keep their dtype.

This is the common part of keras.ops (creation, element-wise math, comparisons, reductions,
shapes, the activations and cross-entropies), not all of it.  There is no automatic
differentiation: a loss you write with ops is differentiated numerically where it meets the model
(glassnet.losses.LossFunctionWrapper says how), never through these functions.
"""
from __future__ import annotations

import numpy as np

from . import activations, backend

# ---------------------------------------------------------------------------------------------------
# Conversion and creation
# ---------------------------------------------------------------------------------------------------


def _t(x):
    """x as an ndarray: arrays (and their subclasses: weights, metric variables) as they are; Python
    floats and lists of them in the default float type."""
    if isinstance(x, np.ndarray):
        return x.view(np.ndarray) if type(x) is not np.ndarray else x
    if isinstance(x, np.generic):
        return np.asarray(x)
    a = np.asarray(x)
    if a.dtype == np.float64:
        a = a.astype(backend.floatx())
    elif a.dtype == object:
        raise TypeError(f"ops expect numbers, arrays or lists of numbers, got {type(x).__name__}")
    return a


def _dtype(dtype):
    """A dtype argument ("float32", "int32", "bool", np.float64, ...) as a NumPy dtype; None stays None."""
    if dtype is None:
        return None
    try:
        return np.dtype(getattr(dtype, "name", dtype) if not isinstance(dtype, str) else dtype)
    except TypeError:
        raise TypeError(f"dtype must name a NumPy type such as 'float32' or 'int32', got {dtype!r}") from None


def _float(dtype):
    return _dtype(dtype) or np.dtype(backend.floatx())


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """x as an array (of `dtype` if given); sparse and ragged tensors do not exist here."""
    if sparse or ragged:
        raise ValueError("glassnet has no sparse or ragged tensors: convert_to_tensor makes dense NumPy arrays")
    a = _t(x)
    return a if dtype is None else a.astype(_dtype(dtype), copy=False)


def convert_to_numpy(x):
    """A NumPy copy of x."""
    return np.array(_t(x), copy=True)


def cast(x, dtype):
    return _t(x).astype(_dtype(dtype), copy=False)


def dtype(x):
    return _t(x).dtype.name


def shape(x):
    return tuple(np.shape(x))


def ndim(x):
    return np.ndim(x)


def size(x):
    return np.size(x)


def zeros(shape, dtype=None):
    return np.zeros(shape, dtype=_float(dtype))


def ones(shape, dtype=None):
    return np.ones(shape, dtype=_float(dtype))


def full(shape, fill_value, dtype=None):
    return np.full(shape, fill_value, dtype=_float(dtype) if dtype is not None or isinstance(fill_value, float)
                   else None)


def zeros_like(x, dtype=None):
    return np.zeros_like(_t(x), dtype=_dtype(dtype))


def ones_like(x, dtype=None):
    return np.ones_like(_t(x), dtype=_dtype(dtype))


def full_like(x, fill_value, dtype=None):
    return np.full_like(_t(x), fill_value, dtype=_dtype(dtype))


def arange(start, stop=None, step=None, dtype=None):
    return np.arange(start, stop, 1 if step is None else step, dtype=_dtype(dtype))


def eye(N, M=None, k=0, dtype=None):
    return np.eye(N, M, k, dtype=_float(dtype))


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels x to one-hot vectors along `axis` (float32 by default); a label outside
    [0, num_classes) gives a row of zeros, as in Keras."""
    if sparse:
        raise ValueError("glassnet has no sparse tensors: one_hot makes dense arrays")
    labels = _t(x)
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError("one_hot expects integer labels")
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iub":
        raise TypeError(f"one_hot expects integer labels, got dtype {labels.dtype}")
    out = (labels[..., None] == np.arange(int(num_classes))).astype(_float(dtype))
    return np.moveaxis(out, -1, axis) if axis not in (-1, out.ndim - 1) else out


# ---------------------------------------------------------------------------------------------------
# Element-wise math and comparisons
# ---------------------------------------------------------------------------------------------------


def _unary(function, doc):
    def op(x):
        return function(_t(x))
    op.__name__ = op.__qualname__ = doc.split(":")[0].strip()
    op.__doc__ = doc
    return op


def _binary(function, doc):
    def op(x1, x2):
        return function(_t(x1), _t(x2))
    op.__name__ = op.__qualname__ = doc.split(":")[0].strip()
    op.__doc__ = doc
    return op


abs = _unary(np.abs, "abs: |x|, element-wise")
absolute = _unary(np.abs, "absolute: |x|, element-wise")
negative = _unary(np.negative, "negative: -x")
square = _unary(np.square, "square: x ** 2")
sqrt = _unary(np.sqrt, "sqrt: the square root")
exp = _unary(np.exp, "exp: e ** x")
log = _unary(np.log, "log: the natural logarithm")
log1p = _unary(np.log1p, "log1p: log(1 + x), exact for small x")
expm1 = _unary(np.expm1, "expm1: e ** x - 1, exact for small x")
sign = _unary(np.sign, "sign: -1, 0 or 1")
floor = _unary(np.floor, "floor: rounded down")
ceil = _unary(np.ceil, "ceil: rounded up")
sin = _unary(np.sin, "sin")
cos = _unary(np.cos, "cos")
tanh = _unary(np.tanh, "tanh")
isnan = _unary(np.isnan, "isnan: True where x is NaN")
isfinite = _unary(np.isfinite, "isfinite: True where x is neither NaN nor infinite")
logical_not = _unary(np.logical_not, "logical_not")

add = _binary(np.add, "add: x1 + x2 (broadcast)")
subtract = _binary(np.subtract, "subtract: x1 - x2")
multiply = _binary(np.multiply, "multiply: x1 * x2")
divide = _binary(np.true_divide, "divide: x1 / x2")
true_divide = _binary(np.true_divide, "true_divide: x1 / x2")
floor_divide = _binary(np.floor_divide, "floor_divide: x1 // x2")
mod = _binary(np.mod, "mod: x1 % x2")
power = _binary(np.power, "power: x1 ** x2")
maximum = _binary(np.maximum, "maximum: the larger of x1 and x2, element-wise")
minimum = _binary(np.minimum, "minimum: the smaller of x1 and x2, element-wise")
equal = _binary(np.equal, "equal: x1 == x2")
not_equal = _binary(np.not_equal, "not_equal: x1 != x2")
greater = _binary(np.greater, "greater: x1 > x2")
greater_equal = _binary(np.greater_equal, "greater_equal: x1 >= x2")
less = _binary(np.less, "less: x1 < x2")
less_equal = _binary(np.less_equal, "less_equal: x1 <= x2")
logical_and = _binary(np.logical_and, "logical_and")
logical_or = _binary(np.logical_or, "logical_or")
matmul = _binary(np.matmul, "matmul: the matrix product x1 @ x2")
dot = _binary(np.dot, "dot: the dot product (np.dot)")


def round(x, decimals=0):
    return np.round(_t(x), decimals)


def clip(x, x_min, x_max):
    return np.clip(_t(x), x_min, x_max)


def where(condition, x1=None, x2=None):
    """x1 where condition holds, else x2; with neither, the indices where it holds (np.where)."""
    if x1 is None and x2 is None:
        return np.where(_t(condition))
    if x1 is None or x2 is None:
        raise ValueError("where takes both x1 and x2, or neither")
    return np.where(_t(condition), _t(x1), _t(x2))


# ---------------------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------------------


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def mean(x, axis=None, keepdims=False):
    a = _t(x)
    return np.mean(a if a.dtype.kind == "f" else a.astype(backend.floatx()), axis=_axis(axis), keepdims=keepdims)


def sum(x, axis=None, keepdims=False):
    return np.sum(_t(x), axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    kwargs = {} if initial is None else {"initial": initial}
    return np.max(_t(x), axis=_axis(axis), keepdims=keepdims, **kwargs)


def min(x, axis=None, keepdims=False, initial=None):
    kwargs = {} if initial is None else {"initial": initial}
    return np.min(_t(x), axis=_axis(axis), keepdims=keepdims, **kwargs)


def prod(x, axis=None, keepdims=False, dtype=None):
    return np.prod(_t(x), axis=_axis(axis), keepdims=keepdims, dtype=_dtype(dtype))


def std(x, axis=None, keepdims=False):
    return np.std(_t(x), axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    return np.var(_t(x), axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    return np.all(_t(x), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return np.any(_t(x), axis=_axis(axis), keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    return np.argmax(_t(x), axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    return np.argmin(_t(x), axis=axis, keepdims=keepdims)


def count_nonzero(x, axis=None):
    return np.count_nonzero(_t(x), axis=_axis(axis))


def cumsum(x, axis=None, dtype=None):
    return np.cumsum(_t(x), axis=axis, dtype=_dtype(dtype))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))), computed stably (the largest entry taken out first)."""
    a = _t(x)
    top = np.max(a, axis=_axis(axis), keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(a - top), axis=_axis(axis), keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=_axis(axis))


def norm(x, ord=None, axis=None, keepdims=False):
    return np.linalg.norm(_t(x), ord=ord, axis=_axis(axis), keepdims=keepdims)


# ---------------------------------------------------------------------------------------------------
# Shapes, joining, picking
# ---------------------------------------------------------------------------------------------------


def reshape(x, newshape):
    return np.reshape(_t(x), newshape)


def expand_dims(x, axis):
    return np.expand_dims(_t(x), axis)


def squeeze(x, axis=None):
    return np.squeeze(_t(x), axis=_axis(axis))


def transpose(x, axes=None):
    return np.transpose(_t(x), axes)


def broadcast_to(x, shape):
    return np.broadcast_to(_t(x), shape)


def flip(x, axis=None):
    return np.flip(_t(x), axis=axis)


def concatenate(xs, axis=0):
    return np.concatenate([_t(x) for x in xs], axis=axis)


def stack(x, axis=0):
    return np.stack([_t(a) for a in x], axis=axis)


def tile(x, repeats):
    return np.tile(_t(x), repeats)


def repeat(x, repeats, axis=None):
    return np.repeat(_t(x), repeats, axis=axis)


def take(x, indices, axis=None):
    return np.take(_t(x), _t(indices), axis=axis)


def take_along_axis(x, indices, axis=None):
    return np.take_along_axis(_t(x), _t(indices), axis=axis)


def sort(x, axis=-1):
    return np.sort(_t(x), axis=axis)


def argsort(x, axis=-1):
    return np.argsort(_t(x), axis=axis)


def top_k(x, k, sorted=True):
    """(values, indices) of the k largest entries along the last axis, largest first."""
    a = _t(x)
    k = int(k)
    if not 0 < k <= a.shape[-1]:
        raise ValueError(f"top_k needs 0 < k <= {a.shape[-1]} (the last axis), got k={k}")
    indices = np.argsort(-a, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(a, indices, axis=-1), indices


# ---------------------------------------------------------------------------------------------------
# Activations and cross-entropies (element-wise, as Keras's ops: no mean over the last axis)
# ---------------------------------------------------------------------------------------------------


def relu(x):
    return np.maximum(_t(x), 0)


def sigmoid(x):
    return activations.sigmoid(_t(x))


def softplus(x):
    a = _t(x)
    return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))


def softmax(x, axis=-1):
    return activations.softmax(_t(x), axis=axis)


def log_softmax(x, axis=-1):
    a = _t(x)
    return a - logsumexp(a, axis=axis, keepdims=True)


def binary_crossentropy(target, output, from_logits=False):
    """-(t log p + (1 - t) log(1 - p)) per entry; p clipped to [eps, 1 - eps] (eps = 1e-7)."""
    t, z = _t(target), _t(output)
    if from_logits:
        return np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    eps = backend.epsilon()
    p = np.clip(z, eps, 1 - eps)
    return -(t * np.log(p) + (1 - t) * np.log1p(-p))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum(t log p) along `axis`; probabilities are normalised and clipped as Keras does."""
    t, z = _t(target), _t(output)
    if from_logits:
        return -np.sum(t * log_softmax(z, axis=axis), axis=axis)
    eps = backend.epsilon()
    p = np.clip(z / np.sum(z, axis=axis, keepdims=True), eps, 1 - eps)
    return -np.sum(t * np.log(p), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """categorical_crossentropy against integer labels."""
    z = _t(output)
    labels = _t(target)
    if labels.ndim == z.ndim:
        labels = np.squeeze(labels, axis=axis)
    return categorical_crossentropy(one_hot(labels, z.shape[axis], axis=axis, dtype=z.dtype), z, from_logits, axis)


__all__ = [name for name, value in list(globals().items())
           if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == __name__]
