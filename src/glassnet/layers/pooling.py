"""Pooling layers (Keras's names and arguments): MaxPooling2D, AveragePooling2D, MaxPooling1D,
AveragePooling1D, written with glassnet.convolution's windows and col2im. (The global pooling layers are
in global_pooling.py.)

MaxPooling2D(2) keeps the largest pixel of each 2x2 window of each channel:

    (batch, 26, 26, 32) -> (batch, 13, 13, 32)
    backward: each window's dL/dy goes to the pixel that was the max (the first one on a tie), 0 to the rest

AveragePooling2D(2) keeps each window's mean; backward shares dL/dy equally over the window's pixels
(with padding="same", over its real pixels only: the zeros added at the edge do not count, as in Keras).
"""
from __future__ import annotations

import numpy as np

from .. import convolution as _conv
from .._registry import register
from .base import Layer


class _Pooling(Layer):
    """Max or average pooling over windows of `rank` spatial axes (see the module doc)."""

    rank = 2
    kind = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = _conv.normalize_tuple(pool_size, self.rank, f"{name} pool_size")
        self.strides = _conv.normalize_tuple(self.pool_size if strides is None else strides, self.rank,
                                             f"{name} strides")
        self.padding = _conv.check_padding(padding, _conv.PADDINGS, f"{name} padding")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{name} reads channels-last inputs (data_format='channels_last'), got "
                             f"data_format={data_format!r}")
        self.geometry = None
        self._x_shape = self._index = None

    def _feature_dims(self):
        return (("height", "width") if self.rank == 2 else ("steps",)) + ("channels",)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            want = "(batch, height, width, channels)" if self.rank == 2 else "(batch, steps, channels)"
            raise ValueError(f"{type(self).__name__} expects inputs of shape {want}, got inputs of shape "
                             f"{input_shape}")
        self.geometry = _conv.Geometry(input_shape[1:-1], self.pool_size, self.strides, self.padding)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        g = self.geometry or _conv.Geometry(input_shape[1:-1], self.pool_size, self.strides, self.padding)
        return (input_shape[0],) + g.out + (input_shape[-1],)

    def _windows(self, x, fill):
        """Every window of x: (batch, *out, taps, channels), the padding filled with `fill`."""
        g = self.geometry
        if any(a or b for a, b in g.pads):
            x = np.pad(x, ((0, 0),) + g.pads + ((0, 0),), constant_values=fill)
        view = _conv.windows(x, g)
        return view.reshape(view.shape[:1 + g.rank] + (g.taps, x.shape[-1]))

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._x_shape = x.shape
        g = self.geometry
        if self.kind == "max":
            win = self._windows(x, -np.inf)
            self._index = np.argmax(win, axis=-2)[..., None, :]
            return np.take_along_axis(win, self._index, axis=-2)[..., 0, :]
        self._counts = self._windows(np.ones((1,) + g.spatial + (1,), dtype=x.dtype), 0.0).sum(axis=-2)
        return self._windows(x, 0.0).sum(axis=-2) / self._counts

    def backward(self, dy):
        if self._x_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if not self.need_input_grad:
            return None
        g = self.geometry
        dy = np.asarray(dy, dtype=self.dtype)
        expected = (self._x_shape[0],) + g.out + (self._x_shape[-1],)
        if dy.shape != expected:
            raise ValueError(f"{self._label()} backward expects dy of shape {expected}, got {dy.shape}")
        win = np.zeros(expected[:-1] + (g.taps, expected[-1]), dtype=dy.dtype)
        if self.kind == "max":
            np.put_along_axis(win, self._index, dy[..., None, :], axis=-2)
        else:
            win += (dy / self._counts)[..., None, :]
        return _conv.col2im(win.reshape(-1, g.taps * expected[-1]), self._x_shape, g.kernel, g.strides, g.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": "channels_last"}


@register("layer")
class MaxPooling2D(_Pooling):
    """MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid"): the max of each window."""

    rank, kind = 2, "max"


@register("layer")
class AveragePooling2D(_Pooling):
    """AveragePooling2D(pool_size=(2, 2), strides=None, padding="valid"): the mean of each window."""

    rank, kind = 2, "average"


@register("layer")
class MaxPooling1D(_Pooling):
    """MaxPooling1D(pool_size=2, strides=None, padding="valid") on sequences (batch, steps, channels)."""

    rank, kind = 1, "max"


@register("layer")
class AveragePooling1D(_Pooling):
    """AveragePooling1D(pool_size=2, strides=None, padding="valid") on sequences (batch, steps, channels)."""

    rank, kind = 1, "average"
