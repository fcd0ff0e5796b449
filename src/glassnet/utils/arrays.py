"""Keras's array helpers from keras.utils: normalize (rows to unit norm) and pad_sequences.

    normalize([[3, 4], [1, 0]])                  # [[0.6, 0.8], [1.0, 0.0]]: each row / its L2 norm
    pad_sequences([[1, 2, 3], [4, 5], [6]])      # [[1, 2, 3], [0, 4, 5], [0, 0, 6]]

(glassnet.datasets.normalize is another thing: it scales pixel values into [0, 1].)
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import _checks

__all__ = ["normalize", "pad_sequences"]


def normalize(x, axis=-1, order=2):
    """x divided by its `order`-norm along `axis` (Keras's keras.utils.normalize): with the
    defaults, each row of a 2-D array gets length 1.  order is any order np.linalg.norm takes
    for vectors (1, 2, np.inf, ...).  Vectors of norm 0 stay 0.  Returns a new array of x's shape,
    float (an integer x gives float64, as Keras).

    Unlike Keras, any axis works (Keras's NumPy path fails for axis=0 on a 2-D array) and a 1-D x
    keeps its shape (Keras returns it as one row)."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"normalize expects an array of numbers, got dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError("normalize expects an array with at least one axis, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"normalize: axis must be an int in [{-x.ndim}, {x.ndim - 1}] for an array of shape "
                         f"{x.shape}, got {axis!r}")
    if isinstance(order, bool) or not isinstance(order, numbers.Real) or np.isnan(order):
        raise ValueError(f"normalize: order must be a number (1, 2, np.inf, ...), got {order!r}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("normalize: x holds NaN or infinite values")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if x.size and order != 0:        # x / max|x| first: the norm neither overflows (1e200) nor underflows (5e-324)
        scale = np.max(np.abs(x), axis=int(axis), keepdims=True)
        scale[scale == 0] = 1
        x = x / scale
    norm = np.linalg.norm(x, ord=order, axis=int(axis), keepdims=True)
    norm[norm == 0] = 1
    return x / norm


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Lists of different lengths as one array of shape (len(sequences), maxlen) (Keras's
    keras.utils.pad_sequences, for text classification: lists of token ids of each text).

    maxlen: the length of every row (default: the longest sequence); longer sequences lose
    their first items (truncating="pre") or last ("post"); shorter ones are filled with `value`
    in front (padding="pre") or behind ("post").  Items may themselves be arrays of one shape
    (the result is then (n, maxlen) + that shape).  dtype: the result's ("int32"; dtype=object for
    strings of any length).
    """
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood: use "pre" or "post"')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood: use "pre" or "post"')
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences expects a list of sequences, got {type(sequences).__name__}")
    rows = []
    for i, seq in enumerate(sequences):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__"):
            raise ValueError(f"`sequences` must be a list of iterables; item {i} is not: {seq!r:.40}")
        rows.append(seq)
    if maxlen is None:
        maxlen = max((len(s) for s in rows), default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"maxlen must be None or an integer >= 0, got {maxlen!r}")
    maxlen = int(maxlen)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"pad_sequences: {dtype!r} is not a NumPy dtype") from None
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: str; "
                         f"use dtype=object for strings of any length")
    item_shape = next((np.asarray(s).shape[1:] for s in rows if len(s)), ())
    _checks.array_size((len(rows), maxlen) + item_shape, "pad_sequences' output")
    try:
        with np.errstate(over="raise", invalid="raise"):
            out = np.full((len(rows), maxlen) + item_shape, value, dtype=dtype)
    except (TypeError, ValueError, OverflowError, FloatingPointError) as err:
        raise ValueError(f"pad_sequences: value={value!r} cannot be held as {dtype}: {err}") from None
    if maxlen == 0:
        return out
    for i, seq in enumerate(rows):
        if not len(seq):
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        try:
            with np.errstate(over="raise", invalid="raise"):         # 300 as int8, 1e300 as float32: refused
                kept = np.asarray(kept, dtype=dtype)
        except (TypeError, ValueError, OverflowError, FloatingPointError) as err:
            raise ValueError(f"pad_sequences: sequence {i} cannot be held as {dtype}: {err}") from None
        if kept.shape[1:] != item_shape:
            raise ValueError(f"pad_sequences: the items of sequence {i} have shape {kept.shape[1:]}, those of "
                             f"the first non-empty sequence {item_shape}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out
