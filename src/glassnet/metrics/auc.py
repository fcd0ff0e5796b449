"""AUC (Keras's class): the area under the ROC or the precision-recall curve, from confusion counts at
num_thresholds thresholds.

The counts are kept at thresholds -eps, 1/(T-1), 2/(T-1), ..., 1 + eps (T = num_thresholds, 200 by
default), so the metric streams over batches in constant memory; the area is then a Riemann sum
over those T points, which is why it approximates the exact, sort-based area (scikit-learn's
roc_auc_score) to within the resolution of the thresholds.

    curve="ROC"   x = false-positive rate, y = recall (true-positive rate)
    curve="PR"    x = recall, y = precision; summation_method="interpolation" (default) interpolates
                  the true and false positives between two thresholds and integrates precision along
                  that path exactly (Davis & Goadrich 2006), as Keras does
    summation_method: "interpolation" (the trapezoidal rule for ROC), "minoring" (the lower of the two
                  heights), "majoring" (the higher)

multi_label=True keeps the counts per column of (n, labels) predictions and averages the per-label
areas (weighted by label_weights); otherwise every prediction is one decision of one curve.
from_logits=True applies a sigmoid to y_pred first.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .. import activations
from .. import backend
from .._registry import register
from .base import Metric, Scalar
from .confusion import confusion_counts, divide_no_nan, evenly_spaced

CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
SUMMATIONS = ("interpolation", "minoring", "majoring")
#: the most thresholds an AUC keeps (4 float64 counts each: 32 MB), far past where the area stops changing
MAX_THRESHOLDS = 1_000_000


@register("metric")
class AUC(Metric):
    """Area under the ROC (default) or PR curve, approximated over num_thresholds thresholds."""

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        curve_key = curve.lower() if isinstance(curve, str) else None
        if curve_key not in CURVES:
            raise ValueError(f"AUC curve must be 'ROC', 'PR' or 'PRGAIN', got {curve!r}")
        method = summation_method.lower() if isinstance(summation_method, str) else None
        if method not in SUMMATIONS:
            raise ValueError(f"AUC summation_method must be one of {list(SUMMATIONS)}, got {summation_method!r}")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            if len(thresholds) > MAX_THRESHOLDS:
                raise ValueError(f"AUC takes at most {MAX_THRESHOLDS:,} thresholds, got {len(thresholds):,}")
            inner = sorted(_checks.fraction(t, "AUC threshold", closed=True) for t in thresholds)
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_spaced([0.0] + inner + [1.0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                    or not 1 < num_thresholds <= MAX_THRESHOLDS:
                raise ValueError(f"AUC num_thresholds must be an integer > 1 and <= {MAX_THRESHOLDS:,} (it keeps four "
                                 f"counts per threshold), got {num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - backend.epsilon()] + inner + [1.0 + backend.epsilon()])
        self.curve = CURVES[curve_key]
        self.summation_method = method
        super().__init__(name=name, dtype=dtype)
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else \
            _checks.numbers(label_weights, "AUC label_weights").astype(np.float64).reshape(-1)
        self._from_logits = bool(from_logits)
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build(_checks.positive_int(num_labels, "AUC num_labels"))
        else:
            if num_labels:
                raise ValueError("AUC num_labels is only for multi_label=True")
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds the counts are kept at, -epsilon and 1 + epsilon at the ends."""
        return list(self._thresholds)

    def _build(self, labels):
        shape = (self.num_thresholds,) if labels is None else (self.num_thresholds, labels)
        self._num_labels = labels
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.true_negatives = self.add_variable(shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _checks.numbers(y_pred, "y_pred")
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError(f"AUC(multi_label=True) needs y_pred of shape (n, labels), got {y_pred.shape}")
            if not self._built:
                self._build(y_pred.shape[1])
            elif y_pred.shape[1] != self._num_labels:
                raise ValueError(f"this AUC counts {self._num_labels} labels, got y_pred with {y_pred.shape[1]}")
        if self._from_logits:
            y_pred = activations.sigmoid(y_pred.astype(self.dtype))
        counts = confusion_counts(y_true, y_pred, self._thresholds, dtype=self.dtype, sample_weight=sample_weight,
                                  evenly=self._evenly, multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights, what="AUC")
        self.true_positives.value[...] += counts["tp"]
        self.false_positives.value[...] += counts["fp"]
        self.true_negatives.value[...] += counts["tn"]
        self.false_negatives.value[...] += counts["fn"]

    def reset_state(self):
        if self._built:
            super().reset_state()

    def result(self):
        if not self._built:
            return Scalar(0.0)
        tp, fp = np.asarray(self.true_positives), np.asarray(self.false_positives)
        tn, fn = np.asarray(self.true_negatives), np.asarray(self.false_negatives)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._average(_interpolated_pr_areas(tp, fp, fn))
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:                                       # PRGAIN: precision and recall gains (Flach & Kull 2015)
            scale = divide_no_nan(tp + fn, tn + fp)
            x = np.where(tp == 0, 0.0, np.maximum(1.0 - scale * divide_no_nan(fn, tp), 0.0))
            y = np.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average(np.sum((x[:-1] - x[1:]) * heights, axis=0))

    def _average(self, areas):
        """One area, or (multi_label) the mean of the per-label areas, weighted by label_weights."""
        if not self.multi_label:
            return Scalar(areas)
        if self.label_weights is None:
            return Scalar(np.mean(areas))
        return Scalar(divide_no_nan(np.sum(areas * self.label_weights), np.sum(self.label_weights)))

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config


def _interpolated_pr_areas(tp, fp, fn):
    """The PR area with TP and FP interpolated linearly between neighbouring thresholds: on each
    interval precision = slope + intercept / P (P = TP + FP), which integrates over recall in closed
    form (slope * (dTP + intercept * log(P_i / P_i+1)) / positives)."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
    return np.sum(divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)), axis=0)
