"""SpatialDropout2D (Keras's name and arguments): Dropout that drops whole feature maps.

Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels (Dropout)
barely regularises a convolution's output: the neighbours carry the same information. SpatialDropout2D
drops a whole channel of a sample instead:

    while training: for each sample b and channel c, keep[b, c] = 1 with probability 1 - rate, else 0
                    y[b, :, :, c] = x[b, :, :, c] * keep[b, c] / (1 - rate)
    at inference:   y = x
    backward:       dL/dx = dL/dy * keep[b, c] / (1 - rate)       (the same mask)

Like Dropout it draws from a generator of its own (`seed=`, or a child of glassnet's global one), whose
state a `.glassnet` file keeps, so a saved and reloaded model draws the same masks next.
Channels-last only: (batch, height, width, channels).
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._registry import register
from .regularization import Dropout


@register("layer")
class SpatialDropout2D(Dropout):
    """SpatialDropout2D(rate, seed=None): zero a fraction `rate` of the channels of each sample while training."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        if data_format not in (None, "channels_last"):
            raise ValueError(f"SpatialDropout2D reads channels-last images (data_format='channels_last'), got "
                             f"data_format={data_format!r}; move the channels last with np.moveaxis(x, 1, -1)")
        super().__init__(_checks.fraction(rate, "SpatialDropout2D rate"), seed=seed, **kwargs)

    def _feature_dims(self):
        return ("height", "width", "channels")

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"SpatialDropout2D expects images of shape (batch, height, width, channels), got "
                             f"inputs of shape {tuple(input_shape)}")
        super().build(input_shape)

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        keep = 1.0 - self.rate
        dtype = np.dtype(self.dtype)
        n, c = x.shape[0], x.shape[-1]
        draws = self.rng.random((n, c), dtype=np.float32 if dtype == np.float32 else np.float64)
        self._mask = ((draws < keep) * dtype.type(1.0 / keep)).astype(dtype, copy=False).reshape(n, 1, 1, c)
        return x * self._mask

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}
