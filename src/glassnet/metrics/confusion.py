"""Confusion counts at thresholds, and the metrics built on them (Keras's classes):

    TruePositives, FalsePositives, TrueNegatives, FalseNegatives   (thresholds=0.5)
    Precision = TP / (TP + FP),  Recall = TP / (TP + FN)            (thresholds, top_k, class_id)

A prediction counts as positive at threshold t when y_pred > t; a target is positive when it is not
0.  With several thresholds the result has one value per threshold.  Every prediction is a separate
decision: (n, k) predictions against (n, k) targets count n * k of them (multi-label), unless
class_id picks one column or top_k keeps only each row's k highest scores as positive.

The counting (`confusion_counts`) is shared with AUC.  It compares in the metric's dtype (float32
by default, as Keras), so predictions at a threshold fall on the same side as in Keras; with 3 or
more evenly spaced thresholds it puts each prediction in its bucket once instead of comparing it
with every threshold, as Keras does.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .. import backend
from .._registry import register
from .base import Metric, Scalar, same_rank

#: the threshold under which top_k's discarded scores are pushed (Keras's NEG_INF)
NEG_INF = -1e10


def thresholds_list(thresholds, default, what):
    """Thresholds as a list of floats, each in [0, 1]; None gives [default]."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    if not values:
        raise ValueError(f"{what} thresholds must hold at least one number in [0, 1], got {thresholds!r}")
    return [_checks.fraction(t, f"{what} threshold", closed=True) for t in values]


def evenly_spaced(thresholds) -> bool:
    """Are these (3 or more) thresholds 0, 1/(T-1), ..., 1 (Keras's test, to within epsilon)?"""
    t = len(thresholds)
    return t >= 3 and bool(np.allclose(thresholds, np.arange(t, dtype=np.float32) / (t - 1), atol=backend.epsilon()))


def _keep_top_k(y_pred, k):
    """y_pred with all but each row's k highest scores replaced by NEG_INF."""
    k = min(k, y_pred.shape[-1])
    top = np.argpartition(-y_pred, k - 1, axis=-1)[..., :k]
    mask = np.zeros(y_pred.shape, dtype=bool)
    np.put_along_axis(mask, top, True, axis=-1)
    return np.where(mask, y_pred, np.asarray(NEG_INF, dtype=y_pred.dtype))


def confusion_counts(y_true, y_pred, thresholds, *, dtype="float32", sample_weight=None, top_k=None, class_id=None,
                     evenly=False, multi_label=False, label_weights=None, what="metric"):
    """{"tp", "fp", "tn", "fn"}: float64 counts, one per threshold (with multi_label: (T, labels)).

    y_true, y_pred: targets (0 = negative, anything else positive) and scores; when their ranks
    differ by one, a last axis of length 1 is squeezed or added (labels (n,) against an output (n, 1)).
    sample_weight: one weight per sample (or per prediction).  label_weights: one per column.
    """
    y_pred = _checks.numbers(y_pred, "y_pred").astype(dtype, copy=False)
    y_true = _checks.numbers(y_true, "y_true")
    y_pred, y_true = same_rank(y_pred, y_true)
    weights = None
    if sample_weight is not None:
        weights = _checks.numbers(sample_weight, "sample_weight").astype(np.float64)[..., None]
        _, weights = same_rank(y_true, weights, expand_rank_1=False)
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2 or class_id >= y_pred.shape[-1]:
            raise ValueError(f"{what} with class_id={class_id} needs y_pred of shape (n, classes) with more than "
                             f"{class_id} classes, got shape {y_pred.shape}")
        y_pred, y_true = y_pred[..., class_id, None], y_true[..., class_id, None]
        if weights is not None and weights.ndim == y_pred.ndim and weights.shape[-1] > 1:
            weights = weights[..., class_id, None]
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{what} compares y_true and y_pred element by element: they must have the same shape, "
                         f"got y_true {y_true.shape} and y_pred {y_pred.shape}" +
                         ("; for integer labels against class scores pass one-hot targets (or use class_id "
                          "with one-hot targets)" if y_true.ndim == 1 and y_pred.ndim == 2 else ""))
    if weights is not None:
        try:
            weights = np.broadcast_to(weights, y_pred.shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} does not fit predictions of "
                             f"shape {y_pred.shape}: give one weight per sample") from None
    if label_weights is not None and not multi_label:
        lw = np.broadcast_to(np.asarray(label_weights, np.float64), y_pred.shape)
        weights = lw if weights is None else weights * lw
    positive = y_true != 0
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if multi_label:
        columns = y_pred.shape[-1]
        y_pred, positive = y_pred.reshape(-1, columns), positive.reshape(-1, columns)
        weights = None if weights is None else weights.reshape(-1, columns)
    else:
        y_pred, positive = y_pred.reshape(-1), positive.reshape(-1)
        weights = None if weights is None else weights.reshape(-1)
    w = np.ones(y_pred.shape) if weights is None else weights
    pos_w = np.where(positive, w, 0.0)
    neg_w = np.where(positive, 0.0, w)
    if evenly:
        tp, fp = _bucketed(y_pred, pos_w, neg_w, thresholds, multi_label)
    else:
        above = y_pred[None] > thresholds.astype(y_pred.dtype).reshape((-1,) + (1,) * y_pred.ndim)
        tp = np.sum(above * pos_w, axis=1)
        fp = np.sum(above * neg_w, axis=1)
    total_pos, total_neg = pos_w.sum(axis=0), neg_w.sum(axis=0)
    return {"tp": tp, "fp": fp, "tn": total_neg - fp, "fn": total_pos - tp}


