"""The `glassnet` command: train, evaluate, predict with and describe a model from the shell.

    glassnet train                                   # the notes' network on the bundled MNIST sample, offline
    glassnet train --hidden 128,64 --activation relu --epochs 5 --dataset mnist
    glassnet evaluate runs/20250101-120000/model.glassnet
    glassnet predict runs/20250101-120000/model.glassnet digit.png more_digits.npy
    glassnet info runs/20250101-120000/model.glassnet

`main(argv)` returns the exit status instead of exiting, so it can be called in-process:
0 success, 1 a runtime error (missing dataset, unreadable model file or image: one line
``glassnet: error: ...`` on stderr), 2 a usage error (argparse's message), 130 interrupted.
See docs/cli.md.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import time

import numpy as np

PROG = "glassnet"
DATASETS = ("mnist-mini", "mnist", "fashion-mnist")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
MODEL_FILE = "model.glassnet"
IMAGES_HINT = 'pip install "glassnet[images]"'

#: `glassnet train`'s defaults: the study notes' network (784-50 sigmoid, 10 softmax, Adam, batch 32).
TRAIN_DEFAULTS = {
    "dataset": "mnist-mini",
    "hidden": (50,),
    "activation": "sigmoid",
    "optimizer": "adam",
    "lr": None,                 # None: the optimizer's Keras default (Adam: 0.001)
    "batch_size": 32,
    "epochs": 10,
    "validation_split": 0.1,
    "seed": 0,
    "dtype": "float32",
    "output": None,             # None: runs/<YYYYmmdd-HHMMSS>/
    "quiet": False,
}
#: names a --config file may use besides the option names themselves (dashes or underscores)
CONFIG_ALIASES = {"learning_rate": "lr"}


class CommandError(Exception):
    """A runtime failure reported as one line on stderr, exit status 1."""


class MissingDependencyError(CommandError):
    """An optional dependency (Pillow) is missing; the message says what to install."""


# ----------------------------------------------------------------------------
# Argument types: each raises ArgumentTypeError, so bad values exit with status 2
# ----------------------------------------------------------------------------

def _hidden(text):
    parts = [p.strip() for p in str(text).split(",")]
    widths = []
    for part in parts:
        try:
            width = int(part)
        except ValueError:
            width = 0
        if width <= 0:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated layer widths (positive integers) such as 50 or 128,64, got {text!r}")
        widths.append(width)
    return tuple(widths)


def _positive_int(text):
    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _activation(text):
    from . import activations
    try:
        return activations.canonical_name(str(text).strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _optimizer(text):
    from . import optimizers
    name = str(text).strip().lower()
    if name not in optimizers.names():
        raise argparse.ArgumentTypeError(f"unknown optimizer {text!r}; choose from {', '.join(optimizers.names())}")
    return name


def _dtype(text):
    name = str(text).strip().lower()
    if name not in ("float32", "float64"):
        raise argparse.ArgumentTypeError(f"expected float32 or float64, got {text!r}")
    return name


def _dataset(text):
    """A bundled/downloadable dataset name (dashes or underscores), or a path to an .npz file."""
    text = str(text)
    name = text.strip().lower().replace("_", "-")
    if name in DATASETS:
        return name
    if text.lower().endswith(".npz") or os.path.isfile(text):
        return text                       # a path: a missing file is a runtime error (exit 1)
    raise argparse.ArgumentTypeError(
        f"unknown dataset {text!r}; choose {', '.join(DATASETS)} or give a path to an .npz file "
        f"holding {', '.join(NPZ_KEYS)}")


def _text(text):
    return str(text)


def _flag(value):
    if isinstance(value, bool):
        return value
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


#: option -> converter; the same converters check command-line strings and --config values
TRAIN_TYPES = {
    "dataset": _dataset, "hidden": _hidden, "activation": _activation, "optimizer": _optimizer,
    "lr": _positive_float, "batch_size": _positive_int, "epochs": _positive_int,
    "validation_split": _fraction, "seed": _seed, "dtype": _dtype, "output": _text, "quiet": _flag,
}


# ----------------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------------

class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=30)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=_Formatter,
        description="glassnet: neural networks in NumPy that you can see through.\n\n"
                    "Train the study notes' MNIST network offline, then evaluate it, classify images\n"
                    "with it and describe it.",
        epilog="examples:\n"
               "  glassnet train                                  # 784-50 sigmoid-10 softmax, Adam, mnist-mini\n"
               "  glassnet train --hidden 128,64 --activation relu --epochs 5\n"
               "  glassnet evaluate runs/<run>/model.glassnet\n"
               "  glassnet predict runs/<run>/model.glassnet digit.png\n"
               "  glassnet info runs/<run>/model.glassnet\n"
               "  glassnet plot runs/<run>                        # figures (PNG) into the run folder\n"
               "  glassnet explain --example backprop-2-1-2       # one backprop step, number by number\n"
               "  glassnet gradcheck                              # backprop vs numerical gradients\n\n"
               "Run 'glassnet COMMAND --help' for a command's options; see docs/cli.md.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    d = TRAIN_DEFAULTS
    train = sub.add_parser(
        "train", formatter_class=_Formatter, help="train a classifier and save a run folder",
        description="Train a fully connected classifier (default: the notes' 784-50 sigmoid-10 softmax\n"
                    "network, Adam, batch 32) on images scaled to [0, 1], print Keras's progress and the\n"
                    "test loss and accuracy, and save everything to a run folder:\n"
                    "model.glassnet, history.json, history.csv, curves.png, summary.txt, metrics.json.",
        epilog="Options may also come from a TOML file (--config run.toml) holding the same names, with\n"
               "dashes or underscores (batch-size = 64, hidden = [128, 64]); command-line flags override it.")
    S = argparse.SUPPRESS       # absent flags stay absent, so a --config file can fill them in
    train.add_argument("--config", metavar="FILE.toml", default=None,
                       help="read options from a TOML file (flags given here override it)")
    train.add_argument("--dataset", type=_dataset, default=S, metavar="NAME|FILE.npz",
                       help=f"{', '.join(DATASETS)}, or an .npz file holding {', '.join(NPZ_KEYS)} "
                            f"(default: {d['dataset']})")
    train.add_argument("--hidden", type=_hidden, default=S, metavar="W[,W...]",
                       help="hidden layer widths, comma-separated (default: 50)")
    train.add_argument("--activation", type=_activation, default=S, metavar="NAME",
                       help=f"activation of the hidden layers, any glassnet activation (default: {d['activation']})")
    train.add_argument("--optimizer", type=_optimizer, default=S, metavar="NAME",
                       help=f"sgd, adagrad, rmsprop, adam or adamw (default: {d['optimizer']})")
    train.add_argument("--lr", "--learning-rate", dest="lr", type=_positive_float, default=S, metavar="RATE",
                       help="learning rate (default: the optimizer's Keras default, 0.001 for Adam)")
    train.add_argument("--batch-size", type=_positive_int, default=S, metavar="N",
                       help=f"samples per gradient step (default: {d['batch_size']})")
    train.add_argument("--epochs", type=_positive_int, default=S, metavar="N",
                       help=f"passes over the training data (default: {d['epochs']})")
    train.add_argument("--validation-split", type=_fraction, default=S, metavar="F",
                       help=f"fraction of the training data held out for validation, the last ones, "
                            f"as in Keras (default: {d['validation_split']})")
    train.add_argument("--seed", type=_seed, default=S, metavar="N",
                       help=f"random seed: the same seed gives the same run (default: {d['seed']})")
    train.add_argument("--dtype", type=_dtype, default=S, metavar="TYPE",
                       help=f"float32 or float64 (default: {d['dtype']})")
    train.add_argument("--output", "-o", type=_text, default=S, metavar="DIR",
                       help="run folder (default: runs/YYYYmmdd-HHMMSS); an existing, non-empty folder "
                            "is never overwritten: a suffix -1, -2, ... is added")
    train.add_argument("--quiet", "-q", action="store_true", default=S,
                       help="no summary or progress: print only the test results and the run folder")
    train.set_defaults(handler=_cmd_train, parser=train)

    evaluate = sub.add_parser(
        "evaluate", formatter_class=_Formatter, help="test loss, accuracy and confusion matrix of a model",
        description="Evaluate a saved model on a dataset's test split: loss, accuracy and the confusion\n"
                    "matrix (rows: true class, columns: predicted class).")
    evaluate.add_argument("model", metavar="MODEL", help="a .glassnet model file (or a run folder holding one)")
    evaluate.add_argument("--dataset", type=_dataset, default=None, metavar="NAME|FILE.npz",
                          help=f"{', '.join(DATASETS)}, or an .npz file (default: the dataset recorded in the "
                               f"metrics.json next to the model, else {d['dataset']})")
    evaluate.add_argument("--batch-size", type=_positive_int, default=256, metavar="N",
                          help="samples per forward pass (default: 256; the results do not depend on it)")
    evaluate.set_defaults(handler=_cmd_evaluate, parser=evaluate)

    predict = sub.add_parser(
        "predict", formatter_class=_Formatter, help="classify images (PNG, JPEG) or .npy arrays",
        description="Classify images of digits or .npy arrays with a saved model; print one line per\n"
                    "input: name, predicted class, its probability (tab-separated).\n\n"
                    "Images are converted to grayscale, resized to the model's input side (28x28) with a\n"
                    "Lanczos filter, inverted when the background is light (mean of the border pixels\n"
                    "> 127; MNIST digits are white on black), and scaled to [0, 1]. An .npy file holds one\n"
                    "image ((28, 28) or (784,)) or a batch ((n, 28, 28) or (n, 784)); integer arrays are\n"
                    "divided by 255, float arrays in [0, 1] are used as they are.")
    predict.add_argument("model", metavar="MODEL", help="a .glassnet model file (or a run folder holding one)")
    predict.add_argument("files", metavar="FILE", nargs="+", help="PNG or JPEG images, or .npy arrays")
    predict.set_defaults(handler=_cmd_predict, parser=predict)

    info = sub.add_parser("info", formatter_class=_Formatter, help="summary and metadata of a model file",
                          description="Print a saved model's summary and metadata: the glassnet version that "
                                      "saved it,\nloss, optimizer, metrics, dtype and parameter count.")
    info.add_argument("model", metavar="MODEL", help="a .glassnet model file (or a run folder holding one)")
    info.set_defaults(handler=_cmd_info, parser=info)

    plot = sub.add_parser(
        "plot", formatter_class=_Formatter, help="draw a run folder's figures (PNG) into it",
        description="Draw the figures of a run folder written by 'glassnet train' into it, and print the\n"
                    "files written: curves.png (only if missing), confusion_matrix.png, weights.png\n"
                    "(first-layer weights as images), misclassified.png (on the test split) and\n"
                    "histograms.png (weights and activations per layer). Needs matplotlib.")
    plot.add_argument("run", metavar="RUN_FOLDER", help="a run folder written by glassnet train")
    plot.add_argument("--dataset", type=_dataset, default=None, metavar="NAME|FILE.npz",
                      help="the dataset whose test split is drawn (default: the one recorded in the run's "
                           "metrics.json)")
    plot.set_defaults(handler=_cmd_plot, parser=plot)
    _add_explain_commands(sub)
    return parser


# ----------------------------------------------------------------------------
# --config files
# ----------------------------------------------------------------------------

def _read_toml(path):
    if sys.version_info >= (3, 11):
        import tomllib
    else:                                  # pragma: no cover - Python 3.10
        import tomli as tomllib
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def _config_options(path, parser):
    """The options a TOML file sets, checked like command-line values; problems go to parser.error (exit 2)."""
    try:
        table = _read_toml(path)
    except FileNotFoundError:
        parser.error(f"config file not found: {path}")
    except IsADirectoryError:
        parser.error(f"config file {path} is a directory")
    except OSError as err:
        parser.error(f"cannot read config file {path}: {err.strerror or err}")
    except ValueError as err:              # tomllib.TOMLDecodeError, bad UTF-8
        parser.error(f"config file {path} is not valid TOML: {' '.join(str(err).split())}")
    known = sorted(TRAIN_DEFAULTS)
    options, unknown = {}, []
    for key, value in table.items():
        name = key.replace("-", "_")
        name = CONFIG_ALIASES.get(name, name)
        if name not in TRAIN_TYPES:
            unknown.append(key)
            continue
        if name in options:
            parser.error(f"config file {path} sets {name!r} twice (as {key!r} and another spelling)")
        try:
            options[name] = TRAIN_TYPES[name](_config_text(name, value))
        except argparse.ArgumentTypeError as err:
            parser.error(f"config file {path}: {key}: {err}")
    if unknown:
        parser.error(f"config file {path} has unknown key{'s' if len(unknown) > 1 else ''} "
                     f"{', '.join(repr(k) for k in unknown)}; known keys: "
                     f"{', '.join(k.replace('_', '-') for k in known)}")
    return options


def _config_text(name, value):
    """A TOML value as the text the command-line converter takes (booleans pass through for 'quiet')."""
    if name == "quiet":
        return value
    if isinstance(value, bool) or isinstance(value, (dict, list)) and name != "hidden":
        raise argparse.ArgumentTypeError(f"unexpected value {value!r}")
    if name == "hidden":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return ",".join(str(v) for v in value)
        if isinstance(value, str):
            return value
        raise argparse.ArgumentTypeError(f"expected a width, a list of widths such as [128, 64] or "
                                         f"a string '128,64', got {value!r}")
    if name in ("dataset", "output", "activation", "optimizer", "dtype") and not isinstance(value, str):
        raise argparse.ArgumentTypeError(f"expected a string, got {value!r}")
    if name in ("batch_size", "epochs", "seed") and isinstance(value, float):
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}")
    return repr(value) if isinstance(value, float) else str(value)


def train_options(args):
    """Defaults, then the --config file, then the flags given on the command line."""
    options = dict(TRAIN_DEFAULTS)
    if args.config is not None:
        options.update(_config_options(args.config, args.parser))
    options.update({k: v for k, v in vars(args).items() if k in TRAIN_DEFAULTS})
    return options


# ----------------------------------------------------------------------------
# Data
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
        module = {"mnist-mini": "mnist_mini", "mnist": "mnist", "fashion-mnist": "fashion_mnist"}[spec]
        import importlib
        loader = importlib.import_module(f"glassnet.datasets.{module}")
        (x_train, y_train), (x_test, y_test) = loader.load_data()
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    else:
        arrays = _read_npz(spec)
    _check_arrays(arrays, spec)
    return Dataset(spec, *(arrays[k] for k in NPZ_KEYS))


def _read_npz(path):
    import zipfile
    if not os.path.exists(path):
        raise FileNotFoundError(f"dataset file not found: {path} (--dataset takes {', '.join(DATASETS)} "
                                f"or a path to an .npz file)")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise CommandError(f"{path}: not a readable .npz file ({' '.join(str(err).split())})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise CommandError(f"{path}: holds a single array, expected an .npz archive with {', '.join(NPZ_KEYS)} "
                           f"(np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...))")
    with data:
        missing = [k for k in NPZ_KEYS if k not in data.files]
        if missing:
            raise CommandError(f"{path}: missing {', '.join(missing)}; an .npz dataset holds "
                               f"{', '.join(NPZ_KEYS)} (found: {', '.join(data.files) or 'nothing'})")
        try:
            return {k: data[k] for k in NPZ_KEYS}
        except (ValueError, OSError, zipfile.BadZipFile) as err:
            raise CommandError(f"{path}: cannot read its arrays ({' '.join(str(err).split())}); "
                               f"object arrays are not accepted") from None


def _check_arrays(arrays, source):
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


# ----------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------

def _write_text(path, text):
    """Write to a temporary name, then rename: a reader never sees half a file."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _json(data):
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


