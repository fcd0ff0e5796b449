"""Helpers to prepare data: one-hot labels, train/validation splits, scaling.

    y_onehot = to_categorical(y_train, num_classes=10)              # Keras's keras.utils.to_categorical
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=0.2, stratify=True, seed=0)
    x01 = normalize(x_train)                                        # uint8 pixels -> float32 in [0, 1]
    z_train, mean, std = standardize(x_train)                       # mean 0, std 1 per feature
    z_test, _, _ = standardize(x_test, mean, std)                   # the training statistics, reused

Inputs are checked once, before any computation, and errors say what was
expected and what arrived.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _checks
from ..backend import make_rng, standardize_dtype

__all__ = ["to_categorical", "train_test_split", "normalize", "standardize"]


def _as_array(x, what):
    if x is None:
        raise ValueError(f"{what} is required, got None")
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, got an array of dtype {x.dtype}")
    return x


#: The most classes to_categorical encodes (given as num_classes or inferred as max(y) + 1).  Its output
#: is also bounded by glassnet.backend.MAX_ARRAY_SIZE numbers.  Raise it with
#: ``glassnet.datasets.utils.MAX_CLASSES = ...``.
MAX_CLASSES = 2**20


def _as_labels(y, what="y"):
    """y as an int64 array of class indices: non-negative integers (floats holding whole numbers are
    accepted, as in Keras), none above MAX_CLASSES - 1, checked before the cast so that 1e300 or
    3e16 are refused rather than overflowing."""
    y = _as_array(y, what)
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError(f"{what} must hold class indices, got NaN or infinite values")
        if not np.array_equal(y, np.round(y)):
            bad = y[y != np.round(y)].flat[0]
            raise ValueError(f"{what} must hold whole class indices, got {bad!r}")
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.size:
        lo, hi = y.min().item(), y.max().item()          # Python numbers: float16's 2**20 would overflow
        if lo < 0:
            raise ValueError(f"{what} must hold class indices >= 0, got {lo!r}")
        if hi >= MAX_CLASSES:
            raise ValueError(f"{what} holds the class index {hi!r}, beyond the limit of {MAX_CLASSES:,} "
                             f"classes (glassnet.datasets.utils.MAX_CLASSES; set it higher for more classes)")
    return y.astype(np.int64)


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode class indices, as keras.utils.to_categorical.

    y: integer class indices of any shape (a trailing axis of length 1 is dropped,
    as in Keras); num_classes: defaults to max(y) + 1.  Returns an array of shape
    y.shape + (num_classes,) and the given dtype, with a 1 at each label's index.
    """
    y = _as_labels(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if num_classes is None:
        if y.size == 0:
            raise ValueError("to_categorical: y is empty; pass num_classes to encode an empty array")
        num_classes = int(y.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes <= 0:
        raise ValueError(f"to_categorical: num_classes must be a positive integer, got {num_classes!r}")
    num_classes = int(num_classes)
    if num_classes > MAX_CLASSES:
        raise ValueError(f"to_categorical: num_classes={num_classes:,} is beyond the limit of {MAX_CLASSES:,} "
                         f"classes (glassnet.datasets.utils.MAX_CLASSES; set it higher for more classes)")
    _checks.array_size(y.shape + (num_classes,), "to_categorical's output")
    if y.size and int(y.max()) >= num_classes:
        raise ValueError(f"to_categorical: label {int(y.max())} is outside the class range 0..{num_classes - 1} "
                         f"(num_classes={num_classes})")
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out


def _test_count(test_size, n):
    """How many of n samples go to the test part (scikit-learn's rule: ceil for a fraction)."""
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float, np.integer, np.floating)):
        raise ValueError(f"test_size must be a fraction in (0, 1) or a sample count, got {test_size!r}")
    if isinstance(test_size, (float, np.floating)):
        if not 0 < test_size < 1:
            raise ValueError(f"test_size as a fraction must lie strictly between 0 and 1, got {test_size!r}")
        n_test = math.ceil(test_size * n)
    else:
        n_test = int(test_size)
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"test_size={test_size!r} leaves {n_test} of {n} samples for the test part and "
                         f"{n - n_test} for training; both need at least one")
    return n_test


