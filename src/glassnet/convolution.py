"""Convolution by hand: im2col ("image to columns"), col2im, and the sizes they work with.

A convolution slides a small filter over an image and, at each position, sums the products of the
filter with the patch of image under it. im2col turns that into one matrix product:

    1. unfold:    every patch becomes one row of `cols`          im2col(x, kernel_size)
    2. multiply:  rows times the filters, as a matrix             z = cols @ W.reshape(-1, filters) + b
    3. fold back: the rows are the output pixels, in order        z.reshape(batch, out_h, out_w, filters)

Backward runs the same three steps in reverse: dW = cols.T @ dz, dcols = dz @ W.T, and col2im adds
each row of dcols back onto the pixels its patch came from (a pixel under several patches collects
the sum of their gradients).

Images are channels-last, as in Keras: x has shape (batch, height, width, channels) for 2-D and
(batch, steps, channels) for 1-D. A row of `cols` lists its patch in the order (kernel row, kernel
column, channel), the order of a Keras kernel of shape (kh, kw, channels, filters), so
`W.reshape(-1, filters)` lines up with it.

    x = np.arange(16.).reshape(1, 4, 4, 1)          # one 4x4 image
    cols = im2col(x, (3, 3))                         # shape (4, 9): four 3x3 patches
    cols[0]  -> [0, 1, 2, 4, 5, 6, 8, 9, 10]         # the top-left patch, row by row

padding="valid" keeps only patches that fit inside the image; padding="same" adds zeros around it
so that, with strides 1, the output has the input's size (TensorFlow's rule: the extra zero, when the
total is odd, goes at the end). strides skip positions; dilation_rate spreads the filter's taps apart.
"""
from __future__ import annotations

import math

import numpy as np

from . import _checks

PADDINGS = ("valid", "same")


def normalize_tuple(value, rank, what):
    """An int or a sequence of `rank` positive ints (Keras's kernel_size=3 or (3, 3)) as a tuple."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (value,) * rank
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise TypeError(f"{what} must be an int or a tuple of {rank} ints, got {value!r}") from None
        if len(values) != rank:
            raise ValueError(f"{what} must be an int or a tuple of {rank} ints, got {value!r}")
    return tuple(_checks.positive_int(v, what) for v in values)


def check_padding(padding, allowed=PADDINGS, what="padding"):
    """padding as a lowercase name from `allowed`, with an error naming them."""
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError(f"{what} must be one of {list(allowed)}, got {padding!r}")
    return padding.lower()


def output_length(length, kernel, stride=1, padding="valid", dilation=1):
    """How many positions a filter of `kernel` taps takes along an axis of `length` pixels.

    valid: floor((length - span) / stride) + 1, with span = (kernel - 1) * dilation + 1 (0 if it does not fit)
    same and causal: ceil(length / stride)
    """
    span = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        return -(-length // stride)
    return max(0, (length - span) // stride + 1)


def padding_amounts(length, kernel, stride=1, padding="valid", dilation=1):
    """(before, after): the zeros added at each end of an axis.

    same: the total that lets ceil(length / stride) positions fit, split with the odd one at the end
    (TensorFlow's and Keras's rule); causal: all of the span before (1-D: an output sees no future step)."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    out = output_length(length, kernel, stride, "same", dilation)
    total = max((out - 1) * stride + span - length, 0)
    return total // 2, total - total // 2


