"""Weight penalties added to the loss (Keras semantics).

    Dense(64, kernel_regularizer=gn.regularizers.L2(0.01))   # adds 0.01 * sum(W**2) to the loss
    Dense(64, kernel_regularizer=gn.regularizers.l2(0.001))  # Keras's lowercase names: l1, l2, l1_l2
    Dense(64, kernel_regularizer="l2")                       # by name, with Keras's default 0.01

The lowercase names are the classes themselves, as in Keras: l1 is L1 (default 0.01), l2 is L2
(default 0.01) and l1_l2 is L1L2 (defaults l1=0.0, l2=0.0).  model.losses lists the penalties.

`penalty(W)` is the value added to the loss; `gradient(W)` is its derivative,
added to dL/dW in backward.
"""
from __future__ import annotations

import numpy as np

from . import _checks, _registry
from ._registry import register


class Regularizer:
    def penalty(self, w) -> float:
        raise NotImplementedError

    def gradient(self, w) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, w) -> float:
        return self.penalty(w)

    def get_config(self) -> dict:
        return {}

    __repr__ = _registry.config_repr


@register("regularizer", "l1_l2")
class L1L2(Regularizer):
    """l1 * sum(|W|) + l2 * sum(W^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _checks.positive_number(l1, "l1", allow_zero=True)
        self.l2 = _checks.positive_number(l2, "l2", allow_zero=True)

    def penalty(self, w):
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.sum(np.abs(w)))
        if self.l2:
            total += self.l2 * float(np.sum(np.square(w)))
        return total

    def gradient(self, w):
        g = np.zeros_like(w)
        if self.l1:
            g += self.l1 * np.sign(w)
        if self.l2:
            g += (2 * self.l2) * w
        return g

    #: the factors get_config reports (L1 and L2 have one each)
    _factors = ("l1", "l2")

    def get_config(self):
        return {key: getattr(self, key) for key in self._factors}


@register("regularizer", "l2")
class L2(L1L2):
    """L2 (weight decay as a penalty): l2 * sum(W^2), gradient 2 * l2 * W."""

    _factors = ("l2",)

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)


@register("regularizer", "l1")
class L1(L1L2):
    """L1: l1 * sum(|W|), gradient l1 * sign(W)."""

    _factors = ("l1",)

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)


#: Keras's lowercase names for the same classes: regularizers.l2(0.001) is L2(0.001)
l1 = L1
l2 = L2
l1_l2 = L1L2

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize"]

_CLASSES = _registry.classes("regularizer")       # {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    """None, a Regularizer, a {"class_name", "config"} dict, or a name: "l1", "l2" (Keras's default
    0.01), "l1_l2" (0 and 0), or the class names "L1", "L2", "L1L2" as Keras also reads them."""
    if identifier is None:
        return None
    return _registry.resolve(identifier, "regularizer", _CLASSES, Regularizer, aliases={"l1l2": "l1_l2"},
                             accepts="None, a name (str) or a Regularizer")


def serialize(reg):
    if reg is None:
        return None
    return {"class_name": _registry.name_of("regularizer", reg), "config": reg.get_config()}


def deserialize(config):
    if config is None:
        return None
    return _registry.from_spec(config, "regularizer", _CLASSES)
