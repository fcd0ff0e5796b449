"""The error metrics (Keras's classes): mean squared, mean absolute, root mean squared and mean
absolute percentage error, over every batch since reset_state, weighted by sample_weight when given."""
from __future__ import annotations

import numpy as np

from .._registry import register
from . import functions
from .accuracy import _Aligned
from .base import Mean, Scalar, same_rank
from .. import _checks


class _Error(_Aligned):
    _direction = "down"


@register("metric")
class MeanSquaredError(_Error):
    """The mean of (y_pred - y_true)^2."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(functions.mean_squared_error, name=name, dtype=dtype)


@register("metric")
class MeanAbsoluteError(_Error):
    """The mean of |y_pred - y_true|."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(functions.mean_absolute_error, name=name, dtype=dtype)


@register("metric")
class MeanAbsolutePercentageError(_Error):
    """100 times the mean of |y_true - y_pred| / max(|y_true|, epsilon)."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(functions.mean_absolute_percentage_error, name=name, dtype=dtype)


@register("metric")
class RootMeanSquaredError(Mean):
    """sqrt of the mean of (y_pred - y_true)^2: the square root is taken of the mean over every batch,
    not averaged batch by batch."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(_checks.numbers(y_true, "y_true").astype(np.float64),
                                   _checks.numbers(y_pred, "y_pred").astype(np.float64))
        if y_true.shape != y_pred.shape:
            raise ValueError(f"RootMeanSquaredError expects y_true and y_pred of the same shape, got "
                             f"{y_true.shape} and {y_pred.shape}")
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self):
        return Scalar(np.sqrt(super().result()))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
