"""The accuracy metrics (Keras's classes): the mean, over samples, of how often the prediction is right.

    Accuracy                        y_pred == y_true, element by element
    BinaryAccuracy(threshold=0.5)   (y_pred > threshold) == y_true, averaged over output units
    CategoricalAccuracy             argmax(y_pred) == argmax(y_true)      (one-hot targets)
    SparseCategoricalAccuracy       argmax(y_pred) == y_true              (integer labels)
    TopKCategoricalAccuracy(k=5)    the target's class among the k highest scores (one-hot targets)
    SparseTopKCategoricalAccuracy   the same for integer labels

Each averages over every batch since reset_state, weighted by sample_weight when given.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._registry import register
from . import functions
from .base import MeanMetricWrapper, same_rank


def accuracy(y_true, y_pred):
    """1.0 where y_pred equals y_true, element by element (Keras's Accuracy)."""
    y_pred = np.asarray(y_pred)
    y_true, y_pred = same_rank(np.asarray(y_true, dtype=y_pred.dtype), y_pred)
    return (y_true == y_pred).astype(np.float64)


class _Aligned(MeanMetricWrapper):
    """A mean of a per-sample function, with y_true and y_pred brought to the same rank first (as
    Keras's functions do: labels (n,) against one output (n, 1))."""

    _direction = "up"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _checks.numbers(y_true, "y_true"), _checks.numbers(y_pred, "y_pred")
        if y_true.ndim == 0 or y_pred.ndim == 0:
            raise ValueError(f"{type(self).__name__} expects arrays with a batch axis, got y_true of shape "
                             f"{y_true.shape} and y_pred of shape {y_pred.shape}")
        y_true, y_pred = same_rank(y_true, y_pred)
        if y_true.ndim == y_pred.ndim == 1:        # one value per sample: a column, so that the functions'
            y_true, y_pred = y_true[:, None], y_pred[:, None]    # mean over the last axis is per sample
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@register("metric")
class Accuracy(_Aligned):
    """How often y_pred equals y_true exactly (for predicted labels; for probabilities use the
    accuracy that fits the targets, or metrics=["accuracy"])."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


@register("metric")
class BinaryAccuracy(_Aligned):
    """How often (y_pred > threshold) matches the 0/1 target, averaged over output units."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        self.threshold = _checks.finite_number(threshold, "BinaryAccuracy threshold")
        super().__init__(functions.binary_accuracy, name=name, dtype=dtype, threshold=self.threshold)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


@register("metric")
class CategoricalAccuracy(_Aligned):
    """How often argmax(y_pred) equals argmax(y_true) (one-hot targets)."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(functions.categorical_accuracy, name=name, dtype=dtype)


@register("metric")
class SparseCategoricalAccuracy(_Aligned):
    """How often argmax(y_pred) equals the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(functions.sparse_categorical_accuracy, name=name, dtype=dtype)


@register("metric")
class TopKCategoricalAccuracy(_Aligned):
    """How often the one-hot target's class is among the k highest scores."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = _checks.positive_int(k, "TopKCategoricalAccuracy k")
        super().__init__(functions.top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


@register("metric")
class SparseTopKCategoricalAccuracy(_Aligned):
    """How often the integer label is among the k highest scores (from_sorted_ids: y_pred holds class
    ids, best first, as a retrieval model gives them)."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        self.k = _checks.positive_int(k, "SparseTopKCategoricalAccuracy k")
        self.from_sorted_ids = bool(from_sorted_ids)
        super().__init__(functions.sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k,
                         from_sorted_ids=self.from_sorted_ids)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
