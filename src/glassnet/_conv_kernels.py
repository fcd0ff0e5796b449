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


TABLE = {"im2col": im2col, "col2im": col2im}
