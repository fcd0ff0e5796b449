"""Keras 3 `.keras` configs for glassnet graph models (Functional): one input, one output, any DAG.

The layout, learnt from files Keras 3 writes:

    {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
     "config": {"name", "trainable", "layers": [...], "input_layers": [name, 0, 0],
                "output_layers": [name, node, 0]}, "build_config": {"input_shape": null}}

Each layer spec carries its "name" and "inbound_nodes": one node per call, {"args": [tensor] or
[[tensor, ...]] (a merge layer), "kwargs": {}}, a tensor being {"class_name": "__keras_tensor__",
"config": {"shape", "dtype", "keras_history": [layer name, node index, tensor index]}}.

Keras lists the layers (and numbers the weight groups dense, dense_1, ... under layers/, the
InputLayer included) by depth from the output, deepest first, ties in the order a walk from the
output first meets them; keras_order computes that order for a glassnet Functional.
Reading is bounded and checked: every reference must name a layer and a call that exist, and a
graph that never completes (a cycle) is a ModelFileError; nothing recurses on the file's depth.
"""
from __future__ import annotations

from .. import _registry
from .format import ModelFileError

CONFIG = "config.json"
MERGES = ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
_MAX_NODES = 20_000
_MODELS = ("Functional", "Sequential", "Model")


def is_graph(model) -> bool:
    return isinstance(model, _registry.lookup("model", "Functional"))


# ======================================================================
# Keras's layer order
# ======================================================================

def keras_order(model):
    """model's layers (InputLayer included) in the order Keras lists them for the same graph."""
    nodes, sources = model._node_layers, model._sources
    last = len(nodes) - 1
    depth, layer_depth = [0] * len(nodes), {}
    for i in range(last, -1, -1):                      # consumers before the nodes they read
        d = max(depth[i], layer_depth.get(id(nodes[i]), 0))
        layer_depth[id(nodes[i])] = depth[i] = d
        for j in sources[i]:
            depth[j] = max(depth[j], d + 1)
    index, seen, stack = {}, set(), [last]             # pre-order walk from the output
    while stack:
        i = stack.pop()
        index.setdefault(id(nodes[i]), len(index))
        if i in seen:
            continue
        seen.add(i)
        stack.extend(reversed(sources[i]))
    return sorted(model.layers, key=lambda layer: (-layer_depth[id(layer)], index[id(layer)]))


# ======================================================================
# Writing
# ======================================================================

def graph_config(model) -> dict:
    """The config.json of a Keras 3 `.keras` file describing the glassnet Functional `model`."""
    from . import keras_compile
    from .keras_file import _layer_spec, _policy, _spec
    model._require_built()
    nodes, calls = model._node_layers, model._call_number

    def ref(j):
        t = model._tensors[j]
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None, *t.shape[1:]], "dtype": model.dtype,
                           "keras_history": [nodes[j].name, calls[j], 0]}}

    specs = []
    for layer in keras_order(model):
        kind = type(layer).__name__
        if kind == "InputLayer":
            spec = _spec("InputLayer", {"batch_shape": [None, *layer.output_shape[1:]], "dtype": layer.dtype,
                                        "sparse": False, "ragged": False, "name": layer.name, "optional": False})
        elif kind in MERGES:
            config = {"name": layer.name, "trainable": layer.trainable, "dtype": _policy(layer.dtype)}
            if kind == "Concatenate":
                config["axis"] = layer.axis
            spec = {"module": "keras.layers", "class_name": kind, "config": config, "registered_name": None,
                    "build_config": {"input_shape": [[None, *s[1:]] for s in layer.input_shape]}}
        else:
            spec = _layer_spec(layer)
        spec["name"] = layer.name
        spec["inbound_nodes"] = [
            {"args": [[ref(j) for j in model._sources[i]]] if model._many[i] else [ref(model._sources[i][0])],
             "kwargs": {}}
            for i in range(1, len(nodes)) if nodes[i] is layer]
        specs.append(spec)
    config = {"module": "keras.src.models.functional", "class_name": "Functional",
              "config": {"name": model.name, "trainable": True, "layers": specs,
                         "input_layers": [nodes[0].name, 0, 0],
                         "output_layers": [nodes[-1].name, calls[-1], 0]},
              "registered_name": "Functional", "build_config": {"input_shape": None}}
    compiled = keras_compile.to_keras(model) if model.compiled else None
    if compiled is not None:
        config["compile_config"] = compiled
    return config


