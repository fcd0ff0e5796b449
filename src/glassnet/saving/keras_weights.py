"""Weights in Keras 3's HDF5 layout (`model.weights.h5` inside a `.keras` file, or a `.weights.h5` file).

The layout, learnt from files Keras 3 writes:

    vars                          a group with the attribute name=<model name>, no datasets
    layers/<group>/vars           a group with the attribute name=<layer name>; datasets "0", "1", ...
                                  (<group> is the layer's class in snake case, numbered when it repeats:
                                  dense, dense_1, batch_normalization, ...; see group_names)
                                  in the layer's weight order (Dense: kernel, bias; BatchNormalization:
                                  gamma, beta, moving_mean, moving_variance), one group per layer
                                  (a Sequential's InputLayer excluded, a graph model's included, in
                                  Keras's layer order: keras_graph.keras_order), weightless layers included
    layers/<group>/layers/...     a model used as a layer (<group>: sequential, functional, ...): its vars
                                  group names it and holds no datasets, its layers lie below as a
                                  top-level model's do (keras_nested; weight_groups gives every path)
    optimizer/vars                (Keras only) the optimizer's variables; glassnet ignores them

h5py is an optional extra (pip install "glassnet[keras]"). Reading is bounded: only plain numeric
datasets (no object or variable-length types, no external storage, no links), models nested at most
keras_nested.MAX_NESTING deep, every shape and byte count checked before a value is read, every
layer's shapes checked before any weight changes.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np

from ..models import Model
from . import archive
from .keras_nested import MAX_NESTING, is_model
from .format import ModelFileError, as_path, check_model, check_overwrite, existing, short
from .weights import require_weights

KERAS_WEIGHTS_SUFFIX = ".weights.h5"
_MAX_NDIM = 8
_MAX_ELEMENTS = 2**31            # one weight array; a bigger one is not a model glassnet can hold
_MAX_TOTAL_BYTES = 2**33          # all of them together
_MAX_DATASETS = 10_000           # arrays, and groups, in one file
_PER_MODEL_BYTE = 6               # bytes a weights file may declare per byte of the model's weights
_EXPANSION = 100                  # declared bytes per stored byte, at most (HDF5 compression filters)


class H5pyMissingError(ImportError):
    """h5py is needed for Keras files and is not installed."""


def h5py_module():
    """The h5py module, or an H5pyMissingError telling how to install it."""
    try:
        import h5py
    except ImportError as err:
        raise H5pyMissingError('Keras files (.keras, .weights.h5) need h5py: pip install "glassnet[keras]" '
                               '(or pip install h5py)') from err
    return h5py


def check_supported(model, what):
    """Keras files are written and read for Sequential models and graph models (Functional: one or
    several inputs and outputs), which may hold such models as layers, at most MAX_NESTING deep;
    anything else is refused before a byte is written or a weight is changed."""
    check_model(model)
    if not is_model(model):
        raise TypeError(f"{what} supports Sequential and Functional (graph) models only, got a "
                        f"{type(model).__name__}; save it as a .glassnet file (model.save('model.glassnet')) instead")
    level = [model]
    for _ in range(MAX_NESTING + 1):
        inner = [layer for m in level for layer in m.layers if isinstance(layer, Model)]
        if not inner:
            return
        odd = [f"{layer.name!r} ({type(layer).__name__})" for layer in inner if not is_model(layer)]
        if odd:
            raise TypeError(f"{what} maps Sequential and Functional models used as layers, got {', '.join(odd)}; "
                            f"save it as a .glassnet file (model.save('model.glassnet')) instead")
        level = inner
    deeper = ", ".join(repr(m.name) for m in level)
    raise TypeError(f"{what} holds models nested at most {MAX_NESTING} deep, got {deeper} deeper; "
                    f"save it as a .glassnet file (model.save('model.glassnet')) instead")


def keras_layers(model):
    """The layers that have a group in a Keras weights file, in Keras's order: every layer of a
    glassnet Sequential but its InputLayer; every layer of a graph model, its InputLayer included."""
    from . import keras_graph
    if keras_graph.is_graph(model):
        return keras_graph.keras_order(model)
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def group_names(model) -> list[str]:
    """The group of each of keras_layers(model) under "layers/": Keras names them not by the layer's
    name but by its class in snake case, numbered in order when a class repeats: dense, dense_1, ..."""
    names, used = [], {}
    for layer in keras_layers(model):
        base = re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2",     # as Keras: a digit
                                                          type(layer).__name__)).lower()      # joins (pooling1d)
        used[base] = used.get(base, -1) + 1
        names.append(base if used[base] == 0 else f"{base}_{used[base]}")
    return names


def weight_groups(model, prefix=""):
    """[(layer, its group's path under "layers/")] of every layer with a group, inner models opened
    up after their own group: dense, sequential, sequential/layers/dense, ... in Keras's order."""
    out = []
    for layer, name in zip(keras_layers(model), group_names(model)):
        out.append((layer, prefix + name))
        if is_model(layer):
            out += weight_groups(layer, f"{prefix}{name}/layers/")
    return out


# ======================================================================
# Writing
# ======================================================================

def h5_bytes(model, optimizer=None) -> bytes:
    """The Keras 3 weights file of `model`, as bytes (written with h5py into memory); `optimizer`:
    (its name, [its variables in Keras's order]) to write under optimizer/vars, or None."""
    h5py = h5py_module()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars").attrs["name"] = model.name
        layers = f.create_group("layers")
        for layer, group_path in weight_groups(model):
            group = layers.create_group(group_path).create_group("vars")
            group.attrs["name"] = layer.name
            for i, array in enumerate([] if is_model(layer) else layer.weights):
                group.create_dataset(str(i), data=np.asarray(array))
        if optimizer is not None:
            group = f.create_group("optimizer").create_group("vars")
            group.attrs["name"] = optimizer[0]
            for i, array in enumerate(optimizer[1]):
                group.create_dataset(str(i), data=np.asarray(array))
    return buffer.getvalue()


def save_weights_h5(model, filepath, overwrite=True) -> Path:
    """Write `model`'s weights as a Keras 3 `.weights.h5` file (atomically)."""
    check_supported(model, "a Keras .weights.h5 file")
    h5py_module()
    path = as_path(filepath)
    check_overwrite(path, overwrite)
    require_weights(model, "save_weights")
    data = h5_bytes(model)
    archive.atomic_write(path, lambda fileobj: fileobj.write(data), overwrite=overwrite)
    return path


# ======================================================================
# Reading
# ======================================================================

OPTIMIZER_KEY = "/optimizer"      # read_layer_arrays' key for the optimizer's variables (never a layer's group)


def read_layer_arrays(path, source, where="the weights file", model=None) -> dict[str, list[np.ndarray]]:
    """{layer group: [arrays in order]} from a Keras weights file (`source`: a path, a file or bytes);
    the optimizer's variables, when the file holds them, under OPTIMIZER_KEY. With the `model` the arrays
    are for, they may declare at most _PER_MODEL_BYTE times its weights' bytes (the weights, an optimizer's
    slots, float64 for float32) plus 1 MiB: checked from each dataset's shape before its values are read."""
    h5py = h5py_module()
    fileobj = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    size = len(source) if isinstance(source, (bytes, bytearray)) else os.fstat(fileobj.fileno()).st_size
    # Keras stores arrays uncompressed; a file declaring far more bytes than it holds is a decompression bomb
    limit = min(_MAX_TOTAL_BYTES, _EXPANSION * size + 2**20)
    if model is not None:
        limit = min(limit, _PER_MODEL_BYTE * sum(w.nbytes for w in model.weights) + 2**20)
    try:
        f = h5py.File(fileobj, "r")
    except (OSError, ValueError) as err:
        raise ModelFileError(path, f"{where} is not an HDF5 file ({err})") from err
    with f:
        found, budget = {}, {"count": 0, "groups": 0, "bytes": 0, "limit": limit}
        # (group, its path under layers/, how many models deep): a model's layers/ is read in turn
        pending = [(_group(h5py, path, f, "layers", where), "", 0)]
        while pending:
            layers, prefix, depth = pending.pop()
            for name in list(layers.keys()):
                budget["groups"] += 1
                if budget["groups"] > _MAX_DATASETS:
                    raise ModelFileError(path, f"{where} holds more than {_MAX_DATASETS} groups")
                group = _group(h5py, path, layers, name, where)
                found[prefix + name] = _vars(h5py, path, group, f"layers/{prefix}{name}", where, budget)
                if "layers" in group:
                    if depth >= MAX_NESTING:
                        raise ModelFileError(path, f"{where}: layers/{prefix}{name} holds models nested more than "
                                                   f"{MAX_NESTING} deep; glassnet reads at most {MAX_NESTING}")
                    pending.append((_group(h5py, path, group, "layers", where), f"{prefix}{name}/layers/",
                                    depth + 1))
        if "optimizer" in f:
            found[OPTIMIZER_KEY] = _vars(h5py, path, _group(h5py, path, f, "optimizer", where), "optimizer",
                                         where, budget)
    return found


def _vars(h5py, path, parent, label, where, budget):
    """The datasets "0", "1", ... of parent/vars, in order, within the file's budget of arrays and bytes."""
    if "vars" not in parent:
        return []
    group = _group(h5py, path, parent, "vars", where)
    keys = list(group.keys())
    if sorted(keys, key=lambda k: (len(k), k)) != [str(i) for i in range(len(keys))]:
        raise ModelFileError(path, f"{where}: {label}/vars holds {short(keys)}, expected datasets named 0, 1, 2, ...")
    arrays = []
    for key in (str(i) for i in range(len(keys))):
        budget["count"] += 1
        if budget["count"] > _MAX_DATASETS:
            raise ModelFileError(path, f"{where} holds more than {_MAX_DATASETS} arrays")
        ds = _dataset(h5py, path, group, key, f"{label}/vars/{key}", where)
        budget["bytes"] += ds.size * ds.dtype.itemsize
        if budget["bytes"] > budget["limit"]:
            raise ModelFileError(path, f"{where} declares more than {budget['limit']} bytes of weights in a file "
                                       f"of far fewer bytes: it is damaged or hostile")
        arrays.append(np.asarray(ds[()]))
    return arrays


def _group(h5py, path, parent, name, where):
    link = parent.get(name, getlink=True)
    if link is None:
        raise ModelFileError(path, f"{where} has no group {name!r} under {parent.name!r}: "
                                   f"it is not in Keras 3's weights layout")
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(path, f"{where}: {parent.name}/{name} is a {type(link).__name__}; "
                                   f"links are refused (a file is read on its own)")
    item = parent[name]
    if not isinstance(item, h5py.Group):
        raise ModelFileError(path, f"{where}: {item.name} is not a group")
    return item


def _dataset(h5py, path, group, key, label, where):
    link = group.get(key, getlink=True)
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(path, f"{where}: {label} is a {type(link).__name__}; links are refused")
    ds = group[key]
    if not isinstance(ds, h5py.Dataset):
        raise ModelFileError(path, f"{where}: {label} is not a dataset")
    if ds.dtype.kind not in "fiub" or ds.dtype.fields is not None or h5py.check_vlen_dtype(ds.dtype) is not None:
        raise ModelFileError(path, f"{where}: {label} holds {ds.dtype} values; only plain numbers are read")
    if ds.is_virtual:
        raise ModelFileError(path, f"{where}: {label} is a virtual dataset (its values live in other files); "
                                   f"that is refused")
    if ds.external:
        raise ModelFileError(path, f"{where}: {label} keeps its data in an external file; that is refused")
    if ds.shape is None or len(ds.shape) > _MAX_NDIM or ds.size > _MAX_ELEMENTS:
        raise ModelFileError(path, f"{where}: {label} has the implausible shape {ds.shape}")
    return ds


def assign(path, model, found, where="the weights file"):
    """Set every layer's weights from `found` ({group path: arrays}), all checked before any change."""
    pairs = []
    groups = [(layer, name) for layer, name in weight_groups(model) if not is_model(layer)]
    missing = [name for _, name in groups if name not in found]
    if missing:
        raise ModelFileError(path, f"{where} has no weights for the layers layers/{short(missing)} "
                                   f"(it holds {short(sorted(k for k in found if k != OPTIMIZER_KEY))}); "
                                   f"no weight was changed")
    for layer, group_name in groups:
        arrays, own = found[group_name], layer.weights
        if len(arrays) != len(own):
            raise ModelFileError(path, f"{where} holds {len(arrays)} arrays for layer {layer.name!r}, which "
                                       f"has {len(own)} ({', '.join(layer.weight_names) or 'none'}); "
                                       f"no weight was changed")
        for key, mine, array in zip(layer.weight_names, own, arrays):
            if array.shape != mine.shape:
                raise ModelFileError(path, f"{where}: layer {layer.name!r} weight {key!r} has shape "
                                           f"{array.shape}, the model needs {mine.shape}; no weight was changed")
            if not np.all(np.isfinite(array)):
                raise ModelFileError(path, f"{where}: layer {layer.name!r} weight {key!r} holds non-finite "
                                           f"values; no weight was changed")
            pairs.append((mine, array))
    for mine, array in pairs:
        mine[...] = array


def load_weights_h5(model, filepath):
    """Set `model`'s weights from a Keras 3 `.weights.h5` file (matched by layer name)."""
    check_supported(model, "a Keras .weights.h5 file")
    h5py_module()
    path = existing(filepath, KERAS_WEIGHTS_SUFFIX)
    require_weights(model, "load_weights")
    if path.stat().st_size > _MAX_TOTAL_BYTES + 2**26:
        raise ModelFileError(path, "it is implausibly large for a weights file")
    with open(path, "rb") as fileobj:
        assign(path, model, read_layer_arrays(path, fileobj, model=model))
