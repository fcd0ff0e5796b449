"""Batches of x read one at a time, in the model's float type (fit, evaluate and predict stream x)."""
from __future__ import annotations

import numpy as np


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
