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
from ..layers.core import Input, InputLayer
from . import config as config_module
from .model import Model


@register("layer")
@register("model")
class Sequential(Model):
    """A linear stack of layers."""

    def __init__(self, layers=None, name=None):
        super().__init__(name=name or "sequential")
        self._auto_named = name is None         # another model may rename it (_track), as Keras numbers them
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

    # ------------------------------------------------------------------
    # The symbolic view (Keras: a Sequential that knows its input shape is a graph of layers)
    # ------------------------------------------------------------------
    @property
    def inputs(self):
        """[the symbolic input], as Keras's model.inputs, once the input shape is known (an Input
        first, input_shape=, build() or a first fit).  The first use calls every layer on it, so that
        each layer's `output` is known too: a feature extractor is
        Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])."""
        return [self._symbolic_graph()[0]]

    @property
    def outputs(self):
        """[the symbolic output], as Keras's model.outputs (see `inputs`)."""
        return [self._symbolic_graph()[1]]

    #: one output, always (the step asks every batch; a Sequential answers without its graph)
    _several_outputs = False

    def _symbolic_graph(self):
        graph = getattr(self, "_symbolic", None)
        if graph is None or graph[2] != [id(layer) for layer in self.layers]:
            if self._input_feature_shape is None or not self.layers:
                raise AttributeError(f"Sequential model {self.name!r} has no inputs or outputs yet: it learns its "
                                     f"input shape from an Input(shape=...) first, input_shape=..., build() or fit")
            self._require_built()
            if graph is not None:               # the layers changed (add, pop): forget the old calls
                for layer, node in graph[3]:
                    nodes = getattr(layer, "_nodes", [])
                    if any(n is node for n in nodes):
                        nodes.remove(node)
            tensor = first = Input(shape=self._input_feature_shape, dtype=self.dtype)
            calls = []
            for layer in self.layers:
                tensor = layer(tensor)
                calls.append((layer, layer._nodes[-1]))
            graph = self._symbolic = (first, tensor, [id(layer) for layer in self.layers], calls)
        return graph

    def get_config(self) -> dict:
        return config_module.layers_config(self)

    @classmethod
    def from_config(cls, config, dtype=None):
        """dtype (or the config's "dtype", set when the model is a layer of a model rebuilt in another
        dtype) overrides every layer's."""
        return config_module.layers_from_config(cls, config, dtype or config.get("dtype"))
