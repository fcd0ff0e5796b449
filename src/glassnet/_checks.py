"""Validation at the public boundary: check once, before any computation, and say
what was expected and what arrived."""
from __future__ import annotations

import math

import numpy as np


def positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def as_features(x, what="x"):
    """x as a numeric ndarray with a batch axis; reject objects, strings and empty data."""
    if x is None:
        raise ValueError(f"{what} is required, got None")
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except ValueError as err:          # ragged lists
            raise ValueError(f"{what} must be a rectangular array of numbers: {err}") from None
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, got an array of dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError(f"{what} must be an array with a batch axis, got a scalar")
    if x.shape[0] == 0:
        raise ValueError(f"{what} is empty: got shape {x.shape}, expected at least one sample")
    if x.dtype.kind == "f" and not all(np.isfinite(part).all() for part in row_chunks(x)):
        bad = sum(int(part.size - np.count_nonzero(np.isfinite(part))) for part in row_chunks(x))
        raise ValueError(f"{what} must be finite, got {bad} NaN or infinite value{'s' if bad != 1 else ''}")
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


def same_length(x, y, xname="x", yname="y"):
    if len(x) != len(y):
        raise ValueError(f"{xname} and {yname} must have the same number of samples, "
                         f"got {len(x)} and {len(y)}")


def label_vector(y, what="y", shape_hint=""):
    """Class labels as a 1-D array: shape (n,) or (n, 1), integers or whole floats, finite.

    The shared part of `class_labels` (a model's labels) and `metrics.as_labels` (a confusion
    matrix's); each adds its own range rule."""
    y = np.asarray(y)
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
