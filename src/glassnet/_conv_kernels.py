"""Compiled kernels of the convolution layers: the unfold (im2col) and the fold back (col2im).

Loaded with glassnet/_kernels.py (its TABLE hands them out through glassnet.backend.kernel) and kept to
its rules: plain loops, no allocation, float32, cache=True, serial.  The NumPy twins are
glassnet/convolution.py's im2col and col2im, and stay the reference: tests/test_kernels_conv.py checks
every kernel against them.  The layers use them for inputs of 8 channels or more, where a patch is
made of runs of kw * channels numbers: there NumPy's col2im (one strided add per filter tap) is 6x
slower than one compiled pass, and NumPy's im2col first copies a padded image.  Fewer channels are
unfolded by NumPy, column by column (layers/convolutional.py).

Tried and left out: a direct convolution (each output pixel's filters summed tap by tap, no columns)
for the first layer of a grey-image network (9 taps x 1 channel): 2-3x slower than unfold + matrix
product, forward and backward, as the product runs at BLAS's rate and numba's loop, without fused
multiply-adds, at a fraction of it.

All kernels see 2-D images (batch, height, width, channels); a 1-D layer passes (batch, 1, steps,
channels) with a kernel of height 1.  The geometry comes as plain ints: the output's size (oh, ow),
window (kh, kw), strides (sh, sw), dilation (dh, dw) and the zeros before each axis (pt, pl).
"""
from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, error_model="numpy")
_ZERO = np.float32(0)


# Indexing style: a loop writes through short slices (a[t] for t in range(m)), never a[k + t]: numba
# guards a signed index against negative values (Python's wraparound), and that guard alone made the
# copies 5-10x slower; the index of a range loop is known to be non-negative, so the guard goes.
@numba.njit(inline="always", **_JIT)
def _copy(dst, src):
    for t in range(dst.size):
        dst[t] = src[t]


@numba.njit(inline="always", **_JIT)
def _add(dst, src):
    for t in range(dst.size):
        dst[t] += src[t]


@numba.njit(inline="always", **_JIT)
def _fill_zero(dst):
    for t in range(dst.size):
        dst[t] = _ZERO


@numba.njit(**_JIT)
def im2col(x, cols, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl):
    """cols[(b, i, j), (u, v, c)] = x[b, i sh + u dh - pt, j sw + v dw - pl, c], 0 outside x: the rows of
    convolution.im2col, written into cols (batch * oh * ow, kh * kw * channels)."""
    n, H, W, C = x.shape
    xf = x.reshape(x.size)
    run = kw * C                                  # one kernel row of a patch: contiguous in x when dw == 1
    r = 0
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                row = cols[r]
                left = j * sw - pl
                whole = dw == 1 and left >= 0 and left + kw <= W
                for u in range(kh):
                    part = row[u * run:(u + 1) * run]
                    y = i * sh + u * dh - pt
                    if y < 0 or y >= H:
                        _fill_zero(part)
                    elif whole:
                        start = ((b * H + y) * W + left) * C
                        _copy(part, xf[start:start + run])
                    else:
                        for v in range(kw):
                            xx = left + v * dw
                            if 0 <= xx < W:
                                start = ((b * H + y) * W + xx) * C
                                _copy(part[v * C:(v + 1) * C], xf[start:start + C])
                            else:
                                _fill_zero(part[v * C:(v + 1) * C])
                r += 1


@numba.njit(**_JIT)
def col2im(cols, dx, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl):
    """dx = 0, then each row of cols added onto the pixels its window covered (padding dropped): the
    adjoint of im2col, convolution.col2im written into dx (batch, height, width, channels)."""
    n, H, W, C = dx.shape
    xf = dx.reshape(dx.size)
    _fill_zero(xf)
    run = kw * C
    r = 0
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                row = cols[r]
                left = j * sw - pl
                whole = dw == 1 and left >= 0 and left + kw <= W
                for u in range(kh):
                    part = row[u * run:(u + 1) * run]
                    y = i * sh + u * dh - pt
                    if y < 0 or y >= H:
                        continue
                    if whole:
                        start = ((b * H + y) * W + left) * C
                        _add(xf[start:start + run], part)
                    else:
                        for v in range(kw):
                            xx = left + v * dw
                            if 0 <= xx < W:
                                start = ((b * H + y) * W + xx) * C
                                _add(xf[start:start + C], part[v * C:(v + 1) * C])
                r += 1


