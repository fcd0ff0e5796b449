"""Preprocessing inside the model: Rescaling (Keras's name and arguments).

    model = gn.Sequential([
        gn.layers.Rescaling(1 / 255, input_shape=(784,)),      # uint8 pixels -> [0, 1]
        gn.layers.Dense(50, activation="sigmoid"),
        gn.layers.Dense(10, activation="softmax"),
    ])
    model.fit(x_uint8, y)          # the pixels stay uint8: each batch is converted on its own

Scaling in the model, rather than `x / 255` up front, keeps a data set as it is stored
(60,000 MNIST images: 47 MB of uint8 instead of 188 MB of float32, or a np.memmap),
and the saved model applies the same scaling to whatever it is given later.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._registry import register
from .base import Layer


@register("layer")
class Rescaling(Layer):
    """y = x * scale + offset, for example Rescaling(1 / 255) or Rescaling(1 / 127.5, offset=-1)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _checks.finite_number(scale, "Rescaling scale")
        self.offset = _checks.finite_number(offset, "Rescaling offset")

    def forward(self, x, training=False):
        x = np.asarray(x)
        self._ensure_built(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(self.dtype)
        y = np.multiply(x, self.scale, out=self._buffer("y", x.shape, dtype), casting="unsafe")
        if self.offset:
            y += self.offset
        return y

    def backward(self, dy):
        if not self.need_input_grad:
            return None
        return np.multiply(dy, self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
