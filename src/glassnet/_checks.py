"""Validation at the public boundary: check once, before any computation, and say
what was expected and what arrived."""
from __future__ import annotations

import math

import numpy as np

from . import backend


def positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def array_size(shape, what):
    """Refuse an array of `shape` bigger than backend.MAX_ARRAY_SIZE numbers, before it is allocated."""
    size = math.prod(int(d) for d in shape)
    if size > backend.MAX_ARRAY_SIZE:
        raise ValueError(f"{what} would hold {size:,} numbers (shape {tuple(int(d) for d in shape)}), more than "
                         f"glassnet.backend.MAX_ARRAY_SIZE = {backend.MAX_ARRAY_SIZE:,}; set "
                         f"glassnet.backend.MAX_ARRAY_SIZE higher if the machine has the memory")
    return size


_EXPECTED = "a NumPy array of numbers, a list of lists of numbers, or a pandas DataFrame or Series"


def from_pandas(x, what="x"):
    """A pandas DataFrame or Series as a NumPy array (anything else is returned as it is).

    pandas is optional and never imported: it is recognised by its methods (duck typing)."""
    if not (hasattr(x, "to_numpy") and hasattr(x, "iloc")):
        return x
    frame = hasattr(x, "columns")
    dtypes = list(x.dtypes.items()) if frame else [(x.name, x.dtype)]
    bad = [(str(c), str(d)) for c, d in dtypes if getattr(d, "kind", "O") not in "fiub"]
    if bad:
        got = f"a DataFrame with non-numeric columns {dict(bad[:5])}" if frame else f"a Series of dtype {bad[0][1]}"
        raise TypeError(f"{what} must hold numbers, got {got}; encode them as numbers (or drop them) first")
    a = x.to_numpy()
    if a.dtype.kind == "O":                       # pandas' nullable dtypes (Int64, Float64, boolean)
        a = x.to_numpy(dtype=np.float64, na_value=np.nan)
    return a


def _ragged(x):
    """'rows of lengths 2 and 3' for a ragged nested list, or ''."""
    if isinstance(x, (list, tuple)) and x:
        lengths = [len(row) if isinstance(row, (list, tuple, np.ndarray)) else None for row in x]
        first = lengths[0]
        other = next((n for n in lengths[1:] if n != first), first)
        if other != first:
            show = lambda n: "a number" if n is None else f"length {n}"   # noqa: E731
            return f"a ragged list (rows of {show(first)} and {show(other)})"
    return ""


def _non_numeric(x):
    """A description of what a non-numeric array holds: 'strings such as 'a''."""
    if x.dtype.kind in "US":
        sample = x.reshape(-1)[0] if x.size else ""
        return f"strings such as {str(sample)!r}"
    if x.dtype.kind == "O":
        flat = x.reshape(-1)
        bad = next((v for v in flat if not isinstance(v, (int, float, np.number)) or isinstance(v, bool)), None)
        return "no values" if not flat.size else f"values such as {bad!r} ({type(bad).__name__})"
    return f"values of dtype {x.dtype}"


def as_features(x, what="x"):
    """x as a numeric ndarray with a batch axis; reject objects, strings and empty data.

    A pandas DataFrame or Series becomes its NumPy array (from_pandas)."""
    if x is None:
        raise ValueError(f"{what} is required, got None")
    if isinstance(x, (str, bytes, dict, set)):
        raise TypeError(f"{what} must be {_EXPECTED}, got a {type(x).__name__}"
                        + (f" {x[:20]!r}" if isinstance(x, (str, bytes)) else ""))
    if not isinstance(x, np.ndarray):
        x = from_pandas(x, what)
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except ValueError as err:          # ragged lists
            got = _ragged(x) or f"{type(x).__name__} that NumPy cannot make rectangular ({err})"
            raise ValueError(f"{what} must be a rectangular array of numbers (every sample of the same shape), "
                             f"got {got}") from None
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, got an array of dtype {x.dtype} holding {_non_numeric(x)}; "
                        f"expected {_EXPECTED}")
    if x.ndim == 0:
        raise ValueError(f"{what} must be an array with a batch axis, got a scalar")
    if x.shape[0] == 0:
        raise ValueError(f"{what} is empty: got shape {x.shape}, expected at least one sample")
    if x.dtype.kind == "f" and not all(np.isfinite(part).all() for part in row_chunks(x)):
        bad = sum(int(part.size - np.count_nonzero(np.isfinite(part))) for part in row_chunks(x))
        raise ValueError(f"{what} must be finite, got {bad} NaN or infinite value{'s' if bad != 1 else ''}")
    return x