def make_run_dir(output=None):
    """Create the run folder: `output` or runs/<YYYYmmdd-HHMMSS>; if it exists and is not empty, add -1, -2, ..."""
    base = output if output else os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))
    base = os.path.normpath(base)
    parent = os.path.dirname(base)
    if parent:
        try:
            os.makedirs(parent, exist_ok=True)
        except FileExistsError:
            raise CommandError(f"cannot create the run folder {base}: {parent} is a file") from None
    for i in range(10_000):
        candidate = base if i == 0 else f"{base}-{i}"
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            if os.path.isdir(candidate) and not os.listdir(candidate):
                return candidate                   # an empty folder (mktemp -d): nothing to overwrite
    raise CommandError(f"cannot find a free name for the run folder next to {base}")


def _model_path(path):
    """A model file path; a run folder stands for the model.glassnet inside it."""
    path = os.fspath(path)
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, MODEL_FILE)):
        return os.path.join(path, MODEL_FILE)
    return path


def _load_model(path):
    from .saving import load_model
    path = _model_path(path)
    if os.path.isdir(path):
        raise CommandError(f"{path} is a folder without a {MODEL_FILE}; give a model file")
    return load_model(path)


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
# train
# ----------------------------------------------------------------------------

def _cmd_train(args, out, err):
    import glassnet as gn
    opts = train_options(args)
    quiet = opts["quiet"]
    started = time.perf_counter()

    gn.set_random_seed(opts["seed"])
    data = load_dataset(opts["dataset"])
    dtype = opts["dtype"]
    x_train = to_features(data.x_train, dtype, "x_train")
    x_test = to_features(data.x_test, dtype, "x_test")
    features = x_train.shape[1]
    if data.classes < 2:
        raise CommandError(f"{data.name}: the labels name only one class (0); a classifier needs at least two")

    layers = []
    for i, width in enumerate(opts["hidden"]):
        extra = {"input_shape": (features,)} if i == 0 else {}
        layers.append(gn.layers.Dense(width, activation=opts["activation"], dtype=dtype, **extra))
    layers.append(gn.layers.Dense(data.classes, activation="softmax", dtype=dtype,
                                  **({} if layers else {"input_shape": (features,)})))
    model = gn.Sequential(layers)
    optimizer = gn.optimizers.get(opts["optimizer"])
    if opts["lr"] is not None:
        optimizer.learning_rate = opts["lr"]
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    n_val = len(x_train) - int(len(x_train) * (1.0 - opts["validation_split"])) if opts["validation_split"] else 0
    if n_val >= len(x_train) or (opts["validation_split"] and n_val == 0):
        raise CommandError(f"--validation-split {opts['validation_split']} leaves no samples for "
                           f"{'training' if n_val else 'validation'} with {len(x_train)} training samples")
    run_dir = make_run_dir(opts["output"])
    if not quiet:
        print(f"glassnet train: {data.name}: {len(x_train) - n_val:,} training, {n_val:,} validation, "
              f"{len(x_test):,} test samples of {features} values, {data.classes} classes", file=out)
        model.summary()
    try:
        fit_start = time.perf_counter()
        history = model.fit(x_train, data.y_train, epochs=opts["epochs"], batch_size=opts["batch_size"],
                            validation_split=opts["validation_split"], verbose=0 if quiet else "auto")
        fit_seconds = time.perf_counter() - fit_start
        test_loss, test_accuracy = model.evaluate(x_test, data.y_test, verbose=0 if quiet else 2)
    except BaseException:
        if os.path.isdir(run_dir) and not os.listdir(run_dir):
            os.rmdir(run_dir)                       # leave no empty run folder behind
        raise

    hist = {k: [float(v) for v in values] for k, values in history.history.items()}
    model.save(os.path.join(run_dir, MODEL_FILE))
    _write_text(os.path.join(run_dir, "history.json"), _json(hist))
    _write_text(os.path.join(run_dir, "history.csv"), history_csv(hist))
    lines = []
    model.summary(print_fn=lines.append)
    _write_text(os.path.join(run_dir, "summary.txt"), "\n".join(lines) + "\n")
    options = dict(opts)
    options["hidden"] = list(opts["hidden"])
    options["lr"] = float(optimizer.learning_rate) if opts["lr"] is None else opts["lr"]
    options["output"] = run_dir
    metrics = {
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "epochs_run": len(history.epoch),
        "final": {k: v[-1] for k, v in hist.items() if v},
        "samples": {"train": len(x_train) - n_val, "validation": n_val, "test": len(x_test)},
        "features": features,
        "classes": data.classes,
        "params": model.count_params(),
        "fit_seconds": round(fit_seconds, 3),
        "seconds": round(time.perf_counter() - started, 3),
        "glassnet_version": gn.__version__,
        "config_file": args.config,
        "options": {k.replace("_", "-"): v for k, v in options.items()},
    }
    _write_text(os.path.join(run_dir, "metrics.json"), _json(metrics))
    try:
        from . import plot
        plot.plot_history(hist, os.path.join(run_dir, "curves.png"))
    except ImportError as e:               # matplotlib missing: warn once, keep the rest of the run
        print(f"{PROG}: warning: curves.png not written: {e}", file=err)

    print(f"test_loss: {test_loss:.4f}", file=out)
    print(f"test_accuracy: {test_accuracy:.4f}", file=out)
    print(f"run folder: {run_dir}", file=out)
    return 0


