"""Keras 3 `.keras` files for Sequential and graph models: save_keras writes one, load_keras reads one
(a graph model's config: keras_graph; models used as layers and the Sequential reader: keras_nested).

A `.keras` file is a zip archive (stored, not compressed) of three members:

    metadata.json      {"keras_version": ..., "date_saved": ...}
    config.json        {"module": "keras", "class_name": "Sequential", "config": {"name", "layers": [...]},
                        "build_config": {"input_shape": [null, ...]}, "compile_config": {...} or absent}
                       each layer as {"module": "keras.layers", "class_name", "config", "build_config"}
    model.weights.h5   the weights in Keras 3's HDF5 layout (keras_weights)

Layers glassnet reads and writes: InputLayer, Dense, Activation, Flatten, Dropout,
BatchNormalization, Rescaling, and those of keras_layer_specs (Normalization, Softmax, ReLU, LeakyReLU, ELU,
PReLU, Reshape, Identity, LayerNormalization, GaussianNoise, Embedding, GlobalAveragePooling1D; the
convolutional network's Conv2D, Conv1D, pooling, ZeroPadding2D, UpSampling2D, SpatialDropout2D).
The compile settings (keras_compile) go both ways when they map.
Reading is bounded: member sizes are checked before anything is read, member names must be
plain (no absolute paths, no ".."), and config.json is parsed as JSON; nothing is unpickled.
"""
from __future__ import annotations

import datetime
import json
import warnings
import zipfile
import zlib

import numpy as np

from .. import _registry
from ..models import Model
from . import archive, format as _format, keras_compile, keras_graph, keras_layer_specs, keras_nested, keras_weights
from .keras_layer_specs import activation as _activation, keras_activation as _keras_activation, \
    keras_regularizer as _keras_regularizer, regularizer as _regularizer
from .budget import Budget
from .format import ModelFileError, as_path, check_overwrite, existing, find_class
from .weights import require_weights

KERAS_SUFFIX = ".keras"
KERAS_VERSION = "3.15.1"                    # the Keras release whose layout glassnet writes
CONFIG, METADATA, WEIGHTS_H5 = "config.json", "metadata.json", "model.weights.h5"
_WEIGHTS_LIMIT = 2**33


# ======================================================================
# Saving
# ======================================================================

def save_keras(model, filepath, overwrite=True):
    """Write `model` (a built glassnet Sequential or Functional) as a Keras 3 `.keras` file, atomically."""
    keras_weights.check_supported(model, "a Keras .keras file")
    keras_weights.h5py_module()
    path = as_path(filepath)
    check_overwrite(path, overwrite)
    require_weights(model, "save")
    config = keras_config(model)
    config_bytes = archive.json_bytes(config, "the model")
    metadata = json.dumps({"keras_version": KERAS_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}).encode()
    state = keras_compile.state_to_keras(model) if "compile_config" in config else None
    weights = keras_weights.h5_bytes(model, state)

    def write(fileobj):
        with zipfile.ZipFile(fileobj, "w", allowZip64=True) as zf:
            for name, data in ((METADATA, metadata), (CONFIG, config_bytes), (WEIGHTS_H5, weights)):
                zf.writestr(archive.zip_info(name, zipfile.ZIP_STORED), data)

    archive.atomic_write(path, write, overwrite=overwrite)
    return path


def _policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype}, "registered_name": None}


def _spec(class_name, config, input_shape=None):
    spec = {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}
    if input_shape is not None:
        spec["build_config"] = {"input_shape": [None, *input_shape[1:]]}
    return spec


