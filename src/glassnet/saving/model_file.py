"""The whole model in one `.glassnet` file: save_model, load_model and read_config."""
from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import numpy as np

from .. import backend
from ..models import fit as fit_module
from . import archive, arrays, budget, compile_settings, keras_file
from .format import (CONFIG, FORMAT, FORMAT_VERSION, OPTIMIZER, SUFFIX, WEIGHTS, ModelFileError, as_path,
                     building, check_model, check_overwrite, existing, find_class)
from .weights import is_built, weight_names
from .._version import __version__


# ======================================================================
# Saving
# ======================================================================

def save_model(model, filepath, overwrite=True) -> Path:
    """Write `model` to one `.glassnet` file (the suffix is added when `filepath` has none), or,
    for a path ending in `.keras`, to a Keras 3 `.keras` file (keras_file; needs h5py).

    Returns the path written. Raises ValueError, before touching the disk, for a model
    whose settings a file cannot hold (a Python function as learning rate, ...).
    """
    check_model(model)
    path = as_path(filepath)
    if path.suffix.lower() == keras_file.KERAS_SUFFIX:
        return keras_file.save_keras(model, path, overwrite=overwrite)
    if not path.suffix:
        path = path.with_name(path.name + SUFFIX)
    elif path.suffix.lower() == ".npz":
        raise ValueError(f"model.save writes a {SUFFIX} file, got {str(path)!r}; "
                         f"to write the weights alone as .npz use model.save_weights")
    elif path.suffix.lower() in (".h5", ".hdf5"):
        warnings.warn(f"{str(path)!r}: glassnet writes its own {SUFFIX} format under this name (gn.load_model "
                      f"reads it back); Keras cannot read it, and Keras's legacy HDF5 model files are not "
                      f"written or read by glassnet: save to a '.keras' path for a file Keras 3 opens",
                      UserWarning, stacklevel=3)
    check_overwrite(path, overwrite)
    config, weights, slots = _describe(model)
    config_bytes = archive.json_bytes(config, "the model")

    def write(fileobj):
        members = [(CONFIG, lambda: config_bytes),
                   (WEIGHTS, lambda: arrays.npz_bytes(weights))]
        if slots is not None:
            members.append((OPTIMIZER, lambda: arrays.npz_bytes(slots)))
        archive.write_archive(fileobj, members)

    archive.atomic_write(path, write, overwrite=overwrite)
    return path


def _describe(model):
    """(config dict, [(name, weight array)], [(name, slot array)] or None) for save_model."""
    built = is_built(model)
    weights = list(zip(weight_names(model), model.weights)) if built else []
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        "model": {"class_name": type(model).__name__, "config": model.get_config()},
        "built": built,
        "weights": [{"name": n, "shape": list(w.shape), "dtype": w.dtype.name} for n, w in weights],
        "compile": None,
        "optimizer_state": None,
        "rng_states": {},
        "shuffle": fit_module.shuffle_state(model),     # fit's shuffling generator (and unfinished pass)
    }
    for name, layer in _random_layers(model):
        config["rng_states"][name] = backend.plain_state(layer.rng.bit_generator.state)
    slots = None
    if model.compiled:
        config["compile"], config["optimizer_state"], slots = compile_settings.describe(model)
    return config, weights, slots


# ======================================================================
# Loading
# ======================================================================