def _bucketed(y_pred, pos_w, neg_w, thresholds, multi_label):
    """TP and FP at evenly spaced thresholds in one pass: each prediction p goes to bucket
    ceil(p (T - 1)) - 1 (computed in p's dtype, as Keras), and the count at threshold i is the sum
    of the buckets from i up."""
    t = len(thresholds)
    p = np.clip(y_pred, 0, 1)
    bucket = np.ceil(p * np.asarray(t - 1, dtype=p.dtype)) - 1
    if thresholds[0] < 0 or thresholds[-1] > 1:          # AUC's thresholds reach past 0 and 1 by epsilon
        bucket = np.maximum(bucket, 0)
    bucket = bucket.astype(np.intp)
    valid = bucket >= 0                                   # p = 0 is above none of 0, 1/(T-1), ..., 1
    if multi_label:
        columns = p.shape[1]
        index = (bucket * columns + np.arange(columns))[valid]
        tp_b = np.bincount(index, weights=pos_w[valid], minlength=t * columns).reshape(t, columns)
        fp_b = np.bincount(index, weights=neg_w[valid], minlength=t * columns).reshape(t, columns)
    else:
        tp_b = np.bincount(bucket[valid], weights=pos_w[valid], minlength=t)
        fp_b = np.bincount(bucket[valid], weights=neg_w[valid], minlength=t)
    return np.cumsum(tp_b[::-1], axis=0)[::-1], np.cumsum(fp_b[::-1], axis=0)[::-1]


def divide_no_nan(a, b):
    """a / b, and 0 where b is 0."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _one_or_all(values, thresholds):
    return Scalar(values[0]) if len(thresholds) == 1 else np.array(values, dtype=np.float64)


# ----------------------------------------------------------------------------
# The four counts
# ----------------------------------------------------------------------------

class _Count(Metric):
    _counts = ()           # which of "tp", "fp", "tn", "fn"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = thresholds_list(thresholds, 0.5, type(self).__name__)
        self._evenly = evenly_spaced(self.thresholds)
        self.accumulator = self.add_variable((len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, dtype=self.dtype, sample_weight=sample_weight,
                                  evenly=self._evenly, what=type(self).__name__)
        self.accumulator.value[...] += counts[self._counts]

    def result(self):
        return _one_or_all(self.accumulator, self.thresholds)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


@register("metric")
class TruePositives(_Count):
    """The (weighted) number of positive targets predicted positive (y_pred > threshold)."""
    _counts = "tp"
    _direction = "up"


@register("metric")
class FalsePositives(_Count):
    """The (weighted) number of negative targets predicted positive."""
    _counts = "fp"
    _direction = "down"


@register("metric")
class TrueNegatives(_Count):
    """The (weighted) number of negative targets predicted negative."""
    _counts = "tn"
    _direction = "up"


@register("metric")
class FalseNegatives(_Count):
    """The (weighted) number of positive targets predicted negative."""
    _counts = "fn"
    _direction = "down"


# ----------------------------------------------------------------------------
# Precision and recall
# ----------------------------------------------------------------------------

class _PrecisionRecall(Metric):
    _direction = "up"
    _other = ""            # "fp" for precision, "fn" for recall

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        what = type(self).__name__
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else _checks.positive_int(top_k, f"{what} top_k")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer))
                                     or class_id < 0):
            raise ValueError(f"{what} class_id must be an integer >= 0 (a column of y_pred) or None, got {class_id!r}")
        self.class_id = None if class_id is None else int(class_id)
        self.thresholds = thresholds_list(thresholds, 0.5 if top_k is None else NEG_INF, what)
        self._evenly = evenly_spaced(self.thresholds)
        size = (len(self.thresholds),)
        self.true_positives = self.add_variable(size, name="true_positives")
        self._second = self.add_variable(size, name={"fp": "false_positives", "fn": "false_negatives"}[self._other])

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, dtype=self.dtype, sample_weight=sample_weight,
                                  top_k=self.top_k, class_id=self.class_id, evenly=self._evenly,
                                  what=type(self).__name__)
        self.true_positives.value[...] += counts["tp"]
        self._second.value[...] += counts[self._other]

    def result(self):
        tp = np.asarray(self.true_positives)
        return _one_or_all(divide_no_nan(tp, tp + self._second), self.thresholds)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


@register("metric")
class Precision(_PrecisionRecall):
    """TP / (TP + FP): of the predictions called positive (y_pred > threshold), the share that are.

    thresholds: one (default 0.5) or several (then result() has one value per threshold).
    top_k: only each row's k highest scores can be positive.  class_id: score one column only.
    0 when nothing was predicted positive."""
    _other = "fp"

    @property
    def false_positives(self):
        return self._second


@register("metric")
class Recall(_PrecisionRecall):
    """TP / (TP + FN): of the positive targets, the share predicted positive (arguments as Precision);
    0 when there was no positive target."""
    _other = "fn"

    @property
    def false_negatives(self):
        return self._second