# ----------------------------------------------------------------------------
# evaluate
# ----------------------------------------------------------------------------

def confusion_matrix(y_true, y_pred, classes):
    """counts[i, j]: samples of true class i predicted as class j (glassnet.plot.confusion_matrix)."""
    from .plot import confusion_matrix as counts
    return counts(y_true, y_pred, classes)


def format_confusion_matrix(counts):
    """Rows: true class; columns: predicted class; class labels as headers."""
    k = counts.shape[0]
    width = max(len(str(int(counts.max(initial=0)))), len(str(k - 1))) + 2
    corner = "true\\pred"
    lines = [corner + "".join(f"{j:>{width}}" for j in range(k))]
    for i in range(k):
        lines.append(f"{i:>{len(corner)}}" + "".join(f"{int(c):>{width}}" for c in counts[i]))
    return "\n".join(lines)


def _model_shape(model):
    shape = model.input_shape
    if shape is None:
        raise CommandError("the model does not declare its input shape")
    return tuple(shape[1:])


def _run_dataset(model_path):
    """The dataset a run folder's metrics.json names, when it is usable from here; else None."""
    try:
        with open(os.path.join(os.path.dirname(model_path) or ".", "metrics.json"), encoding="utf-8") as fh:
            spec = json.load(fh)["options"]["dataset"]
        return _dataset(spec) if isinstance(spec, str) and (spec in DATASETS or os.path.isfile(spec)) else None
    except (OSError, ValueError, KeyError, TypeError, argparse.ArgumentTypeError):
        return None


