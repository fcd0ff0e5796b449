"""Run folders and datasets for the `glassnet` command and `glassnet.plot.plot_run`.

A run folder (``runs/<YYYYmmdd-HHMMSS>/`` unless named) holds what ``glassnet train`` saves:
model.glassnet, history.json, history.csv, summary.txt, metrics.json and curves.png.
``make_run_dir`` reserves a new one with an exclusive os.mkdir (a suffix -1, -2, ... is added when
the name is taken), so no two runs ever share a folder; ``abandon_run_dir`` removes it again when a
run fails before writing anything.  ``load_dataset`` reads a dataset by name (mnist-mini, mnist,
fashion-mnist) or from an .npz file holding x_train, y_train, x_test, y_test, checked; ``to_features`` turns
images into float samples in [0, 1] (flat, or shaped as a model takes them: ``image_shape`` gives
the (height, width, channels) of a dataset's images for a ConvNet).  Failures the command reports as
one line (exit status 1) raise ``CommandError``.

Import level 4: this module imports from glassnet.saving and glassnet.datasets, never from
glassnet.plot or glassnet.cli (both use it).
"""
from __future__ import annotations

import contextlib
import csv
import errno
import importlib
import io
import json
import math
import os
import time

import numpy as np

from . import saving
from . import _npy, backend

MODEL_FILE = "model.glassnet"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"
#: the dataset names the command knows, and the one it uses when none is given or recorded
DATASETS = ("mnist-mini", "mnist", "fashion-mnist")
DEFAULT_DATASET = "mnist-mini"
#: the arrays an .npz dataset holds
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_LOADERS = {"mnist-mini": "mnist_mini", "mnist": "mnist", "fashion-mnist": "fashion_mnist"}


class CommandError(Exception):
    """A runtime failure reported as one line on stderr, exit status 1."""


#: The largest history.json read_history reads (a run of many epochs writes a few KB).
MAX_HISTORY_BYTES = 64 * 2**20


def read_history(path):
    """A run folder's history.json -> {name: [number or None, ...]}; anything else is a ValueError that
    names the file (not JSON, too big, too deeply nested, not a dict of lists of numbers)."""
    size = os.path.getsize(path)
    if size > MAX_HISTORY_BYTES:
        raise ValueError(f"{path} holds {size:,} bytes, more than a history's limit of {MAX_HISTORY_BYTES:,} "
                         f"(glassnet.runs.MAX_HISTORY_BYTES)")
    with open(path, encoding="utf-8") as fh:
        try:
            history = json.load(fh)
        except RecursionError:
            raise ValueError(f"{path} is nested too deeply to be a history") from None
        except ValueError as err:                        # UnicodeDecodeError too
            raise ValueError(f"{path} is not valid JSON ({err})") from None
    expected = "a history ({'loss': [numbers, one per epoch], ...})"
    if not isinstance(history, dict):
        raise ValueError(f"{path} does not hold {expected}: it holds a {type(history).__name__}")
    for key, values in history.items():
        if not isinstance(values, list):
            raise ValueError(f"{path} does not hold {expected}: {key[:40]!r} is not a list but a "
                             f"{type(values).__name__}")
        for i, v in enumerate(values):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                shown = repr(v) if len(repr(v)) <= 40 else repr(v)[:37] + "..."
                raise ValueError(f"{path} does not hold {expected}: {key[:40]!r}[{i}] is {shown}, not a number")
    return history


def dataset_name(text):
    """A known dataset name in its canonical spelling (mnist_mini, MNIST-mini -> mnist-mini), else None."""
    name = str(text).strip().lower().replace("_", "-")
    return name if name in DATASETS else None


# ----------------------------------------------------------------------------
# Run folders
# ----------------------------------------------------------------------------

def make_run_dir(output=None):
    """Reserve a new run folder and return its name: `output`, or runs/<YYYYmmdd-HHMMSS>; when that name is
    taken (by a folder, even an empty one, or a file), -1, -2, ... is added. Each name is tried with one
    os.mkdir, which fails if the name exists, so two runs started together (or in the same second) never
    get the same folder, and no folder that existed before is ever used."""
    base = output if output else os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))
    base = os.path.normpath(base)
    parent = os.path.dirname(base)
    if parent:
        try:
            os.makedirs(parent, exist_ok=True)
        except FileExistsError:
            raise CommandError(f"cannot create the run folder {base}: {parent} is a file") from None
        except OSError as err:
            raise CommandError(f"cannot create the run folder {base}: {_cause(err)} "
                               f"(creating {err.filename or parent})") from None
    for i in range(10_000):
        candidate = base if i == 0 else f"{base}-{i}"
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            continue                               # taken: by another run, or before; never shared
        except OSError as err:
            raise CommandError(f"cannot create the run folder {candidate}: {_cause(err)}") from None
    raise CommandError(f"cannot find a free name for the run folder next to {base}")


