"""A model running over batches (fit, evaluate, predict): x read one batch at a time in the model's
float type (_Batches), scratch arrays kept from batch to batch (kept), and running(): layers write
into kept buffers and small matrix products run on one BLAS thread.
"""
from __future__ import annotations

import contextlib

import numpy as np

from .. import backend


class _Batches:
    """Batches of x in the model's float type, read one at a time into one kept buffer.

    x stays as the caller gave it -- float32, uint8 pixels, a np.memmap, float64 -- and only the
    rows of the current batch are read and converted, so no copy of the whole data set is ever
    made.  Unshuffled batches of an x that already has the model's dtype are plain slices.
    """

    def __init__(self, x, batch_size, dtype):
        self.x = x
        shape = (min(batch_size, len(x)),) + tuple(x.shape[1:])
        self.same = x.dtype == dtype
        self.buf = np.empty(shape, dtype)                          # what the model computes on
        self.raw = None if self.same else np.empty(shape, x.dtype)  # gathered rows, before converting

    @staticmethod
    def _head(buf, m):
        return buf if m == len(buf) else buf[:m]

    def gather(self, idx):
        """The rows x[idx] for valid indices idx (a slice of a permutation of range(len(x)))."""
        m = len(idx)
        if self.same:
            # mode="clip" takes straight into `out` (the default mode="raise" goes through a temporary)
            return self.x.take(idx, axis=0, out=self._head(self.buf, m), mode="clip")
        raw = self.x.take(idx, axis=0, out=self._head(self.raw, m), mode="clip")
        buf = self._head(self.buf, m)
        np.copyto(buf, raw, casting="unsafe")                     # checked castable in advance
        return buf

    def rows(self, start, stop):
        """The rows x[start:stop]: a view when no conversion is needed."""
        part = self.x[start:stop]
        if self.same:
            return part
        buf = self._head(self.buf, stop - start)
        np.copyto(buf, part, casting="unsafe")
        return buf


class Several:
    """The arrays of a model with several inputs (one per input, in model.inputs order) or the
    targets of one with several outputs (None for an output without targets), all with the same
    number of rows: len() counts rows, slicing and take() act on every array."""

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def __len__(self):
        return len(next(a for a in self.arrays if a is not None))

    def __getitem__(self, index):
        return Several([None if a is None else a[index] for a in self.arrays])

    def take(self, rows):
        return Several([None if a is None else a.take(rows, axis=0) for a in self.arrays])


class _SeveralBatches:
    """_Batches for each array of a Several: gather() and rows() give a Several of batches."""

    def __init__(self, x, batch_size, dtype):
        self.parts = [_Batches(a, batch_size, dtype) for a in x.arrays]

    def gather(self, idx):
        return Several([b.gather(idx) for b in self.parts])

    def rows(self, start, stop):
        return Several([b.rows(start, stop) for b in self.parts])


def batches(x, batch_size, dtype):
    """x (an array or a Several) read batch by batch in `dtype`."""
    return _SeveralBatches(x, batch_size, dtype) if isinstance(x, Several) else _Batches(x, batch_size, dtype)


def kept(model, key, like):
    """A scratch array shaped like `like`, kept while the model runs (fit, evaluate), else None
    (as Layer._buffer: the largest batch so far, and a view of its first rows for a smaller one)."""
    if not model._reusing:
        return None
    buf = model._scratch.get(key)
    if buf is not None and buf.shape == like.shape and buf.dtype == like.dtype:
        return buf
    if buf is None or len(buf) < len(like) or buf.shape[1:] != like.shape[1:] or buf.dtype != like.dtype:
        buf = model._scratch[key] = np.empty(like.shape, like.dtype)
    return buf[:len(like)]


@contextlib.contextmanager
def running(model, rows):
    """While fit, evaluate or predict runs on batches of `rows` samples, layers write into kept
    buffers instead of new arrays (nested calls, such as predict from a callback, leave the outer
    setting as it was), and small matrix products run on one BLAS thread (backend.limit_blas_threads)."""
    before = [layer._reuse for layer in model.layers], model._reusing
    for layer in model.layers:
        layer._reuse = True
    model._reusing = True
    try:
        with backend.limit_blas_threads(1 if largest_matmul(model, rows) < backend.SMALL_MATMUL_FLOPS else None):
            yield
    finally:
        for layer, flag in zip(model.layers, before[0]):
            layer._reuse = flag
        model._reusing = before[1]


def largest_matmul(model, rows):
    """Floating-point operations of the largest matrix product a batch of `rows` samples needs."""
    sizes = [2 * rows * w.shape[0] * w.shape[1] for layer in model.layers
             for w in (layer.params.get("W"),) if w is not None and w.ndim == 2]
    return max(sizes, default=0)
