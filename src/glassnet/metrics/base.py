"""The Metric base class (Keras's), and the metrics that average: Mean, Sum, MeanMetricWrapper.

A metric keeps a state that `update_state(y_true, y_pred, sample_weight=None)` adds each batch to,
`result()` reads, and `reset_state()` zeroes.  Every state variable is a sum (of matches, squared
errors, weights, confusion counts), so the result over several batches is the result over their
concatenation, whatever the batch sizes:

    m = gn.metrics.Precision()
    m.update_state([0, 1, 1], [0.2, 0.9, 0.4])
    m.update_state([1, 0], [0.8, 0.7])
    m.result()                     # 2 / 3: two true positives among three predicted positives
    m.reset_state()

A metric of your own subclasses Metric as in Keras: create its state with `add_variable` (or
`add_weight`) in `__init__`, add to it in `update_state`, read it in `result`.
"""
from __future__ import annotations

import re

import numpy as np

from .. import _checks
from .. import backend
from .._registry import register
from . import functions


class Scalar(float):
    """A metric's result: a Python float (it prints, formats and compares as one) with Keras's .numpy()."""

    def numpy(self):
        return np.float64(self)


class StateVariable(np.ndarray):
    """A metric's state variable (what `add_variable` returns): a float64 array with Keras's variable
    methods assign, assign_add, numpy and value.  Arithmetic on it gives plain NumPy arrays."""

    name = ""

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if return_scalar:
            return array[()]
        return array.view(np.ndarray)

    @property
    def value(self):
        return self.view(np.ndarray)

    def numpy(self):
        return np.array(self.view(np.ndarray), copy=True)

    def assign(self, value):
        value = np.asarray(value, dtype=np.float64)
        try:
            self.view(np.ndarray)[...] = np.broadcast_to(value, self.shape)
        except ValueError:
            raise ValueError(f"the metric variable {self.name!r} has shape {self.shape}; assign got shape "
                             f"{value.shape}") from None
        return self

    def assign_add(self, delta):
        return self.assign(self.view(np.ndarray) + np.asarray(delta, dtype=np.float64))

    def assign_sub(self, delta):
        return self.assign(self.view(np.ndarray) - np.asarray(delta, dtype=np.float64))


