"""Convolution, average pooling and upsampling of float64 models, written with ops every runtime has in
float64 (Pad, Reshape, Gather, MatMul, ReduceSum, Div, Transpose).

ONNX defines Conv, AveragePool and Resize for doubles, but ONNX Runtime (1.32) has float32 kernels only
for them and refuses to load such a graph (measured). A float64 model exists for exact numbers, so its
graph computes these layers the way glassnet's own code does, by unfolding (im2col):

    padded = Pad(x)                                   the layer's own pads, channels-last
    windows = Gather(Reshape(padded, (batch, pixels, channels)), index, axis=1)
                                                      index[p, k]: the padded pixel under tap k of output p
    Conv2D:           MatMul(Reshape(windows, (batch, P, taps * channels)), W.reshape(-1, filters)) + b
    AveragePooling:   ReduceSum(windows over the taps) / (the real pixels of each window)
    UpSampling2D:     nearest: Gather rows i // size, then columns; bilinear: MatMul with the layer's
                      interpolation matrices along each axis
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .layer_ops import activate


def _window_index(geometry):
    """(P, K) int64: for output position p and kernel tap k (taps in kernel-row, kernel-column order, as
    W.reshape(-1, filters) reads them), the flat index of the padded pixel it reads."""
    padded = geometry.padded
    strides = [math.prod(padded[d + 1:]) for d in range(len(padded))]        # row-major flat index
    rows = []
    for out in itertools.product(*[range(n) for n in geometry.out]):
        rows.append([sum((o * s + t * dil) * st for o, s, t, dil, st
                         in zip(out, geometry.strides, tap, geometry.dilation, strides))
                     for tap in itertools.product(*[range(k) for k in geometry.kernel])])
    return np.asarray(rows, dtype=np.int64)


def _windows(g, layer, x, channels):
    """(batch, P, K, channels): every window of x, through the layer's zero padding."""
    geo = layer.geometry
    if any(a or b for a, b in geo.pads):
        pads = [0] + [a for a, _ in geo.pads] + [0] + [0] + [b for _, b in geo.pads] + [0]
        x = g.op("Pad", [x, g.ints(pads, layer.name + "/pads")], layer.name + "_padded", mode="constant")
    flat = g.op("Reshape", [x, g.ints([0, -1, channels], layer.name + "/pixels")], layer.name + "_pixels")
    index = g.const(_window_index(geo), layer.name + "/windows", dtype=np.int64)
    return g.op("Gather", [flat, index], layer.name + "_windows", axis=1)


def conv(g, layer, x):
    W = np.asarray(layer.params["W"])
    channels, filters = W.shape[-2], W.shape[-1]
    geo = layer.geometry
    windows = _windows(g, layer, x, channels)
    cols = g.op("Reshape", [windows, g.ints([0, math.prod(geo.out), -1], layer.name + "/cols")], layer.name + "_cols")
    z = g.op("MatMul", [cols, g.const(W.reshape(-1, filters), layer.name + "/kernel")], layer.name + "_matmul")
    if layer.use_bias:
        z = g.op("Add", [z, g.const(layer.params["b"], layer.name + "/bias")], layer.name + "_bias")
    z = g.op("Reshape", [z, g.ints([0, *geo.out, filters], layer.name + "/out")],
             layer.name + "_z" if layer.activation != "linear" else layer.name)
    return activate(g, layer.activation, z, layer.name)


def average_pooling(g, layer, x):
    geo = layer.geometry
    channels = layer.input_shape[-1]
    windows = _windows(g, layer, x, channels)
    sums = g.reduce("ReduceSum", windows, [2], layer.name + "_sums", keepdims=False)     # (batch, P, channels)
    mask = np.zeros(geo.padded)                        # the real pixels: the zeros added at the edge do not count
    mask[tuple(slice(a, a + n) for (a, _), n in zip(geo.pads, geo.spatial))] = 1
    counts = mask.reshape(-1)[_window_index(geo)].sum(axis=1).reshape(-1, 1)
    mean = g.op("Div", [sums, g.const(counts, layer.name + "/counts")], layer.name + "_mean")
    return g.op("Reshape", [mean, g.ints([0, *geo.out, channels], layer.name + "/out")], layer.name)


def upsampling(g, layer, x):
    h, w = layer.input_shape[1:3]
    sh, sw = layer.size
    if layer.interpolation == "nearest":
        rows = g.const(np.arange(h * sh) // sh, layer.name + "/rows", dtype=np.int64)
        cols = g.const(np.arange(w * sw) // sw, layer.name + "/cols", dtype=np.int64)
        y = g.op("Gather", [x, rows], layer.name + "_rows", axis=1)
        return g.op("Gather", [y, cols], layer.name, axis=2)
    A_rows, A_cols = layer._matrices                   # (h * sh, h) and (w * sw, w), glassnet's own
    y = g.transpose(x, [0, 2, 3, 1], layer.name + "_h_last")                  # (batch, w, c, h)
    y = g.op("MatMul", [y, g.const(A_rows.T, layer.name + "/rows")], layer.name + "_rows")
    y = g.transpose(y, [0, 3, 2, 1], layer.name + "_w_last")                  # (batch, h', c, w)
    y = g.op("MatMul", [y, g.const(A_cols.T, layer.name + "/cols")], layer.name + "_cols")
    return g.transpose(y, [0, 1, 3, 2], layer.name)                          # (batch, h', w', c)


CONVERTERS = {"Conv1D": conv, "Conv2D": conv, "AveragePooling1D": average_pooling,
              "AveragePooling2D": average_pooling, "UpSampling2D": upsampling}
