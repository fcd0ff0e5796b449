"""The Sequential model: an ordered list of layers, a loss and an optimizer (Keras API).

    model = gn.Sequential([
        gn.layers.Dense(50, activation="sigmoid", input_shape=(784,)),
        gn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=32, validation_split=0.1)

One training step (`train_on_batch`, or each batch of `fit`) is models.step.step():
  forward through every layer -> loss -> backward in reverse -> optimizer update.
When the last layer's activation is softmax (sigmoid) and the loss is
categorical (binary) cross-entropy, the two are fused: the loss is computed
from the logits and the backward pass starts from dL/dz = (p - t) / n.
"""
from __future__ import annotations

from .._registry import register
from ..layers.base import KerasTensor, Layer
from ..layers.core import InputLayer
from . import config as config_module
from .model import Model


@register("layer")
@register("model")
class Sequential(Model):
    """A linear stack of layers."""

    def __init__(self, layers=None, name=None):
        super().__init__(name=name or "sequential")
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer (an Input(shape=...) only declares the input shape)."""
        self._check_not_nested("adding a layer to")
        if isinstance(layer, KerasTensor) and isinstance(layer._layer, InputLayer):
            layer = layer._layer                     # gn.Input(shape=...): declares the input shape
        if not isinstance(layer, (Layer, Model)):
            raise TypeError(f"Sequential.add expects a glassnet layer or model, got {type(layer).__name__}")
        if isinstance(layer, Model):
            if layer is self:
                raise ValueError("a model cannot be a layer of itself")
            layer._require_one_in_one_out()
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("Input(shape=...) must come before the other layers")
            self._input_feature_shape = layer._declared_input_shape
            return
        self._track(layer)
        if not self.layers and layer._declared_input_shape is not None:
            self._input_feature_shape = layer._declared_input_shape
        elif not self.layers and self._input_feature_shape is None and isinstance(layer, Layer) and layer.built:
            self._input_feature_shape = tuple(layer.input_shape[1:])    # built already (an adapted Normalization)
        self.layers.append(layer)
        self.built = False
        if self._input_feature_shape is not None:
            self.build()

    def pop(self):
        """Remove and return the last layer."""
        self._check_not_nested("removing a layer from")
        if not self.layers:
            raise ValueError("pop() on a model with no layers")
        layer = self.layers.pop()
        self.built = False
        if self.layers and self._input_feature_shape is not None:
            self.build()
        return layer

    def get_config(self) -> dict:
        return config_module.layers_config(self)

    @classmethod
    def from_config(cls, config, dtype=None):
        """dtype (or the config's "dtype", set when the model is a layer of a model rebuilt in another
        dtype) overrides every layer's."""
        return config_module.layers_from_config(cls, config, dtype or config.get("dtype"))