def _cmd_evaluate(args, out, err):
    path = _model_path(args.model)
    model = _load_model(path)
    recorded = None if args.dataset else _run_dataset(path)
    data = load_dataset(args.dataset or recorded or TRAIN_DEFAULTS["dataset"])
    x = to_features(data.x_test, model.dtype, f"{data.name} x_test", _model_shape(model))
    y = data.y_test
    probs = model.predict(x, batch_size=args.batch_size)
    outputs = probs.shape[1]
    binary = outputs == 1
    classes = 2 if binary else outputs
    if y.max() >= classes:
        raise CommandError(f"{data.name}: y_test holds label {int(y.max())}, but the model has {classes} classes")
    pred = (probs[:, 0] > 0.5).astype(np.int64) if binary else probs.argmax(axis=1)
    counts = confusion_matrix(y, pred, classes)
    if not model.compiled:                 # a model saved before compile(): score it as the CLI trains it
        model.compile(optimizer="adam", loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    y_eval = y
    if not binary and not model.loss.sparse_labels:
        y_eval = np.eye(classes, dtype=model.dtype)[y]          # one-hot targets for categorical losses
    results = model.evaluate(x, y_eval, batch_size=args.batch_size, verbose=0, return_dict=True)
    loss = float(results["loss"])
    accuracy = float(results["accuracy"]) if "accuracy" in results else float(np.trace(counts) / len(y))

    print(f"model: {path}", file=out)
    source = "" if args.dataset else " (recorded in the run's metrics.json)" if recorded else " (the default)"
    print(f"dataset: {data.name}{source}, test split: {len(y):,} samples", file=out)
    print(f"test_loss: {loss:.4f}", file=out)
    print(f"test_accuracy: {accuracy:.4f}", file=out)
    print("", file=out)
    print("confusion matrix (rows: true class, columns: predicted class)", file=out)
    print(format_confusion_matrix(counts), file=out)
    return 0


# ----------------------------------------------------------------------------
# predict
# ----------------------------------------------------------------------------

def _pillow():
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise MissingDependencyError(f"reading images needs Pillow, which is not installed; "
                                     f"install it with: {IMAGES_HINT}") from None
    return Image, ImageOps


def image_side(feature_shape):
    """(height, width) of the images a model takes: (28, 28) for 784 inputs."""
    if len(feature_shape) == 2:
        return tuple(feature_shape)
    width = int(np.prod(feature_shape))
    side = math.isqrt(width)
    if side * side != width:
        raise CommandError(f"the model takes {width} values per sample, which is not a square image; "
                           f"pass .npy arrays of {width} values instead of images")
    return side, side


def read_image(path, feature_shape):
    """One image file -> (1, features) floats in [0, 1], white digit on black as in MNIST."""
    Image, ImageOps = _pillow()
    height, width = image_side(feature_shape)
    with Image.open(path) as im:
        im.load()
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")                   # transparent background: put it on white paper
            paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(paper, rgba)
        gray = im.convert("L")
    if gray.size != (width, height):
        resample = getattr(Image, "Resampling", Image).LANCZOS
        gray = gray.resize((width, height), resample)
    a = np.asarray(gray, dtype=np.float64)
    border = np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])
    if border.mean() > 127:                             # dark digit on light paper: invert to MNIST's look
        a = 255.0 - a
    return (a / 255.0).reshape((1,) + tuple(feature_shape))