def load_model(filepath, compile=True, custom_objects=None):
    """The model saved in a `.glassnet` file: same architecture and weights, compiled (with its
    optimizer state) if it was compiled when saved, so it predicts identically and keeps training.
    A path ending in `.keras` is read as a Keras 3 file (keras_file.load_keras; needs h5py).

    compile=False gives the model uncompiled. custom_objects maps names to your own layer,
    loss, optimizer or schedule classes and metric functions. Loading draws no random numbers
    from glassnet's global generator. Raises FileNotFoundError for a missing file and
    ModelFileError (a ValueError) naming the file and the fault for anything else.
    """
    path = existing(filepath, SUFFIX)
    if path.suffix.lower() == keras_file.KERAS_SUFFIX and keras_file.is_keras_archive(path):
        return keras_file.load_keras(path, compile=compile, custom_objects=custom_objects)
    # optimizer.npz is read only for a compiled model; weights.npz's bytes are let go once its arrays are
    # read, before the model is built: the peak is the arrays plus the model, not the file's bytes as well
    config, members = archive.read_archive(path, skip=() if compile else (OPTIMIZER,))
    custom_objects = dict(custom_objects or {})
    expected = arrays.expected_weights(path, config)
    shuffle = check_shuffle_state(path, config.get("shuffle"))
    with _global_rng_untouched():
        # weights.npz is stored uncompressed: a config asking for more numbers than it holds is refused unbuilt
        limit = budget.Budget(len(members[WEIGHTS]) // 2 + 2**20, WEIGHTS)
        budget.charge_config(path, config.get("model"), limit, custom_objects)
        weights = arrays.read_arrays(path, WEIGHTS, members.pop(WEIGHTS), expected)
        model = _rebuild(path, config, custom_objects, expected)
    for mine, saved in zip(model.weights if model.built else [], weights):
        mine[...] = saved
    del weights
    _restore_rng_states(path, model, config.get("rng_states", {}))
    fit_module.set_shuffle_state(model, shuffle)
    if compile and config.get("compile") is not None:
        compile_settings.restore(path, model, config, members, custom_objects)
    return model


def read_config(filepath) -> dict:
    """The checked config.json of a `.glassnet` file, without building the model (for tools)."""
    return archive.read_archive(existing(filepath, SUFFIX))[0]


@contextlib.contextmanager
def _global_rng_untouched():
    """Building layers draws initial weights from the global generator; put its state back afterwards."""
    rng = backend.global_rng()
    state = rng.bit_generator.state
    try:
        yield
    finally:
        rng.bit_generator.state = state


def _rebuild(path, config, custom_objects, expected):
    spec = config.get("model")
    with building(path):
        model_cls = find_class(path, custom_objects, "model", spec["class_name"], "model class")
        cfg = spec["config"]
        if "input_layers" in cfg:                # a graph model (Functional): layers with their inbound layers
            for layer_spec in cfg["layers"]:
                find_class(path, custom_objects, "layer", layer_spec["class_name"], "layer class")
            model = model_cls.from_config(cfg, custom_objects=custom_objects)
            return _check_weights_listed(path, model, expected)
        model = model_cls(name=cfg.get("name"))
        if cfg.get("input_shape") is not None:
            model._input_feature_shape = tuple(int(d) for d in cfg["input_shape"])
        for layer_spec in cfg["layers"]:
            cls = find_class(path, custom_objects, "layer", layer_spec["class_name"], "layer class")
            model.add(cls.from_config(dict(layer_spec.get("config", {}))))
        if config.get("built") and model.layers:
            model._require_built()
    return _check_weights_listed(path, model, expected)


def _check_weights_listed(path, model, expected):
    described = [(name, shape, dtype.name) for name, shape, dtype in expected]
    own = [(n, w.shape, w.dtype.name) for n, w in zip(weight_names(model), model.weights)] if model.built else []
    if described != own:
        for mine, listed in zip(own + [None] * len(described), described + [None] * len(own)):
            if mine != listed:
                raise ModelFileError(path, f"{CONFIG} lists the weight {listed} but its architecture "
                                           f"gives {mine}: the file is inconsistent")
    return model


def _random_layers(model, prefix=""):
    """[(path, layer)] of the layers with a random generator (Dropout), those of a model used as a
    layer included ("encoder/dropout")."""
    found = []
    for layer in model.layers:
        if getattr(layer, "layers", None) is not None:
            found.extend(_random_layers(layer, f"{prefix}{layer.name}/"))
        elif isinstance(getattr(layer, "rng", None), np.random.Generator):
            found.append((f"{prefix}{layer.name}", layer))
    return found


def check_rng_state(path, key, state):
    """A generator state as json gives it back: set on a scratch generator of the same kind, or refused."""
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if kind != "PCG64":
        raise ModelFileError(path, f"{key} is not the state of a PCG64 generator (NumPy's default)")
    try:
        np.random.PCG64().state = state
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{key} is not a valid generator state ({type(err).__name__}: {err})") from None


_PASS_LIMIT = 1 << 40


def check_shuffle_state(path, value, key="shuffle"):
    """config.json's "shuffle" (fit's generator and unfinished pass, models/fit.py), checked: the value
    itself (None for a model never fitted), or a ModelFileError naming the file."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"rng", "pass"}:
        raise ModelFileError(path, f"{CONFIG}'s {key} must be null or {{\"rng\": ..., \"pass\": ...}}, got "
                                   f"{_shown(value)}")
    check_rng_state(path, f"{key}.rng", value["rng"])
    kept = value["pass"]
    if kept is None:
        return value
    if not isinstance(kept, dict) or set(kept) != {"rng", "position", "samples", "batch_size"}:
        raise ModelFileError(path, f"{CONFIG}'s {key}.pass must be null or hold rng, position, samples and "
                                   f"batch_size, got {_shown(kept)}")
    for name in ("position", "samples", "batch_size"):
        number = kept[name]
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < _PASS_LIMIT:
            raise ModelFileError(path, f"{CONFIG}'s {key}.pass.{name} must be an integer >= 1, got {_shown(number)}")
    if kept["position"] * kept["batch_size"] >= kept["samples"]:
        raise ModelFileError(path, f"{CONFIG}'s {key}.pass.position {kept['position']} lies beyond a pass over "
                                   f"{kept['samples']} samples in batches of {kept['batch_size']}")
    if kept["rng"] is not None:
        check_rng_state(path, f"{key}.pass.rng", kept["rng"])
    return value


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _restore_rng_states(path, model, states):
    by_name = dict(_random_layers(model))
    name = None
    try:
        for name, state in states.items():
            rng = getattr(by_name[name], "rng")
            rng.bit_generator.state = state
    except (KeyError, AttributeError, TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} holds a random-generator state that does not fit layer "
                                   f"{name!r} ({type(err).__name__}: {err})") from err
