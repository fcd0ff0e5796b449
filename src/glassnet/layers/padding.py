"""ZeroPadding2D (Keras's name and arguments): rows and columns of zeros around each image.

    ZeroPadding2D(1)                 (batch, 28, 28, c) -> (batch, 30, 30, c)   one pixel on every side
    ZeroPadding2D((1, 2))            1 row on top and bottom, 2 columns left and right
    ZeroPadding2D(((0, 1), (2, 0)))  ((top, bottom), (left, right))

Backward cuts the border off again: dL/dx is dL/dy without the padded rows and columns (the zeros do
not depend on x). Channels-last only: (batch, height, width, channels).
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._registry import register
from .base import Layer


def _pairs(padding):
    """padding as ((top, bottom), (left, right)) from an int, (h, w) or ((top, bottom), (left, right))."""
    expected = ("ZeroPadding2D padding must be an int, a pair (rows, columns) or ((top, bottom), (left, right)) "
                "of integers >= 0")
    given = padding
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        padding = ((padding, padding), (padding, padding))
    try:
        if isinstance(padding, str):
            raise ValueError
        padding = tuple(padding)
        if len(padding) != 2:
            raise ValueError
        pairs = []
        for side in padding:
            if isinstance(side, (int, np.integer)) and not isinstance(side, bool):
                side = (side, side)
            side = tuple(side)
            if len(side) != 2:
                raise ValueError
            pairs.append(tuple(_checks.non_negative_int(v, "ZeroPadding2D padding") for v in side))
    except (TypeError, ValueError):
        raise ValueError(f"{expected}, got {given!r}") from None
    return tuple(pairs)


@register("layer")
class ZeroPadding2D(Layer):
    """ZeroPadding2D(padding=(1, 1)): zeros around each image of (batch, height, width, channels)."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"ZeroPadding2D reads channels-last images (data_format='channels_last'), got "
                             f"data_format={data_format!r}; move the channels last with np.moveaxis(x, 1, -1)")
        self._shape = None

    def _feature_dims(self):
        return ("height", "width", "channels")

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"ZeroPadding2D expects images of shape (batch, height, width, channels), got inputs "
                             f"of shape {tuple(input_shape)}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        (top, bottom), (left, right) = self.padding
        n, h, w, c = input_shape
        return (n, None if h is None else h + top + bottom, None if w is None else w + left + right, c)

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._shape = x.shape
        return np.pad(x, ((0, 0),) + self.padding + ((0, 0),))

    def backward(self, dy):
        if self._shape is None:
            raise RuntimeError("ZeroPadding2D.backward called before forward")
        if not self.need_input_grad:
            return None
        dy = np.asarray(dy, dtype=self.dtype)
        expected = self.compute_output_shape(self._shape)
        if dy.shape != expected:
            raise ValueError(f"{self._label()} backward expects dy of shape {expected}, got {dy.shape}")
        (top, _), (left, _) = self.padding
        _, h, w, _ = self._shape
        return dy[:, top:top + h, left:left + w, :].copy()

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding], "data_format": "channels_last"}