def read_array(path, feature_shape):
    """An .npy file -> (n, features): one image ((28, 28) or (784,)) or a batch."""
    try:
        a = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as err:
        raise CommandError(f"{path}: not a readable .npy array ({' '.join(str(err).split())})") from None
    if not isinstance(a, np.ndarray):
        raise CommandError(f"{path}: expected an .npy array")
    if a.ndim == 0:
        raise CommandError(f"{path}: holds a single number, expected an image or a batch of images")
    width = int(np.prod(feature_shape))
    # one image: (784,), (28, 28) or the model's own sample shape; anything else is a batch along axis 0
    single = a.size == width and (a.ndim == 1 or (a.ndim == 2 and a.shape[0] > 1) or a.shape == tuple(feature_shape))
    batch = a.reshape((1,) + a.shape) if single else a
    if batch.ndim == 1 or batch[0].size != width:
        side = image_side(feature_shape) if len(feature_shape) == 1 and math.isqrt(width) ** 2 == width else None
        expected = f"({width},)" + (f" or {side}" if side else "")
        raise CommandError(f"{path}: the model expects {width} values per image, shape {expected} or a batch "
                           f"(n, {width}); got an array of shape {a.shape}")
    return to_features(batch, np.float64, path, feature_shape), not single


def _cmd_predict(args, out, err):
    model = _load_model(args.model)
    feature_shape = _model_shape(model)
    inputs = []                            # read every file first: a bad one stops the command before any output
    for path in args.files:
        name = os.path.basename(path) if len(set(map(os.path.basename, args.files))) == len(args.files) else path
        if path.lower().endswith(".npy"):
            x, is_batch = read_array(path, feature_shape)
            names = [f"{name}[{i}]" for i in range(len(x))] if is_batch else [name]
        else:
            try:
                x = read_image(path, feature_shape)
            except CommandError:
                raise
            except (OSError, ValueError, SyntaxError) as e:     # Pillow: UnidentifiedImageError, truncated files
                if isinstance(e, FileNotFoundError):
                    raise
                raise CommandError(f"cannot read image {path}: {' '.join(str(e).split())}") from None
            names = [name]
        inputs.append((names, x))
    for names, x in inputs:
        probs = model.predict(x)
        binary = probs.shape[1] == 1
        for label, p in zip(names, probs):
            if binary:
                cls = int(p[0] > 0.5)
                prob = float(p[0] if cls else 1 - p[0])
            else:
                cls = int(np.argmax(p))
                prob = float(p[cls])
            print(f"{label}\t{cls}\t{prob:.4f}", file=out)
    return 0


