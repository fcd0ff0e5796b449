"""The confusion matrix of class labels (the counts `glassnet evaluate` prints and glassnet.plot draws)."""
from __future__ import annotations

import numpy as np

from .. import _checks


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
