"""A built model as an ONNX graph, and the file written from it (Model.export(path, format="onnx")).

The model is walked as predict runs it: a Sequential layer by layer, a graph model call by call in
topological order (one ONNX tensor per call's output, so a tensor read by several layers is computed
once), a model used as a layer opened up in place. Each layer becomes a few ONNX nodes (layer_ops.py,
spatial_ops.py); the graph's inputs and outputs carry the model's float type and a dynamic batch axis.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..._version import __version__
from ...models.model import Model
from .. import archive
from ..format import as_path, check_overwrite
from . import layer_ops, spatial_double, spatial_ops
from .graph import DEFAULT_OPSET, MIN_OPSET, Graph
from .layer_ops import NotExportable

CONVERTERS = {**layer_ops.CONVERTERS, **spatial_ops.CONVERTERS}
#: what Keras 3's Model.export knows besides "onnx"; glassnet writes ONNX only
KERAS_FORMATS = ("tf_saved_model", "openvino", "litert")


def import_onnx():
    """The onnx package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("exporting to ONNX needs the onnx package: pip install 'glassnet[onnx]' "
                          "(onnx, and onnxruntime to run the exported file)") from None
    return onnx


def check_opset(opset, onnx):
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset_version must be an int from {MIN_OPSET} to {newest} (the newest the installed "
                         f"onnx {onnx.__version__} knows), got {opset!r}")
    return int(opset)


def to_onnx(model, opset_version=None, input_signature=None):
    """The onnx.ModelProto of a built glassnet model (nothing written). Raises ValueError naming the
    layer for anything without an ONNX form."""
    onnx = import_onnx()
    opset = check_opset(opset_version, onnx)
    if not isinstance(model, Model):
        raise TypeError(f"to_onnx exports a glassnet model (Sequential or Model), got {type(model).__name__}")
    if not model.built:
        raise ValueError(f"model {model.name!r} is not built, so its input shape and weights are unknown: give the "
                         f"first layer input_shape=, start with gn.layers.Input(shape=...), or call build, fit or "
                         f"predict before exporting")
    g = Graph(onnx, opset, model.dtype)
    inputs = _input_specs(model, input_signature)
    names = [g.reserve(name) for name, _ in inputs]
    n_out = len(model.outputs) if hasattr(model, "_input_keys") else 1
    out_names = [g.reserve(name) for name in _output_names(model, n_out)]    # claimed before any layer's
    outs = _convert_model(g, model, names if len(names) > 1 else names[0])
    outs = outs if isinstance(outs, list) else [outs]
    shapes = model.output_shape if len(outs) > 1 else [model.output_shape]
    batch = inputs[0][1][0]
    outputs = []
    for out, name, shape in zip(outs, out_names, shapes):
        g.nodes.append(onnx.helper.make_node("Identity", [out], [name], name=g.name("output_" + name)))
        outputs.append((name, (batch,) + tuple(shape[1:])))
    return g.model(inputs, outputs, model.name, __version__)


def export_onnx(model, filepath, verbose=None, input_signature=None, opset_version=None, overwrite=True) -> Path:
    """Write `model` to an ONNX file at `filepath` (atomically); return the path."""
    path = as_path(filepath)
    proto = to_onnx(model, opset_version=opset_version, input_signature=input_signature)
    check_overwrite(path, overwrite)
    data = proto.SerializeToString()
    archive.atomic_write(path, lambda fileobj: fileobj.write(data), overwrite=overwrite)   # errors name the file
    if verbose or verbose is None:
        print(f"Saved the ONNX model (opset {proto.opset_import[0].version}) to '{path}'.")
    return path


# -- the walk ---------------------------------------------------------------------------------------------------
def _convert_model(g, model, x):
    """The output name(s) of `model` run on the tensor(s) named x."""
    if hasattr(model, "_node_layers"):                 # a graph model (Functional)
        return _convert_graph(g, model, x)
    for layer in model.layers:
        x = _convert_layer(g, layer, x)
    return x


