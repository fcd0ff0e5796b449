"""Global pooling layers (Keras's names and arguments): GlobalAveragePooling1D, GlobalAveragePooling2D,
GlobalMaxPooling1D, GlobalMaxPooling2D. Each channel of a sample becomes one number:

    GlobalAveragePooling2D   (batch, height, width, channels) -> (batch, channels)   the mean over the pixels
    GlobalMaxPooling2D       (batch, height, width, channels) -> (batch, channels)   the largest pixel
    GlobalAveragePooling1D   (batch, steps, channels)         -> (batch, channels)   the mean over the steps
    GlobalMaxPooling1D       (batch, steps, channels)         -> (batch, channels)   the largest step

data_format="channels_first" reads (batch, channels, height, width) / (batch, channels, steps) instead;
keepdims=True keeps the pooled axes with length 1: (batch, 1, 1, channels).

Backward:
    average: each dL/dy is spread evenly, dL/dx = dL/dy / (pixels pooled)
    max:     each dL/dy goes to the pixel that was the max; when several pixels tie, to the first of
             them in reading order (row by row), as torch's max pooling does. (Keras's own backends
             split it evenly between the tied pixels; both are valid subgradients.)

After an Embedding, GlobalAveragePooling1D turns a sequence of word vectors into one vector per text,
the classic small text classifier; after the last convolution of a ConvNet, GlobalAveragePooling2D
replaces Flatten with one number per filter.
"""
from __future__ import annotations

import math

import numpy as np

from .._registry import register
from .base import Layer

_FORMATS = ("channels_last", "channels_first")


class _GlobalPooling(Layer):
    """The mean or max over the `rank` spatial axes of each channel (see the module doc)."""

    rank = 1
    kind = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        data_format = "channels_last" if data_format is None else data_format
        if data_format not in _FORMATS:
            raise ValueError(f"{type(self).__name__} data_format must be 'channels_last' or 'channels_first', "
                             f"got {data_format!r}")
        self.data_format = data_format
        self.keepdims = bool(keepdims)
        self._shape = self._index = None

    @property
    def _axes(self):
        """The pooled axes of a batch: (1,) or (1, 2) channels-last, (2,) or (2, 3) channels-first."""
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    @property
    def _step_axis(self):
        """The first pooled axis (a 1-D layer's only one; models/summary.py reads it)."""
        return self._axes[0]

    def _wanted(self):
        spatial = "steps" if self.rank == 1 else "height, width"
        return f"(batch, {spatial}, channels)" if self.data_format == "channels_last" else \
            f"(batch, channels, {spatial})"

    def _feature_dims(self):
        return self._wanted()[len("(batch, "):-1].split(", ")

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} expects inputs of shape {self._wanted()}, got inputs of shape "
                             f"{tuple(input_shape)}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        axes = self._axes
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._shape = x.shape
        if self.kind == "average":
            return x.mean(axis=self._axes, keepdims=self.keepdims)
        flat, axis = self._flat(x)                               # the pixels of each channel on one axis
        self._index = np.expand_dims(np.argmax(flat, axis=axis), axis)     # the first max, in reading order
        y = np.take_along_axis(flat, self._index, axis=axis)
        return y.reshape(self.compute_output_shape(x.shape))

    def _flat(self, x):
        """(x seen as (batch, pixels, channels) or (batch, channels, pixels), the pixels' axis): a view."""
        n = x.shape[0]
        if self.data_format == "channels_last":
            return x.reshape(n, -1, x.shape[-1]), 1
        return x.reshape(n, x.shape[1], -1), 2

    def backward(self, dy):
        if self._shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if not self.need_input_grad:
            return None
        dy = np.asarray(dy, dtype=self.dtype)
        expected = self.compute_output_shape(self._shape)
        if dy.shape != expected:
            raise ValueError(f"{self._label()} backward expects dy of shape {expected}, got {dy.shape}")
        axes = self._axes
        if self.kind == "average":
            if not self.keepdims:
                dy = np.expand_dims(dy, axes)
            return np.broadcast_to(dy / math.prod(self._shape[a] for a in axes), self._shape).copy()
        flat, axis = self._flat(np.zeros(self._shape, dtype=dy.dtype))
        np.put_along_axis(flat, self._index, dy.reshape(self._index.shape), axis=axis)
        return flat.reshape(self._shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


@register("layer")
class GlobalAveragePooling1D(_GlobalPooling):
    """GlobalAveragePooling1D(data_format="channels_last", keepdims=False): the mean over the steps."""

    rank, kind = 1, "average"


@register("layer")
class GlobalMaxPooling1D(_GlobalPooling):
    """GlobalMaxPooling1D(data_format="channels_last", keepdims=False): the largest value over the steps."""

    rank, kind = 1, "max"


@register("layer")
class GlobalAveragePooling2D(_GlobalPooling):
    """GlobalAveragePooling2D(data_format="channels_last", keepdims=False): the mean over height and width."""

    rank, kind = 2, "average"


@register("layer")
class GlobalMaxPooling2D(_GlobalPooling):
    """GlobalMaxPooling2D(data_format="channels_last", keepdims=False): the largest pixel of each channel."""

    rank, kind = 2, "max"
