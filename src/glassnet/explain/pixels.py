"""One number of a convolutional network written out as the sum (or max) it is.

A trace of a model with Conv1D/Conv2D layers picks one output pixel per convolution layer and
shows how the layer computed it, tap by tap:

    z[0, 2, 3, 1] = sum over the filter's taps of  W[i, j, c, 1] * x[0, 2 + i, 3 + j, c]  + b[1]

(`PixelSum`: the patch of x under the filter, the filter, their products, the bias, z and a = f(z)),
one entry of the kernel's gradient

    dL/dW[1, 1, 0, f] = sum over the samples and output pixels of  x under tap (1, 1, 0) * dL/dz[..., f]

(`WeightGradientSum`: column (1, 1, 0) of cols = im2col(x) times column f of dL/dz), and for a
pooling layer the window one output pixel is the max (or mean) of (`PoolPick`).

Everything here is computed from what the trace recorded (the layer's input, weights, z, output,
dL/dz and dL/dW) with glassnet.convolution.im2col, the function the layers unfold with: the
recorded z and dL/dW are the library's numbers, and the terms are there to be added up by hand.

Which pixel: `trace(model, x, y, pixel=(row, column, filter))` picks it in the first convolution
layer (`(step, filter)` for Conv1D), `pixel={"conv2d_1": (0, 0, 3), ...}` per layer by name, and
`sample=` the sample of the batch.  A layer not named gets the pixel in the middle of its output,
filter 0; a pooling layer right after a convolution follows that layer's pixel into its window.
"""
from __future__ import annotations

import math

import numpy as np

from .. import convolution


def conv_shape(layer):
    """{kernel, strides, padding, dilation, pads, out, filters} of a Conv1D/Conv2D layer, else None."""
    g = getattr(layer, "geometry", None)
    if g is None or not hasattr(layer, "filters") or "W" not in getattr(layer, "params", {}):
        return None
    return {"kernel": g.kernel, "strides": g.strides, "padding": g.padding, "dilation": g.dilation,
            "pads": g.pads, "out": g.out, "filters": int(layer.filters)}


def pool_shape(layer):
    """{kernel, strides, padding, pads, out, kind} of a max or average pooling layer, else None."""
    g = getattr(layer, "geometry", None)
    kind = getattr(layer, "kind", None)
    if g is None or not hasattr(layer, "pool_size") or kind not in ("max", "average"):
        return None
    return {"kernel": g.kernel, "strides": g.strides, "padding": g.padding, "dilation": (1,) * len(g.kernel),
            "pads": g.pads, "out": g.out, "kind": kind}


def default_pixel(shape):
    """The middle of the output, filter (or channel) 0."""
    return tuple(o // 2 for o in shape["out"]) + (0,)


def check_pixel(pixel, name, out, depth, what="filter"):
    """pixel as a tuple of ints inside an output of spatial shape `out` with `depth` filters."""
    rank = len(out)
    names = ("row", "column") if rank == 2 else ("step",) if rank == 1 else tuple(f"axis {i}" for i in range(rank))
    want = "(" + ", ".join(names + (what,)) + ")"
    try:
        values = tuple(pixel)
    except TypeError:
        raise TypeError(f"pixel for {name!r} must be a tuple {want}, got {pixel!r}") from None
    if len(values) != rank + 1 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                          for v in values):
        raise ValueError(f"pixel for {name!r} must be a tuple of {rank + 1} ints {want}, got {pixel!r}")
    limits = tuple(out) + (depth,)
    if any(not 0 <= v < n for v, n in zip(values, limits)):
        ranges = ", ".join(f"{label}s 0-{n - 1}" for label, n in zip(names + (what,), limits))
        raise ValueError(f"pixel {tuple(int(v) for v in values)} is outside the output of {name!r}, of shape "
                         f"{limits} ({ranges})")
    return tuple(int(v) for v in values)


def _positions(pixel, shape):
    """Per spatial axis, the input positions the window of output pixel `pixel` covers (may be padding)."""
    return [p * s - pad[0] + np.arange(k) * d
            for p, s, pad, k, d in zip(pixel, shape["strides"], shape["pads"], shape["kernel"], shape["dilation"])]


def _span(label, positions):
    """'rows 1-3' (or 'rows 0, 2, 4' when the taps are spread apart)."""
    p = [int(v) for v in positions]
    if len(p) > 1 and all(b - a == 1 for a, b in zip(p, p[1:])):
        return f"{label} {p[0]}-{p[-1]}"
    return f"{label} {', '.join(map(str, p))}"


def window_text(positions, labels):
    """'rows 2-4, columns 3-5' for a window covering `positions` (negative or past the end: padding)."""
    return ", ".join(_span(label, pos) for label, pos in zip(labels, positions))


def _labels(rank):
    return ("rows", "columns") if rank == 2 else ("steps",) if rank == 1 else tuple(f"axis {i}" for i in range(rank))