def _allocate(counts, n_test):
    """Per-class test counts proportional to `counts`, summing to n_test (largest remainders)."""
    n = counts.sum()
    exact = counts * (n_test / n)
    alloc = np.floor(exact).astype(np.int64)
    short = n_test - int(alloc.sum())
    if short > 0:
        order = np.argsort(-(exact - alloc), kind="stable")     # largest remainder first; ties: lower class
        alloc[order[:short]] += 1
    return alloc


def train_test_split(x, y, test_size=0.2, shuffle=True, stratify=False, seed=None):
    """Split (x, y) into x_train, x_test, y_train, y_test, as scikit-learn's train_test_split.

    test_size: a fraction in (0, 1) (the test part gets ceil(test_size * n)
    samples) or a number of samples.  shuffle=False keeps the order and takes
    the last samples for the test part, as Keras's validation_split does.
    stratify=True (or an array of labels to stratify by) keeps each class's
    share the same in both parts (to within one sample per class); with
    shuffle=False the last samples of each class go to the test part.
    seed: an integer for a repeatable split; None draws from glassnet's global
    generator (repeatable after gn.set_random_seed).
    """
    x = _as_array(x, "x")
    y = np.asarray(y) if y is not None else None
    if y is None:
        raise ValueError("y is required, got None")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"x and y must have a sample axis, got shapes {x.shape} and {y.shape}")
    n = len(x)
    if len(y) != n:
        raise ValueError(f"x and y must have the same number of samples, got {n} and {len(y)}")
    if n < 2:
        raise ValueError(f"train_test_split needs at least 2 samples, got {n}")
    n_test = _test_count(test_size, n)
    rng = make_rng(seed) if shuffle else None

    if stratify is False or stratify is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        train_idx, test_idx = order[:n - n_test], order[n - n_test:]
    else:
        labels = y if stratify is True else np.asarray(stratify)
        if len(labels) != n:
            raise ValueError(f"stratify labels must have one entry per sample: got {len(labels)} for {n} samples")
        if labels.ndim != 1:
            if labels.ndim == 2 and labels.shape[1] > 1:             # one-hot rows
                labels = labels.argmax(axis=1)
            elif labels.size == n:
                labels = labels.reshape(n)
            else:
                raise ValueError(f"stratify labels must be one label per sample, shape ({n},), or one-hot rows "
                                 f"({n}, classes), got shape {labels.shape}")
        try:
            classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        except TypeError as err:
            raise TypeError(f"stratify labels must be numbers or strings that can be sorted, got values that "
                            f"cannot ({err})") from None
        if counts.min() < 2:
            small = classes[counts.argmin()].item()
            raise ValueError(f"stratified split needs at least 2 samples per class; class {small!r} has "
                             f"{counts.min()}")
        if n_test < len(classes) or n - n_test < len(classes):
            raise ValueError(f"stratified split of {n} samples into {n - n_test} train and {n_test} test needs "
                             f"at least {len(classes)} (one per class) in each part; change test_size")
        alloc = _allocate(counts, n_test)
        train_parts, test_parts = [], []
        for c in range(len(classes)):
            members = np.flatnonzero(inverse == c)
            if shuffle:
                members = rng.permutation(members)
                test_parts.append(members[:alloc[c]])
                train_parts.append(members[alloc[c]:])
            else:
                test_parts.append(members[len(members) - alloc[c]:])
                train_parts.append(members[:len(members) - alloc[c]])
        train_idx, test_idx = np.concatenate(train_parts), np.concatenate(test_parts)
        if shuffle:
            train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)
        else:
            train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    return x[train_idx], x[test_idx], y[train_idx], y[test_idx]


