"""Compiled kernels: the few hot loops that NumPy cannot do in one pass over memory.

Imported only when numba is installed (glassnet.backend.kernel() hands them out;
float32 only). Each kernel has a NumPy twin next to the code that calls it, and
that twin is the reference: tests/test_kernels.py (Adam) and tests/test_kernels_layers.py
(Dense, softmax cross-entropy) check every kernel against it.

Rules kept here: plain loops over contiguous arrays, no allocation, scalars
passed already in the arrays' dtype, error_model="numpy" (a division by zero
gives inf as in NumPy, and lets LLVM vectorise), no fastmath (the same rounding
as the NumPy code, operation by operation), cache=True (compiled once per
machine, not per process).
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

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


# --------------------------------------------------------------------------
# Dense layers and the fused softmax cross-entropy.  Serial loops only (a prange kernel leaves its
# threads spinning and slows down the matrix products that follow).  Float32 constants keep every
# operation in float32, as in the NumPy code; a bias of None (use_bias=False) compiles its own
# version, without the bias.  Each was timed against its NumPy twin from (32, 10) to (1000, 512) and
# wins at every size.  Not here, as they lost: tanh forward (numba's np.tanh calls tanhf one number
# at a time, 15 ns each; NumPy's runs 16 at a time), and exp by numba's np.exp (see _exp).
# --------------------------------------------------------------------------
_ZERO = np.float32(0)
_ONE = np.float32(1)


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose 32 bits are the int32 `bits` (a reinterpreting cast, no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


# exp's constants (Cephes' expf, S. Moshier): log2(e), ln 2 in two parts, the polynomial
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI, _LN2_LO = np.float32(0.693359375), np.float32(-2.12194440e-4)
_EXP_P = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                       4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))


@numba.njit(inline="always", **_JIT)
def _exp(x):
    """exp(x) for a float32 x, within 1 ulp (NumPy's own float32 exp: 2.5 ulp); inf, 0 and NaN as np.exp.

    numba's np.exp calls the C library's expf one number at a time (1.7 ns each here); this one is
    plain arithmetic, so a loop over it runs on 16 numbers at once.  exp(x) = 2^k exp(r) with
    k = round(x / ln 2), r = x - k ln 2 (|r| <= ln 2 / 2) and exp(r) by Cephes' polynomial; 2^k is
    applied as two powers of two built from their bits, each a normal number for k in [-150, 128].
    """
    v = x if x == x else _ZERO                           # NaN: computed as 0, returned as NaN
    v = np.float32(-104.0) if v < -104.0 else np.float32(89.0) if v > 89.0 else v   # 0 / inf beyond
    k = np.floor(v * _LOG2E + np.float32(0.5))
    r = (v - k * _LN2_HI) - k * _LN2_LO
    p0, p1, p2, p3, p4, p5 = _EXP_P
    p = (((((p0 * r + p1) * r + p2) * r + p3) * r + p4) * r + p5) * (r * r) + r + _ONE
    i = np.int32(k)
    h = i >> 1
    y = p * _float32_from_bits((i - h + 127) << 23) * _float32_from_bits((h + 127) << 23)
    return y if x == x else x


@numba.njit(**_JIT)
def bias_add(z, b):
    """z += b for z (n, k) and b (k,): Dense's bias (linear, sigmoid and tanh layers)."""
    n, k = z.shape
    for i in range(n):
        for j in range(k):
            z[i, j] += b[j]


@numba.njit(**_JIT)
def dense_forward_relu(z, b, y):
    """z += b; y = max(z, 0) (NaN stays NaN, as np.maximum), in one pass."""
    n, k = z.shape
    for i in range(n):
        for j in range(k):
            v = z[i, j]
            if b is not None:
                v += b[j]
                z[i, j] = v
            y[i, j] = _ZERO if v < _ZERO else v


@numba.njit(**_JIT)
def _exp_all(a):
    """a = exp(a) in place, for a C-contiguous a: over the flat array, so that short rows do not
    stop the loop from running 16 numbers at a time."""
    flat = a.reshape(a.size)
    for t in range(flat.size):
        flat[t] = _exp(flat[t])


@numba.njit(**_JIT)
def dense_forward_sigmoid(z, b, y):
    """z += b; y = 1 / (1 + exp(-z)) (activations._sigmoid_into: 0 below -88.7 as exp(-z) overflows)."""
    if b is not None:
        bias_add(z, b)
    zf, yf = z.reshape(z.size), y.reshape(y.size)
    for t in range(zf.size):
        yf[t] = _ONE / (_ONE + _exp(-zf[t]))


@numba.njit(**_JIT)
def _row_max(z, i):
    """max(z[i]), with eight running maxima (one alone waits for each comparison to finish).

    A NaN may be passed over (NumPy's _row_max returns it): the callers' results come out the same,
    as exp(NaN - max) makes the row's sum, and so every number of the row, NaN all the same.
    """
    k = z.shape[1]
    top = z[i, 0]
    if k < 8:
        for j in range(1, k):
            top = z[i, j] if z[i, j] > top else top
        return top
    m0, m1, m2, m3, m4, m5, m6, m7 = z[i, 0], z[i, 1], z[i, 2], z[i, 3], z[i, 4], z[i, 5], z[i, 6], z[i, 7]
    j = 8
    while j + 8 <= k:
        m0 = z[i, j] if z[i, j] > m0 else m0
        m1 = z[i, j + 1] if z[i, j + 1] > m1 else m1
        m2 = z[i, j + 2] if z[i, j + 2] > m2 else m2
        m3 = z[i, j + 3] if z[i, j + 3] > m3 else m3
        m4 = z[i, j + 4] if z[i, j + 4] > m4 else m4
        m5 = z[i, j + 5] if z[i, j + 5] > m5 else m5
        m6 = z[i, j + 6] if z[i, j + 6] > m6 else m6
        m7 = z[i, j + 7] if z[i, j + 7] > m7 else m7
        j += 8
    for j in range(j, k):
        m0 = z[i, j] if z[i, j] > m0 else m0
    for m in (m1, m2, m3, m4, m5, m6, m7):
        m0 = m if m > m0 else m0
    return m0


@numba.njit(**_JIT)
def _row_sum(a, i):
    """sum(a[i]) in the order of NumPy's pairwise sum for rows up to 128 long: eight running sums
    (also the speed: one running sum waits for each addition to finish)."""
    k = a.shape[1]
    if k < 8:
        s = _ZERO
        for j in range(k):
            s += a[i, j]
        return s
    r0, r1, r2, r3, r4, r5, r6, r7 = a[i, 0], a[i, 1], a[i, 2], a[i, 3], a[i, 4], a[i, 5], a[i, 6], a[i, 7]
    j = 8
    while j + 8 <= k:
        r0 += a[i, j]
        r1 += a[i, j + 1]
        r2 += a[i, j + 2]
        r3 += a[i, j + 3]
        r4 += a[i, j + 4]
        r5 += a[i, j + 5]
        r6 += a[i, j + 6]
        r7 += a[i, j + 7]
        j += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for j in range(j, k):
        s += a[i, j]
    return s


@numba.njit(**_JIT)
def dense_forward_softmax(z, b, y):
    """z += b; y = softmax(z) row by row: exp(z - max) / sum, as activations._softmax_into."""
    if b is not None:
        bias_add(z, b)
    n, k = z.shape
    for i in range(n):
        top = _row_max(z, i)
        for j in range(k):
            y[i, j] = z[i, j] - top
    _exp_all(y)
    for i in range(n):
        s = _row_sum(y, i)
        for j in range(k):
            y[i, j] /= s


@numba.njit(**_JIT)
def _zero(db):
    for j in range(db.shape[0]):
        db[j] = _ZERO


@numba.njit(**_JIT)
def column_sum(dz, db):
    """db = dz.sum(axis=0), adding the rows in order as np.add.reduce(dz, axis=0) does."""
    _zero(db)
    n, k = dz.shape
    for i in range(n):
        for j in range(k):
            db[j] += dz[i, j]


# The three backward kernels below differ only in the slope; they are written out because the two
# ways of sharing one loop both cost more than the repetition: passing the slope function as an
# argument makes every call ~4 us (numba types the function object each time), and kernels made by a
# factory closure share one cache entry, so numba compiles them again in every process.
@numba.njit(**_JIT)
def dense_backward_sigmoid(y, dy, dz, db):
    """dz = (1 - y) y dy (activations._sigmoid_backward) and db = column sums of dz, in one pass."""
    n, k = dy.shape
    if db is not None:
        _zero(db)
    for i in range(n):
        for j in range(k):
            d = (_ONE - y[i, j]) * y[i, j] * dy[i, j]
            dz[i, j] = d
            if db is not None:
                db[j] += d


@numba.njit(**_JIT)
def dense_backward_tanh(y, dy, dz, db):
    """dz = (1 - y^2) dy (activations._tanh_backward) and db = column sums of dz, in one pass."""
    n, k = dy.shape
    if db is not None:
        _zero(db)
    for i in range(n):
        for j in range(k):
            d = (_ONE - y[i, j] * y[i, j]) * dy[i, j]
            dz[i, j] = d
            if db is not None:
                db[j] += d


@numba.njit(**_JIT)
def dense_backward_relu(y, dy, dz, db):
    """dz = dy (y > 0) (activations._relu_backward: a product, so NaN * 0 stays NaN) and
    db = column sums of dz, in one pass."""
    n, k = dy.shape
    if db is not None:
        _zero(db)
    for i in range(n):
        for j in range(k):
            d = dy[i, j] * (_ONE if y[i, j] > _ZERO else _ZERO)
            dz[i, j] = d
            if db is not None:
                db[j] += d


@numba.njit(**_JIT)
def _softmax_cross_entropy(z, labels, dz, p, n_rows, normalise, gradient):
    # the steps of SparseCategoricalCrossentropy._fused: dz = z - row max; loss = mean(log(s) - dz[label])
    # with s = row sums of dz = exp(dz); normalise: dz /= s (softmax; copied to p if given);
    # gradient: dz[label] -= 1, dz /= n
    n, k = z.shape
    total = 0.0                                    # float64
    for i in range(n):
        top = _row_max(z, i)
        for j in range(k):
            dz[i, j] = z[i, j] - top
        total -= dz[i, labels[i]]
    _exp_all(dz)
    for i in range(n):
        s = _row_sum(dz, i)
        total += np.log(s)
        if normalise:
            for j in range(k):
                dz[i, j] /= s
            if p is not None:
                for j in range(k):
                    p[i, j] = dz[i, j]
            if gradient:
                dz[i, labels[i]] -= _ONE
                for j in range(k):
                    dz[i, j] /= n_rows
    return total / n


def softmax_cross_entropy(labels, z, dz, want_p=True, want_dz=True):
    """losses.SparseCategoricalCrossentropy._fused in one pass per row, into the buffer dz (z's shape):
    (mean loss, dz = (softmax(z) - onehot) / n or None, p = softmax(z) or None), with the same
    want_p / want_dz rules: p is dz itself when only p is wanted, a new array when both are."""
    p = np.empty_like(z) if want_p and want_dz else None
    loss = _softmax_cross_entropy(z, labels, dz, p, z.dtype.type(z.shape[0]), want_p or want_dz, want_dz)
    if not want_dz:
        return loss, None, dz if want_p else None
    return loss, dz, p


TABLE.update({
    "bias_add": bias_add,
    "dense_forward_relu": dense_forward_relu,
    "dense_forward_sigmoid": dense_forward_sigmoid,
    "dense_forward_softmax": dense_forward_softmax,
    "column_sum": column_sum,
    "dense_backward_sigmoid": dense_backward_sigmoid,
    "dense_backward_tanh": dense_backward_tanh,
    "dense_backward_relu": dense_backward_relu,
    "softmax_cross_entropy": softmax_cross_entropy,
})

# the convolution layers' kernels (im2col, col2im) live in their own file, handed out from this table
from ._conv_kernels import TABLE as _CONV_TABLE  # noqa: E402

TABLE.update(_CONV_TABLE)
