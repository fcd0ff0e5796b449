"""Reshape (Keras's name and argument): each sample takes a new shape, its values in the same order.

    Reshape((3, 4))      (batch, 12) -> (batch, 3, 4)
    Reshape((-1, 2))     (batch, 12) -> (batch, 6, 2): one -1 is worked out from the sample's size

Backward gives dL/dy back the input's shape. (Flatten, the other reshaping layer, is in core.py.)
"""
from __future__ import annotations

import numpy as np

from .._registry import register
from .base import Layer


@register("layer")
class Reshape(Layer):
    """Reshape(target_shape): each sample of the batch reshaped to target_shape (the batch axis is kept)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            shape = tuple(target_shape)
        except TypeError:
            raise TypeError(f"Reshape target_shape must be a tuple of ints such as (3, 4), got {target_shape!r}") \
                from None
        if not shape or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and (d > 0 or d == -1)
                                for d in shape) or shape.count(-1) > 1:
            raise ValueError(f"Reshape target_shape must be positive ints, with at most one -1 (worked out from "
                             f"the sample's size), got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in shape)
        self._shape = None

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape[1:]))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(f"Reshape cannot make samples of {size} values into the shape {self.target_shape}")
            shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        elif known != size:
            raise ValueError(f"Reshape cannot make samples of shape {tuple(input_shape[1:])} ({size} values) into "
                             f"the shape {self.target_shape} ({known} values)")
        else:
            shape = self.target_shape
        return (input_shape[0],) + shape

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._shape = x.shape
        return x.reshape((x.shape[0],) + tuple(self.output_shape[1:]))

    def backward(self, dy):
        if self._shape is None:
            raise RuntimeError("Reshape.backward called before forward")
        return None if not self.need_input_grad else np.asarray(dy).reshape(self._shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