def normalize(x, max_value=None, dtype="float32"):
    """Scale pixel-like values from [0, max_value] to [0, 1], as x / 255 does for uint8 images.

    max_value defaults to the largest value of an unsigned integer dtype (255
    for uint8); give it for other arrays (e.g. max_value=255.0 for float
    pixels).  Returns a new array of `dtype` ("float32" or "float64").

    This is pixel scaling, not keras.utils.normalize (which divides each row by
    its L2 norm).
    """
    x = _as_array(x, "x")
    dtype = standardize_dtype(dtype)
    if max_value is None:
        if x.dtype.kind == "u":
            max_value = np.iinfo(x.dtype).max
        elif x.dtype.kind == "b":
            max_value = 1
        else:
            raise ValueError(f"normalize: pass max_value= for an array of dtype {x.dtype} (e.g. max_value=255.0 "
                             f"for pixel values); only unsigned integer arrays have a natural maximum")
    if isinstance(max_value, bool) or not isinstance(max_value, (int, float, np.integer, np.floating)) \
            or not _finite(max_value) or max_value <= 0:
        raise ValueError(f"normalize: max_value must be a positive number, got {max_value!r}")
    with np.errstate(all="ignore"):
        as_dtype = np.asarray(float(max_value), dtype=dtype)
    if not (np.isfinite(as_dtype) and as_dtype > 0):                   # 1e300 or 1e-300 as float32
        raise ValueError(f"normalize: max_value={max_value!r} is beyond the range of {dtype}; use dtype='float64'")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("normalize: x must be finite, got NaN or infinite values")
    if x.size and not (x.dtype.kind == "u" and max_value >= np.iinfo(x.dtype).max):
        lo, hi = x.min(), x.max()
        if lo < 0 or hi > max_value:
            raise ValueError(f"normalize: x must lie in [0, {max_value}], got values in [{lo}, {hi}]")
    out = x.astype(dtype)
    out /= as_dtype
    return out


def _finite(value):
    """math.isfinite that says False (not OverflowError) for an int beyond the float range (10**400)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def standardize(x, mean=None, std=None, axis=0, dtype=None):
    """Shift and scale x to mean 0 and standard deviation 1; return (z, mean, std).

    Without mean and std they are computed from x along `axis` (0: one value per
    feature, as scikit-learn's StandardScaler; None: one value for the whole
    array); a feature whose std is 0 is divided by 1 instead.  Pass the returned
    mean and std to standardize validation and test data with the training
    statistics.  dtype: the result's float type (default: x's own float type,
    float32 for integer input).
    """
    x = _as_array(x, "x")
    if dtype is None:
        dtype = x.dtype.name if x.dtype.name in ("float32", "float64") else "float32"
    dtype = standardize_dtype(dtype)
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("standardize: x must be finite, got NaN or infinite values")
    if (mean is None) != (std is None):
        raise ValueError("standardize: pass both mean and std (the statistics of the training data) or neither")
    if mean is None:
        if x.size == 0:
            raise ValueError(f"standardize: x is empty (shape {x.shape}); there is nothing to compute statistics from")
        work = x.astype(np.float64)
        try:                          # on x / max|x|: the square neither overflows (1e200) nor underflows (5e-324)
            scale = np.abs(work).max(axis=axis, keepdims=True)
            scale[scale == 0] = 1
            mean = (work / scale).mean(axis=axis, keepdims=True)
            std = (work / scale).std(axis=axis, keepdims=True)
        except (np.exceptions.AxisError, TypeError) as err:
            raise ValueError(f"standardize: bad axis {axis!r} for x of shape {x.shape} ({err})") from None
        std[std <= 10 * np.finfo(np.float64).eps * np.abs(mean)] = 0     # constant up to rounding: 0.1 three times
        mean, std = mean * scale, std * scale
        with np.errstate(over="ignore"):
            if not (np.isfinite(mean.astype(dtype)).all() and np.isfinite(std.astype(dtype)).all()):
                raise ValueError(f"standardize: the mean or std of x is beyond the range of {dtype}; use dtype='float64'")
        if axis is None:
            mean, std = mean.reshape(()), std.reshape(())
        elif axis == 0:                                  # one value per feature, shaped like a sample
            mean, std = mean[0], std[0]
        mean, std = mean.astype(dtype), std.astype(dtype)
        std = np.where(std == 0, np.asarray(1, dtype), std)      # a constant feature is only shifted
    else:
        mean, std = np.asarray(mean, dtype=dtype), np.asarray(std, dtype=dtype)
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            raise ValueError("standardize: mean and std must be finite")
        if (std <= 0).any():
            raise ValueError(f"standardize: std must be positive, got a minimum of {std.min()}")
        try:
            fits = np.broadcast_shapes(mean.shape, std.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"standardize: mean {mean.shape} and std {std.shape} do not fit x of shape "
                             f"{x.shape}")
    out = x.astype(dtype)
    out -= mean
    out /= std
    return out, mean, std
