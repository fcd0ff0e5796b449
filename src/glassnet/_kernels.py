"""Compiled kernels: the few hot loops that NumPy cannot do in one pass over memory.

Imported only when numba is installed (glassnet.backend.kernel() hands them out;
float32 only). Each kernel has a NumPy twin next to the code that calls it, and
that twin is the reference: tests/test_kernels.py checks every kernel against it.

Rules kept here: plain loops over contiguous arrays, no allocation, scalars
passed already in the arrays' dtype, error_model="numpy" (a division by zero
gives inf as in NumPy, and lets LLVM vectorise), no fastmath (the same rounding
as the NumPy code, operation by operation), cache=True (compiled once per
machine, not per process).
"""
from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@numba.njit(**_JIT)
def _adam(w, g, m, v, v_hat, decay, c1, c2, alpha, eps, amsgrad):
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(v_hat[i], vi)
            v_hat[i] = vi
        w[i] = w[i] * decay - mi / (np.sqrt(vi) + eps) * alpha


def adam(w, g, m, v, v_hat, decay, c1, c2, alpha, eps):
    """Adam (Keras's form) on flat arrays, in place, in one pass; the NumPy twin is Adam._update:
    m += c1 (g - m); v += c2 (g^2 - v); [v_hat = max(v_hat, v)]; w = w decay - m / (sqrt(v) + eps) alpha.
    v_hat is None without amsgrad; decay is 1 - lr * weight_decay for AdamW, else 1.

    One core: a parallel loop (numba's prange) halved this step alone, but its threads kept
    spinning afterwards and slowed the next matrix products by 5x.
    """
    dt = w.dtype.type
    _adam(w, g, m, v, v if v_hat is None else v_hat, dt(decay), dt(c1), dt(c2), dt(alpha), dt(eps),
          v_hat is not None)


TABLE = {"adam": adam}