def one_feature(x, feature_shape):
    """A 1-D x of n numbers for a model whose samples are one number (feature shape (1,)): shape (n, 1),
    as Keras accepts it.  Anything else is returned as it is."""
    if x.ndim == 1 and feature_shape is not None and tuple(feature_shape) == (1,):
        return x.reshape(-1, 1)
    return x


def row_chunks(x, elements=1 << 20):
    """x in slices of whole rows, about `elements` numbers each: a scan of a large (or memory-mapped)
    array then needs temporaries of one slice, not of the whole array."""
    rows = max(1, elements // max(1, x[0].size)) if x.ndim > 1 and len(x) else max(1, elements)
    for start in range(0, len(x), rows):
        yield x[start:start + rows]


def check_castable(x, dtype, what="x"):
    """Raise if a float x holds values too large for `dtype` (1e300 -> float32 inf); nothing is converted.

    fit, evaluate and predict convert one batch at a time; this scan (one slice at a time) makes
    sure that no batch will meet such a value halfway through.
    """
    dtype = np.dtype(dtype)
    if x.dtype.kind != "f" or dtype.itemsize >= x.dtype.itemsize:
        return
    limit = np.finfo(dtype).max
    for part in row_chunks(x):
        if part.size and np.abs(part).max() > limit:
            raise ValueError(f"{what} holds values too large for {dtype.name} (|value| > {limit:.3g}), "
                             f"such as {part[np.abs(part) > limit].flat[0]!r}; rescale the data or use float64")


def cast(x, dtype, what="x"):
    """x in the model's float type; a value too large for it (1e300 -> float32 inf) is an error."""
    if x.dtype == dtype:
        return x
    check_castable(x, dtype, what)
    return x.astype(dtype)


def check_width(x, feature_shape, layer, what="x"):
    """Does each sample of x have the shape the first layer expects?"""
    if tuple(x.shape[1:]) == tuple(feature_shape):
        return
    kind = type(layer).__name__
    if x.ndim == 1 and tuple(x.shape) == tuple(feature_shape):
        raise ValueError(f"{kind} expects a batch of shape (n, {', '.join(map(str, feature_shape))}), got one sample "
                         f"of shape {x.shape}; for a single sample pass {what}.reshape(1, -1)")
    if len(feature_shape) == 1 and x.ndim == 2:
        raise ValueError(f"{kind} expects {feature_shape[0]} features per sample, got {x.shape[1]} "
                         f"({what} has shape {x.shape})")
    raise ValueError(f"{kind} expects samples of shape {tuple(feature_shape)}, got {tuple(x.shape[1:])} "
                     f"({what} has shape {x.shape})")


def numbers(value, what):
    """An array (or scalar) of numbers, finite where float: a metric's y_true, y_pred, values, weights."""
    try:
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
    except ValueError as err:              # ragged lists
        raise ValueError(f"{what} must be a rectangular array of numbers: {err}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, got {type(value).__name__} of dtype {array.dtype}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{what} must be finite, got NaN or infinite values")
    return array


def same_length(x, y, xname="x", yname="y"):
    if len(x) != len(y):
        raise ValueError(f"{xname} and {yname} must have the same number of samples, "
                         f"got {len(x)} and {len(y)}")


def label_vector(y, what="y", shape_hint=""):
    """Class labels as a 1-D array: shape (n,) or (n, 1), integers or whole floats, finite.

    The shared part of `class_labels` (a model's labels) and `metrics.as_labels` (a confusion
    matrix's); each adds its own range rule."""
    if y is None:
        raise ValueError(f"{what} is required, got None")
    y = np.asarray(from_pandas(y, what))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{what} must hold one integer class label per sample (shape (n,)), got shape "
                         f"{y.shape}{shape_hint}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError(f"{what} must be finite, got NaN or infinite labels")
        if np.any(y != np.round(y)):
            raise ValueError(f"{what} must hold integer class labels (whole numbers 0, 1, ...), got fractional "
                             f"values such as {y[y != np.round(y)][0]!r}")
    elif y.dtype.kind not in "iub":
        raise TypeError(f"{what} must hold integer class labels, got dtype {y.dtype}")
    return y


def sparse_output(output_shape, y, loss_name, what="y"):
    """Integer labels (one per sample) need an output of shape (n, classes): refuse (n, 4, 10) and the like."""
    out = tuple(output_shape)
    if len(out) != 1:
        raise ValueError(
            f"{loss_name} takes one integer label per sample for a model whose output has shape "
            f"(n, classes); this model's output has shape (n, {', '.join(map(str, out))}) "
            f"and {what} has shape {np.shape(y)} (Dense acts on the last axis of its input); "
            f"add a Flatten layer before the Dense layers, or give inputs of shape (n, features)")


def class_labels(y, n_classes, what="y"):
    """Integer labels in [0, n_classes), shape (n,) or (n, 1) -> intp array (n,)."""
    y = label_vector(y, what, "; for one-hot targets use loss='categorical_crossentropy'")
    if y.size:
        lo, hi = y.min(), y.max()
        if lo < 0 or hi >= n_classes:
            raise ValueError(f"{what} labels must lie in [0, {n_classes - 1}] for a model with {n_classes} outputs, "
                             f"got values from {lo:g} to {hi:g}")
    return y.astype(np.intp)


def targets(y, output_shape, dtype, what="y", unit_interval=False):
    """Dense targets of the model's output shape (a 1-D y is accepted for one output unit)."""
    y = as_features(y, what)
    expected = tuple(output_shape)
    if y.ndim == 1 and expected == (1,):
        y = y.reshape(-1, 1)
    if tuple(y.shape[1:]) != expected:
        hint = ""
        if y.ndim == 1 and len(expected) == 1 and expected[0] > 1:
            hint = "; for integer labels use loss='sparse_categorical_crossentropy'"
        raise ValueError(f"{what} must have shape (n, {', '.join(map(str, expected))}) to match the model's output, "
                         f"got {y.shape}{hint}")
    if unit_interval and (y.min() < 0 or y.max() > 1):
        raise ValueError(f"{what} must lie in [0, 1] for binary cross-entropy, got values from "
                         f"{y.min():g} to {y.max():g}")
    return cast(y, dtype, what)


def seed(value):
    """None or a non-negative integer (as an int)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {value!r}")
    return int(value)


def batch_size(value, default=32):
    if value is None:
        return default
    return positive_int(value, "batch_size")


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def fraction(value, what, closed=False):
    """A number in [0, 1) (closed=True: [0, 1]) as a float."""
    if not _is_number(value) or not (0 <= value <= 1 if closed else 0 <= value < 1):
        raise ValueError(f"{what} must be a number in {'[0, 1]' if closed else '[0, 1)'}, got {value!r}")
    return float(value)


def finite_number(value, what, lower=None, allow_lower=False):
    """A finite number as a float; with `lower`, one > lower (allow_lower: >= lower)."""
    if not _is_number(value) or not math.isfinite(value) or (
            lower is not None and (value < lower if allow_lower else value <= lower)):
        bound = "" if lower is None else f" {'>=' if allow_lower else '>'} {lower:g}"
        raise ValueError(f"{what} must be a finite number{bound}, got {value!r}")
    return float(value)


def positive_number(value, what, allow_zero=False):
    """A finite number > 0 (allow_zero: >= 0) as a float."""
    return finite_number(value, what, lower=0, allow_lower=allow_zero)


def non_negative_int(value, what):
    """An integer >= 0 (a bool is not one) as an int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be an integer >= 0, got {value!r}")
    return int(value)
