"""UpSampling2D (Keras's name and arguments): each image made `size` times taller and wider.

    UpSampling2D(2)          (batch, 7, 7, c) -> (batch, 14, 14, c)
    UpSampling2D((2, 3))     rows repeated twice, columns three times

interpolation="nearest" (the default) repeats every pixel into a size[0] x size[1] block; backward adds
each block's dL/dy back onto its pixel. interpolation="bilinear" places the new pixels between the old
ones ("half-pixel" centres, as Keras's and torch's bilinear resize with align_corners=False): output
row i reads input row r = (i + 0.5) / size - 0.5 (kept >= 0), mixing rows floor(r) and floor(r) + 1
in proportion; columns the same. Both are linear in x, written as one matrix per axis:

    y[b, i, j, c] = sum over h, w of A_rows[i, h] * x[b, h, w, c] * A_cols[j, w]
    dL/dx[b, h, w, c] = sum over i, j of A_rows[i, h] * dL/dy[b, i, j, c] * A_cols[j, w]

(nearest is the same with one 1 per row of each matrix; it is computed with a reshape instead.)
Channels-last only: (batch, height, width, channels).
"""
from __future__ import annotations

import numpy as np

from .. import convolution as _conv
from .._registry import register
from .base import Layer

INTERPOLATIONS = ("nearest", "bilinear")


def bilinear_matrix(length, scale, dtype=np.float64):
    """The (length * scale, length) matrix of a bilinear upsampling along one axis (half-pixel centres):
    row i mixes input pixels floor(r) and floor(r) + 1 (the last one repeated at the edge), with
    r = max((i + 0.5) / scale - 0.5, 0). Each row sums to 1."""
    out = np.arange(length * scale)
    source = np.maximum((out + 0.5) / scale - 0.5, 0.0)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, length - 1)
    frac = source - low
    matrix = np.zeros((length * scale, length), dtype=dtype)
    np.add.at(matrix, (out, low), 1.0 - frac)
    np.add.at(matrix, (out, high), frac)
    return matrix


@register("layer")
class UpSampling2D(Layer):
    """UpSampling2D(size=(2, 2), interpolation="nearest"): each image made size[0] x size[1] times larger."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = _conv.normalize_tuple(size, 2, "UpSampling2D size")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"UpSampling2D reads channels-last images (data_format='channels_last'), got "
                             f"data_format={data_format!r}; move the channels last with np.moveaxis(x, 1, -1)")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"UpSampling2D interpolation must be one of {list(INTERPOLATIONS)} in glassnet, got "
                             f"{interpolation!r}")
        self.interpolation = interpolation
        self._shape = self._matrices = None

    def _feature_dims(self):
        return ("height", "width", "channels")

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"UpSampling2D expects images of shape (batch, height, width, channels), got inputs "
                             f"of shape {tuple(input_shape)}")
        super().build(input_shape)
        if self.interpolation == "bilinear":
            self._matrices = tuple(bilinear_matrix(n, s, np.dtype(self.dtype))
                                   for n, s in zip(input_shape[1:3], self.size))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        sh, sw = self.size
        return (n, None if h is None else h * sh, None if w is None else w * sw, c)

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._shape = x.shape
        n, h, w, c = x.shape
        sh, sw = self.size
        if self.interpolation == "bilinear":
            rows, cols = self._matrices
            return np.einsum("jw,niwc->nijc", cols, np.einsum("ih,nhwc->niwc", rows, x, optimize=True), optimize=True)
        blocks = np.broadcast_to(x[:, :, None, :, None, :], (n, h, sh, w, sw, c))
        return blocks.reshape(n, h * sh, w * sw, c)

    def backward(self, dy):
        if self._shape is None:
            raise RuntimeError("UpSampling2D.backward called before forward")
        if not self.need_input_grad:
            return None
        dy = np.asarray(dy, dtype=self.dtype)
        expected = self.compute_output_shape(self._shape)
        if dy.shape != expected:
            raise ValueError(f"{self._label()} backward expects dy of shape {expected}, got {dy.shape}")
        n, h, w, c = self._shape
        sh, sw = self.size
        if self.interpolation == "bilinear":
            rows, cols = self._matrices
            return np.einsum("ih,niwc->nhwc", rows, np.einsum("jw,nijc->niwc", cols, dy, optimize=True), optimize=True)
        return dy.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4))

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": "channels_last",
                "interpolation": self.interpolation}
