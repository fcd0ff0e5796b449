"""Pooling layers (Keras's names and arguments): GlobalAveragePooling1D.

GlobalAveragePooling1D averages a sequence over its steps:

    (batch, steps, features) -> (batch, features)       y[b, f] = mean over t of x[b, t, f]

(data_format="channels_first" reads (batch, features, steps) instead; keepdims=True keeps the
averaged axis with length 1.)  After an Embedding it turns a sequence of word vectors into one vector
per text, the classic small text classifier. Backward spreads each dL/dy evenly over the steps:
dL/dx[b, t, f] = dL/dy[b, f] / steps.
"""
from __future__ import annotations

import numpy as np

from .._registry import register
from .base import Layer

_FORMATS = ("channels_last", "channels_first")


@register("layer")
class GlobalAveragePooling1D(Layer):
    """GlobalAveragePooling1D(data_format="channels_last", keepdims=False): the mean over the steps."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        data_format = "channels_last" if data_format is None else data_format
        if data_format not in _FORMATS:
            raise ValueError(f"GlobalAveragePooling1D data_format must be 'channels_last' or 'channels_first', "
                             f"got {data_format!r}")
        self.data_format = data_format
        self.keepdims = bool(keepdims)
        self._shape = None

    @property
    def _step_axis(self):
        return 1 if self.data_format == "channels_last" else 2

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"GlobalAveragePooling1D expects sequences of shape (batch, steps, features), got "
                             f"inputs of shape {tuple(input_shape)}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if self.keepdims:
            shape[self._step_axis] = 1
        else:
            del shape[self._step_axis]
        return tuple(shape)

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._shape = x.shape
        return x.mean(axis=self._step_axis, keepdims=self.keepdims)

    def backward(self, dy):
        if self._shape is None:
            raise RuntimeError("GlobalAveragePooling1D.backward called before forward")
        if not self.need_input_grad:
            return None
        dy = np.asarray(dy, dtype=self.dtype)
        expected = self.compute_output_shape(self._shape)
        if dy.shape != expected:
            raise ValueError(f"{self._label()} backward expects dy of shape {expected}, got {dy.shape}")
        axis = self._step_axis
        if not self.keepdims:
            dy = np.expand_dims(dy, axis)
        return np.broadcast_to(dy / self._shape[axis], self._shape).copy()

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}
