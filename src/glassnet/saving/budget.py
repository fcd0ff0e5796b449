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

from .. import _registry
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
    if kind == "Normalization":                      # a mean and a variance per kept feature (axis None: one)
        axis = getattr(layer, "axis", -1)
        return 2 * (1 if axis is None else _size_along(shape, axis))
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


# ======================================================================
# A .glassnet file's config, walked as it will be built
# ======================================================================

MAX_DEPTH = 64                     # models inside models the walk follows; deeper ones are not charged


def charge_config(path, spec, budget, custom_objects=(), shape=None, depth=0, first=False):
    """Walk the model or layer `spec` ({"class_name", "config"} of a .glassnet config.json) as load_model
    will build it, charging `budget` with each layer's weights before anything is built. Returns the
    output shape ((None, ...)), or None where it cannot be told (an odd config, a custom class): the walk
    only charges, and the real build reports whatever else is wrong with the file. `first`: the layer
    comes first in a Sequential, so an input_shape= it declares is the model's."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict) or depth > MAX_DEPTH:
        return None
    kind, config = spec.get("class_name"), spec["config"]
    if not isinstance(kind, str) or kind in custom_objects:
        return None
    try:
        if _registry.lookup("model", kind) is not None:
            if "input_layers" in config:
                return _charge_graph(path, config, budget, custom_objects, depth)
            if config.get("input_shape") is not None:
                shape = (None, *config["input_shape"])
            for i, layer_spec in enumerate(config.get("layers") or ()):
                shape = charge_config(path, layer_spec, budget, custom_objects, shape, depth + 1, first=i == 0)
            return shape
        cls = _registry.lookup("layer", kind)
        if cls is None:
            return None
        layer = cls.from_config(dict(config))
        if first and getattr(layer, "_declared_input_shape", None) is not None:
            shape = (None, *layer._declared_input_shape)         # a Sequential's first layer: its input_shape=
        if shape is None:
            return None
        budget.charge(path, weight_count(layer, shape))
        return _output_shape(layer, shape)
    except ModelFileError:
        raise
    except Exception:                # noqa: BLE001 -- the real build names the fault; the walk only charges
        return None


def _output_shape(layer, shape):
    """(None, ...) after `layer`, or None for a layer of several outputs or an odd answer."""
    out = layer.compute_output_shape(shape)
    if isinstance(out, (list, tuple)) and out and not isinstance(out[0], (list, tuple)):
        return tuple(out)
    return None


def _charge_graph(path, config, budget, custom_objects, depth):
    """A graph model's config: its calls in order, each layer charged at its first call."""
    specs = {s["config"]["name"]: s for s in config["layers"]}
    layers, tensors, calls = {}, {}, {}
    for node in config["nodes"]:
        name = node["layer"]
        k = calls[name] = calls.get(name, -1) + 1
        try:
            tensors[(name, k)] = _charge_call(path, specs[name], node, k, layers, tensors, budget, custom_objects,
                                              depth)
        except ModelFileError:
            raise
        except Exception:            # noqa: BLE001 -- as in charge_config: this call's shape is unknown
            tensors[(name, k)] = None
    outputs = config["output_layers"]
    return tensors.get(tuple(outputs[0])) if len(outputs) == 1 else None


def _charge_call(path, spec, node, k, layers, tensors, budget, custom_objects, depth):
    """The output shape of call `k` of the layer `spec` in a graph; the layer charged at its first call."""
    name = spec["config"]["name"]
    if spec["class_name"] == "InputLayer":
        return (None, *spec["config"]["shape"])
    inbound = [tensors.get(tuple(ref)) for ref in node["inbound"]]
    shape = None if not inbound or None in inbound else inbound if node.get("merge") else inbound[0]
    if spec["class_name"] in custom_objects or _registry.lookup("model", spec["class_name"]) is not None:
        charged = budget if k == 0 else Budget(float("inf"))      # a model called again holds no new weights
        return charge_config(path, spec, charged, custom_objects, shape, depth + 1)
    if name not in layers:
        cls = _registry.lookup("layer", spec["class_name"])
        layers[name] = None if cls is None else cls.from_config(dict(spec["config"]))
        if layers[name] is not None and shape is not None:
            budget.charge(path, weight_count(layers[name], shape))
    return None if layers[name] is None or shape is None else _output_shape(layers[name], shape)