def snake_case(name: str) -> str:
    """Keras's default metric name for a class: "TopKCategoricalAccuracy" -> "top_k_categorical_accuracy",
    "AUC" -> "auc", "F1Score" -> "f1_score"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Metric:
    """Base class of the metric classes: a name, a dtype, state variables, update_state, result,
    reset_state, get_config/from_config (Keras's API).

    name: the metric's name, its key in a History (default: the class's name in snake case; within
    one compile a repeated name gets _1, _2, ... as Keras does; no counter is kept across models, so
    a script always gets the same keys).  dtype: the float type predictions are compared and
    thresholded in, "float32" by default as in Keras (the sums themselves are kept in float64).
    """

    #: "up" when larger is better (accuracies, precision, AUC), "down" when smaller is (errors, losses)
    _direction = None

    def __init__(self, dtype=None, name=None):
        if name is None:
            name = snake_case(type(self).__name__)
        if not isinstance(name, str) or not name:
            raise TypeError(f"a metric's name must be a non-empty str, got {name!r}")
        self.name = name
        self._dtype = backend.standardize_dtype(dtype)
        self._variables = []

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        """The state variables, in the order they were added."""
        return list(self._variables)

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A new state variable (zeros, or ones with initializer="ones") that reset_state zeroes."""
        if not hasattr(self, "_variables"):
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() before add_variable")
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape or ())
        fill = {"zeros": 0.0, "ones": 1.0}.get(initializer if isinstance(initializer, str) else
                                                getattr(type(initializer), "__name__", "").lower(), None)
        if fill is None:
            raise ValueError(f"a metric variable starts at 'zeros' or 'ones', got initializer={initializer!r}")
        variable = np.full(shape, fill, dtype=np.float64).view(StateVariable)
        variable.name = name or f"variable_{len(self._variables)}"
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None):
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    def reset_state(self):
        """Zero every state variable (fit and evaluate call this at the start of each epoch and run)."""
        for v in self._variables:
            v.value[...] = 0.0

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define update_state")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must define result")

    def __call__(self, *args, **kwargs):
        """update_state(...) then result(), as Keras's metric(y_true, y_pred)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


# ----------------------------------------------------------------------------
# Shapes and weights, as Keras aligns them
# ----------------------------------------------------------------------------

def same_rank(a, b, expand_rank_1=True):
    """Keras's squeeze_or_expand_to_same_rank: when the ranks differ by one and the longer array's
    last axis has length 1, squeeze it (or, for a rank-1 partner and expand_rank_1, expand that)."""
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        if b.ndim == 1 and expand_rank_1:
            b = b[..., None]
        else:
            a = a[..., 0]
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        if a.ndim == 1 and expand_rank_1:
            a = a[..., None]
        else:
            b = b[..., 0]
    return a, b


def sample_weights(sample_weight):
    """sample_weight as float64 numbers (checked: finite)."""
    return _checks.numbers(sample_weight, "sample_weight").astype(np.float64, copy=False)


def per_sample(values, sample_weight=None, reduce=np.mean):
    """Keras's reduction of a metric's values to one (weighted) value per sample: (values, weights or None).

    Without weights, the values are averaged (`reduce`d) over every axis after the first.  With weights,
    values and weights are first brought to the same rank (same_rank), values reduced over the axes the
    weights lack, multiplied by the weights, and both reduced over the remaining axes after the first.
    """
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sw = sample_weights(sample_weight)
        values, sw = same_rank(values, sw)
        if values.ndim > sw.ndim:
            values = reduce(values, axis=tuple(range(sw.ndim, values.ndim)))
        try:
            sw = np.broadcast_to(sw, values.shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} does not fit values of shape "
                             f"{values.shape}: give one weight per sample") from None
        values = values * sw
        if sw.ndim > 1:
            sw = reduce(sw, axis=tuple(range(1, sw.ndim)))
    else:
        sw = None
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, sw


# ----------------------------------------------------------------------------
# Averages
# ----------------------------------------------------------------------------

@register("metric")
class Sum(Metric):
    """The (weighted) sum of the values given to update_state(values, sample_weight=None)."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = per_sample(_checks.numbers(values, "values"), sample_weight, reduce=np.sum)
        self.total.value[...] += float(np.sum(values))

    def result(self):
        return Scalar(self.total)


@register("metric")
class Mean(Metric):
    """The (weighted) mean of the values given to update_state(values, sample_weight=None): a value
    per sample (averaged over its other axes), weighted; over every batch seen since reset_state."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        values, sw = per_sample(_checks.numbers(values, "values"), sample_weight)
        self.total.value[...] += float(np.sum(values))
        self.count.value[...] += float(np.sum(sw)) if sw is not None else values.shape[0] if values.ndim else 1

    def result(self):
        count = float(self.count)
        return Scalar(float(self.total) / count if count else 0.0)


@register("metric")
class MeanMetricWrapper(Mean):
    """The mean of fn(y_true, y_pred, **kwargs), a function giving one value per sample (or per
    element): Keras's wrapper, and the base of the accuracies, errors and cross-entropies."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper needs a function fn(y_true, y_pred), got {type(fn).__name__}")
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper", dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _checks.numbers(y_pred, "y_pred")
        y_true = _checks.numbers(y_true, "y_true")
        if y_true.ndim and y_pred.ndim and len(y_true) != len(y_pred):
            raise ValueError(f"y_true and y_pred must have the same number of samples, got {len(y_true)} "
                             f"and {len(y_pred)}")
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        Mean.update_state(self, values, sample_weight)

    def get_config(self):
        """name, dtype, the function by name (one of glassnet's, or a name custom_objects gives back) and
        its keyword arguments; the metric classes built on this one give Keras's own configs instead."""
        fn = next((key for key, f in functions.FUNCTIONS.items() if f is self._fn), None)
        return {"name": self.name, "dtype": self.dtype, "fn": fn or getattr(self._fn, "__name__", repr(self._fn)),
                **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = config.pop("fn", None)
        if cls is MeanMetricWrapper:
            if isinstance(fn, str) and fn in functions.FUNCTIONS:
                fn = functions.FUNCTIONS[fn]
            if not callable(fn):
                raise ValueError(f"MeanMetricWrapper's function {fn!r} is not one of glassnet's metric functions; "
                                 f"rebuild it with MeanMetricWrapper(your_function, ...)")
            return cls(fn, **config)
        return cls(**config)
