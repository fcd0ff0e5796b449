"""The weights a file's config may ask for: counted for each layer before it is built, so that a config
asking for far more weights than its file holds (Conv2D(10**12, 3), Dense(10**12)) is refused with a
ModelFileError before anything is allocated, instead of a MemoryError (or a machine brought to a crawl).

    budget = Budget(limit, "weights.npz")
    budget.charge(path, weight_count(layer, input_shape))      # before layer.build(input_shape)

weight_count knows the layers whose weights grow with their settings or their input; it gives 0 for the
others (a layer without weights, or one glassnet cannot predict: a custom layer is the user's own code).
"""
from __future__ import annotations

import math

from .format import CONFIG, ModelFileError


class Budget:
    """The weights a config may ask for, all its models together: more than its weights file can
    hold is refused before a layer allocates them."""

    def __init__(self, limit, where="its weights file"):
        self.limit, self.used, self.where = limit, 0, where

    def charge(self, path, elements):
        self.used += elements
        if self.used > self.limit:
            raise ModelFileError(path, f"{CONFIG} describes a model of more than {self.used} weights, far more "
                                       f"than {self.where} holds: it is damaged or hostile")


def weight_count(layer, input_shape) -> int:
    """How many numbers `layer` will hold once built for inputs of `input_shape` ((None, ...) or a list
    of such shapes); 0 for a layer already built (it holds them already), without weights, or unknown."""
    if getattr(layer, "built", False) or getattr(layer, "layers", None) is not None:
        return 0
    kind = type(layer).__name__
    shape = input_shape[0] if input_shape and isinstance(input_shape[0], (list, tuple)) else input_shape
    features = int(shape[-1]) if shape and shape[-1] is not None else 1
    if kind == "Dense":
        return features * layer.units + layer.units
    if kind in ("Conv1D", "Conv2D"):                 # kernel (*kernel_size, channels, filters), bias (filters,)
        return math.prod(layer.kernel_size) * features * layer.filters + layer.filters
    if kind in ("BatchNormalization", "LayerNormalization"):      # 4 or 2 numbers per normalized feature
        return (4 if kind == "BatchNormalization" else 2) * _size_along(shape, getattr(layer, "axis", -1))
    if kind == "Embedding":                          # its table does not grow with the input
        return layer.input_dim * layer.output_dim
    if kind == "PReLU":                              # one alpha per value, 1 along a shared axis
        shared = getattr(layer, "shared_axes", None) or ()
        return math.prod(1 if i in shared else int(d or 1) for i, d in enumerate(shape) if i > 0)
    return 0


def _size_along(shape, axis):
    """The product of shape's sizes along `axis` (an int or several); the whole sample if they are odd."""
    axes = [axis] if isinstance(axis, int) else list(axis or ())
    try:
        return math.prod(int(shape[a] or 1) for a in axes) if axes else 1
    except (IndexError, TypeError):
        return math.prod(int(d or 1) for d in shape[1:])
