"""Weights alone: save_weights writes a plain NumPy `.npz` ("dense/W", ... in get_weights() order);
load_weights reads one (or the weights of a `.glassnet` file), checking everything before any change."""
from __future__ import annotations

from pathlib import Path

from . import archive, arrays
from .format import (MANIFEST, OPTIMIZER, SUFFIX, WEIGHTS, WEIGHTS_SUFFIX, ModelFileError, as_path, check_model,
                     check_overwrite, existing, short)


def weight_names(model) -> list[str]:
    """The name of every array of model.get_weights(): "dense/W", "dense/b", ..."""
    return [f"{layer.name}/{key}" for layer in model.layers for key in layer.weight_names]


def is_built(model) -> bool:
    return model.built or (bool(model.layers) and model._input_feature_shape is not None)


def require_weights(model, what):
    if not is_built(model):
        raise ValueError(f"{what}: the model has no weights yet: give the first layer input_shape=(n,), "
                         f"call build((None, n)), or fit it on data")
    model._require_built()


def save_weights(model, filepath, overwrite=True) -> Path:
    """Write the weights alone to a NumPy `.npz` ("dense/W", ... in get_weights() order), or, for
    a path ending in `.h5` (`.weights.h5`), in Keras 3's weights layout (keras_weights; needs h5py).

    A path without a suffix gets `.weights.npz`; any other suffix than `.npz` is refused.
    """
    check_model(model)
    path = as_path(filepath)
    if path.suffix.lower() == ".h5":
        from . import keras_weights
        return keras_weights.save_weights_h5(model, path, overwrite=overwrite)
    if not path.suffix:
        path = path.with_name(path.name + WEIGHTS_SUFFIX)
    elif path.suffix.lower() != ".npz":
        raise ValueError(f"save_weights writes a NumPy .npz file, or Keras 3's .weights.h5: give a path "
                         f"ending in .npz (such as 'model{WEIGHTS_SUFFIX}') or .weights.h5, got {str(path)!r}; "
                         f"model.save writes the whole model as {SUFFIX} (or .keras)")
    check_overwrite(path, overwrite)
    require_weights(model, "save_weights")
    named = list(zip(weight_names(model), model.weights))
    archive.atomic_write(path, lambda fileobj: arrays.write_npz(fileobj, named), overwrite=overwrite)
    return path


def _plan(path, model):
    """For arrays.npz_arrays: the arrays a weights .npz may hold for `model` (matched by name when its
    names are the model's, else by position), each checked from its header before it is read."""
    names, own = weight_names(model), model.weights

    def plan(found):
        if len(found) != len(names):
            raise ModelFileError(path, f"it holds {len(found)} arrays ({short(list(found))}), "
                                       f"the model has {len(names)} weights ({short(names)})")
        by_name = set(found) == set(names)
        index = {name: i for i, name in enumerate(names)}
        return {key: _fits(path, key, names[j], own[j])
                for i, key in enumerate(found) for j in [index[key] if by_name else i]}
    return plan


def _fits(path, key, name, mine):
    def check(shape, dtype):
        if shape != mine.shape:
            raise ModelFileError(path, f"array {key!r} has shape {shape}, "
                                       f"the model's {name} needs {mine.shape}; no weight was changed")
        if dtype.kind not in "fiu":
            raise ModelFileError(path, f"array {key!r} holds {dtype} values, not numbers; "
                                       f"no weight was changed")
    return check


def load_weights(model, filepath):
    """Set `model`'s weights from a save_weights `.npz` (or from a `.glassnet` model file; from a
    Keras 3 `.weights.h5` or `.keras` file by layer name).

    Arrays are matched by name ("dense/W", ...) when the file's names are the model's, else by
    position (so np.savez(path, *model.get_weights()) works too). Counts and shapes are checked
    before any weight changes; values are cast to the model's dtype.
    """
    check_model(model)
    path = existing(filepath, WEIGHTS_SUFFIX)
    if path.suffix.lower() == ".h5":
        from . import keras_weights
        return keras_weights.load_weights_h5(model, path)
    if path.suffix.lower() == ".keras":
        from . import keras_file
        if keras_file.is_keras_archive(path):
            return keras_file.load_weights_from_keras(model, path)
    require_weights(model, "load_weights")
    with archive.open_zip(path) as zf:
        is_model_file = MANIFEST in zf.namelist()
    if is_model_file:
        config, members = archive.read_archive(path, skip=(OPTIMIZER,))       # the weights alone are read
        listed = arrays.read_arrays(path, WEIGHTS, members[WEIGHTS], arrays.expected_weights(path, config))
        found = dict(zip((w["name"] for w in config["weights"]), listed))
    else:
        found = arrays.npz_arrays(path, "the file", str(path), _plan(path, model))
    names, own = weight_names(model), model.weights
    if set(found) == set(names):
        pairs = [(name, name, found[name]) for name in names]
    elif len(found) == len(names):
        pairs = list(zip(found, names, found.values()))
    else:
        raise ModelFileError(path, f"it holds {len(found)} arrays ({short(list(found))}), "
                                   f"the model has {len(names)} weights ({short(names)})")
    for (key, name, array), mine in zip(pairs, own):
        if array.shape != mine.shape:
            raise ModelFileError(path, f"array {key!r} has shape {array.shape}, "
                                       f"the model's {name} needs {mine.shape}; no weight was changed")
        if array.dtype.kind not in "fiu":
            raise ModelFileError(path, f"array {key!r} holds {array.dtype} values, not numbers; "
                                       f"no weight was changed")
    for (_, _, array), mine in zip(pairs, own):
        mine[...] = array