def _index_text(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


class PixelSum:
    """One output pixel of a convolution, as its sum: z = sum(W[..., f] * patch) + b[f], a = f(z).

    index          (sample, *pixel, filter): z[index] and a[index] are the pixel
    patch          the input under the filter, shape (*kernel, channels) (zeros where it is padding)
    kernel         the filter W[..., f], same shape
    products       kernel * patch, same shape; `terms` is it flattened in im2col's order
    bias           b[f] (0.0 without a bias);  total = sum(terms) + bias
    z, a           the library's z and a = activation(z) at the pixel (from the trace)
    positions      per spatial axis, the input rows / columns (/ steps) the patch covers
    padded         does the patch hang over the edge (some of its x are padding zeros)?
    """

    def __init__(self, layer_name, index, patch, kernel, bias, z, a, activation, positions, spatial, has_bias):
        self.layer_name, self.index = layer_name, tuple(index)
        self.patch, self.kernel = patch, kernel
        self.bias, self.has_bias = float(bias), has_bias
        self.z, self.a, self.activation = float(z), float(a), activation
        self.positions, self.spatial = positions, tuple(spatial)
        self.padded = any(((p < 0) | (p >= n)).any() for p, n in zip(positions, spatial))

    sample = property(lambda self: self.index[0])
    pixel = property(lambda self: self.index[1:-1])
    filter = property(lambda self: self.index[-1])
    products = property(lambda self: self.kernel * self.patch)
    terms = property(lambda self: self.products.reshape(-1))
    total = property(lambda self: float(np.sum(self.terms)) + self.bias)
    target = property(lambda self: "z" + _index_text(self.index))
    window = property(lambda self: window_text(self.positions, _labels(len(self.spatial))))

    def __repr__(self):
        return f"<PixelSum {self.layer_name} {self.target} = {self.z!r}: {self.terms.size} terms + b>"


class WeightGradientSum:
    """One entry of a convolution's dL/dW, as its sum over the samples and output pixels:
    dL/dW[tap, f] = sum(x under the tap * dL/dz[..., f]) (+ the regulariser's gradient).

    index          (*tap, channel, filter): the entry of dL/dW
    x              the inputs the tap multiplied, one per (sample, output pixel): a column of im2col(x)
    dz             dL/dz of filter f at those pixels, same order
    terms          x * dz;  total = sum(terms) + regularization
    value          the library's dL/dW at index (from the trace)
    """

    def __init__(self, layer_name, index, x, dz, value, regularization=0.0):
        self.layer_name, self.index = layer_name, tuple(index)
        self.x, self.dz, self.value = x, dz, float(value)
        self.regularization = float(regularization)

    terms = property(lambda self: self.x * self.dz)
    total = property(lambda self: float(np.sum(self.terms)) + self.regularization)
    target = property(lambda self: "dL/dW" + _index_text(self.index))

    def __repr__(self):
        return f"<WeightGradientSum {self.layer_name} {self.target} = {self.value!r}: {self.terms.size} terms>"


class PoolPick:
    """One output pixel of a pooling layer: the max (or the mean) of its window.

    index          (sample, *pixel, channel);  value: the layer's output there (from the trace)
    window         the input under the window, shape (*pool_size,) (NaN where it is padding: not counted)
    kind           "max" or "average";  positions: per spatial axis, the input positions covered
    """

    def __init__(self, layer_name, index, window, value, kind, positions, spatial):
        self.layer_name, self.index = layer_name, tuple(index)
        self.window, self.value, self.kind = window, float(value), kind
        self.positions, self.spatial = positions, tuple(spatial)

    values = property(lambda self: self.window[~np.isnan(self.window)])
    total = property(lambda self: float(self.values.max() if self.kind == "max" else self.values.mean()))
    target = property(lambda self: "a" + _index_text(self.index))
    where = property(lambda self: window_text(self.positions, _labels(len(self.spatial))))

    def __repr__(self):
        return f"<PoolPick {self.layer_name} {self.target} = {self.kind}({self.values.size} values)>"


def unfold(rec):
    """cols = im2col(x) of a convolution's recorded input: one row per output pixel."""
    s = rec.conv
    return convolution.im2col(rec.input, s["kernel"], s["strides"], s["padding"], s["dilation"])


def pixel_sum(rec, cols, index):
    """The PixelSum of output pixel `index` = (sample, *pixel, filter) of a recorded convolution."""
    s = rec.conv
    sample, pixel, f = index[0], index[1:-1], index[-1]
    row = sample * math.prod(s["out"]) + int(np.ravel_multi_index(pixel, s["out"]))
    channels = rec.input.shape[-1]
    patch = cols[row].reshape(tuple(s["kernel"]) + (channels,))
    kernel = rec.W[..., f]
    bias = 0.0 if rec.b is None else rec.b[f]
    return PixelSum(rec.name, index, patch, kernel, bias, rec.z[index], rec.output[index], rec.activation,
                    _positions(pixel, s), rec.input.shape[1:-1], rec.b is not None)


def weight_gradient_sum(rec, cols, f):
    """The WeightGradientSum of dL/dW at the middle tap, channel 0, filter f."""
    s = rec.conv
    tap = tuple(k // 2 for k in s["kernel"]) + (0,)
    column = int(np.ravel_multi_index(tap, tuple(s["kernel"]) + (rec.input.shape[-1],)))
    dz = rec.grad_z.reshape(-1, s["filters"])[:, f]
    index = tap + (f,)
    reg = 0.0 if rec.regularizer is None else float(np.asarray(rec.regularizer.gradient(rec.W))[index])
    return WeightGradientSum(rec.name, index, cols[:, column].copy(), dz.copy(), rec.dW[index], reg)


def pool_pick(rec, index):
    """The PoolPick of output pixel `index` = (sample, *pixel, channel) of a recorded pooling layer."""
    s = rec.pool
    sample, pixel, c = index[0], index[1:-1], index[-1]
    positions = _positions(pixel, s)
    spatial = rec.input.shape[1:-1]
    window = np.full(tuple(s["kernel"]), np.nan)
    for tap in np.ndindex(*s["kernel"]):
        where = tuple(int(p[t]) for p, t in zip(positions, tap))
        if all(0 <= w < n for w, n in zip(where, spatial)):
            window[tap] = rec.input[(sample,) + where + (c,)]
    return PoolPick(rec.name, index, window, rec.output[index], s["kind"], positions, spatial)