def _layer_spec(layer, trainable=True):
    """The Keras spec of one layer; `trainable`: False inside a model that is not trainable (Keras
    writes the flag on every layer of such a model). A model used as a layer gives a model spec."""
    if isinstance(layer, Model):
        return keras_config(layer, nested=True, trainable=trainable)
    kind = type(layer).__name__
    base = {"name": layer.name, "trainable": layer.trainable and trainable, "dtype": _policy(layer.dtype)}
    if kind in keras_layer_specs.PLAIN_BASE:          # Keras's own config: a dtype name, no trainable
        base = {"name": layer.name, "dtype": layer.dtype}
    if kind == "Dense":
        config = {"units": layer.units, "activation": _keras_activation(layer.activation, layer),
                  "use_bias": layer.use_bias,
                  "kernel_regularizer": _keras_regularizer(layer.kernel_regularizer),
                  "bias_regularizer": _keras_regularizer(layer.bias_regularizer)}
    elif kind == "Activation":
        config = {"activation": _keras_activation(layer.activation, layer)}
    elif kind == "Flatten":
        config = {"data_format": "channels_last"}
    elif kind == "Dropout":
        config = {"rate": layer.rate, "seed": layer.seed, "noise_shape": None}
    elif kind == "BatchNormalization":
        config = {"axis": -1, "momentum": layer.momentum, "epsilon": layer.epsilon,
                  "center": layer.center, "scale": layer.scale}
    elif kind == "Rescaling":
        config = {"scale": layer.scale, "offset": layer.offset}
    elif kind in keras_layer_specs.TO_KERAS and _registry.lookup("layer", kind) is type(layer):
        config = keras_layer_specs.TO_KERAS[kind](layer)
    else:
        known = sorted(k for k in _FROM_KERAS if _registry.lookup("layer", k) is not None)
        raise ValueError(f"cannot save as .keras: glassnet writes Keras files for the layers {', '.join(known)}, "
                         f"got {kind} ({layer.name!r}); save it as .glassnet")
    return _spec(kind, {**base, **config}, layer.input_shape)


def keras_config(model, nested=False, trainable=True) -> dict:
    """The config.json of a Keras 3 `.keras` file describing `model`; nested=True: the spec of a model
    used as a layer of another (no compile settings; `trainable`: False when an outer model is not)."""
    model._require_built()
    trainable = trainable and model.trainable
    if keras_graph.is_graph(model):
        config = keras_graph.graph_config(model, trainable)
    else:
        shape = [None, *model._input_feature_shape]
        dtype = model.layers[0].dtype if model.layers else "float32"
        layers = [_spec("InputLayer", {"batch_shape": shape, "dtype": dtype, "sparse": False, "ragged": False,
                                       "name": f"{model.name}_input" if nested else "input_layer",
                                       "optional": False})]
        layers += [_layer_spec(layer, trainable) for layer in keras_weights.keras_layers(model)]
        config = {"module": "keras", "class_name": "Sequential",
                  "config": {"name": model.name, "trainable": trainable, "dtype": _policy(dtype), "layers": layers,
                             "build_input_shape": shape},
                  "registered_name": None, "build_config": {"input_shape": shape}}
    compiled = keras_compile.to_keras(model) if model.compiled and not nested else None
    if compiled is not None:
        config["compile_config"] = compiled
    return config


# ======================================================================
# Loading
# ======================================================================

def load_keras(filepath, compile=True, custom_objects=None):
    """The glassnet Sequential or Functional described by a Keras 3 `.keras` file, compiled when its settings map."""
    keras_weights.h5py_module()
    path = existing(filepath, KERAS_SUFFIX)
    config, declared = read_members(path, weights=False)
    custom_objects = dict(custom_objects or {})
    model = build_model(path, config, custom_objects, declared)
    weights = read_weights_member(path, model)          # no more bytes than the model built can need
    found = keras_weights.read_layer_arrays(path, weights, WEIGHTS_H5, model=model)
    keras_weights.assign(path, model, found, WEIGHTS_H5)
    if compile and config.get("compile_config") and keras_compile.from_keras(path, model, config["compile_config"]):
        keras_compile.state_from_keras(path, model, found.get(keras_weights.OPTIMIZER_KEY))
    return model