def abandon_run_dir(run_dir, error):
    """After `error` stopped a run: remove `run_dir` if it holds nothing yet (os.rmdir, which never removes
    a folder that holds a file). For an OSError, return a CommandError that names the file (the error's
    message) and says what became of the run folder; else None (the caller re-raises `error`)."""
    removed = False
    with contextlib.suppress(OSError):
        if not os.listdir(run_dir):
            os.rmdir(run_dir)
            removed = True
    if not isinstance(error, OSError):
        return None
    text = " ".join((f"{error.strerror}: {error.filename}" if error.filename and error.strerror
                     else str(error) or type(error).__name__).split())
    if removed:
        return CommandError(f"{text}; the run folder {run_dir} was removed (nothing had been written to it)")
    try:
        kept = sorted(name for name in os.listdir(run_dir) if not name.startswith("."))
    except OSError:
        kept = []
    return CommandError(f"{text}; the run folder {run_dir} keeps what was written before: "
                        f"{', '.join(kept) or 'nothing'}")


def _cause(err: OSError) -> str:
    code = errno.errorcode.get(err.errno) if err.errno is not None else None
    return (err.strerror or str(err)) + (f" ({code})" if code else "")


def model_path(path):
    """A model file path; a run folder stands for the model.glassnet inside it."""
    path = os.fspath(path)
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, MODEL_FILE)):
        return os.path.join(path, MODEL_FILE)
    return path


def load_model(path):
    """The model of a .glassnet file or of a run folder (glassnet.saving.load_model)."""
    path = model_path(path)
    if os.path.isdir(path):
        raise CommandError(f"{path} is a folder without a {MODEL_FILE}; give a model file")
    return saving.load_model(path)


