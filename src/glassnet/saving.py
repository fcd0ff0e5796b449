"""The model file format: one `.glassnet` file holds a whole model.

    model.save("run/model.glassnet")           # architecture, weights, compile settings, optimizer state
    model = gn.load_model("run/model.glassnet")   # compiled again, ready to predict or to keep training

    model.save_weights("run/model.weights.npz")   # weights only: a plain NumPy .npz
    model.load_weights("run/model.weights.npz")

A `.glassnet` file is a zip archive of four members (docs/model-format.md):

    manifest.json   format name and version, glassnet version, SHA-256 and size of every other member
    config.json     format name and version, glassnet version, the architecture (model.get_config()),
                    the compile settings (loss, metrics, optimizer), the list of weights (name, shape,
                    dtype), the optimizer's state layout and the random state of Dropout layers
    weights.npz     every array of get_weights(), in order, named "dense/W", "dense/b", ...
    optimizer.npz   the optimizer's slot arrays, "0/m", "0/v", ... (when it has taken a step)

Files are written to a temporary name in the same directory, flushed to disk
and renamed, so a crash never leaves half a file where a good one was.
Loading never unpickles: the text is JSON and the arrays are read with
np.load(..., allow_pickle=False); every member's SHA-256 is checked first.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import math
import os
import secrets
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import backend
from . import layers as layers_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .models import Sequential

FORMAT = "glassnet-model"
#: Version of the file layout this glassnet writes; it reads every version up to this one.
FORMAT_VERSION = 1
SUFFIX = ".glassnet"
WEIGHTS_SUFFIX = ".weights.npz"

MANIFEST = "manifest.json"
CONFIG = "config.json"
WEIGHTS = "weights.npz"
OPTIMIZER = "optimizer.npz"

_JSON_LIMIT = 64 * 2**20                  # manifest.json and config.json are small; refuse anything huge
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)         # fixed timestamps: the same model always gives the same bytes
_MAGIC = [(b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a Keras .h5 file?)"),
          (b"\x1f\x8b", "a gzip file"), (b"\x93NUMPY", "a NumPy .npy file"), (b"%PDF", "a PDF document"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"\x80", "a Python pickle")]


class ModelFileError(ValueError):
    """A model or weights file that cannot be loaded; the message names the file and what is wrong."""

    def __init__(self, path, problem):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"cannot load {self.path!r}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem)


# ======================================================================
# Saving
# ======================================================================

def save_model(model, filepath, overwrite=True) -> Path:
    """Write `model` to one `.glassnet` file (the suffix is added when `filepath` has none).

    Returns the path written. Raises ValueError, before touching the disk, for a model
    whose settings a file cannot hold (a Python function as learning rate, ...).
    """
    _check_model(model)
    path = _as_path(filepath, "filepath")
    if not path.suffix:
        path = path.with_name(path.name + SUFFIX)
    elif path.suffix.lower() == ".npz":
        raise ValueError(f"model.save writes a {SUFFIX} file, got {str(path)!r}; "
                         f"to write the weights alone as .npz use model.save_weights")
    _check_overwrite(path, overwrite)
    config, weights, slots = _describe(model)
    config_bytes = _json_bytes(config, "the model")

    def write(fileobj):
        members = [(CONFIG, lambda: config_bytes),
                   (WEIGHTS, lambda: _npz_bytes(weights))]
        if slots is not None:
            members.append((OPTIMIZER, lambda: _npz_bytes(slots)))
        _write_archive(fileobj, members)

    _atomic_write(path, write)
    return path


def save_weights(model, filepath, overwrite=True) -> Path:
    """Write the weights alone to a NumPy `.npz` ("dense/W", ... in get_weights() order).

    A path without a suffix gets `.weights.npz`; any other suffix than `.npz` is refused.
    """
    _check_model(model)
    path = _as_path(filepath, "filepath")
    if not path.suffix:
        path = path.with_name(path.name + WEIGHTS_SUFFIX)
    elif path.suffix.lower() != ".npz":
        raise ValueError(f"save_weights writes a NumPy .npz file: give a path ending in .npz "
                         f"(such as 'model{WEIGHTS_SUFFIX}'), got {str(path)!r}; model.save writes "
                         f"the whole model as {SUFFIX}")
    _check_overwrite(path, overwrite)
    _require_weights(model, "save_weights")
    named = list(zip(weight_names(model), model.weights))
    _atomic_write(path, lambda fileobj: _write_npz(fileobj, named))
    return path


def weight_names(model) -> list[str]:
    """The name of every array of model.get_weights(): "dense/W", "dense/b", ..."""
    return [f"{layer.name}/{key}" for layer in model.layers for key in layer.weight_names]


def _check_model(model):
    if not isinstance(model, Sequential):
        raise TypeError(f"expected a glassnet Sequential model, got {type(model).__name__}")


def _as_path(filepath, what) -> Path:
    if isinstance(filepath, Path):
        return filepath
    if isinstance(filepath, str) or isinstance(filepath, os.PathLike):
        path = os.fspath(filepath)
        if isinstance(path, str) and path:
            return Path(path)
    raise TypeError(f"{what} must be a non-empty str or os.PathLike, got {filepath!r}")


def _check_overwrite(path, overwrite):
    if not overwrite and path.exists():
        raise FileExistsError(f"{str(path)!r} exists and overwrite=False")


def _is_built(model) -> bool:
    return model.built or (bool(model.layers) and model._input_feature_shape is not None)


def _require_weights(model, what):
    if not _is_built(model):
        raise ValueError(f"{what}: the model has no weights yet: give the first layer input_shape=(n,), "
                         f"call build((None, n)), or fit it on data")
    model._require_built()


def _describe(model):
    """(config dict, [(name, weight array)], [(name, slot array)] or None) for save_model."""
    from . import __version__
    built = _is_built(model)
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
    }
    for layer in model.layers:
        rng = getattr(layer, "rng", None)
        if isinstance(rng, np.random.Generator):
            config["rng_states"][layer.name] = _plain(rng.bit_generator.state)
    slots = None
    if model.compiled:
        config["compile"] = {
            "loss": {"class_name": type(model.loss).__name__, "config": model.loss.get_config()},
            "metrics": [_metric_name(m) for m in model._metric_specs],
            "optimizer": optimizers_module.serialize(model.optimizer),
        }
        config["optimizer_state"], slots = _optimizer_state(model)
    return config, weights, slots


def _metric_name(spec) -> str:
    if isinstance(spec, str):
        return spec
    for name, fn in metrics_module._FUNCTIONS.items():
        if fn is spec:
            return name
    return metrics_module.name_of(spec)          # a function of the user's: custom_objects at load time


def _optimizer_state(model):
    opt = model.optimizer
    if opt._variables is None and not opt.iterations:
        return None, None                          # it has not taken a step: nothing to keep
    variables = opt._variables or []
    if model.built and [v.shape for v in variables] != [v.shape for v in model._optimizer_variables()]:
        return None, None       # state for variables this model no longer has: training it would fail anyway
    state = opt.get_state()
    layout = "other"
    if variables and model.built:
        if len(variables) == 1 and variables[0] is model._flat_weights:
            layout = "flat"
        elif len(variables) == len(model.trainable_weights) and \
                all(a is b for a, b in zip(variables, model.trainable_weights)):
            layout = "per_variable"
    described = [{"shape": list(v.shape), "dtype": v.dtype.name, "slots": list(slot)}
                 for v, slot in zip(variables, state["slots"])]
    arrays = [(f"{i}/{name}", array) for i, slot in enumerate(state["slots"]) for name, array in slot.items()]
    return {"iterations": state["iterations"], "layout": layout, "variables": described}, arrays


def _plain(value):
    """A random generator's state with NumPy arrays and scalars as JSON lists and numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_bytes(config, what) -> bytes:
    return json.dumps(_jsonable(config, "config", what), indent=2, allow_nan=False).encode("utf-8")