# --------------------------------------------------------------------------
# Pooling over windows side by side (strides == pool_size, padding "valid": MaxPooling2D(2)).  The
# NumPy twins are layers/pooling.py's tiled path (_pool_tiles, _unpool_tiles), the same numbers bit for
# bit: the max keeps the first of equal pixels, the mean adds the taps in the same order and multiplies
# by the same 1 / taps.  Loops run (sample, output row, window row, output column, window column,
# channel), so x, dx and y are read and written along contiguous memory; the image's rows and columns
# past the last whole window (an odd size) are not read, and get a zero gradient.  Here plain 4-D
# indexing is as fast as a copy of x (0.4 ms for (128, 26, 26, 32)); the flat slices used above ran
# 3x slower on these short (channels-long) runs.  Serial: see _kernels.py on prange.
# --------------------------------------------------------------------------
@numba.njit(**_JIT)
def _max_pool(x, y, index, kh, kw, keep):
    n, H, W, C = x.shape
    oh, ow = y.shape[1], y.shape[2]
    for b in range(n):
        for i in range(oh):
            for u in range(kh):
                for j in range(ow):
                    for v in range(kw):
                        if u == 0 and v == 0:
                            for c in range(C):
                                y[b, i, j, c] = x[b, i * kh, j * kw, c]
                            if keep:
                                for c in range(C):
                                    index[b, i, j, c] = 0
                            continue
                        tap = np.uint8(u * kw + v)
                        for c in range(C):
                            a = x[b, i * kh + u, j * kw + v, c]
                            m = y[b, i, j, c]
                            win = (a > m) | ((a != a) & (m == m))     # larger, or a first NaN (np.maximum's)
                            y[b, i, j, c] = a if win else m
                            if keep:
                                index[b, i, j, c] = tap if win else index[b, i, j, c]


_NO_INDEX = np.zeros((0, 0, 0, 0), np.uint8)


def max_pool(x, y, index, kh, kw):
    """y[b, i, j, c] = the max over the window (i kh + u, j kw + v) of x[b, ., ., c] and, unless index is
    None, index[b, i, j, c] = u kw + v of the winner (uint8, so kh kw <= 256): the first max on a tie (a
    later pixel wins only if strictly larger), the first NaN if any.  x (batch, height, width, channels),
    y and index (batch, height // kh, width // kw, channels), all C-contiguous."""
    _max_pool(x, y, _NO_INDEX if index is None else index, kh, kw, index is not None)


@numba.njit(**_JIT)
def max_unpool(dy, index, dx, kh, kw):
    """dx = dy at each window's winner (index, as max_pool wrote it), 0 at its other pixels and at the rows
    and columns no window covers: max_pool's backward, written into every number of dx."""
    n, H, W, C = dx.shape
    oh, ow = dy.shape[1], dy.shape[2]
    for b in range(n):
        for i in range(oh):
            for u in range(kh):
                r = i * kh + u
                for j in range(ow):
                    for v in range(kw):
                        tap = np.uint8(u * kw + v)
                        for c in range(C):
                            dx[b, r, j * kw + v, c] = dy[b, i, j, c] if index[b, i, j, c] == tap else _ZERO
                for col in range(ow * kw, W):                 # an odd last column
                    for c in range(C):
                        dx[b, r, col, c] = _ZERO
        for r in range(oh * kh, H):                           # an odd last row
            for col in range(W):
                for c in range(C):
                    dx[b, r, col, c] = _ZERO


@numba.njit(**_JIT)
def average_pool(x, y, kh, kw, scale):
    """y = the mean of each window: its pixels added in the order (0, 0), (0, 1), ..., then times scale
    (1 / (kh kw) as float32), as layers/pooling.py's tiled path."""
    n, H, W, C = x.shape
    oh, ow = y.shape[1], y.shape[2]
    for b in range(n):
        for i in range(oh):
            for u in range(kh):
                for j in range(ow):
                    for v in range(kw):
                        if u == 0 and v == 0:
                            for c in range(C):
                                y[b, i, j, c] = x[b, i * kh, j * kw, c]
                        else:
                            for c in range(C):
                                y[b, i, j, c] += x[b, i * kh + u, j * kw + v, c]
            for j in range(ow):
                for c in range(C):
                    y[b, i, j, c] *= scale


@numba.njit(**_JIT)
def average_unpool(dy, dx, kh, kw, scale):
    """dx = dy scale at every pixel of each window, 0 at the rows and columns no window covers."""
    n, H, W, C = dx.shape
    oh, ow = dy.shape[1], dy.shape[2]
    for b in range(n):
        for i in range(oh):
            for u in range(kh):
                r = i * kh + u
                for j in range(ow):
                    for v in range(kw):
                        for c in range(C):
                            dx[b, r, j * kw + v, c] = dy[b, i, j, c] * scale
                for col in range(ow * kw, W):
                    for c in range(C):
                        dx[b, r, col, c] = _ZERO
        for r in range(oh * kh, H):
            for col in range(W):
                for c in range(C):
                    dx[b, r, col, c] = _ZERO


TABLE = {"im2col": im2col, "col2im": col2im, "max_pool": max_pool, "max_unpool": max_unpool,
         "average_pool": average_pool, "average_unpool": average_unpool}