# ----------------------------------------------------------------------------
# info
# ----------------------------------------------------------------------------

def _optimizer_text(optimizer):
    if optimizer is None:
        return "none (not compiled)"
    config = optimizer.get_config() if hasattr(optimizer, "get_config") else {}
    shown = {k: v for k, v in config.items() if k != "name" and v is not None}
    args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
    return f"{type(optimizer).__name__}({args})"


def _cmd_info(args, out, err):
    import glassnet as gn
    path = _model_path(args.model)
    model = _load_model(path)
    meta = _saved_metadata(path)
    model.summary()
    print("", file=out)
    loss = getattr(model, "loss", None)
    rows = [
        ("file", path),
        ("saved by", f"glassnet {meta['glassnet_version']}" if meta.get("glassnet_version") else "unknown"),
        ("format version", meta.get("format_version")),
        ("loss", getattr(loss, "name", None) or (str(loss) if loss is not None else "none (not compiled)")),
        ("optimizer", _optimizer_text(getattr(model, "optimizer", None))),
        ("optimizer steps", f"{(meta.get('optimizer_state') or {}).get('iterations', 0):,}"
                            if meta.get("compile") else None),
        ("metrics", ", ".join(model.metrics_names[1:]) if model.metrics_names[1:] else "none"),
        ("dtype", model.dtype),
        ("input shape", str(model.input_shape)),
        ("output shape", str(model.output_shape)),
        ("parameters", f"{model.count_params():,}"),
        ("installed glassnet", gn.__version__),
    ]
    width = max(len(k) for k, v in rows if v is not None) + 1
    for key, value in rows:
        if value is not None:
            print(f"{key + ':':<{width}} {value}", file=out)
    return 0


def _saved_metadata(path):
    """The file's own description (format and glassnet versions, compile settings), read without building."""
    from .saving import read_config
    return read_config(path)


# ----------------------------------------------------------------------------
# plot (the figures themselves: glassnet.plot.plot_run)
# ----------------------------------------------------------------------------

def _cmd_plot(args, out, err):
    from . import plot
    try:
        written = plot.plot_run(args.run, dataset=args.dataset)
    except plot.MissingMatplotlibError as e:
        raise MissingDependencyError(str(e)) from None
    for path in written:
        print(path, file=out)
    return 0


# ----------------------------------------------------------------------------
# explain and gradcheck (see inside the network; the traces are glassnet.explain)
# ----------------------------------------------------------------------------