def _jsonable(value, where, what):
    """`value` as plain JSON types (NumPy scalars become numbers, tuples lists), or a clear ValueError."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot save {what}: {where} is {value!r}; a model file holds finite numbers only")
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"cannot save {what}: {where} has a key {key!r} that is not a str")
            out[key] = _jsonable(item, f"{where}.{key}", what)
        return out
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, f"{where}[{i}]", what) for i, item in enumerate(value)]
    kind = "a function" if callable(value) else f"a {type(value).__name__}"
    raise ValueError(f"cannot save {what}: {where} is {kind} ({value!r:.80}), which a model file cannot store "
                     f"(it holds JSON and arrays only, never pickled Python objects); use numbers, names or "
                     f"glassnet objects there, or save the weights alone with model.save_weights")


def _zip_info(name, compress) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def _write_npz(fileobj, named_arrays):
    """An .npz (what np.savez writes) with the arrays in the given order and fixed timestamps."""
    with zipfile.ZipFile(fileobj, "w", allowZip64=True) as zf:
        for name, array in named_arrays:
            with zf.open(_zip_info(name + ".npy", zipfile.ZIP_STORED), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)


def _npz_bytes(named_arrays) -> bytes:
    buffer = io.BytesIO()
    _write_npz(buffer, named_arrays)
    return buffer.getvalue()


def _write_archive(fileobj, members):
    """Write each (name, make_bytes) member, then manifest.json with every member's SHA-256 and size."""
    from . import __version__
    listed = {}
    with zipfile.ZipFile(fileobj, "w", allowZip64=True) as zf:
        for name, make in members:
            data = make()
            compress = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
            zf.writestr(_zip_info(name, compress), data)
            listed[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "glassnet_version": __version__,
                    "members": listed}
        zf.writestr(_zip_info(MANIFEST, zipfile.ZIP_DEFLATED), json.dumps(manifest, indent=2).encode("utf-8"))