def _convert_graph(g, model, x):
    layers, sources = model._node_layers, model._sources
    values = [None] * len(layers)
    if len(model._input_nodes) > 1:
        for i, name in zip(model._input_nodes, x):
            values[i] = name
    else:
        values[model._input_nodes[0]] = x
    for i, layer in enumerate(layers):
        if not sources[i]:                             # an Input: its tensor is set above
            continue
        h = [values[j] for j in sources[i]] if model._many[i] else values[sources[i][0]]
        values[i] = _convert_layer(g, layer, h)
    outs = [values[i] for i in model._head_nodes]
    return outs if len(outs) > 1 else outs[0]


def _convert_layer(g, layer, x):
    if isinstance(layer, Model):                       # a model used as a layer: its layers, in place
        return _convert_model(g, layer, x)
    name = type(layer).__name__
    convert = CONVERTERS.get(name)
    if g.dtype == np.float64 and name in spatial_double.CONVERTERS:   # no float64 Conv/AveragePool/Resize in ORT
        convert = spatial_double.CONVERTERS[name]
    if convert is None or not type(layer).__module__.startswith("glassnet."):
        known = ", ".join(sorted(CONVERTERS))
        raise NotExportable(f"cannot export {name} {layer.name!r} to ONNX: glassnet has no ONNX mapping for this "
                            f"layer class (a layer written outside glassnet runs Python code ONNX cannot hold); "
                            f"the layers that export are: {known}")
    try:
        return convert(g, layer, x)
    except NotExportable as e:
        raise NotExportable(f"cannot export {name} {layer.name!r} to ONNX: {e}") from None


# -- inputs and outputs --------------------------------------------------------------------------------------
def _input_specs(model, input_signature):
    """[(name, (batch, *features))] of the graph's inputs; batch None (dynamic) unless the signature fixes it."""
    if hasattr(model, "_input_keys"):
        names = list(model._input_keys)
        shapes = [tuple(t.shape) for t in model.inputs]
    else:
        names, shapes = ["input"], [tuple(model.input_shape)]
    if input_signature is None:
        return [(n, (None,) + s[1:]) for n, s in zip(names, shapes)]
    if isinstance(input_signature, dict):                # keyed by input name, as Keras takes it too
        if sorted(map(str, input_signature)) != sorted(names):
            raise ValueError(f"input_signature as a dict must be keyed by the model's input names {names}, got "
                             f"keys {sorted(map(str, input_signature))}")
        input_signature = [input_signature[k] for k in names]
    signature = list(input_signature) if isinstance(input_signature, (list, tuple)) and input_signature \
        and not all(isinstance(d, (int, np.integer, type(None))) for d in input_signature) else [input_signature]
    if len(signature) != len(shapes):
        raise ValueError(f"input_signature must give one shape per model input ({len(shapes)}), got {len(signature)}")
    specs = []
    for name, shape, spec in zip(names, shapes, signature):
        got = tuple(spec.shape) if hasattr(spec, "shape") else tuple(spec)
        dtype = getattr(spec, "dtype", None)
        if dtype is not None and np.dtype(str(dtype)).kind == "f" and np.dtype(str(dtype)) != np.dtype(model.dtype):
            raise ValueError(f"input_signature for input {name!r} is {dtype}, but the model computes in {model.dtype}")
        if len(got) != len(shape) or tuple(got[1:]) != tuple(shape[1:]) or not (
                got[0] is None or (isinstance(got[0], (int, np.integer)) and got[0] > 0)):
            features = ", ".join(map(str, shape[1:]))
            raise ValueError(f"input_signature for input {name!r} must be the shape (batch, {features}) "
                             f"with batch None (any) or a positive int, got {got}")
        specs.append((name, (None if got[0] is None else int(got[0]),) + tuple(shape[1:])))
    return specs


def _output_names(model, n):
    if hasattr(model, "output_names") and hasattr(model, "_input_keys"):
        names = list(model.output_names)
        if len(set(names)) == len(names) == n and not set(names) & set(model._input_keys):
            return names
    return ["output"] if n == 1 else [f"output_{k}" for k in range(n)]
