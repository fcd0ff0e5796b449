"""Graph models (Keras's functional API): layers called on symbolic tensors, then Model(inputs, outputs).

    inputs = gn.Input(shape=(2,))
    a = gn.layers.Dense(16, activation="relu")(inputs)
    b = gn.layers.Dense(16, activation="tanh")(inputs)
    h = gn.layers.Concatenate()([a, b])
    outputs = gn.layers.Dense(2, activation="softmax")(h)
    model = gn.Model(inputs, outputs)          # a Functional, compiled and fitted like a Sequential

A `Functional` is a `Model` whose layers form a directed acyclic graph: one input, one output,
any branches and merges (glassnet.layers.merging) in between.  `layers` lists them in a
topological order (the InputLayer first, the output layer last), and run_forward / run_backward
walk that order, so the one training step (models/step.py) runs it unchanged.  Backward sums the
gradients of a tensor read by several layers (a skip connection).

Not yet: several inputs or outputs, nested models, and a layer called twice in one model (shared
weights): each is refused with a ValueError.
"""
from __future__ import annotations

import numpy as np

from .. import _registry, backend
from .. import layers as layers_module
from ..layers.base import KerasTensor
from ..layers.core import InputLayer
from .model import Model


def _single(value, what):
    """The one KerasTensor in `value` (a tensor or a list of one)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"Model supports one {what} tensor so far, got a list of {len(value)}")
        value = value[0]
    if not isinstance(value, KerasTensor):
        raise TypeError(f"Model {what}s must be symbolic tensors from gn.Input(...) or a layer called on one, "
                        f"got {type(value).__name__}")
    return value


@_registry.register("model")
class Functional(Model):
    """A model made of layers called on symbolic tensors: Model(inputs, outputs)."""

    def __init__(self, inputs, outputs, name=None):
        super().__init__(name=name or "functional")
        self._input = _single(inputs, "input")
        self._output = _single(outputs, "output")
        if not isinstance(self._input._layer, InputLayer):
            raise ValueError(f"Model inputs must come from gn.Input(...), got the output of "
                             f"{self._input._layer._label()}")
        order = self._topological_order()
        for layer in order:
            self._track(layer)
            self.layers.append(layer)
        self._input_feature_shape = tuple(self._input.shape[1:])
        self.build()

    # ------------------------------------------------------------------
    # The graph
    # ------------------------------------------------------------------
    def _topological_order(self):
        """The layers between the input and the output, each after the layers it reads."""
        order, state, nodes = [], {}, {}          # state: id(tensor) -> "open" / "done"
        stack = [(self._output, False)]
        while stack:
            tensor, expanded = stack.pop()
            key = id(tensor)
            if expanded:
                state[key] = "done"
                order.append(tensor)
                continue
            if state.get(key) == "done":
                continue
            if state.get(key) == "open":
                raise ValueError("the layers form a cycle")
            layer = tensor._layer
            if layer in nodes and nodes[layer] is not tensor:
                raise ValueError(f"{layer._label()} is called more than once in this model (shared weights); "
                                 f"glassnet's graph models do not support shared layers yet: use one layer per call")
            nodes[layer] = tensor
            state[key] = "open"
            stack.append((tensor, True))
            if isinstance(layer, InputLayer):
                if tensor is not self._input:
                    raise ValueError(f"the outputs do not depend on the model's inputs alone: they read another "
                                     f"Input ({layer._label()} of shape {tensor.shape}); pass that one as inputs")
                continue
            for t in reversed(tensor._inbound):
                stack.append((t, False))
        if id(self._input) not in state:
            raise ValueError("the outputs do not depend on the inputs: no path leads from the Input given as inputs "
                             "to the outputs; call the layers on that Input")
        if self._output is self._input:
            raise ValueError("the outputs are the inputs: call at least one layer on the Input")
        self._tensors = order                      # order[i] is made by layers[i]
        return [t._layer for t in order]

    def _link(self):
        """Index the graph: for each layer, the positions of the layers whose outputs it reads."""
        position = {id(t): i for i, t in enumerate(self._tensors)}
        self._sources = [[position[id(t)] for t in tensor._inbound] for tensor in self._tensors]
        self._many = [isinstance(layer.input_shape, list) for layer in self.layers]
        # Layers that need a gradient: those with weights and those that feed into them.
        wants = []
        for i, layer in enumerate(self.layers):
            wants.append(bool(layer.params) or any(wants[j] for j in self._sources[i]))
        self._wants = wants
        for i, layer in enumerate(self.layers):
            layer.need_input_grad = any(wants[j] for j in self._sources[i])

    # ------------------------------------------------------------------
    # The step's interface (models/model.py)
    # ------------------------------------------------------------------
    def run_forward(self, x, training, call=None):
        """Every layer but the output layer, in topological order: the output layer's input(s)."""
        values = [None] * len(self.layers)
        values[0] = x if call is None else call(0, self.layers[0], x)
        sources, many, layers = self._sources, self._many, self.layers
        for i in range(1, len(layers) - 1):
            src = sources[i]
            h = [values[j] for j in src] if many[i] else values[src[0]]
            values[i] = layers[i].forward(h, training=training) if call is None else call(i, layers[i], h)
        last = len(layers) - 1
        return [values[j] for j in sources[last]] if many[last] else values[sources[last][0]]

    def run_backward(self, d, call=None):
        """From dL/d(the output layer's input(s)) back through every layer that needs a gradient;
        a tensor read by several layers gets the sum of their gradients."""
        n = len(self.layers)
        grads = [None] * n
        self._send(grads, n - 1, d)
        layers, wants = self.layers, self._wants
        for i in range(n - 2, 0, -1):
            if not wants[i] or grads[i] is None:
                continue
            g, grads[i] = grads[i], None
            dx = layers[i].backward(g) if call is None else call(i, layers[i], g)
            if layers[i].need_input_grad:
                self._send(grads, i, dx)
        return None

    def _send(self, grads, i, dx):
        """Add dL/d(layer i's input(s)) to the gradients of the tensors it read."""
        src = self._sources[i]
        parts = dx if self._many[i] else [dx]
        for j, g in zip(src, parts):
            if not self._wants[j] or g is None:
                continue
            grads[j] = g if grads[j] is None else grads[j] + g

    # ------------------------------------------------------------------
    # Building
    # ------------------------------------------------------------------
    def build(self, input_shape=None):
        """The layers were built when called on the symbolic tensors: check `input_shape`, pack the weights."""
        if input_shape is not None:
            shape = tuple(input_shape)
            shape = shape[1:] if shape and shape[0] is None else shape
            if tuple(shape) != self._input_feature_shape:
                raise ValueError(f"the model was built for inputs of shape {self._input_feature_shape}, got {shape}")
        dtypes = {layer.dtype for layer in self.layers}
        if len(dtypes) > 1:
            raise ValueError(f"all layers of a model must share one dtype, got {sorted(dtypes)}")
        self.dtype = dtypes.pop()
        self._link()
        self._first_trainable = next((i for i, l in enumerate(self.layers) if l.params), len(self.layers) - 1)
        self._pack_weights()
        self.built = True
        self._prepared = False

    @property
    def inputs(self):
        return [self._input]

    @property
    def outputs(self):
        return [self._output]

    @property
    def input(self):
        return self._input

    @property
    def output(self):
        return self._output

    def get_layer(self, name=None, index=None):
        """The layer called `name`, or at position `index` of model.layers (Keras's get_layer)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer needs exactly one of name= or index=")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"get_layer index must be an int, got {index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer index {index} is out of range: the model has {len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the layers are {', '.join(l.name for l in self.layers)}")

    def connected_to(self, index):
        """The names of the layers whose outputs layers[index] reads (summary's "Connected to")."""
        return [self.layers[j].name for j in self._sources[index]] if index else []

    # ------------------------------------------------------------------
    # Config
    # ------------------------------------------------------------------
    def get_config(self) -> dict:
        """{"name", "layers": [{"class_name", "config", "inbound": [layer names]}], "input_layers",
        "output_layers"}: the layers in topological order, each with the layers it reads."""
        specs = []
        for i, layer in enumerate(self.layers):
            spec = layers_module.serialize(layer)
            spec["inbound"] = self.connected_to(i)
            spec["merge"] = self._many[i]
            specs.append(spec)
        return {"name": self.name, "layers": specs, "input_layers": [self.layers[0].name],
                "output_layers": [self.layers[-1].name]}

    @classmethod
    def from_config(cls, config, dtype=None, custom_objects=None):
        """The model get_config() describes, with new weights; dtype overrides every layer's;
        custom_objects maps class names to your own layer classes."""
        custom_objects = dict(custom_objects or {})
        tensors = {}
        for spec in config["layers"]:
            name = spec["class_name"]
            layer_cls = custom_objects.get(name) or _registry.lookup("layer", name)
            if layer_cls is None:
                raise ValueError(f"unknown layer class {name!r}; known: {', '.join(sorted(_registry.classes('layer')))}")
            layer_config = dict(spec["config"])
            if dtype is not None:
                layer_config["dtype"] = backend.standardize_dtype(dtype)
            layer = layer_cls.from_config(layer_config)
            if isinstance(layer, InputLayer):
                out = KerasTensor(layer.output_shape, layer.dtype, layer)
            else:
                missing = [n for n in spec["inbound"] if n not in tensors]
                if missing or not spec["inbound"]:
                    raise ValueError(f"layer {layer_config.get('name')!r} reads {missing or 'nothing'}, "
                                     f"which no earlier layer of the config makes")
                inbound = [tensors[n] for n in spec["inbound"]]
                out = layer(inbound if spec.get("merge") else inbound[0])
            tensors[layer_config.get("name")] = out
        inputs = [tensors[n] for n in config["input_layers"]]
        outputs = [tensors[n] for n in config["output_layers"]]
        return cls(inputs, outputs, name=config.get("name"))