def _atomic_write(path: Path, write):
    """Call write(fileobj) on a temporary file next to `path`, fsync it, then rename it over `path`.

    On any error the temporary file is removed and an existing file at `path` is left as it was.
    """
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: the directory {str(directory)!r} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a directory")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)          # the umask applies, as for any new file
            break
        except FileExistsError:                      # pragma: no cover - a 32-bit name collision
            continue
    try:
        with os.fdopen(fd, "wb") as fileobj:
            write(fileobj)
            fileobj.flush()
            os.fsync(fileobj.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):                   # make the rename itself durable (POSIX)
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


# ======================================================================
# Loading
# ======================================================================

def load_model(filepath, compile=True, custom_objects=None) -> Sequential:
    """The model saved in a `.glassnet` file: same architecture and weights, compiled (with its
    optimizer state) if it was compiled when saved, so it predicts identically and keeps training.

    compile=False gives the model uncompiled. custom_objects maps names to your own layer,
    loss, optimizer or schedule classes and metric functions. Loading draws no random numbers
    from glassnet's global generator. Raises FileNotFoundError for a missing file and
    ModelFileError (a ValueError) naming the file and the fault for anything else.
    """
    path = _existing(filepath, SUFFIX)
    config, members = _read_archive(path)
    custom_objects = dict(custom_objects or {})
    expected = _expected_weights(path, config)
    with _global_rng_untouched():
        model = _rebuild(path, config, custom_objects, expected)
    weights = _read_arrays(path, WEIGHTS, members[WEIGHTS], expected)
    for mine, saved in zip(model.weights if model.built else [], weights):
        mine[...] = saved
    _restore_rng_states(path, model, config.get("rng_states", {}))
    if compile and config.get("compile") is not None:
        _compile(path, model, config, members, custom_objects)
    return model


def read_config(filepath) -> dict:
    """The checked config.json of a `.glassnet` file, without building the model (for tools)."""
    return _read_archive(_existing(filepath, SUFFIX))[0]


def load_weights(model, filepath):
    """Set `model`'s weights from a save_weights `.npz` (or from a `.glassnet` model file).

    Arrays are matched by name ("dense/W", ...) when the file's names are the model's, else by
    position (so np.savez(path, *model.get_weights()) works too). Counts and shapes are checked
    before any weight changes; values are cast to the model's dtype.
    """
    _check_model(model)
    path = _existing(filepath, WEIGHTS_SUFFIX)
    _require_weights(model, "load_weights")
    with _open_zip(path) as zf:
        is_model_file = MANIFEST in zf.namelist()
    if is_model_file:
        config, members = _read_archive(path)
        arrays = _read_arrays(path, WEIGHTS, members[WEIGHTS], _expected_weights(path, config))
        found = dict(zip((w["name"] for w in config["weights"]), arrays))
    else:
        with open(path, "rb") as f:
            found = _npz_arrays(path, "the file", f.read())
    names, own = weight_names(model), model.weights
    if set(found) == set(names):
        pairs = [(name, name, found[name]) for name in names]
    elif len(found) == len(names):
        pairs = list(zip(found, names, found.values()))
    else:
        raise ModelFileError(path, f"it holds {len(found)} arrays ({_short(list(found))}), "
                                   f"the model has {len(names)} weights ({_short(names)})")
    for (key, name, array), mine in zip(pairs, own):
        if array.shape != mine.shape:
            raise ModelFileError(path, f"array {key!r} has shape {array.shape}, "
                                       f"the model's {name} needs {mine.shape}; no weight was changed")
        if array.dtype.kind not in "fiu":
            raise ModelFileError(path, f"array {key!r} holds {array.dtype} values, not numbers; "
                                       f"no weight was changed")
    for (_, _, array), mine in zip(pairs, own):
        mine[...] = array