# ======================================================================
# Reading
# ======================================================================

def _endpoint(path, value, what):
    """[name, node, 0] (or a list of one such) from input_layers / output_layers."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if len(value) != 1:
            raise ModelFileError(path, f"{CONFIG} describes a model with {len(value)} {what}s; glassnet graph "
                                       f"models have one input and one output")
        value = value[0]
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])):
        raise ModelFileError(path, f"{CONFIG}: {what}_layers is {value!r:.80}; expected [layer name, node, 0]")
    return value


def _refs(path, node, where):
    """The keras_history of each tensor a node reads, and whether it reads a list (a merge)."""
    if not isinstance(node, dict) or not isinstance(node.get("args"), list) or len(node["args"]) != 1:
        raise ModelFileError(path, f"{CONFIG}: {where} has a node that is not {{'args': [tensor(s)], ...}}")
    kwargs = node.get("kwargs") or {}
    # Keras writes {"mask": null} for some layers and {"training": false} for Dropout: both are the default
    set_kwargs = sorted(k for k, v in kwargs.items() if v is not None and not (k == "training" and v is False)) \
        if isinstance(kwargs, dict) else [kwargs]
    if set_kwargs:
        raise ModelFileError(path, f"{CONFIG}: {where} is called with the arguments {set_kwargs!r:.80}, "
                                   f"which glassnet does not support")
    arg = node["args"][0]
    many = isinstance(arg, list)
    refs = []
    for tensor in (arg if many else [arg]):
        history = tensor.get("config", {}).get("keras_history") if isinstance(tensor, dict) else None
        if not (isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__"
                and isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
                and all(isinstance(v, int) and not isinstance(v, bool) for v in history[1:])):
            raise ModelFileError(path, f"{CONFIG}: {where} reads {tensor!r:.100}, not a Keras tensor reference")
        if history[2] != 0:
            raise ModelFileError(path, f"{CONFIG}: {where} reads output {history[2]} of layer {history[0]!r}; "
                                       f"glassnet layers have one output")
        refs.append((history[0], history[1]))
    return refs, many


def _merge_layer(path, spec):
    from .keras_file import _dtype
    c = spec.get("config") or {}
    where = f"layer {c.get('name')!r} ({spec['class_name']})"
    kwargs = {"name": c.get("name"), "dtype": _dtype(path, c, where), "trainable": c.get("trainable", True)}
    if spec["class_name"] == "Concatenate":
        kwargs["axis"] = c.get("axis", -1)
    try:
        return _registry.lookup("layer", spec["class_name"])(**kwargs)
    except (TypeError, ValueError) as err:
        raise ModelFileError(path, f"{CONFIG}: {where} cannot be built in glassnet: {err}") from err


def build_graph(path, config, custom_objects, max_elements):
    """A glassnet Functional from a Keras Functional config.json (weights not yet set)."""
    from .keras_file import _checked_shape, _layer
    from ..layers.core import Input
    body = config["config"]
    specs = body["layers"]
    if not isinstance(specs, list) or not specs:
        raise ModelFileError(path, f"{CONFIG}: the model's layers are not a non-empty list")
    input_ref = _endpoint(path, body.get("input_layers"), "input")
    output_ref = _endpoint(path, body.get("output_layers"), "output")
    layers, nodes, total = {}, {}, 0
    for spec in specs:
        if not isinstance(spec, dict):
            raise ModelFileError(path, f"{CONFIG}: a layer spec is not an object")
        kind = spec.get("class_name")
        name = spec.get("name") or (spec.get("config") or {}).get("name")
        if kind in _MODELS:
            raise ModelFileError(path, f"{CONFIG}: layer {name!r} is a nested {kind} model; glassnet does not "
                                       f"read nested models")
        if not isinstance(name, str) or name in layers:
            raise ModelFileError(path, f"{CONFIG}: a layer has the missing or repeated name {name!r:.80}")
        inbound = spec.get("inbound_nodes", [])
        if not isinstance(inbound, list):
            raise ModelFileError(path, f"{CONFIG}: layer {name!r} has inbound_nodes that are not a list")
        total += len(inbound)
        if total > _MAX_NODES:
            raise ModelFileError(path, f"{CONFIG} describes more than {_MAX_NODES} layer calls")
        if kind == "InputLayer":
            c = spec.get("config") or {}
            shape = c.get("batch_shape") or c.get("batch_input_shape")
            shape = _checked_shape(path, shape[1:] if isinstance(shape, list) else c.get("shape"))
            layers[name] = Input(shape=shape, name=name, dtype=c.get("dtype") or None)
            nodes[name] = []
            continue
        layers[name] = _merge_layer(path, spec) if kind in MERGES and kind not in custom_objects \
            else _layer(path, spec, custom_objects)
        nodes[name] = [_refs(path, node, f"layer {name!r}") for node in inbound]
    if type(layers.get(input_ref[0])).__name__ != "KerasTensor" or input_ref[1] != 0:
        raise ModelFileError(path, f"{CONFIG}: input_layers names {input_ref[0]!r} node {input_ref[1]}, "
                                   f"not an InputLayer of the model")
    for name, calls in nodes.items():
        for refs, _ in calls:
            for source, k in refs:
                if source not in nodes:
                    raise ModelFileError(path, f"{CONFIG}: layer {name!r} reads the layer {source!r}, which the "
                                               f"model does not have")
                count = 1 if type(layers[source]).__name__ == "KerasTensor" else len(nodes[source])
                if not 0 <= k < count:
                    raise ModelFileError(path, f"{CONFIG}: layer {name!r} reads call {k} of layer {source!r}, "
                                               f"which has {count} call(s)")
    tensors = {(n, 0): t for n, t in layers.items() if type(t).__name__ == "KerasTensor"}
    # each call waits for the tensors it reads and for its layer's previous call (Kahn's algorithm:
    # linear in the number of calls, whatever order the file lists them in)
    waiting, readers, ready = {}, {}, []
    for name, calls in nodes.items():
        for k, (refs, _) in enumerate(calls):
            needs = {r for r in refs if r not in tensors} | ({(name, k - 1)} if k else set())
            waiting[(name, k)] = len(needs)
            for r in needs:
                readers.setdefault(r, []).append((name, k))
            if not needs:
                ready.append((name, k))
    elements, made = 0, 0
    while ready:
        name, k = ready.pop()
        refs, many = nodes[name][k]
        inputs = [tensors[r] for r in refs]
        elements = _count(path, layers[name], inputs, elements, max_elements)
        try:
            tensors[(name, k)] = layers[name](inputs if many else inputs[0])
        except (TypeError, ValueError) as err:
            raise ModelFileError(path, f"{CONFIG}: call {k} of layer {name!r} fails: {err}") from err
        made += 1
        for reader in readers.pop((name, k), ()):
            waiting[reader] -= 1
            if not waiting[reader]:
                ready.append(reader)
    if made != len(waiting):
        stuck = sorted({n for (n, k), count in waiting.items() if count})
        raise ModelFileError(path, f"{CONFIG}: the layers {', '.join(stuck)[:200]} read each other in a cycle; "
                                   f"a model is a graph without cycles")
    output = tensors.get(tuple(output_ref[:2]))
    if output is None:
        raise ModelFileError(path, f"{CONFIG}: output_layers names call {output_ref[1]} of {output_ref[0]!r}, "
                                   f"which the model does not have")
    try:
        return _registry.lookup("model", "Functional")(tensors[(input_ref[0], 0)], output, name=body.get("name"))
    except (TypeError, ValueError) as err:
        raise ModelFileError(path, f"{CONFIG} does not describe a graph glassnet can build: {err}") from err


def _count(path, layer, inputs, total, max_elements):
    """Refuse, before the layer allocates them, more weights than the weights file can hold."""
    kind = type(layer).__name__
    if not getattr(layer, "built", False):
        features = inputs[0].shape[-1] if inputs[0].shape else 1
        if kind == "Dense":
            total += features * layer.units + layer.units
        elif kind == "BatchNormalization":
            total += 4 * features
        if total > max_elements:
            raise ModelFileError(path, f"{CONFIG} describes a model of more than {total} weights, far more than "
                                       f"its weights file holds: it is damaged or hostile")
    return total
