"""Keras 3 files for models inside models (a Sequential or Functional used as a layer), and the
reader that builds any model a config.json describes: a Sequential here, a graph in keras_graph,
each of them free to hold models, at most MAX_NESTING deep.

The layout, learnt from files Keras 3 writes:

    config.json   a model used as a layer is a layer spec that is itself a whole model spec:
                    {"module": "keras", "class_name": "Sequential", "config": {"name", "trainable",
                     "layers": [InputLayer, ...], "build_input_shape"}, "registered_name": null,
                     "build_config": {"input_shape": [null, ...]}, "compile_config": {}}
                  or {"module": "keras.src.models.functional", "class_name": "Functional", "config":
                     {..., "input_layers", "output_layers"}, "registered_name": "Functional",
                     "build_config": {"input_shape": null}, "compile_config": {}};
                  inside a graph it also has "name" and "inbound_nodes" (its calls' kwargs: {"mask": null}).
                  An inner Sequential lists an InputLayer first even when it was built without one.
    weights       layers/<group>/vars (attribute name=<the inner model's name>, no datasets) and
                  layers/<group>/layers/... : the inner model's own layers, laid out as a top-level
                  model's are (a Sequential's InputLayer left out, a Functional's included); <group> is
                  "sequential" or "functional", numbered like any other class (sequential_1, ...).
    optimizer     Keras's trainable variables go layer by layer in Keras's order, into an inner
                  model's layers where it stands (keras_leaves).

A model's trainable=False is written on its layers too (Keras sets it on every sublayer).
Reading refuses models nested deeper than MAX_NESTING, naming them; nothing recurses further.
"""
from __future__ import annotations

from .. import _registry
from .budget import weight_count
from .format import CONFIG, ModelFileError, building

MAX_NESTING = 8                        # models inside models inside ... the file's outermost model
MODEL_CLASSES = ("Sequential", "Functional")


def _names(chain):
    """'outer' > 'inner': a nested model named with the models it sits in."""
    return " > ".join(repr(name) for name in chain)


def is_model(layer) -> bool:
    return isinstance(layer, tuple(_registry.lookup("model", name) for name in MODEL_CLASSES))


def is_model_spec(spec) -> bool:
    return isinstance(spec, dict) and spec.get("class_name") in (*MODEL_CLASSES, "Model")


# ======================================================================
# Reading
# ======================================================================

def build(path, config, custom_objects, budget, chain=()):
    """The glassnet Sequential or Functional a Keras model spec describes (weights not yet set);
    `chain`: the names of the models it sits in, outermost first."""
    from . import keras_graph
    kind = config.get("class_name")
    if kind not in MODEL_CLASSES:
        where = f"the layer {_names(chain)} is" if chain else "it describes"
        raise ModelFileError(path, f"{CONFIG}: {where} a {kind!r:.60} model; glassnet reads Keras Sequential "
                                   f"and Functional models only")
    body = config.get("config")
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        where = f"the model {_names(chain)}" if chain else "the model"
        raise ModelFileError(path, f"{CONFIG}: {where} ({kind}) has no list of layers")
    with building(path):
        if kind == "Functional":
            return keras_graph.build_graph(path, config, custom_objects, budget, chain)
        return build_sequential(path, config, custom_objects, budget, chain)


def inner_model(path, spec, custom_objects, budget, chain):
    """A model used as a layer, from its spec (a whole model spec), one level deeper than `chain`."""
    name = spec.get("name") or (spec.get("config") or {}).get("name")
    inner_chain = (*chain, str(name)[:60])
    if len(inner_chain) > MAX_NESTING:
        raise ModelFileError(path, f"{CONFIG}: the model {_names(inner_chain)} is nested {len(inner_chain)} "
                                   f"models deep; glassnet reads models nested at most {MAX_NESTING} deep")
    model = build(path, spec, custom_objects, budget, inner_chain)
    if isinstance(spec.get("name"), str):
        model.name = spec["name"]              # the name the outer graph's references use
    trainable = (spec.get("config") or {}).get("trainable", True)
    if not isinstance(trainable, bool):
        raise ModelFileError(path, f"{CONFIG}: the model {name!r} has trainable={trainable!r:.40}, not true or false")
    model.trainable = trainable
    return model


def build_sequential(path, config, custom_objects, budget, chain=()):
    """A glassnet Sequential from a Keras Sequential spec."""
    from .keras_file import _checked_shape, _layer
    body = config["config"]
    specs = body["layers"]
    model = _registry.lookup("model", "Sequential")(name=body.get("name"))
    shape, features = None, None
    for spec in specs:
        if not isinstance(spec, dict):
            raise ModelFileError(path, f"{CONFIG}: a layer spec is not an object")
        if spec.get("class_name") == "InputLayer":
            c = spec["config"]
            batch_shape = c.get("batch_shape") or c.get("batch_input_shape")
            shape = batch_shape[1:] if batch_shape is not None else c["shape"]
            continue
        if shape is None:
            built = spec.get("build_config") or config.get("build_config") or {}
            if built.get("input_shape") is not None:
                shape = built["input_shape"][1:]
        if shape is not None and not model.layers:
            model._input_feature_shape = features = _checked_shape(path, shape)
        if is_model_spec(spec):
            layer = inner_model(path, spec, custom_objects, budget, chain)
            if features is not None and tuple(layer.input_shape[1:]) != features:
                raise ModelFileError(path, f"{CONFIG}: the model {layer.name!r} takes inputs of shape "
                                           f"{tuple(layer.input_shape[1:])}, but receives {features}")
            features = tuple(layer.output_shape[1:])     # it is built: what follows is charged from here
        else:
            layer = _layer(path, spec, custom_objects)
            if features is not None:
                features = _grow(path, layer, features, budget)
        model.add(layer)
    if not model.layers:
        raise ModelFileError(path, f"{CONFIG} describes a model without layers")
    if model._input_feature_shape is None:
        raise ModelFileError(path, f"{CONFIG} does not give the input shape (the Keras model was never built)")
    model._require_built()
    return model


def _grow(path, layer, features, budget):
    """The features after `layer`; its weights charged to the budget before it allocates them."""
    if type(layer).__name__ == "Flatten":
        total = 1
        for d in features:
            total *= d
        return (total,)
    budget.charge(path, weight_count(layer, (None, *features)))
    try:                                             # Reshape, pooling, Embedding change the shape
        return tuple(layer.compute_output_shape((None, *features))[1:])
    except (ValueError, TypeError, IndexError) as err:
        raise ModelFileError(path, f"{CONFIG}: layer {layer.name!r} cannot take inputs of shape {features}: "
                                   f"{err}") from err


# ======================================================================
# Writing and weights
# ======================================================================

def nesting_depth(model, limit=MAX_NESTING + 1) -> int:
    """How many models deep `model`'s layers go (0: no model among its layers), counted up to `limit`."""
    depth, level = 0, [model]
    while depth < limit:
        level = [layer for m in level for layer in m.layers if is_model(layer)]
        if not level:
            break
        depth += 1
    return depth


def keras_leaves(model):
    """The layers that hold weights, inner models opened up, in the order Keras keeps a model's
    variables (each model's layers in Keras's order)."""
    from .keras_weights import weight_groups
    return [layer for layer, _ in weight_groups(model) if not is_model(layer)]