class Geometry:
    """Everything im2col and col2im need about one convolution or pooling: the input's spatial
    shape, the window, strides, dilation, padding, and what follows from them (pads, output shape).

        g = Geometry((28, 28), kernel_size=(3, 3))        # g.out == (26, 26), g.pads == ((0, 0), (0, 0))
    """

    def __init__(self, spatial, kernel_size, strides=1, padding="valid", dilation_rate=1):
        rank = len(spatial)
        self.spatial = tuple(int(s) for s in spatial)
        self.kernel = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.dilation = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = check_padding(padding, PADDINGS + ("causal",))
        self.pads = tuple(padding_amounts(n, k, s, self.padding, d)
                          for n, k, s, d in zip(self.spatial, self.kernel, self.strides, self.dilation))
        self.out = tuple(output_length(n, k, s, self.padding, d)
                         for n, k, s, d in zip(self.spatial, self.kernel, self.strides, self.dilation))
        self.padded = tuple(n + a + b for n, (a, b) in zip(self.spatial, self.pads))
        if min(self.out) < 1:
            span = tuple((k - 1) * d + 1 for k, d in zip(self.kernel, self.dilation))
            raise ValueError(f"a window of {span} pixels (kernel_size {self.kernel}, dilation_rate {self.dilation}) "
                             f"does not fit inputs of spatial shape {self.spatial} with padding "
                             f"{self.padding!r}: no output position")

    @property
    def rank(self):
        return len(self.spatial)

    @property
    def taps(self):
        """Pixels in one window (kh * kw)."""
        return math.prod(self.kernel)

    def __repr__(self):
        return (f"Geometry(spatial={self.spatial}, kernel={self.kernel}, strides={self.strides}, "
                f"dilation={self.dilation}, padding={self.padding!r}, out={self.out})")


def _geometry(x_shape, kernel_size, strides, padding, dilation_rate, what):
    if len(x_shape) not in (3, 4):
        raise ValueError(f"{what} expects channels-last inputs of shape (batch, height, width, channels) or "
                         f"(batch, steps, channels), got shape {tuple(x_shape)}")
    return Geometry(x_shape[1:-1], kernel_size, strides, padding, dilation_rate)


def pad(x, g):
    """x with g's zeros around its spatial axes (x itself when there are none)."""
    if not any(a or b for a, b in g.pads):
        return x
    return np.pad(x, ((0, 0),) + g.pads + ((0, 0),))


def windows(x, g):
    """A read-only view of every window of x (padded already): shape (batch, *out, *kernel, channels)."""
    n, c = x.shape[0], x.shape[-1]
    s = x.strides
    shape = (n,) + g.out + g.kernel + (c,)
    strides = ((s[0],) + tuple(st * step for st, step in zip(s[1:-1], g.strides))
               + tuple(st * d for st, d in zip(s[1:-1], g.dilation)) + (s[-1],))
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


def im2col(x, kernel_size, strides=1, padding="valid", dilation_rate=1, out=None):
    """Unfold x (batch, *spatial, channels) into one row per output position: shape
    (batch * out positions, kernel taps * channels), rows in (batch, out row, out column) order and each
    row in (kernel row, kernel column, channel) order. `out`: an array of that shape to write into,
    either C-contiguous or the transpose of a C-contiguous array (`buffer.T`: the same matrix stored
    column by column, which images of one or a few channels unfold into several times faster, as each
    column is a shifted copy of the image)."""
    x = np.asarray(x)
    g = _geometry(x.shape, kernel_size, strides, padding, dilation_rate, "im2col")
    rows, width = x.shape[0] * math.prod(g.out), g.taps * x.shape[-1]
    view = windows(pad(x, g), g)
    if out is None:
        return view.reshape(rows, width)              # reshape of a strided view copies: one pass
    if out.shape != (rows, width):
        raise ValueError(f"im2col out must have shape {(rows, width)}, got {out.shape}")
    if out.flags.c_contiguous:
        out.reshape(view.shape)[...] = view
    elif out.T.flags.c_contiguous:                    # column by column: (taps, channels) first
        out.T.reshape(view.shape[1 + g.rank:] + view.shape[:1 + g.rank])[...] = np.moveaxis(
            view, tuple(range(1 + g.rank)), tuple(range(-1 - g.rank, 0)))
    else:
        raise ValueError("im2col out must be C-contiguous or the transpose of a C-contiguous array")
    return out


