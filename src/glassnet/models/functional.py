"""Graph models (Keras's functional API): layers called on symbolic tensors, then Model(inputs, outputs).

    inputs = gn.Input(shape=(2,))
    a = gn.layers.Dense(16, activation="relu")(inputs)
    b = gn.layers.Dense(16, activation="tanh")(inputs)
    h = gn.layers.Concatenate()([a, b])
    outputs = gn.layers.Dense(2, activation="softmax")(h)
    model = gn.Model(inputs, outputs)          # a Functional, compiled and fitted like a Sequential

A `Functional` is a `Model` whose layers form a directed acyclic graph: one or several inputs
(x is then a list or dict of arrays, held as a batches.Several), one or several outputs (a loss
per output: models/outputs.py), any branches and merges (glassnet.layers.merging) in between.  `layers` lists them in a
topological order (the InputLayer first, the output layer last), and run_forward / run_backward
walk that order, so the one training step (models/step.py) runs it unchanged.  Backward sums the
gradients of a tensor read by several layers (a skip connection).

A layer called several times (shared weights) keeps one cache per call and sums the gradients of
its weights over the calls.  A built model with one input and one output may be called
as a layer (models/nested.py).  A recorder (trace) sees each call, a shared layer's once per call.
Not yet: shared layers with regularizers (refused with a ValueError).
"""
from __future__ import annotations

import numpy as np

from .. import _checks, _registry, backend
from .. import layers as layers_module
from ..layers.base import KerasTensor
from ..layers.core import InputLayer
from .batches import Several
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