def _short(names, limit=6):
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _existing(filepath, suffix) -> Path:
    path = _as_path(filepath, "filepath")
    if path.exists():
        return path
    if not path.suffix and path.with_name(path.name + suffix).exists():
        return path.with_name(path.name + suffix)
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))


@contextlib.contextmanager
def _open_zip(path):
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as err:
        raise ModelFileError(path, _not_a_zip(path)) from err
    with zf:
        yield zf


def _not_a_zip(path) -> str:
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        return "the file is empty"
    if head.startswith(b"PK\x03\x04"):
        return "it starts like a zip archive but its end is missing: the file is truncated or damaged"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return f"it is {kind}, not a glassnet model file"
    try:
        head.decode("utf-8")
        kind = "a text file"
    except UnicodeDecodeError:
        kind = "not a zip archive"
    return f"it is {kind}, not a glassnet model file (a zip archive)"


def _read_archive(path):
    """(config, {member: bytes}) after checking the manifest, the version and every member's SHA-256."""
    with _open_zip(path) as zf:
        infos = zf.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ModelFileError(path, f"the archive holds members twice ({', '.join(dup)}): it was tampered with")
        if MANIFEST not in names:
            raise ModelFileError(path, _foreign_zip(names))
        manifest = _json_member(path, zf, MANIFEST)
        _check_format(path, manifest, MANIFEST)
        listed = manifest.get("members")
        if not isinstance(listed, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("sha256"), str) and len(v["sha256"]) == 64
                and isinstance(v.get("size"), int) and not isinstance(v.get("size"), bool) for v in listed.values()):
            raise ModelFileError(path, f"{MANIFEST} does not list its members with a SHA-256 and a size each")
        for required in (CONFIG, WEIGHTS):
            if required not in listed:
                raise ModelFileError(path, f"{MANIFEST} does not list the member {required}")
        for name in names:
            if name != MANIFEST and name not in listed:
                raise ModelFileError(path, f"the archive holds a member {MANIFEST} does not list: {name!r}")
        members = {}
        for name, entry in listed.items():
            if name not in names:
                raise ModelFileError(path, f"the member {name} is missing (listed in {MANIFEST})")
            size = zf.getinfo(name).file_size
            if size != entry["size"]:
                raise ModelFileError(path, f"{name} has {size} bytes, {MANIFEST} says {entry['size']}: "
                                           f"the file was modified or damaged")
            data = _read_member(path, zf, name)
            if hashlib.sha256(data).hexdigest() != entry["sha256"].lower():
                raise ModelFileError(path, f"{name} was modified or damaged: its SHA-256 does not match "
                                           f"the one in {MANIFEST}")
            members[name] = data
    config = _parse_json(path, CONFIG, members[CONFIG])
    _check_format(path, config, CONFIG)
    if config["format_version"] != manifest["format_version"]:
        raise ModelFileError(path, f"{CONFIG} says format version {config['format_version']}, "
                                   f"{MANIFEST} says {manifest['format_version']}")
    return config, members


def _foreign_zip(names) -> str:
    if names and all(n.endswith(".npy") for n in names):
        return ("it is a NumPy .npz archive, not a glassnet model file; "
                "to read weights saved with save_weights use model.load_weights")
    if "metadata.json" in names and "model.weights.h5" in names:
        return "it is a Keras .keras file, not a glassnet model file"
    return f"it is a zip archive but not a glassnet model file: it has no {MANIFEST} (members: {_short(names)})"


def _read_member(path, zf, name) -> bytes:
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as err:
        raise ModelFileError(path, f"the member {name} cannot be read ({err}): the file is damaged") from err


