"""Metrics: per-sample scores that a model averages over an epoch (Keras names).

`compile(metrics=["accuracy"])` picks the right accuracy for the loss:
sparse_categorical_accuracy for integer labels, categorical_accuracy for
one-hot targets, binary_accuracy for sigmoid outputs.  History keys keep the
name the user wrote ("accuracy", "acc", "mae", ...).
"""
from __future__ import annotations

import numpy as np

from . import _registry
from . import _checks


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label, else 0.0."""
    y_true = np.asarray(y_true).reshape(-1)
    return (np.argmax(y_pred, axis=-1) == y_true).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true) (one-hot targets)."""
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over output units of (y_pred > threshold) == y_true."""
    y_pred = np.asarray(y_pred)
    return np.mean((y_pred > threshold) == (np.asarray(y_true) > 0.5), axis=-1).astype(np.float64)


def mean_squared_error(y_true, y_pred):
    return np.mean(np.square(np.asarray(y_pred) - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_pred) - y_true), axis=-1)


_FUNCTIONS = {
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
}
_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}


def names() -> list[str]:
    return ["accuracy", "acc"] + sorted(_FUNCTIONS) + sorted(_ALIASES)


def name_of(metric) -> str:
    """The History key of a metric: its name as written, or a function's __name__."""
    if isinstance(metric, str):
        return metric
    return getattr(metric, "__name__", None) or type(metric).__name__


def get(name, loss=None, output_units=None):
    """The metric function for `name`; "accuracy" is resolved from the loss and output width."""
    if callable(name):
        return name
    if not isinstance(name, str):
        raise TypeError(f"a metric must be a name (str) or a function, got {type(name).__name__}")
    key = name.lower()
    if key in ("accuracy", "acc"):
        loss_name = getattr(loss, "name", None)
        if loss_name == "sparse_categorical_crossentropy":
            return sparse_categorical_accuracy
        if loss_name == "binary_crossentropy" or output_units == 1:
            return binary_accuracy
        return categorical_accuracy
    return _FUNCTIONS[_registry.find(name, _FUNCTIONS, "metric", aliases=_ALIASES, known=names())]


# ----------------------------------------------------------------------------
# Confusion matrix (glassnet evaluate prints it, glassnet.plot draws it)
# ----------------------------------------------------------------------------

def as_labels(y, what="y"):
    """Class labels as an int64 array (n,): integers (or whole floats, booleans); one-hot rows or
    class probabilities (n, k) with k > 1 are turned into labels with argmax."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1 and y.dtype.kind in "biuf":
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(f"{what} must be finite, got NaN or infinite values")
        return y.argmax(axis=1).astype(np.int64)
    y = _checks.label_vector(y, what, " or one-hot rows (shape (n, k))").astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"{what} holds negative labels ({int(y.min())}); class labels are 0, 1, ...")
    return y


def confusion_matrix(y_true, y_pred, num_classes=None):
    """counts[i, j]: the number of samples of true class i predicted as class j (int64, k x k).

    Labels are integers 0, 1, ... (one-hot rows or probabilities (n, k) are turned into labels
    with argmax).  `num_classes` defaults to the largest label + 1; labels outside it are an error.
    The diagonal's sum divided by the total is the accuracy.
    """
    t = as_labels(y_true, "y_true")
    p = as_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true and y_pred must have the same number of samples, got {len(t)} and {len(p)}")
    largest = int(max(t.max(initial=-1), p.max(initial=-1)))
    if num_classes is None:
        k = largest + 1
    else:
        k = _checks.positive_int(num_classes, "num_classes")
        if largest >= k:
            which = "y_true" if t.max(initial=-1) >= k else "y_pred"
            raise ValueError(f"{which} holds label {largest}, outside the {k} classes 0..{k - 1}")
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts
