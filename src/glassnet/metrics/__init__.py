"""Metrics (Keras's keras.metrics): what a model reports beside its loss.

Three forms, as in Keras:

- functions (functions.py): one score per sample, `gn.metrics.sparse_categorical_accuracy(y, p)`;
- classes with state (base.py and one file per family): `update_state(y_true, y_pred,
  sample_weight=None)` adds a batch, `result()` reads the value over every batch since
  `reset_state()`; accuracy.py, regression.py (errors), probabilistic.py (cross-entropies),
  confusion.py (TruePositives, ..., Precision, Recall), auc.py (AUC), f_score.py (F1Score);
- names for `compile(metrics=[...])`: "accuracy" (or "acc"), picked for the loss
  (sparse_categorical_accuracy for integer labels, categorical_accuracy for one-hot targets,
  binary_accuracy for sigmoid outputs); a function's name ("mae", "top_k_categorical_accuracy");
  a class's name ("precision", "auc", "root_mean_squared_error").

In compile, names and functions are averaged per sample over the epoch; metric objects are updated
batch by batch and reset each epoch and for each evaluation.  History keys are the names as
written, or a metric object's `name` ("precision", "auc"); a repeated name gets _1, _2, ...
confusion_matrix.py counts (true class, predicted class) pairs for `glassnet evaluate` and the plots.
"""
from __future__ import annotations

from .. import _registry
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy)
from .auc import AUC
from .base import Mean, MeanMetricWrapper, Metric, Scalar, Sum, snake_case
from .confusion import FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .confusion_matrix import as_labels, confusion_matrix
from .f_score import F1Score, FBetaScore
from .functions import (ALIASES as _ALIASES, FUNCTIONS as _FUNCTIONS, binary_accuracy, binary_crossentropy,
                        categorical_accuracy, categorical_crossentropy, mean_absolute_error,
                        mean_absolute_percentage_error, mean_squared_error, sparse_categorical_accuracy,
                        sparse_categorical_crossentropy, sparse_top_k_categorical_accuracy,
                        top_k_categorical_accuracy)
from .probabilistic import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .regression import MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, RootMeanSquaredError

#: the metric classes by class name ("Precision") and by its snake case ("precision", "f_beta_score"), as Keras
_CLASS_NAMES = {name: cls for name, cls in _registry.classes("metric").items() if cls is not MeanMetricWrapper}
_CLASSES = {snake_case(name): cls for name, cls in _CLASS_NAMES.items()}
#: "f1score" (any case) and a default name that differs from the snake case ("fbeta_score")
_CLASS_ALIASES = {alias: key for key, cls in _CLASSES.items()
                  for alias in {cls.__name__.lower(), cls().name} if alias != key}


def names() -> list[str]:
    """Every name compile(metrics=[...]) accepts: the accuracy shortcut, functions, aliases, classes."""
    return ["accuracy", "acc"] + sorted(_FUNCTIONS) + sorted(_ALIASES) + \
        sorted(n for n in _CLASSES if n not in _FUNCTIONS and n != "accuracy")


def name_of(metric) -> str:
    """The History key of a metric: its name as written, a Metric's name, or a function's __name__."""
    if isinstance(metric, str):
        return metric
    if isinstance(metric, Metric):
        return metric.name
    return getattr(metric, "__name__", None) or type(metric).__name__


def get(name, loss=None, output_units=None):
    """The metric for `name`: a function for "accuracy" (resolved from the loss and output width) and for a
    function's name or alias; a new Metric for a class's name ("precision", "AUC"), a Metric class or a
    {"class_name", "config"} dict; a Metric or a function passes through."""
    if isinstance(name, Metric):
        return name
    if isinstance(name, type) and issubclass(name, Metric):
        return name()
    if isinstance(name, dict):
        return deserialize(name)
    if callable(name):
        return name
    if not isinstance(name, str):
        raise TypeError(f"a metric must be a name (str), a function or a Metric, got {type(name).__name__}")
    key = name.lower()
    if key in ("accuracy", "acc"):
        loss_name = getattr(loss, "name", None)
        if loss_name == "sparse_categorical_crossentropy":
            return sparse_categorical_accuracy
        if loss_name == "binary_crossentropy" or output_units == 1:
            return binary_accuracy
        return categorical_accuracy
    if name in _CLASS_NAMES:                      # "Precision", "AUC", "BinaryCrossentropy": the class
        return _CLASS_NAMES[name]()
    key = _ALIASES.get(key, key)
    if key in _FUNCTIONS:
        return _FUNCTIONS[key]
    key = _registry.find(name, _CLASSES, "metric", aliases=_CLASS_ALIASES, known=names())
    return _CLASSES[key]()


_UP = {sparse_categorical_accuracy, categorical_accuracy, binary_accuracy, top_k_categorical_accuracy,
       sparse_top_k_categorical_accuracy}


def direction(metric):
    """"up" when a larger value is better (accuracies, precision, recall, AUC, F1), "down" when smaller is
    (errors, cross-entropies), None when unknown (a function of your own): what a callback's mode="auto"
    reads, as Keras reads a metric's direction.  `metric`: a Metric, one of glassnet's functions, or a name."""
    if isinstance(metric, str):
        try:
            metric = get(metric)
        except (TypeError, ValueError):
            return None
    if isinstance(metric, Metric):
        return type(metric)._direction
    if metric in _UP:
        return "up"
    return "down" if any(metric is fn for fn in _FUNCTIONS.values()) else None


def serialize(metric) -> dict | str:
    """A Metric as {"class_name", "config"}; a name or one of glassnet's functions as its name."""
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    if isinstance(metric, str):
        return metric
    for known, fn in _FUNCTIONS.items():
        if fn is metric:
            return known
    raise ValueError(f"the metric {name_of(metric)!r} is a function of your own: it has no config to save")


def deserialize(config, custom_objects=None):
    """The metric a serialize() result describes (custom_objects: {class name: class} of your own)."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise TypeError(f"a metric config must be a name or a {{'class_name', 'config'}} dict, got {config!r:.80}")
    table = dict(_CLASS_NAMES)
    table.update(custom_objects or {})
    return _registry.from_spec(config, "metric", table)


__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Scalar",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError",
    "MeanAbsolutePercentageError", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC",
    "FBetaScore", "F1Score",
    "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "get", "names", "name_of", "direction", "serialize", "deserialize", "as_labels", "confusion_matrix",
]
