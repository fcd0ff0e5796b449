"""Per-sample weights (Keras's `sample_weight` and `class_weight`), checked once at the public boundary.

    model.fit(x, y, sample_weight=w)               # one weight per sample
    model.fit(x, y, class_weight={0: 1.0, 1: 9.0}) # a weight per class, read off each sample's label
    model.evaluate(x, y, sample_weight=w)

With weights w the loss of a batch of n samples is Keras's "sum over batch size" reduction,
sum(w_i * l_i) / n (not divided by the sum of the weights), and its gradient is exact: the step
(models/step.py) starts the backward pass from w_i (p_i - t_i) / n on the fused softmax/sigmoid +
cross-entropy path, or from dL/dy with row i times w_i.  The epoch's loss is the mean of the batch
losses weighted by batch size, sum(w_i * l_i) / N, as Keras's loss tracker gives it.  Metrics stay
unweighted, as Keras's `metrics=` are (its `weighted_metrics` are the weighted ones).

class_weight turns into sample weights from the labels as Keras does: integer labels as they are,
one-hot rows by their argmax, a single column (binary targets) rounded; a class missing from the
dict weighs 1.  A model with several outputs takes sample_weight as one array (the same weights for
every output), a list in output order or a dict keyed by output name (None: that output unweighted);
class_weight is for one output only, as in Keras.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import _checks
from .batches import Several


def sample_weights(model, sample_weight, class_weight, y, n, what="sample_weight"):
    """The weights for checked targets y of n samples: None (no weights: the unweighted code runs),
    an array (n,) in the model's float type, or with several outputs a Several of them."""
    one_of(sample_weight, class_weight)
    several = getattr(model, "_heads", None) is not None
    if class_weight is not None:
        if several:
            raise ValueError(f"class_weight is supported for models with one output; this model has "
                             f"{len(model._heads)}: pass sample_weight per output instead")
        return class_to_sample_weights(y, class_weight, model.dtype)
    if sample_weight is None:
        return None
    if not several:
        return _vector(sample_weight, n, model.dtype, what)
    names = [h.name for h in model._heads]
    if isinstance(sample_weight, dict):
        unknown = sorted(set(map(str, sample_weight)) - set(names))
        if unknown:
            raise ValueError(f"{what} is keyed by output name; the outputs are {names}, got unknown keys {unknown}")
        parts = [sample_weight.get(name) for name in names]
    elif isinstance(sample_weight, (list, tuple)) and len(sample_weight) == len(names) and \
            not all(isinstance(v, numbers.Number) for v in sample_weight):
        parts = list(sample_weight)
    else:
        parts = [sample_weight] * len(names)          # one array: every output, as Keras
    arrays = [None if part is None or y.arrays[k] is None else _vector(part, n, model.dtype, f"{what}[{names[k]!r}]")
              for k, part in enumerate(parts)]
    return None if all(a is None for a in arrays) else Several(arrays)


def one_of(sample_weight, class_weight):
    """Keras takes sample_weight or class_weight, not both."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError("pass either sample_weight or class_weight, not both (Keras takes one of them): "
                         "fold the class weights into sample_weight if you need both")


def _vector(weights, n, dtype, what):
    """One finite weight per sample: shape (n,) or (n, 1) -> an array (n,) of `dtype`."""
    if isinstance(weights, (str, bytes, dict)):
        raise TypeError(f"{what} must be an array of one weight per sample (shape ({n},)), got a "
                        f"{type(weights).__name__}")
    w = _checks.from_pandas(weights, what)
    try:
        w = np.asarray(w)
    except ValueError:
        raise ValueError(f"{what} must be an array of one weight per sample (shape ({n},)), got a ragged "
                         f"{type(weights).__name__}") from None
    if w.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold numbers, got an array of dtype {w.dtype}")
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ValueError(f"{what} must hold one weight per sample, shape ({n},) or ({n}, 1), got shape {w.shape}")
    if w.dtype.kind == "f" and not np.isfinite(w).all():
        raise ValueError(f"{what} must be finite, got {int(w.size - np.count_nonzero(np.isfinite(w)))} NaN or "
                         f"infinite weights")
    return _checks.cast(w, dtype, what)


def class_to_sample_weights(y, class_weight, dtype):
    """Keras's conversion of class_weight into sample weights for checked targets y (one output)."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict mapping class indices to weights, such as {{0: 1.0, 1: 5.0}}, "
                        f"got {type(class_weight).__name__}")
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or key < 0:
            raise ValueError(f"class_weight keys must be class indices (integers >= 0), got {key!r}")
        _checks.finite_number(value, f"class_weight[{key}]")
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = labels.argmax(axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    if labels.ndim != 1:
        raise ValueError(f"class_weight needs one class per sample; the targets have shape {np.shape(y)}")
    labels = np.round(labels).astype(np.int64) if labels.dtype.kind == "f" else labels.astype(np.int64)
    w = np.ones(len(labels), dtype=dtype)
    for key, value in class_weight.items():
        w[labels == key] = value
    return w