def read_members(path, weights=True):
    """(config dict, weights bytes) of a `.keras` archive; every member name and size checked first.
    weights=False: (config dict, the bytes the weights member declares), the weights left unread."""
    with archive.open_zip(path, _format.MAX_MEMBERS) as zf:
        infos = zf.infolist()
        names = [info.filename for info in infos]
        for name in names:
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or ":" in name:
                raise ModelFileError(path, f"the archive has a member named {name!r}, a path out of the archive; "
                                           f"such files are refused")
        if len(set(names)) != len(names):
            raise ModelFileError(path, "the archive holds a member twice: it was tampered with")
        for required in (CONFIG, WEIGHTS_H5):
            if required not in names:
                raise ModelFileError(path, f"it is not a Keras .keras file: the member {required} is missing "
                                           f"(members: {', '.join(names[:6])})")
        for info in infos:
            limit = _WEIGHTS_LIMIT if info.filename == WEIGHTS_H5 else _format.JSON_LIMIT
            if info.file_size > limit:
                raise ModelFileError(path, f"the member {info.filename} declares {info.file_size} bytes, more "
                                           f"than the {limit} allowed: the file is damaged or hostile")
        try:
            config = _format.parse_json(path, CONFIG, zf.read(CONFIG))
            weights = zf.read(WEIGHTS_H5) if weights else zf.getinfo(WEIGHTS_H5).file_size
        except ModelFileError:
            raise
        except (UnicodeDecodeError, ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError,
                NotImplementedError, RuntimeError, zlib.error) as err:     # an unknown method, an encrypted member
            raise ModelFileError(path, f"a member cannot be read ({type(err).__name__}: {err})") from err
    if not isinstance(config, dict):
        raise ModelFileError(path, f"{CONFIG} must hold a JSON object")
    return config, weights


def _dtype(path, config, where):
    dtype = config.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if dtype is None:
        return None
    if dtype not in ("float32", "float64"):
        raise ModelFileError(path, f"{where} uses the dtype {dtype!r}; glassnet reads float32 and float64 models")
    return dtype


def _dense(c):
    return {"units": c["units"], "activation": _activation(c.get("activation")), "use_bias": c.get("use_bias", True),
            "kernel_regularizer": _regularizer(c.get("kernel_regularizer")),
            "bias_regularizer": _regularizer(c.get("bias_regularizer"))}


def _batch_norm(c):
    axis = c.get("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if c.get("renorm") or c.get("synchronized"):
        raise ValueError("BatchNormalization with renorm or synchronized is not supported")
    return {"axis": axis, "momentum": c.get("momentum", 0.99), "epsilon": c.get("epsilon", 1e-3),
            "center": c.get("center", True), "scale": c.get("scale", True)}


def _flatten(c):
    if c.get("data_format", "channels_last") not in (None, "channels_last"):
        raise ValueError(f"Flatten with data_format={c.get('data_format')!r} is not supported (channels_last only)")
    return {}


def _dropout(c):
    if c.get("noise_shape") is not None:
        raise ValueError("Dropout with a noise_shape is not supported")
    return {"rate": c["rate"], "seed": c.get("seed")}


_FROM_KERAS = {
    "Dense": _dense,
    "Activation": lambda c: {"activation": _activation(c["activation"])},
    "Flatten": _flatten,
    "Dropout": _dropout,
    "BatchNormalization": _batch_norm,
    "Rescaling": lambda c: {"scale": c["scale"], "offset": c.get("offset", 0.0)},
    **keras_layer_specs.FROM_KERAS,
}
_DROPPED = ("kernel_constraint", "bias_constraint", "beta_constraint", "gamma_constraint", "beta_regularizer",
            "gamma_regularizer", "activity_regularizer", *keras_layer_specs.DROPPED)


def _checked_shape(path, shape):
    if not isinstance(shape, (list, tuple)) or not shape or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**31 for d in shape) \
            or int(np.prod(shape, dtype=np.float64)) >= 2**31:
        raise ModelFileError(path, f"{CONFIG} gives the input shape {shape!r:.80}; expected positive sizes "
                                   f"(fewer than 2**31 features)")
    return tuple(shape)