def col2im(cols, input_shape, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """Fold rows back onto an image of `input_shape` (batch, *spatial, channels): each row's values are
    added to the pixels its window covered, so overlapping windows add up. col2im is im2col's adjoint
    (not its inverse): sum(im2col(x) * c) == sum(x * col2im(c)) for any x and c."""
    input_shape = tuple(int(d) for d in input_shape)
    g = _geometry(input_shape, kernel_size, strides, padding, dilation_rate, "col2im")
    n, c = input_shape[0], input_shape[-1]
    rows, width = n * math.prod(g.out), g.taps * c
    cols = np.asarray(cols)
    if cols.shape != (rows, width):
        raise ValueError(f"col2im expects cols of shape {(rows, width)} for inputs of shape {input_shape}, "
                         f"got {cols.shape}")
    by_column = not cols.flags.c_contiguous and cols.T.flags.c_contiguous       # cols = buffer.T (see im2col)
    if by_column:                                     # (*kernel, channels, batch, *out)
        blocks = cols.T.reshape(g.kernel + (c, n) + g.out)
    else:                                             # (batch, *out, *kernel, channels)
        blocks = cols.reshape((n,) + g.out + g.kernel + (c,))
    image = np.zeros((n,) + g.padded + (c,), dtype=cols.dtype)
    for tap in np.ndindex(*g.kernel):                 # one strided add per filter tap (kh * kw of them)
        target = (slice(None),) + tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                                        for t, d, o, s in zip(tap, g.dilation, g.out, g.strides))
        block = np.moveaxis(blocks[tap], 0, -1) if by_column else blocks[(slice(None),) * (1 + g.rank) + tap]
        image[target] += block
    inner = (slice(None),) + tuple(slice(a, a + length) for (a, _), length in zip(g.pads, g.spatial))
    return image[inner] if any(a or b for a, b in g.pads) else image


def conv(x, W, b=None, strides=1, padding="valid", dilation_rate=1):
    """A convolution by hand (what Conv1D and Conv2D compute), unfold-multiply-fold back:

        x (batch, *spatial, channels), W (*kernel, channels, filters), b (filters,) or None
        -> (batch, *out, filters)

    Like Keras (and TensorFlow), this is a cross-correlation: the filter is not flipped."""
    x, W = np.asarray(x), np.asarray(W)
    if W.ndim != x.ndim or W.shape[-2] != x.shape[-1]:
        raise ValueError(f"conv expects W of shape (*kernel, {x.shape[-1] if x.ndim else '?'} channels, filters) "
                         f"for x of shape {x.shape}, got W of shape {W.shape}")
    g = _geometry(x.shape, W.shape[:-2], strides, padding, dilation_rate, "conv")
    z = im2col(x, g.kernel, g.strides, g.padding, g.dilation) @ W.reshape(-1, W.shape[-1])
    if b is not None:
        z = z + b
    return z.reshape((x.shape[0],) + g.out + (W.shape[-1],))


def pool(x, pool_size, strides=None, padding="valid", kind="max"):
    """Max or average pooling by hand: each window of each channel becomes one number.
    strides default to pool_size (windows side by side); padding="same" averages only the real pixels
    of a window that hangs over the edge, and a max ignores the padding (as Keras does)."""
    if kind not in ("max", "average"):
        raise ValueError(f"pool kind must be 'max' or 'average', got {kind!r}")
    x = np.asarray(x)
    g = _geometry(x.shape, pool_size, pool_size if strides is None else strides, padding, 1, "pool")
    fill = -np.inf if kind == "max" else 0.0
    padded = np.pad(x.astype(np.result_type(x.dtype, np.float32)), ((0, 0),) + g.pads + ((0, 0),),
                    constant_values=fill) if any(a or b for a, b in g.pads) else x
    view = windows(padded, g)
    axes = tuple(range(1 + g.rank, 1 + 2 * g.rank))
    if kind == "max":
        return view.max(axis=axes)
    counts = windows(pad(np.ones((1,) + g.spatial + (1,), dtype=padded.dtype), g), g).sum(axis=axes)
    return view.sum(axis=axes) / counts