def _precision(text):
    """Significant digits (a positive integer), or 'full' for every digit (repr of a float64)."""
    if str(text).strip().lower() == "full":
        return "full"
    try:
        value = int(str(text).strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of significant digits (1, 2, ...) or 'full', got {text!r}")
    return value


def _loss_name(text):
    from . import losses
    try:
        return losses.get(str(text).strip()).name
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


#: `glassnet explain`'s network when no --example is given (the 2-3-2 of the README's by-hand example)
EXPLAIN_DEFAULTS = {"hidden": (3,), "activation": "sigmoid", "optimizer": "sgd", "samples": 1, "seed": 0}
#: `glassnet gradcheck`'s network when no MODEL is given
GRADCHECK_DEFAULTS = {"hidden": (5, 3), "activation": "tanh", "loss": "sparse_categorical_crossentropy",
                      "features": 4, "classes": 3}


def _add_explain_commands(sub):
    from .explain import EXAMPLES
    explain = sub.add_parser(
        "explain", formatter_class=_Formatter, help="print one training step of a tiny network, number by number",
        description="Run one training step (forward pass, loss, backpropagation, update) of a tiny network\n"
                    "and print every number: per layer the input x, the weights W and bias b, z = xW + b,\n"
                    "a = f(z); the loss; dL/da, dL/dz, dL/dW, dL/db; the weights after the update.\n"
                    "By default: a seeded 2-3-2 network (sigmoid hidden layer, softmax output, SGD) on\n"
                    "the input [1, 0.5] of class 1. --example backprop-2-1-2 reproduces study note 002's\n"
                    "worked network and checks its outputs and deltas (the note's delta = -dL/dz).",
        epilog="examples:\n"
               "  glassnet explain\n"
               "  glassnet explain --lang ko\n"
               "  glassnet explain --example backprop-2-1-2\n"
               "  glassnet explain --hidden 4,3 --activation tanh --samples 2 --markdown > step.md")
    explain.add_argument("--example", choices=EXAMPLES, default=None,
                         help="a worked example instead of the default network: backprop-2-1-2 is note 002's "
                              "network (2 inputs, 1 sigmoid hidden neuron, 2 sigmoid outputs)")
    explain.add_argument("--lang", choices=("en", "ko"), default="en",
                         help="language of the printout: en (default) or ko (the study notes' Korean terms)")
    explain.add_argument("--markdown", action="store_true", help="print Markdown tables instead of text")
    explain.add_argument("--precision", type=_precision, default=None, metavar="N|full",
                         help="significant digits, or 'full' for every digit (default: 4; full with --example)")
    explain.add_argument("--hidden", type=_hidden, default=None, metavar="W[,W...]",
                         help="hidden layer widths (default: 3)")
    explain.add_argument("--activation", type=_activation, default=None, metavar="NAME",
                         help="activation of the hidden layers (default: sigmoid)")
    explain.add_argument("--optimizer", type=_optimizer, default=None, metavar="NAME",
                         help="sgd, adagrad, rmsprop, adam or adamw (default: sgd)")
    explain.add_argument("--lr", "--learning-rate", dest="lr", type=_positive_float, default=None, metavar="RATE",
                         help="learning rate (default: 0.1; 0.5 for the example)")
    explain.add_argument("--samples", type=_positive_int, default=None, metavar="N",
                         help="batch size: 1 (default) is the input [1, 0.5]; more draws random inputs")
    explain.add_argument("--seed", type=_seed, default=None, metavar="N",
                         help="random seed of the initial weights and inputs (default: 0)")
    explain.add_argument("--no-update", action="store_true",
                         help="show the update without applying it (the weights after are what it would give)")
    explain.set_defaults(handler=_cmd_explain, parser=explain)

    check = sub.add_parser(
        "gradcheck", formatter_class=_Formatter, help="compare backpropagation with numerical gradients",
        description="Compare every gradient backpropagation computes with float64 central differences of\n"
                    "the loss (glassnet.gradient_check) and print, per layer and parameter, the largest\n"
                    "relative error and pass or FAIL. Without MODEL: a small seeded float64 network on a\n"
                    "few random samples. With MODEL (a .glassnet file or run folder): that model on the\n"
                    "first samples of a dataset's test split, perturbing --max-entries entries per parameter.\n"
                    "Exit status 0 when every parameter passes, 1 when one fails.",
        epilog="examples:\n"
               "  glassnet gradcheck\n"
               "  glassnet gradcheck --hidden 5,3 --activation relu --loss categorical_crossentropy --samples 8\n"
               "  glassnet gradcheck runs/<run>/model.glassnet --max-entries 20")
    check.add_argument("model", metavar="MODEL", nargs="?", default=None,
                       help="a .glassnet model file or run folder (default: a small random network)")
    check.add_argument("--hidden", type=_hidden, default=None, metavar="W[,W...]",
                       help="hidden layer widths of the random network (default: 5,3)")
    check.add_argument("--activation", type=_activation, default=None, metavar="NAME",
                       help="activation of its hidden layers (default: tanh)")
    check.add_argument("--loss", type=_loss_name, default=None, metavar="NAME",
                       help="its loss: sparse_categorical_crossentropy (default), categorical_crossentropy, "
                            "binary_crossentropy, mse or mae; the output activation follows (softmax, sigmoid, "
                            "linear)")
    check.add_argument("--features", type=_positive_int, default=None, metavar="N",
                       help="its input width (default: 4)")
    check.add_argument("--classes", type=_positive_int, default=None, metavar="N",
                       help="its number of classes / outputs (default: 3)")
    check.add_argument("--samples", type=_positive_int, default=8, metavar="N",
                       help="samples in the batch (default: 8)")
    check.add_argument("--seed", type=_seed, default=0, metavar="N",
                       help="random seed of the network, the samples and the entries checked (default: 0)")
    check.add_argument("--max-entries", type=_positive_int, default=None, metavar="N",
                       help="entries perturbed per parameter (default: all for the random network, 20 for MODEL)")
    check.add_argument("--tolerance", type=_positive_float, default=1e-6, metavar="TOL",
                       help="largest relative error that passes (default: 1e-6)")
    check.add_argument("--dataset", type=_dataset, default=None, metavar="NAME|FILE.npz",
                       help="with MODEL: the dataset whose test samples are used (default: the one recorded "
                            "next to the model, else mnist-mini)")
    check.set_defaults(handler=_cmd_gradcheck, parser=check)


def _explain_inputs(samples, features, rng):
    if samples == 1:
        return np.array([[1.0, 0.5]]), np.array([1])
    x = np.round(rng.uniform(-1, 1, size=(samples, features)), 1)
    return x, rng.integers(0, 2, size=samples)


def _cmd_explain(args, out, err):
    import glassnet as gn
    from . import explain
    precision = None if args.precision == "full" else args.precision
    if args.example:
        given = [f"--{k.replace('_', '-')}" for k in ("hidden", "activation", "optimizer", "samples", "seed")
                 if getattr(args, k) is not None]
        if given:
            args.parser.error(f"{', '.join(given)} do{'es' if len(given) == 1 else ''} not apply to --example "
                              f"{args.example}, whose network is fixed")
        text = explain.explain_example(args.example, lang=args.lang, markdown=args.markdown,
                                       precision=precision,
                                       learning_rate=args.lr or 0.5, update=not args.no_update)
        print(text, file=out, end="" if text.endswith("\n") else "\n")
        return 0
    opts = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in EXPLAIN_DEFAULTS.items()}
    gn.set_random_seed(opts["seed"])
    layers = []
    for i, width in enumerate(opts["hidden"]):
        extra = {"input_shape": (2,)} if i == 0 else {}
        layers.append(gn.layers.Dense(width, activation=opts["activation"], dtype="float64", **extra))
    layers.append(gn.layers.Dense(2, activation="softmax", dtype="float64"))
    model = gn.Sequential(layers)
    optimizer = gn.optimizers.get(opts["optimizer"])
    optimizer.learning_rate = args.lr or 0.1
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x, y = _explain_inputs(opts["samples"], 2, np.random.default_rng(opts["seed"]))
    tr = model.trace(x, y, update=not args.no_update, lang=args.lang,
                     precision=4 if args.precision is None else precision)
    print(tr.to_markdown() if args.markdown else tr.to_text(), file=out)
    return 0