def recorded_dataset(folder):
    """The dataset named in `folder`/metrics.json (options.dataset): a canonical name or an existing
    .npz path; None when the folder has no metrics.json.  ValueError when it names no dataset,
    FileNotFoundError when the file it names is gone."""
    path = os.path.join(os.fspath(folder) or ".", METRICS_FILE)
    if not os.path.exists(path):
        return None
    from ._files import check_regular
    check_regular(path)                                  # a FIFO or /dev/zero named metrics.json
    size = os.path.getsize(path)
    if size > MAX_HISTORY_BYTES:
        raise ValueError(f"{path} holds {size:,} bytes, more than a run file's limit of {MAX_HISTORY_BYTES:,} "
                         f"(glassnet.runs.MAX_HISTORY_BYTES)")
    try:
        with open(path, encoding="utf-8") as fh:
            spec = json.load(fh)["options"]["dataset"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ValueError(f"{path} does not name the dataset of the run (options.dataset); "
                         f"pass one with --dataset (dataset= in Python)") from None
    if not isinstance(spec, str):
        raise ValueError(f"{path}: options.dataset must be a string, got {spec!r}")
    if dataset_name(spec):
        return dataset_name(spec)
    if not os.path.isfile(spec):
        raise FileNotFoundError(f"the run's dataset file {spec} (named in {path}) is not found; "
                                f"pass one with --dataset (dataset= in Python)")
    return spec


# ----------------------------------------------------------------------------
# The files train writes
# ----------------------------------------------------------------------------

def write_text(path, text):
    """Write `text` (UTF-8) atomically: a temporary file in the same folder, then a rename, so a reader never
    sees half a file; an OSError names `path` (archive.atomic_write)."""
    data = text.encode("utf-8")
    saving.archive.atomic_write(path, lambda fh: fh.write(data))


def json_text(data):
    """Strict JSON: a NaN or infinite loss (a diverged run) is written as null."""
    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value
    return json.dumps(clean(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def history_csv(history: dict) -> str:
    """One row per epoch (counted from 1, as the progress display does): epoch, loss, accuracy, val_loss, ..."""
    order = ["loss", "accuracy", "val_loss", "val_accuracy"]
    keys = [k for k in order if k in history] + sorted(k for k in history if k not in order)
    n = max((len(v) for v in history.values()), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch"] + keys)
    for i in range(n):
        writer.writerow([i + 1] + [repr(float(history[k][i])) if i < len(history[k]) else "" for k in keys])
    return buf.getvalue()


# ----------------------------------------------------------------------------
# Datasets
# ----------------------------------------------------------------------------

class Dataset:
    """A dataset's four arrays, as loaded (images not yet scaled)."""

    def __init__(self, name, x_train, y_train, x_test, y_test):
        self.name = name
        self.x_train, self.y_train, self.x_test, self.y_test = x_train, y_train, x_test, y_test
        self.classes = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1


def load_dataset(spec) -> Dataset:
    """mnist-mini, mnist, fashion-mnist (through glassnet.datasets) or an .npz file (checked)."""
    if spec in DATASETS:
        loader = importlib.import_module(f"glassnet.datasets.{_LOADERS[spec]}")
        (x_train, y_train), (x_test, y_test) = loader.load_data()
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    else:
        arrays = read_npz(spec)
    check_arrays(arrays, spec)
    return Dataset(spec, *(arrays[k] for k in NPZ_KEYS))


def read_npz(path):
    """The four arrays of an .npz dataset file; CommandError naming what is missing or unreadable."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"dataset file not found: {path} (--dataset takes {', '.join(DATASETS)} "
                                f"or a path to an .npz file)")
    return _npy.read_npz(path, NPZ_KEYS, CommandError)


def check_arrays(arrays, source):
    """Check a dataset's four arrays (images and integer labels of matching lengths); labels become int64."""
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.dtype.kind not in "biuf":
            raise CommandError(f"{source}: x_{part} must hold numbers, got dtype {x.dtype}")
        if x.ndim < 2 or x.shape[0] == 0 or x[0].size == 0:
            raise CommandError(f"{source}: x_{part} must have shape (n, 784), (n, 28, 28) or (n, height, width) "
                               f"with n >= 1, got {x.shape}")
        if y.ndim != 1 or y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
            raise CommandError(f"{source}: y_{part} must hold integer class labels 0, 1, ... in shape (n,), "
                               f"got dtype {y.dtype} and shape {y.shape}")
        if len(y) != len(x):
            raise CommandError(f"{source}: x_{part} has {len(x)} samples but y_{part} has {len(y)} labels")
        if y.min() < 0:
            raise CommandError(f"{source}: y_{part} holds negative labels ({y.min()}); labels are 0, 1, ...")
        if y.max() >= backend.MAX_ARRAY_SIZE:          # a float label of 1e300 would wrap around in int64
            raise CommandError(f"{source}: y_{part} holds the label {y.max():g}, not below "
                               f"glassnet.backend.MAX_ARRAY_SIZE = {backend.MAX_ARRAY_SIZE:,}; labels are class "
                               f"indices 0, 1, ...")
        if x.dtype.kind == "f" and not (np.isfinite(x.min()) and np.isfinite(x.max())):
            raise CommandError(f"{source}: x_{part} holds NaN or infinite values; pixel values lie in [0, 1] "
                               f"or [0, 255]")
        if x.dtype.kind == "f" and not (x.min() >= 0 and x.max() <= 255):
            raise CommandError(f"{source}: x_{part} holds values from {x.min():g} to {x.max():g}; pixel values "
                               f"lie in [0, 1] or [0, 255]")
    if arrays["x_train"][0].size != arrays["x_test"][0].size:     # (n, 784) and (n, 28, 28) may mix
        raise CommandError(f"{source}: x_train samples have shape {arrays['x_train'].shape[1:]} but x_test "
                           f"samples have shape {arrays['x_test'].shape[1:]}")
    for part in ("train", "test"):
        arrays[f"y_{part}"] = arrays[f"y_{part}"].astype(np.int64)


def to_features(x, dtype, what="x", feature_shape=None):
    """Images -> float samples in [0, 1], flattened (or shaped as `feature_shape`).

    Integer arrays are divided by 255; float arrays already in [0, 1] are kept; float arrays
    in [0, 255] are divided by 255; anything else is an error.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise CommandError(f"{what} must hold numbers, got dtype {x.dtype}")
    if x.size == 0:
        raise CommandError(f"{what} is empty (shape {x.shape})")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise CommandError(f"{what} holds NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 255:
        raise CommandError(f"{what}: pixel values must lie in [0, 1] or [0, 255], found values from {lo:g} to {hi:g}")
    divide = x.dtype.kind in "iu" or hi > 1
    out = x.reshape(len(x), -1).astype(dtype)        # a copy, in the model's float type
    if divide:
        out /= np.asarray(255, dtype=dtype)
    if feature_shape is not None:
        width = int(np.prod(feature_shape))
        if out.shape[1] != width:
            shape_text = "x".join(map(str, feature_shape)) if len(feature_shape) > 1 else str(width)
            raise CommandError(f"{what}: the model expects {width} values per sample ({shape_text}), "
                               f"got samples of shape {tuple(x.shape[1:])} ({out.shape[1]} values)")
        out = out.reshape((len(out),) + tuple(feature_shape))
    return out


def image_shape(x, what="x_train"):
    """(height, width, channels) of a dataset's images, for a model that reads images (a ConvNet):
    (n, h, w) images get one channel, (n, h, w, c) keep theirs, flat samples (n, side * side) become
    square one-channel images; anything else is an error."""
    x = np.asarray(x)
    if x.ndim == 4:
        return tuple(int(d) for d in x.shape[1:])
    if x.ndim == 3:
        return (int(x.shape[1]), int(x.shape[2]), 1)
    width = int(np.prod(x.shape[1:]))
    side = math.isqrt(width)
    if x.ndim != 2 or side * side != width:
        raise CommandError(f"{what}: a convolutional model needs images, shape (n, height, width), "
                           f"(n, height, width, channels) or square flat samples (n, side*side), "
                           f"got shape {x.shape}")
    return (side, side, 1)


def model_features(model):
    """The shape of one sample a model takes (its input shape without the batch axis)."""
    shape = model.input_shape
    if shape is None:
        raise CommandError("the model does not declare its input shape")
    return tuple(shape[1:])


def load_test_split(model, spec, samples=None):
    """(dataset, x_test as the model takes it: its first `samples`, default all) for a saved model and a
    dataset name or .npz path."""
    data = load_dataset(spec)
    return data, to_features(data.x_test[:samples], model.dtype, f"{data.name} x_test", model_features(model))
