"""Keras 3 `.keras` configs for glassnet graph models (Functional): one or several inputs, one or
several outputs, any DAG, models used as layers among its layers (keras_nested).

The layout, learnt from files Keras 3 writes:

    {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
     "config": {"name", "trainable", "layers": [...], "input_layers": ..., "output_layers": ...},
     "build_config": {"input_shape": null}}

input_layers and output_layers hold one endpoint [layer name, node index, 0] when there is one, a
list of them when there are several (Model([a, b], ...)), or a dict {key: endpoint} when the model
was made with a dict (Model({"x": a, "y": b}, ...); Keras then wants x as a dict). Several outputs:
[["kind", 0, 0], ["size", 0, 0]] for a list, {"kind": ["kind", 0, 0], ...} for a dict, in the order
given; Keras itself orders a dict's outputs by key (their losses, metrics and evaluate() follow
that order), and so does glassnet when it reads one.  An output other layers read too is written
the same way (its [layer name, node index, 0]).

Each layer spec carries its "name" and "inbound_nodes": one node per call, {"args": [tensor] or
[[tensor, ...]] (a merge layer), "kwargs": {}}, a tensor being {"class_name": "__keras_tensor__",
"config": {"shape", "dtype", "keras_history": [layer name, node index, tensor index]}}.

Keras lists the layers (and numbers the weight groups dense, dense_1, ... under layers/, the
InputLayer included) by depth from the outputs, deepest first, ties in the order a depth-first walk
from the outputs (in Keras's order) first meets them; keras_order computes that order for a
glassnet Functional.
Reading is bounded and checked: every reference must name a layer and a call that exist, and a
graph that never completes (a cycle) is a ModelFileError; nothing recurses on the file's depth.
"""
from __future__ import annotations

from .. import _registry
from .format import ModelFileError
from .budget import weight_count
from .keras_nested import is_model_spec

CONFIG = "config.json"
MERGES = ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
_MAX_NODES = 20_000


def is_graph(model) -> bool:
    return isinstance(model, _registry.lookup("model", "Functional"))


# ======================================================================
# Keras's layer order
# ======================================================================

def keras_outputs(model):
    """The outputs' nodes in the order Keras flattens them: a list in its order, a dict by sorted key
    (Keras's tree.flatten sorts a dict's keys, so its output_names, evaluate() and losses follow)."""
    heads = list(model._head_nodes)
    keys = model._output_keys
    return [i for _, i in sorted(zip(keys, heads))] if keys else heads


def keras_order(model):
    """model's layers (InputLayer included) in the order Keras lists them for the same graph: by depth
    (calls from the deepest output), deepest first, ties in the order a depth-first walk from the
    outputs first meets them."""
    nodes, sources = model._node_layers, model._sources
    order, index, seen = [], {}, set()          # order: every call after the calls it reads
    for out in keras_outputs(model):
        stack = [(out, False)]
        while stack:
            i, finished = stack.pop()
            if finished:
                order.append(i)
                continue
            if i in seen:
                continue
            seen.add(i)
            index.setdefault(id(nodes[i]), len(index))
            stack.append((i, True))
            stack.extend((j, False) for j in reversed(sources[i]))
    depth, layer_depth = {}, {}
    for i in reversed(order):                   # consumers before the calls they read
        d = max(depth.get(i, 0), layer_depth.get(id(nodes[i]), 0))
        layer_depth[id(nodes[i])] = depth[i] = d
        for j in sources[i]:
            depth[j] = max(depth.get(j, 0), d + 1)
    return sorted(model.layers, key=lambda layer: (-layer_depth[id(layer)], index[id(layer)]))


# ======================================================================
# Writing
# ======================================================================

def _endpoint_value(refs, keys=None):
    """input_layers / output_layers as Keras writes them: one [name, node, 0], a list of several, or
    a dict keyed by `keys`."""
    if keys is not None:
        return dict(zip(keys, refs))
    return refs[0] if len(refs) == 1 else refs


def graph_config(model, trainable=True) -> dict:
    """The config.json of a Keras 3 `.keras` file describing the glassnet Functional `model` (without
    its compile settings); `trainable`: False inside a model that is not trainable."""
    from .keras_file import _layer_spec, _policy, _spec
    from .keras_nested import is_model
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
            config = {"name": layer.name, "trainable": layer.trainable and trainable, "dtype": _policy(layer.dtype)}
            if kind == "Concatenate":
                config["axis"] = layer.axis
            spec = {"module": "keras.layers", "class_name": kind, "config": config, "registered_name": None,
                    "build_config": {"input_shape": [[None, *s[1:]] for s in layer.input_shape]}}
        else:
            spec = _layer_spec(layer, trainable)
        spec["name"] = layer.name
        kwargs = {"mask": None} if is_model(layer) else {}
        spec["inbound_nodes"] = [
            {"args": [[ref(j) for j in model._sources[i]]] if model._many[i] else [ref(model._sources[i][0])],
             "kwargs": dict(kwargs)}
            for i in range(1, len(nodes)) if nodes[i] is layer and model._sources[i]]
        specs.append(spec)
    inputs = [[nodes[i].name, 0, 0] for i in model._input_nodes]
    keys = model._input_keys if model._input_keys != [ref[0] for ref in inputs] else None
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": model.name, "trainable": trainable, "layers": specs,
                       "input_layers": _endpoint_value(inputs, keys),
                       "output_layers": _endpoint_value([[nodes[i].name, calls[i], 0] for i in model._head_nodes],
                                                        model._output_keys)},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


