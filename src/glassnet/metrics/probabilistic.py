"""The cross-entropies as metrics (Keras's classes): the mean loss over every batch since
reset_state, weighted by sample_weight when given.  They read probabilities, or logits with
from_logits=True; label_smoothing and ignore_class work as in Keras's losses."""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._registry import register
from . import functions
from .accuracy import _Aligned
from .base import MeanMetricWrapper


class _Crossentropy(_Aligned):
    _direction = "down"


@register("metric")
class BinaryCrossentropy(_Crossentropy):
    """The binary cross-entropy of 0/1 targets (mean over output units)."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = _checks.fraction(label_smoothing, "label_smoothing", closed=True)
        super().__init__(functions.binary_crossentropy, name=name, dtype=dtype, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


@register("metric")
class CategoricalCrossentropy(_Crossentropy):
    """The cross-entropy of one-hot (or distribution) targets."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        self.from_logits = bool(from_logits)
        self.label_smoothing = _checks.fraction(label_smoothing, "label_smoothing", closed=True)
        functions._last_axis(axis)
        self.axis = axis
        super().__init__(functions.categorical_crossentropy, name=name, dtype=dtype, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


@register("metric")
class SparseCategoricalCrossentropy(_Crossentropy):
    """The cross-entropy of integer labels; samples labelled ignore_class are left out of the mean."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None,
                 axis=-1):
        self.from_logits = bool(from_logits)
        if ignore_class is not None and (isinstance(ignore_class, bool) or not isinstance(ignore_class, (int, np.integer))):
            raise TypeError(f"ignore_class must be an integer class label or None, got {ignore_class!r}")
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        functions._last_axis(axis)
        self.axis = axis
        super().__init__(functions.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=self.from_logits, ignore_class=self.ignore_class)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.ignore_class is None:
            return super().update_state(y_true, y_pred, sample_weight)
        y_true = _checks.numbers(y_true, "y_true")
        kept = (y_true.reshape(len(y_true), -1)[:, 0] != self.ignore_class).astype(np.float64)
        weights = kept if sample_weight is None else kept * np.asarray(sample_weight, np.float64).reshape(len(kept))
        MeanMetricWrapper.update_state(self, y_true, y_pred, weights)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}