def _gradcheck_network(opts, samples, rng):
    """The random float64 network gradcheck checks without a MODEL, and its batch."""
    import glassnet as gn
    loss = opts["loss"]
    classes, features = opts["classes"], opts["features"]
    if loss == "binary_crossentropy":
        units, out_act = 1, "sigmoid"
    elif loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        if classes < 2:
            raise CommandError(f"--classes must be at least 2 for {loss}, got {classes}")
        units, out_act = classes, "softmax"
    else:
        units, out_act = classes, "linear"
    layers = [gn.Input(shape=(features,), dtype="float64")]
    layers += [gn.layers.Dense(w, activation=opts["activation"], dtype="float64") for w in opts["hidden"]]
    layers.append(gn.layers.Dense(units, activation=out_act, dtype="float64"))
    model = gn.Sequential(layers)
    model.compile(optimizer="sgd", loss=loss)
    x = rng.normal(size=(samples, features))
    if loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(samples, 1)).astype(np.float64)
    elif loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, classes, size=samples)
    elif loss == "categorical_crossentropy":
        y = np.eye(classes)[rng.integers(0, classes, size=samples)]
    else:
        y = rng.normal(size=(samples, units))
    widths = "-".join(str(w) for w in (features, *opts["hidden"], units))
    name = f"random network {widths} ({opts['activation']} hidden, {out_act} output), {loss}, float64"
    return model, x, y, name


def _gradcheck_model(args):
    """A saved model and the first --samples test samples of its dataset, with targets its loss takes."""
    path = _model_path(args.model)
    model = _load_model(path)
    recorded = None if args.dataset else _run_dataset(path)
    data = load_dataset(args.dataset or recorded or TRAIN_DEFAULTS["dataset"])
    n = min(args.samples, len(data.x_test))
    x = to_features(data.x_test[:n], model.dtype, f"{data.name} x_test", _model_shape(model))
    labels = data.y_test[:n]
    outputs = model.output_shape[-1]
    if not model.compiled:
        model.compile(optimizer="adam", loss="binary_crossentropy" if outputs == 1 else
                      "sparse_categorical_crossentropy")
    if labels.max() >= max(outputs, 2):
        raise CommandError(f"{data.name}: the samples hold label {int(labels.max())}, but the model has "
                           f"{outputs} outputs")
    if model.loss.sparse_labels:
        y = labels
    elif outputs == 1:
        y = labels.reshape(-1, 1).astype(model.dtype)
    else:
        y = np.eye(outputs, dtype=model.dtype)[labels]
    name = f"{path}, {model.loss.name}, {n} test sample{'s' if n != 1 else ''} of {data.name}"
    return model, x, y, name


def _cmd_gradcheck(args, out, err):
    import glassnet as gn
    own = {k: getattr(args, k) for k in GRADCHECK_DEFAULTS if getattr(args, k) is not None}
    if args.model is not None:
        if own:
            args.parser.error(f"{', '.join('--' + k for k in own)} describe{'s' if len(own) == 1 else ''} the random "
                              f"network and do{'es' if len(own) == 1 else ''} not apply to a MODEL")
        model, x, y, name = _gradcheck_model(args)
        max_entries = args.max_entries or 20
    else:
        if args.dataset is not None:
            args.parser.error("--dataset applies only to a MODEL")
        opts = {**GRADCHECK_DEFAULTS, **own}
        gn.set_random_seed(args.seed)
        model, x, y, name = _gradcheck_network(opts, args.samples, np.random.default_rng(args.seed))
        max_entries = args.max_entries
    result = gn.gradient_check(model, x, y, tolerance=args.tolerance, max_entries=max_entries, seed=args.seed)
    entries = "every entry" if max_entries is None else f"up to {max_entries} entries"
    print(f"glassnet gradcheck: {name}", file=out)
    print(f"backpropagation vs float64 central differences, {entries} of each parameter, "
          f"tolerance {args.tolerance:g}", file=out)
    print("", file=out)
    print(str(result), file=out)
    print("", file=out)
    failed = [k for k, v in result.items() if not v < result.tolerance]
    if failed:
        print(f"FAIL: {len(failed)} of {len(result)} parameters exceed the tolerance {args.tolerance:g}: "
              f"{', '.join(failed)}", file=out)
        return 1
    print(f"pass: all {len(result)} parameters agree (largest relative error {result.max_error:.3e} "
          f"< {args.tolerance:g})", file=out)
    return 0


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------

def _one_line(err):
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        text = f"{err.strerror}: {err.filename}"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


def main(argv=None) -> int:
    """Run the command; return its exit status (0 ok, 1 runtime error, 2 usage error, 130 interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:              # --help, --version, usage errors: argparse has printed its message
        return _exit_code(exc)
    out, err = sys.stdout, sys.stderr
    try:
        return args.handler(args, out, err)
    except SystemExit as exc:              # parser.error() for --config problems
        return _exit_code(exc)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                # `glassnet evaluate ... | head`: the reader left; stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error at exit
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass
        return 1
    except (CommandError, ValueError, OSError) as exc:   # FileNotFoundError is an OSError
        sys.stdout.flush()
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":             # pragma: no cover
    sys.exit(main())