def build_model(path, config, custom_objects, weights_size=2**40):
    """A glassnet Sequential or Functional (holding models as layers, perhaps) from a Keras config.json,
    weights not yet set; weights are stored uncompressed, so a config asking for far more weights than
    `weights_size` bytes can hold is refused before anything is allocated."""
    budget = Budget(keras_weights._EXPANSION * weights_size // 4 + 2**20, WEIGHTS_H5)
    return keras_nested.build(path, config, custom_objects, budget)


def _layer(path, spec, custom_objects):
    class_name = spec.get("class_name")
    c = dict(spec.get("config") or {})
    if class_name in custom_objects:
        return find_class(path, custom_objects, "layer", class_name, "layer class").from_config(c)
    convert = _FROM_KERAS.get(class_name) if isinstance(class_name, str) else None
    cls = _registry.lookup("layer", class_name) if convert is not None else None
    if cls is None:
        known = ["InputLayer", *sorted(k for k in _FROM_KERAS if _registry.lookup("layer", k) is not None)]
        raise ModelFileError(path, f"{CONFIG} uses the Keras layer class {class_name!r}, which glassnet does "
                                   f"not have (it reads {', '.join(known)}); "
                                   f"pass custom_objects={{{class_name!r}: ...}}")
    where = f"layer {c.get('name')!r} ({class_name})"
    try:
        kwargs = convert(c)
    except (KeyError, TypeError) as err:
        raise ModelFileError(path, f"{CONFIG}: {where} is incomplete ({type(err).__name__}: {err})") from err
    except ValueError as err:
        raise ModelFileError(path, f"{CONFIG}: {where}: {err}") from err
    dropped = [key for key in _DROPPED if c.get(key) is not None]
    if dropped:
        warnings.warn(f"{path}: {where}: glassnet has no {', '.join(dropped)}; loaded without "
                      f"(predictions are unchanged, training differs)", UserWarning, stacklevel=4)
    try:
        return cls(name=c.get("name"), dtype=_dtype(path, c, where), trainable=c.get("trainable", True), **kwargs)
    except (TypeError, ValueError) as err:
        raise ModelFileError(path, f"{CONFIG}: {where} cannot be built in glassnet: {err}") from err


#: Bytes of HDF5 bookkeeping a weights member may hold besides its arrays: per layer or array (each has
#: its group, ~2 KB), and in all.
_H5_PER_ITEM, _H5_OVERHEAD = 16 * 2**10, 2**20


def _layer_count(model) -> int:
    return sum(1 + (_layer_count(layer) if getattr(layer, "layers", None) is not None else 0)
               for layer in model.layers)


def read_weights_member(path, model) -> bytes:
    """The model.weights.h5 member of the `.keras` file `path`, read only if the size it declares fits what
    `model` can need: keras_weights._PER_MODEL_BYTE times its weights' bytes plus HDF5's bookkeeping."""
    limit = (keras_weights._PER_MODEL_BYTE * sum(w.nbytes for w in model.weights)
             + _H5_PER_ITEM * (len(model.weights) + _layer_count(model) + 2) + _H5_OVERHEAD)
    with archive.open_zip(path, _format.MAX_MEMBERS) as zf:
        size = zf.getinfo(WEIGHTS_H5).file_size
        if size > limit:
            raise ModelFileError(path, f"the member {WEIGHTS_H5} declares {size} bytes, more than the {limit} that "
                                       f"the weights of the model its config.json describes can take: it is "
                                       f"damaged or hostile")
        try:
            return zf.read(WEIGHTS_H5)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zlib.error) as err:
            raise ModelFileError(path, f"the member {WEIGHTS_H5} cannot be read ({type(err).__name__}: {err})") \
                from err


def is_keras_archive(path) -> bool:
    """Is the zip at `path` a Keras file? (False for a glassnet archive: earlier glassnet versions wrote
    their own format under a `.keras` name, and such files still load.)"""
    with archive.open_zip(path) as zf:
        return "manifest.json" not in zf.namelist()


def load_weights_from_keras(model, filepath):
    """Set `model`'s weights from the model.weights.h5 of a `.keras` file."""
    keras_weights.check_supported(model, "a Keras .keras file")
    keras_weights.h5py_module()
    path = existing(filepath, KERAS_SUFFIX)
    require_weights(model, "load_weights")
    read_members(path, weights=False)
    weights = read_weights_member(path, model)
    keras_weights.assign(path, model, keras_weights.read_layer_arrays(path, weights, WEIGHTS_H5, model=model),
                         WEIGHTS_H5)


__all__ = ["save_keras", "load_keras", "keras_config", "read_members", "build_model", "load_weights_from_keras",
           "KERAS_SUFFIX"]
