"""The F-scores (Keras's classes): FBetaScore and F1Score, per class or averaged.

    F_beta = (1 + beta^2) P R / (beta^2 P + R)        P: precision, R: recall (F1: beta = 1)

Inputs are (n, classes): one-hot (or multi-hot) targets against scores.  With threshold=None a
row's highest score is its one predicted class; with a threshold every score above it is a
positive.  average: None (one score per class), "micro" (counts pooled over classes), "macro"
(the plain mean of the class scores), "weighted" (their mean weighted by each class's number of
positive targets).  As Keras, epsilon (1e-7) keeps the divisions finite.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .. import backend
from .._registry import register
from .base import Metric, Scalar

AVERAGES = (None, "micro", "macro", "weighted")


@register("metric")
class FBetaScore(Metric):
    """The F-beta score of (n, classes) predictions (see the module's doc)."""

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        what = type(self).__name__
        if average not in AVERAGES:
            raise ValueError(f"{what} average must be one of {list(AVERAGES)}, got {average!r}")
        self.average = average
        self.beta = _checks.positive_number(beta, f"{what} beta")
        if threshold is not None:
            threshold = _checks.finite_number(threshold, f"{what} threshold", lower=0)
            if threshold > 1:
                raise ValueError(f"{what} threshold must lie in (0, 1], got {threshold!r}")
        self.threshold = threshold
        self._built = False

    def _build(self, classes):
        shape = () if self.average == "micro" else (classes,)
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, name="intermediate_weights")
        self._classes = classes
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        what = type(self).__name__
        y_pred = _checks.numbers(y_pred, "y_pred").astype(self.dtype)
        y_true = _checks.numbers(y_true, "y_true").astype(np.float64)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{what} expects y_true and y_pred of the same shape (n, classes) (one-hot targets), "
                             f"got y_true {y_true.shape} and y_pred {y_pred.shape}")
        if not self._built:
            self._build(y_pred.shape[1])
        elif y_pred.shape[1] != self._classes:
            raise ValueError(f"this {what} scores {self._classes} classes, got y_pred with {y_pred.shape[1]}")
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        w = None
        if sample_weight is not None:
            w = _checks.numbers(sample_weight, "sample_weight").astype(np.float64).reshape(-1, 1)
            if len(w) != len(y_pred):
                raise ValueError(f"sample_weight must hold one weight per sample ({len(y_pred)}), got {len(w)}")
        axis = None if self.average == "micro" else 0

        def total(values):
            return np.sum(values if w is None else values * w, axis=axis)

        self.true_positives.value[...] += total(predicted * y_true)
        self.false_positives.value[...] += total(predicted * (1 - y_true))
        self.false_negatives.value[...] += total((1 - predicted) * y_true)
        self.intermediate_weights.value[...] += total(y_true)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def result(self):
        if not self._built:
            return Scalar(0.0)
        eps = backend.epsilon()
        tp = np.asarray(self.true_positives)
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        b2 = self.beta ** 2
        score = (1 + b2) * (precision * recall) / (b2 * precision + recall + eps)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + eps)
            return Scalar(np.sum(score * weights))
        if self.average is not None:
            return Scalar(np.mean(score))
        return np.asarray(score, dtype=np.float64)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


@register("metric")
class F1Score(FBetaScore):
    """The F1 score: the harmonic mean of precision and recall (FBetaScore with beta = 1)."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