# ======================================================================
# Reading
# ======================================================================

_MAX_ENDPOINTS = 1_000


def _endpoints(path, value, what):
    """([key or None], [[name, node, 0], ...]) from input_layers / output_layers: one endpoint, a list
    of them, or a dict of them (keys kept: the model is then made with a dict)."""
    keys = None
    if isinstance(value, dict):
        keys, value = list(value), list(value.values())
        if not all(isinstance(k, str) for k in keys):
            raise ModelFileError(path, f"{CONFIG}: {what}_layers has keys that are not strings")
    elif isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        pass
    else:
        value = [value]
    if not value or len(value) > _MAX_ENDPOINTS:
        raise ModelFileError(path, f"{CONFIG}: {what}_layers names {len(value)} {what}s; expected 1 to "
                                   f"{_MAX_ENDPOINTS}")
    for ref in value:
        if not (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str)
                and all(isinstance(v, int) and not isinstance(v, bool) for v in ref[1:])):
            raise ModelFileError(path, f"{CONFIG}: {what}_layers holds {ref!r:.80}; expected [layer name, node, 0]")
        if ref[2] != 0:
            raise ModelFileError(path, f"{CONFIG}: {what}_layers names output {ref[2]} of layer {ref[0]!r}; "
                                       f"glassnet layers have one output")
    return keys, value


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


def build_graph(path, config, custom_objects, budget, chain=()):
    """A glassnet Functional from a Keras Functional spec (weights not yet set); `budget`: the
    budget.Budget its weights are charged to; `chain`: the models it sits in."""
    from .keras_file import _checked_shape, _layer
    from .keras_nested import inner_model
    from ..layers.core import Input
    body = config["config"]
    specs = body["layers"]
    if not isinstance(specs, list) or not specs:
        raise ModelFileError(path, f"{CONFIG}: the model's layers are not a non-empty list")
    input_keys, input_refs = _endpoints(path, body.get("input_layers"), "input")
    output_keys, output_refs = _endpoints(path, body.get("output_layers"), "output")
    layers, nodes, total = {}, {}, 0
    for spec in specs:
        if not isinstance(spec, dict):
            raise ModelFileError(path, f"{CONFIG}: a layer spec is not an object")
        kind = spec.get("class_name")
        name = spec.get("name") or (spec.get("config") or {}).get("name")
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
        if is_model_spec(spec) and kind not in custom_objects:
            layers[name] = inner_model(path, spec, custom_objects, budget, chain)
        elif kind in MERGES and kind not in custom_objects:
            layers[name] = _merge_layer(path, spec)
        else:
            layers[name] = _layer(path, spec, custom_objects)
        nodes[name] = [_refs(path, node, f"layer {name!r}") for node in inbound]
    for ref in input_refs:
        if type(layers.get(ref[0])).__name__ != "KerasTensor" or ref[1] != 0:
            raise ModelFileError(path, f"{CONFIG}: input_layers names {ref[0]!r:.80} node {ref[1]}, "
                                       f"not an InputLayer of the model")
    if len({ref[0] for ref in input_refs}) != len(input_refs):
        raise ModelFileError(path, f"{CONFIG}: input_layers names an InputLayer twice")
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
    made = 0
    while ready:
        name, k = ready.pop()
        refs, many = nodes[name][k]
        inputs = [tensors[r] for r in refs]
        _count(path, layers[name], inputs, budget)
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
    outputs = []
    for ref in output_refs:
        if tuple(ref[:2]) not in tensors:
            raise ModelFileError(path, f"{CONFIG}: output_layers names call {ref[1]} of {ref[0]!r}, "
                                       f"which the model does not have")
        outputs.append(tensors[tuple(ref[:2])])
    inputs = [tensors[(ref[0], 0)] for ref in input_refs]
    inputs = dict(zip(input_keys, inputs)) if input_keys is not None else inputs if len(inputs) > 1 else inputs[0]
    if output_keys is not None:                # in Keras's order (it sorts a dict's keys): keras_outputs
        outputs = dict(sorted(zip(output_keys, outputs), key=lambda pair: pair[0]))
    elif len(outputs) == 1:
        outputs = outputs[0]
    try:
        return _registry.lookup("model", "Functional")(inputs, outputs, name=body.get("name"))
    except (TypeError, ValueError) as err:
        raise ModelFileError(path, f"{CONFIG} does not describe a graph glassnet can build: {err}") from err


def _count(path, layer, inputs, budget):
    """Charge the budget, before the layer allocates them, with the weights of a layer not yet built
    (an inner model is built, and charged, already)."""
    budget.charge(path, weight_count(layer, [tuple(t.shape) for t in inputs] if len(inputs) > 1
                                     else tuple(inputs[0].shape)))
