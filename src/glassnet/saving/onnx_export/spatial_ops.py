"""glassnet's layers on images and sequences as ONNX nodes: Conv1D/Conv2D, Max/AveragePooling1D/2D, the
global poolings, ZeroPadding2D and UpSampling2D.

glassnet is channels-last, (batch, height, width, channels); ONNX's Conv, MaxPool, AveragePool and
Resize read channels-first. Each of those layers therefore becomes
    Transpose(to channels-first) -> the op -> Transpose(back to channels-last)
(a runtime folds the back-to-back pair between two such layers away). The padding is the layer's own
geometry (glassnet.convolution.Geometry.pads), written as explicit pads: "same" puts the odd zero at the
end (TensorFlow's rule, which ONNX's SAME_UPPER matches only without dilation), "causal" puts all the
zeros before the sequence. Average pooling with "same" padding divides by the real pixels of each window
(count_include_pad=0), as Keras and glassnet do; max pooling never picks a padded pixel.
"""
from __future__ import annotations

import numpy as np

from .layer_ops import activate


def _to_first(g, x, rank, hint):
    return g.transpose(x, [0, rank + 1] + list(range(1, rank + 1)), hint + "_channels_first")


def _to_last(g, y, rank, hint):
    return g.transpose(y, [0] + list(range(2, rank + 2)) + [1], hint)


def _pads(geometry):
    """ONNX's pads: every axis's start, then every axis's end."""
    return [int(a) for a, _ in geometry.pads] + [int(b) for _, b in geometry.pads]


def conv(g, layer, x):
    rank = layer.rank
    W = np.asarray(layer.params["W"])                              # (*kernel, channels, filters)
    W_first = np.transpose(W, (rank + 1, rank) + tuple(range(rank)))   # (filters, channels, *kernel)
    inputs = [_to_first(g, x, rank, layer.name), g.const(W_first, layer.name + "/kernel")]
    if layer.use_bias:
        inputs.append(g.const(layer.params["b"], layer.name + "/bias"))
    geo = layer.geometry
    y = g.op("Conv", inputs, layer.name + "_conv", kernel_shape=list(geo.kernel), strides=list(geo.strides),
             dilations=list(geo.dilation), pads=_pads(geo))
    y = _to_last(g, y, rank, layer.name + "_z" if layer.activation != "linear" else layer.name)
    return activate(g, layer.activation, y, layer.name)


def pooling(g, layer, x):
    rank, geo = layer.rank, layer.geometry
    attrs = dict(kernel_shape=list(geo.kernel), strides=list(geo.strides), pads=_pads(geo))
    if layer.kind == "max":
        op = "MaxPool"
    else:
        op = "AveragePool"
        attrs["count_include_pad"] = 0                            # the zeros at the edge are not counted
    y = g.op(op, [_to_first(g, x, rank, layer.name)], layer.name + "_pool", **attrs)
    return _to_last(g, y, rank, layer.name)


def global_pooling(g, layer, x):
    op = "ReduceMax" if layer.kind == "max" else "ReduceMean"
    return g.reduce(op, x, layer._axes, layer.name, keepdims=layer.keepdims)


def zero_padding(g, layer, x):
    (top, bottom), (left, right) = layer.padding
    pads = g.ints([0, top, left, 0, 0, bottom, right, 0], layer.name + "/pads")
    return g.op("Pad", [x, pads], layer.name, mode="constant")


def upsampling(g, layer, x):
    """Resize by whole factors. nearest: output pixel i reads input pixel floor(i / size) (asymmetric
    coordinates, nearest_mode floor), the pixel repeated into a block; bilinear: half-pixel centres
    (output i reads input (i + 0.5) / size - 0.5, clamped at the edges), as glassnet's bilinear_matrix."""
    sh, sw = layer.size
    scales = g.const(np.array([1.0, 1.0, sh, sw], dtype=np.float32), layer.name + "/scales", dtype=np.float32)
    if layer.interpolation == "nearest":
        attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    else:
        attrs = dict(mode="linear", coordinate_transformation_mode="half_pixel")
    y = g.op("Resize", [_to_first(g, x, 2, layer.name), "", scales], layer.name + "_resize", **attrs)
    return _to_last(g, y, 2, layer.name)


CONVERTERS = {
    "Conv1D": conv, "Conv2D": conv,
    "MaxPooling1D": pooling, "MaxPooling2D": pooling, "AveragePooling1D": pooling, "AveragePooling2D": pooling,
    "GlobalAveragePooling1D": global_pooling, "GlobalAveragePooling2D": global_pooling,
    "GlobalMaxPooling1D": global_pooling, "GlobalMaxPooling2D": global_pooling,
    "ZeroPadding2D": zero_padding, "UpSampling2D": upsampling,
}
