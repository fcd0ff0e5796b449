"""Metric functions: one score per sample (Keras names, arguments and order (y_true, y_pred)).

A model averages them over an epoch: `compile(metrics=["accuracy", "mae"])` sums the per-sample
scores batch by batch and divides by the number of samples.  The metric classes (Accuracy,
MeanSquaredError, ...) average the same functions, with sample weights, across update_state calls.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .. import losses


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


def _in_top_k(labels, y_pred, k):
    """1.0 where the label's score is among the k largest of its row (ties count as in, as Keras)."""
    y_pred = np.asarray(y_pred)
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    labels = np.asarray(labels).reshape(-1).astype(np.intp)
    k = min(int(k), y_pred.shape[-1])
    if k < 1:
        return np.zeros(len(labels))
    kth = -np.partition(-y_pred, k - 1, axis=-1)[:, k - 1]           # the k-th largest score per row
    return (np.take_along_axis(y_pred, labels[:, None], axis=-1)[:, 0] >= kth).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the k highest scores of y_pred."""
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k highest scores of y_pred (from_sorted_ids: y_pred
    already holds class ids, best first)."""
    if from_sorted_ids:
        ids = np.asarray(y_pred)[:, :k]
        return np.any(ids == np.asarray(y_true).reshape(-1, 1), axis=1).astype(np.float64)
    return _in_top_k(y_true, y_pred, k)


def mean_squared_error(y_true, y_pred):
    return np.mean(np.square(np.asarray(y_pred) - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_pred) - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, epsilon)) over the last axis (Keras's guard)."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    return 100.0 * np.mean(np.abs(y_true - y_pred) / np.maximum(np.abs(y_true), backend.epsilon()), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Binary cross-entropy per sample (mean over output units); label_smoothing moves the targets
    towards 0.5: t (1 - s) + s / 2."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    if y_true.shape != y_pred.shape and y_true.size == y_pred.size:
        y_true = y_true.reshape(y_pred.shape)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return losses.binary_crossentropy(y_true, y_pred, from_logits=from_logits)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(t log p) per sample; probabilities are first divided by their sum (as Keras), then
    clipped; label_smoothing spreads s of the target evenly over the k classes."""
    _last_axis(axis)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    if not from_logits:
        y_pred = y_pred / np.sum(y_pred, axis=-1, keepdims=True)
    return losses.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label] per sample for integer labels; probabilities are first divided by their sum
    (as Keras).  ignore_class: samples with that label score 0 (the metric classes leave them out)."""
    _last_axis(axis)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    labels = np.asarray(y_true).reshape(-1)
    ignored = None
    if ignore_class is not None:
        ignored = labels == ignore_class
        labels = np.where(ignored, 0, labels)
    if not from_logits:
        y_pred = y_pred / np.sum(y_pred, axis=-1, keepdims=True)
    values = losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits)
    if ignored is not None:
        values = np.where(ignored, 0.0, values)
    return values


def _last_axis(axis):
    if axis not in (-1,):
        raise ValueError(f"glassnet's cross-entropy metrics work along the last axis (axis=-1), got axis={axis!r}")


#: the functions `compile(metrics=[...])` may name, by their Keras names
FUNCTIONS = {
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}
ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "mape": "mean_absolute_percentage_error",
           "bce": "binary_crossentropy"}