@_registry.register("layer")
@_registry.register("model")
class Functional(Model):
    """A model made of layers called on symbolic tensors: Model(inputs, outputs)."""

    def __init__(self, inputs, outputs, name=None):
        super().__init__(name=name or "functional")
        self._auto_named = name is None         # another model may rename it (_track), as Keras numbers them
        keys = None
        if isinstance(inputs, dict):
            keys, inputs = [str(k) for k in inputs], list(inputs.values())
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1:
            self._inputs = [_single(t, "input") for t in inputs]
        else:
            self._inputs = [_single(inputs, "input")]
        self._input = self._inputs[0]
        self._output_keys = None
        if isinstance(outputs, dict):             # Keras flattens a dict by sorted key: so do we
            if not all(isinstance(k, str) for k in outputs):
                raise TypeError(f"a dict of outputs must be keyed by str names, got keys {list(outputs)!r}")
            self._output_keys = sorted(outputs)
            outputs = [outputs[k] for k in self._output_keys]
            if not outputs:
                raise ValueError("outputs is an empty dict; give at least one symbolic tensor")
        if isinstance(outputs, (list, tuple)) and (len(outputs) > 1 or self._output_keys):
            self._outputs = [_single(t, "output") for t in outputs]
        else:
            self._outputs = [_single(outputs, "output")]
        if len({id(t) for t in self._outputs}) != len(self._outputs):
            raise ValueError("the same tensor is given twice as outputs")
        self._output = self._outputs[0]
        for t in self._inputs:
            if not isinstance(t._layer, InputLayer):
                raise ValueError(f"Model inputs must come from gn.Input(...), got the output of "
                                 f"{t._layer._label()}")
        if len({id(t) for t in self._inputs}) != len(self._inputs):
            raise ValueError("the same Input is given twice as inputs")
        for layer in self._order_nodes():
            self._track(layer)
            self.layers.append(layer)
        self._input_keys = keys or [t._layer.name for t in self._inputs]
        self._input_feature_shape = tuple(self._input.shape[1:])
        self.build()

    # ------------------------------------------------------------------
    # The graph: nodes (one per layer call) and layers (each once)
    # ------------------------------------------------------------------
    def _order_nodes(self):
        """Order the calls (nodes) between the input and the output so that each comes after the
        calls it reads; return the layers, each once, in the order of their first call (the
        output layer last)."""
        order, state = [], {}                     # state: id(tensor) -> "open" / "done"
        stack = [(t, False) for t in reversed(self._outputs)]
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
            state[key] = "open"
            stack.append((tensor, True))
            if isinstance(tensor._layer, InputLayer):
                if not any(tensor is t for t in self._inputs):
                    raise ValueError(f"the outputs do not depend on the model's inputs alone: they read another "
                                     f"Input ({tensor._layer._label()} of shape {tensor.shape}); pass that one "
                                     f"as inputs")
                continue
            for t in reversed(tensor._inbound):
                stack.append((t, False))
        for k, t in enumerate(self._inputs):
            if id(t) not in state:
                raise ValueError(f"the outputs do not depend on the inputs: no path leads from input {k} "
                                 f"({t._layer._label()}) to the outputs; call the layers on that Input")
        if len(self._outputs) == 1 and self._outputs[0] in self._inputs:
            raise ValueError("the outputs are the inputs: call at least one layer on the Input")
        self._tensors = order                      # order[i] is made by node i
        last = self._output._layer if len(self._outputs) == 1 else None
        layers, seen = [], {id(last)}
        for t in order:
            if id(t._layer) not in seen:
                seen.add(id(t._layer))
                layers.append(t._layer)
        calls = {}
        for t in order:
            calls[id(t._layer)] = calls.get(id(t._layer), 0) + 1
        if last is not None:
            layers.append(last)                    # one output: its layer comes last (the step runs it)
        for layer in layers:
            if calls[id(layer)] > 1 and (getattr(layer, "kernel_regularizer", None)
                                         or getattr(layer, "bias_regularizer", None)):
                raise ValueError(f"{layer._label()} is called {calls[id(layer)]} times (shared weights) and has a "
                                 f"regularizer; glassnet does not support regularized shared layers yet")
        return layers

    def _link(self):
        """Index the graph: per node its layer, the nodes it reads, whether its layer is shared."""
        position = {id(t): i for i, t in enumerate(self._tensors)}
        self._sources = [[position[id(t)] for t in tensor._inbound] for tensor in self._tensors]
        self._node_layers = [t._layer for t in self._tensors]
        self._input_nodes = [position[id(t)] for t in self._inputs]
        self._many = [isinstance(layer.input_shape, list) for layer in self._node_layers]
        count, self._call_number = {}, []
        for layer in self._node_layers:
            self._call_number.append(count.get(id(layer), 0))
            count[id(layer)] = count.get(id(layer), 0) + 1
        self._shared = [count[id(layer)] > 1 for layer in self._node_layers]
        self._caches = [None] * len(self._tensors)
        # The outputs' nodes.  The step runs an output's layer itself (the fused loss path needs its
        # logits) when nothing else reads that output and the layer is called once: those nodes are
        # skipped by run_forward and run_backward.  With one output, that is always the last node.
        self._head_nodes = [position[id(t)] for t in self._outputs]
        read = {j for src in self._sources for j in src}
        n = len(self._tensors)
        if len(self._outputs) == 1:
            self._step_heads = [True]
        else:
            self._step_heads = [i not in read and not self._shared[i] and bool(self._sources[i])
                                for i in self._head_nodes]
        self._skip = {i for i, ran in zip(self._head_nodes, self._step_heads) if ran}
        # Nodes that need a gradient: those whose layer has weights and those that feed into them.
        wants = []
        for i, layer in enumerate(self._node_layers):
            wants.append(bool(layer.params) or any(wants[j] for j in self._sources[i]))
        wants[0] = wants[0] or self._need_input_grad       # a layer of another model: dL/d(our input)
        self._wants = wants
        for layer in self.layers:
            layer.need_input_grad = False
        for i, layer in enumerate(self._node_layers):
            layer.need_input_grad = layer.need_input_grad or any(wants[j] for j in self._sources[i])

    # ------------------------------------------------------------------
    # The step's interface (models/model.py)
    # ------------------------------------------------------------------
    def run_forward(self, x, training, call=None):
        """Every call but the outputs' calls the step runs, in topological order: the output layer's
        input(s); with several outputs a list, per output, of its layer's input(s) when the step runs
        that layer (model.output_nodes) and else of the output itself.

        A shared layer's call keeps what its backward needs (a shallow copy of the layer's
        attributes, computed into fresh arrays), to be put back before that call's backward."""
        nodes = self._node_layers
        values = [None] * len(nodes)
        if len(self._inputs) > 1:
            for i, array in zip(self._input_nodes, x.arrays):
                values[i] = array if call is None else call(i, nodes[i], array)
        else:
            values[0] = x if call is None else call(0, nodes[0], x)
        sources, many, shared, skip = self._sources, self._many, self._shared, self._skip
        for i in range(1, len(nodes)):
            src, layer = sources[i], nodes[i]
            if not src or i in skip:                 # another Input (its array is in values), or the step's
                if shared[i]:
                    layer._reuse = False
                continue
            h = [values[j] for j in src] if many[i] else values[src[0]]
            if shared[i]:
                layer._reuse = False                 # each call needs its own arrays
            values[i] = layer.forward(h, training=training) if call is None else call(i, layer, h)
            if shared[i]:
                self._caches[i] = dict(layer.__dict__)
        if len(self._outputs) == 1:
            return self._input_of(values, len(nodes) - 1)
        return [self._input_of(values, i) if ran else values[i]
                for i, ran in zip(self._head_nodes, self._step_heads)]

    def _input_of(self, values, i):
        src = self._sources[i]
        return [values[j] for j in src] if self._many[i] else values[src[0]]

    def run_backward(self, d, call=None):
        """From dL/d(the output layer's input(s)) back through every call that needs a gradient;
        with several outputs, d is a list per output of dL/d(its layer's input(s)) when the step ran
        that layer, else dL/d(the output), or None (no loss on that output).
        A tensor read by several calls gets the sum of their gradients, and so does the weight of a
        layer called several times."""
        n = len(self._node_layers)
        grads = [None] * n
        if len(self._outputs) == 1:
            self._send(grads, n - 1, d)
        else:
            for i, ran, g in zip(self._head_nodes, self._step_heads, d):
                if g is None:
                    continue
                if ran:
                    self._send(grads, i, g)
                elif self._wants[i]:
                    grads[i] = g if grads[i] is None else grads[i] + g
        nodes, wants, shared, skip = self._node_layers, self._wants, self._shared, self._skip
        done = {id(nodes[i]) for i in skip}          # the step ran these layers' backward
        for i in range(n - 1, 0, -1):
            if i in skip or not wants[i] or grads[i] is None:
                continue
            g, grads[i], layer = grads[i], None, nodes[i]
            if shared[i]:
                layer.__dict__.update(self._caches[i])
                earlier = [w.copy() for w in layer.grads.values()] if id(layer) in done else None
                done.add(id(layer))
            dx = layer.backward(g) if call is None else call(i, layer, g)
            if shared[i]:                            # the recorder saw this call's own gradients
                for mine, before in zip(layer.grads.values(), earlier or ()):
                    mine += before
            if layer.need_input_grad:
                self._send(grads, i, dx)
        return grads[0]

    def _set_input_grads(self):
        self._link()

    def _send(self, grads, i, dx):
        """Add dL/d(node i's input(s)) to the gradients of the tensors it read."""
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
        return list(self._inputs)

    @property
    def input_shape(self):
        """(None, ...) of the input; a list of them for a model with several inputs (as Keras)."""
        shapes = [tuple(t.shape) for t in self._inputs]
        return shapes if len(shapes) > 1 else shapes[0]

    def _check_x(self, x, what="x"):
        """x for the inputs: one array, or with several inputs a list (in inputs order) or a dict
        keyed by the Inputs' names, each checked against its Input; a Several of them."""
        n = len(self._inputs)
        if n == 1:
            if isinstance(x, (list, tuple)) and len(x) == 1 and not np.isscalar(x[0]) and np.ndim(x[0]) >= 2:
                x = x[0]
            return super()._check_x(x, what)
        if isinstance(x, Several):                  # checked already (compute_gradients, gradient_check)
            x = x.arrays
        if isinstance(x, dict):
            unknown = sorted(set(map(str, x)) - set(self._input_keys))
            missing = [k for k in self._input_keys if k not in x]
            if unknown or missing:
                raise ValueError(f"{what} must be a dict keyed by the model's input names {self._input_keys}, "
                                 f"got keys {sorted(map(str, x))}")
            parts, names = [x[k] for k in self._input_keys], [f"{what}[{k!r}]" for k in self._input_keys]
        elif isinstance(x, (list, tuple)):
            if len(x) != n:
                raise ValueError(f"the model has {n} inputs ({', '.join(self._input_keys)}): {what} must be a list "
                                 f"of {n} arrays, got a list of {len(x)}")
            parts, names = list(x), [f"{what}[{i}]" for i in range(n)]
        else:
            raise TypeError(f"the model has {n} inputs ({', '.join(self._input_keys)}): {what} must be a list of "
                            f"{n} arrays or a dict keyed by input name, got {type(x).__name__}")
        arrays = []
        for part, name, t in zip(parts, names, self._inputs):
            part = _checks.one_feature(_checks.as_features(part, name), tuple(t.shape[1:]))
            _checks.check_width(part, tuple(t.shape[1:]), t._layer, name)
            arrays.append(part)
        for part, name in zip(arrays[1:], names[1:]):
            if len(part) != len(arrays[0]):
                raise ValueError(f"{names[0]} and {name} must have the same number of samples, "
                                 f"got {len(arrays[0])} and {len(part)}")
        return Several(arrays)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._input

    @property
    def output(self):
        """The output tensor; a list of them for a model with several outputs (as Keras)."""
        return self._output if len(self._outputs) == 1 else list(self._outputs)

    @property
    def output_names(self):
        """The outputs' names: the keys of a dict of outputs, else the layers that make them.  Keras
        names each output's loss and metrics after them in the History ("digit_loss", "digit_accuracy")."""
        if self._output_keys:
            return list(self._output_keys)
        names, seen = [], {}
        for t in self._outputs:
            name = t._layer.name
            seen[name] = seen.get(name, -1) + 1
            names.append(name if not seen[name] else f"{name}_{seen[name]}")
        return names

    @property
    def calls(self):
        """The layer of each call, in the order forward runs them (a recorder's `index` points
        here): model.layers, except that a layer called several times appears once per call."""
        return list(self._node_layers)

    @property
    def output_calls(self):
        """The position in `calls` of each output's call."""
        return list(self._head_nodes)

    @property
    def output_nodes(self):
        """[(layer, run_by_step)] per output.  run_by_step: the step runs that call of the layer
        itself (nothing else reads the output and the layer is called once), so a loss fused with
        its activation can start from its logits; otherwise run_forward returns the output."""
        return [(self._node_layers[i], ran) for i, ran in zip(self._head_nodes, self._step_heads)]

    @property
    def output_shape(self):
        shapes = [tuple(t.shape) for t in self._outputs]
        return shapes if len(shapes) > 1 else shapes[0]

    def connected_to(self, index):
        """What layers[index] reads, as Keras's summary writes it: ["dense[0][0]", ...] (layer name,
        which of its calls, which output), for each of the layer's calls."""
        layer = self.layers[index]
        return [f"{self._node_layers[j].name}[{self._call_number[j]}][0]"
                for i, node_layer in enumerate(self._node_layers) if node_layer is layer for j in self._sources[i]]

    # ------------------------------------------------------------------
    # Config
    # ------------------------------------------------------------------
    def get_config(self) -> dict:
        """{"name", "layers": [layer specs], "nodes": [{"layer", "inbound": [[layer name, call]], "merge"}],
        "input_layers", "output_layers"}: every layer once, then its calls in topological order."""
        nodes = [{"layer": layer.name, "merge": self._many[i],
                  "inbound": [[self._node_layers[j].name, self._call_number[j]] for j in self._sources[i]]}
                 for i, layer in enumerate(self._node_layers)]
        return {"name": self.name, "layers": [layers_module.serialize(layer) for layer in self.layers],
                "nodes": nodes, "input_layers": [[t._layer.name, 0] for t in self._inputs],
                "output_layers": [[self._node_layers[i].name, self._call_number[i]] for i in self._head_nodes],
                **({"output_keys": list(self._output_keys)} if self._output_keys else {})}

    @classmethod
    def from_config(cls, config, dtype=None, custom_objects=None):
        """The model get_config() describes, with new weights; dtype overrides every layer's;
        custom_objects maps class names to your own layer classes."""
        custom_objects = dict(custom_objects or {})
        dtype = dtype or config.get("dtype")      # set when we are a layer of a model rebuilt in another dtype
        layers = {}
        for spec in config["layers"]:
            name = spec["class_name"]
            layer_cls = custom_objects.get(name) or _registry.lookup("layer", name)
            if layer_cls is None:
                raise ValueError(f"unknown layer class {name!r}; known: {', '.join(sorted(_registry.classes('layer')))}")
            layer_config = dict(spec["config"])
            if dtype is not None:
                layer_config["dtype"] = backend.standardize_dtype(dtype)
            layer = layer_cls.from_config(layer_config)
            layers[layer.name] = layer
        tensors, calls = {}, {}
        for node in config["nodes"]:
            layer = layers[node["layer"]]
            if isinstance(layer, InputLayer):
                out = KerasTensor(layer.output_shape, layer.dtype, layer)
                layer._nodes = [(out, out)]
            else:
                missing = [ref for ref in node["inbound"] if tuple(ref) not in tensors]
                if missing or not node["inbound"]:
                    raise ValueError(f"a call of layer {layer.name!r} reads {missing or 'nothing'}, which no "
                                     f"earlier call of the config makes")
                inbound = [tensors[tuple(ref)] for ref in node["inbound"]]
                out = layer(inbound if node.get("merge") else inbound[0])
            k = calls.get(layer.name, 0)
            calls[layer.name] = k + 1
            tensors[(layer.name, k)] = out
        inputs = [tensors[tuple(ref)] for ref in config["input_layers"]]
        outputs = [tensors[tuple(ref)] for ref in config["output_layers"]]
        keys = config.get("output_keys")
        if keys is not None:
            if not isinstance(keys, list) or len(keys) != len(outputs):
                raise ValueError(f"output_keys must name each of the {len(outputs)} outputs, got {keys!r}")
            outputs = dict(zip(keys, outputs))
        return cls(inputs, outputs, name=config.get("name"))