def _json_member(path, zf, name):
    if zf.getinfo(name).file_size > _JSON_LIMIT:
        raise ModelFileError(path, f"{name} is implausibly large ({zf.getinfo(name).file_size} bytes)")
    return _parse_json(path, name, _read_member(path, zf, name))


def _parse_json(path, name, data):
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ModelFileError(path, f"{name} is not valid JSON ({err})") from err
    if not isinstance(value, dict):
        raise ModelFileError(path, f"{name} must hold a JSON object, got {type(value).__name__}")
    return value


def _check_format(path, doc, name):
    from . import __version__
    if doc.get("format") != FORMAT:
        raise ModelFileError(path, f"it is not a glassnet model file: {name} names the format "
                                   f"{doc.get('format')!r}, expected {FORMAT!r}")
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(path, f"{name} has no valid format_version (got {version!r})")
    if version > FORMAT_VERSION:
        raise ModelFileError(path, f"it was written in model format version {version} (by glassnet "
                                   f"{doc.get('glassnet_version', '?')}); this glassnet ({__version__}) reads "
                                   f"versions up to {FORMAT_VERSION}: upgrade glassnet to load it")


@contextlib.contextmanager
def _global_rng_untouched():
    """Building layers draws initial weights from the global generator; put its state back afterwards."""
    rng = backend.global_rng()
    state = rng.bit_generator.state
    try:
        yield
    finally:
        rng.bit_generator.state = state


def _lookup(custom_objects, name, builtin, what, path):
    if name in custom_objects:
        return custom_objects[name]
    if name in builtin:
        return builtin[name]
    raise ModelFileError(path, f"{CONFIG} uses the {what} {name!r}, which glassnet does not have "
                               f"(known: {', '.join(sorted(builtin))}); pass custom_objects={{{name!r}: ...}}")


def _rebuild(path, config, custom_objects, expected) -> Sequential:
    spec = config.get("model")
    try:
        model_cls = _lookup(custom_objects, spec["class_name"], {"Sequential": Sequential}, "model class", path)
        cfg = spec["config"]
        model = model_cls(name=cfg.get("name"))
        if cfg.get("input_shape") is not None:
            model._input_feature_shape = tuple(int(d) for d in cfg["input_shape"])
        for layer_spec in cfg["layers"]:
            name = layer_spec["class_name"]
            cls = _lookup(custom_objects, name, layers_module._CLASSES, "layer class", path)
            model.add(cls.from_config(dict(layer_spec.get("config", {}))))
        if config.get("built") and model.layers:
            model._require_built()
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} does not describe a model glassnet can build: "
                                   f"{type(err).__name__}: {err}") from err
    described = [(name, shape, dtype.name) for name, shape, dtype in expected]
    own = [(n, w.shape, w.dtype.name) for n, w in zip(weight_names(model), model.weights)] if model.built else []
    if described != own:
        for mine, listed in zip(own + [None] * len(described), described + [None] * len(own)):
            if mine != listed:
                raise ModelFileError(path, f"{CONFIG} lists the weight {listed} but its architecture "
                                           f"gives {mine}: the file is inconsistent")
    return model


def _expected_weights(path, config):
    try:
        return [(str(w["name"]), tuple(int(d) for d in w["shape"]), np.dtype(w["dtype"]))
                for w in config["weights"]]
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} has a malformed weights list ({err})") from err


def _npz_arrays(path, member, data) -> dict:
    """{name: array} of an .npz held in `data`, read without pickle, in archive order."""
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as err:
        raise ModelFileError(path, f"{member} is not a NumPy .npz archive ({err})") from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        npz_kind = "a single .npy array" if isinstance(npz, np.ndarray) else type(npz).__name__
        raise ModelFileError(path, f"{member} is {npz_kind}, not an .npz archive of named arrays")
    arrays = {}
    with npz:
        for key in npz.files:
            try:
                array = npz[key]
            except ValueError as err:        # object arrays need pickle: refused
                raise ModelFileError(path, f"{member}: array {key!r} cannot be read without unpickling "
                                           f"({err})") from err
            except Exception as err:
                raise ModelFileError(path, f"{member}: array {key!r} is damaged ({err})") from err
            if not isinstance(array, np.ndarray):
                raise ModelFileError(path, f"{member}: {key!r} is not a .npy array")
            arrays[key] = array
    return arrays


def _read_arrays(path, member, data, expected) -> list[np.ndarray]:
    """The arrays of `member`, in the order of `expected` [(name, shape, dtype)], all checked."""
    arrays = _npz_arrays(path, member, data)
    names = [name for name, _, _ in expected]
    missing = [n for n in names if n not in arrays]
    extra = [n for n in arrays if n not in names]
    if missing or extra:
        parts = ([f"lacks {_short(missing)}"] if missing else []) + ([f"has unexpected {_short(extra)}"]
                                                                     if extra else [])
        raise ModelFileError(path, f"{member} {' and '.join(parts)}")
    out = []
    for name, shape, dtype in expected:
        array = arrays[name]
        if array.shape != shape:
            raise ModelFileError(path, f"{member}: {name} has shape {array.shape}, the model needs {shape}")
        if array.dtype != dtype:
            raise ModelFileError(path, f"{member}: {name} has dtype {array.dtype}, the model needs {dtype}")
        out.append(array)
    return out


def _restore_rng_states(path, model, states):
    by_name = {layer.name: layer for layer in model.layers}
    name = None
    try:
        for name, state in states.items():
            rng = getattr(by_name[name], "rng")
            rng.bit_generator.state = state
    except (KeyError, AttributeError, TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} holds a random-generator state that does not fit layer "
                                   f"{name!r} ({type(err).__name__}: {err})") from err


def _compile(path, model, config, members, custom_objects):
    settings = config["compile"]
    try:
        loss_spec = settings["loss"]
        loss_classes = {cls.__name__: cls for cls in losses_module._CLASSES.values()}
        loss_cls = _lookup(custom_objects, loss_spec["class_name"], loss_classes, "loss", path)
        loss = loss_cls(**loss_spec.get("config", {}))
        opt_spec = settings["optimizer"]
        opt_classes = {cls.__name__: cls for cls in optimizers_module._CLASSES.values()}
        opt_cls = _lookup(custom_objects, opt_spec["class_name"], opt_classes, "optimizer", path)
        opt_config = dict(opt_spec["config"])
        lr = opt_config.get("learning_rate")
        if isinstance(lr, dict):
            schedule_classes = {k: v for k, v in vars(optimizers_module.schedules).items()
                                if isinstance(v, type)}
            schedule_cls = _lookup(custom_objects, lr["class_name"], schedule_classes, "learning-rate schedule",
                                   path)
            opt_config["learning_rate"] = schedule_cls(**lr["config"])
        optimizer = opt_cls(**opt_config)
        metrics = []
        for name in settings.get("metrics", []):
            if name in custom_objects:
                metrics.append(custom_objects[name])
                continue
            try:
                metrics_module.get(name)
            except ValueError:
                raise ModelFileError(path, f"{CONFIG} uses the metric {name!r}, which glassnet does not have; "
                                           f"pass custom_objects={{{name!r}: function}} or compile=False") from None
            metrics.append(name)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} holds compile settings glassnet cannot use: "
                                   f"{type(err).__name__}: {err}") from err
    state = config.get("optimizer_state")
    if state is None:
        return
    if OPTIMIZER not in members:
        raise ModelFileError(path, f"{CONFIG} describes an optimizer state but the member {OPTIMIZER} is absent")
    try:
        variables = state["variables"]
        expected = [(f"{i}/{s}", tuple(v["shape"]), np.dtype(v["dtype"]))
                    for i, v in enumerate(variables) for s in v["slots"]]
        iterations = state["iterations"]
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} has a malformed optimizer_state ({err})") from err
    arrays = iter(_read_arrays(path, OPTIMIZER, members[OPTIMIZER], expected))
    slots = [{s: next(arrays) for s in v["slots"]} for v in variables]
    if not model.built:
        raise ModelFileError(path, "the file holds optimizer state for a model without weights")
    try:
        model.optimizer.set_state({"iterations": iterations, "slots": slots}, model._optimizer_variables())
    except ValueError as err:
        raise ModelFileError(path, f"its optimizer state does not fit the model: {err}") from err


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "read_config", "weight_names",
           "ModelFileError", "FORMAT", "FORMAT_VERSION", "SUFFIX", "WEIGHTS_SUFFIX"]
