"""What the commands share: errors, the help formatter, the argument types, reading a model and
its dataset.

The argument types are thin wrappers around glassnet._checks (the library's one set of checks):
they parse the text, call the check, and turn its ValueError into argparse.ArgumentTypeError,
so a bad value exits with status 2 and the usage line.  The same converters check --config values.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

from .. import _checks, activations, losses, optimizers, runs
from .._files import not_regular
from ..runs import DATASETS, NPZ_KEYS, CommandError
from .networks import MODELS

PROG = "glassnet"

__all__ = ["PROG", "CommandError", "MissingDependencyError", "Formatter", "hidden", "positive_int", "seed",
           "positive_float", "fraction", "activation", "optimizer", "dtype", "dataset", "text", "path", "flag",
           "precision", "loss_name", "up_to", "config_file", "MAX_CONFIG_BYTES", "MAX_WIDTH", "MAX_COUNT",
           "MAX_LAYERS", "MAX_INT", "MAX_SEED", "MAX_PRECISION", "recorded_dataset", "model_and_test_split",
           "model_name", "model_features", "check_classifier"]


class MissingDependencyError(CommandError):
    """An optional dependency (Pillow) is missing; the message says what to install."""


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=30)


# ----------------------------------------------------------------------------
# Argument types: each raises ArgumentTypeError, so bad values exit with status 2
# ----------------------------------------------------------------------------

def _checked(text, parse, check, expected):
    """parse(text), then check it; any ValueError becomes 'expected <expected>, got <text>'."""
    try:
        return check(parse(str(text).strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def _non_negative_int(value, what):
    # not in glassnet._checks (yet): an integer >= 0 (random seeds)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be an integer >= 0, got {value!r}")
    return value


def _positive_finite(value, what):
    # not in glassnet._checks (yet): a finite number > 0 (learning rates, tolerances)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a finite number > 0, got {value!r}")
    return value


#: The largest value of a count argument that sizes an array (train --hidden widths, explain --samples,
#: gradcheck --features/--classes/--samples): beyond it the command would run out of memory or for ever,
#: so it is a usage error (exit 2) naming the limit.  Scripts that need more call the Python API.
MAX_WIDTH = 1_000_000
MAX_COUNT = 10_000
#: The most hidden layers --hidden may list.
MAX_LAYERS = 100
#: The largest value of any other whole-number argument (epochs, batch sizes, thresholds such as
#: --max-items): no command needs more, and a bound keeps 10**12 from becoming a loop or an array.
MAX_INT = 1_000_000
#: The largest random seed (2**32 - 1, NumPy's legacy seed range, which every generator accepts).
MAX_SEED = 2**32 - 1
#: The most significant digits --precision takes (a float64 holds 17; 'full' prints every digit).
MAX_PRECISION = 17


def _bounded(convert, limit, expected, name):
    """An argument type: convert(text), then at most `limit` (a usage error naming the limit).
    Its `limit` attribute states the bound (tests/cli/test_catalogue.py checks every option has one)."""
    def bounded(text):
        value = convert(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"expected {expected} up to {limit:,} (the command line's limit), "
                                             f"got {text!r}")
        return value
    bounded.__name__ = name
    bounded.limit = limit
    return bounded


def _positive_int(text):
    return _checked(text, int, lambda v: _checks.positive_int(v, "value"), "a positive integer")


def _seed(text):
    return _checked(text, int, lambda v: _non_negative_int(v, "seed"), "an integer >= 0")


def up_to(limit):
    """An argument type: a positive integer no larger than `limit` (a usage error naming the limit)."""
    return _bounded(_positive_int, limit, "a positive integer", f"positive integer up to {limit:,}")


#: a positive integer up to MAX_INT (epochs, batch sizes, --max-items, --max-entries)
positive_int = _bounded(_positive_int, MAX_INT, "a positive integer", "positive_int")
#: a random seed: an integer from 0 to MAX_SEED
seed = _bounded(_seed, MAX_SEED, "an integer >= 0", "seed")


def positive_float(text):
    value = _checked(text, float, lambda v: v, "a number > 0")                     # not a number at all
    try:
        return _positive_finite(value, "value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}") from None


def fraction(text):
    return _checked(text, float, lambda v: _checks.fraction(v, "value"), "a number in [0, 1)")


def hidden(text):
    """Comma-separated layer widths: 50 or 128,64."""
    expected = "comma-separated layer widths (positive integers) such as 50 or 128,64"
    widths = tuple(_checked(text, lambda _: part, lambda p: _checks.positive_int(int(p), "width"), expected)
                   for part in (p.strip() for p in str(text).split(",")))
    if len(widths) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_LAYERS} hidden layers (the command line's limit, "
                                         f"glassnet.cli._common.MAX_LAYERS), got {len(widths):,}")
    if max(widths) > MAX_WIDTH:
        raise argparse.ArgumentTypeError(f"expected layer widths up to {MAX_WIDTH:,} (the command line's limit), "
                                         f"got {text!r}")
    return widths


hidden.limit = MAX_WIDTH


def precision(text):
    """Significant digits (a positive integer), or 'full' for every digit (repr of a float64)."""
    if str(text).strip().lower() == "full":
        return "full"
    value = _checked(text, int, lambda v: _checks.positive_int(v, "precision"),
                     "a number of significant digits (1, 2, ...) or 'full'")
    if value > MAX_PRECISION:
        raise argparse.ArgumentTypeError(f"expected a number of significant digits up to {MAX_PRECISION} (a float64 "
                                         f"holds 17), or 'full' for every digit, got {text!r}")
    return value


precision.limit = MAX_PRECISION


def activation(text):
    try:
        return activations.canonical_name(str(text).strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def loss_name(text):
    try:
        return losses.get(str(text).strip()).name
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def optimizer(text):
    name = str(text).strip().lower()
    if name not in optimizers.names():
        raise argparse.ArgumentTypeError(f"unknown optimizer {text!r}; choose from {', '.join(optimizers.names())}")
    return name


def model_name(text):
    """A network `glassnet train` builds (dashes or underscores): mlp, convnet, simple_convnet."""
    name = str(text).strip().lower().replace("-", "_")
    if name not in MODELS:
        raise argparse.ArgumentTypeError(f"unknown model {text!r}; choose {', '.join(MODELS)}")
    return name


def dtype(text):
    name = str(text).strip().lower()
    if name not in ("float32", "float64"):
        raise argparse.ArgumentTypeError(f"expected float32 or float64, got {text!r}")
    return name


def dataset(text):
    """A bundled/downloadable dataset name (dashes or underscores), or a path to an .npz file."""
    text = str(text)
    name = runs.dataset_name(text)
    if name:
        return name
    if text.lower().endswith(".npz") or os.path.isfile(text):
        return text                       # a path: a missing file is a runtime error (exit 1)
    raise argparse.ArgumentTypeError(
        f"unknown dataset {text!r}; choose {', '.join(DATASETS)} or give a path to an .npz file "
        f"holding {', '.join(NPZ_KEYS)}")


#: The largest `train --config` file read (an options file is a few hundred bytes).
MAX_CONFIG_BYTES = 2**20


def config_file(text):
    """`train --config FILE.toml`: a regular file of at most MAX_CONFIG_BYTES whose TOML is not nested
    too deeply (tomllib would raise RecursionError), checked before `train` reads it (a device such as
    /dev/zero would be read for ever, a FIFO would block).  A missing file or one that is not TOML
    passes: `train` names the problem ("config file not found", "is not valid TOML")."""
    path = str(text)
    if not path:
        raise argparse.ArgumentTypeError("expected a file path, got ''")
    try:
        problem = not_regular(path)
        size = os.path.getsize(path)
    except FileNotFoundError:
        return path
    except OSError as err:
        raise argparse.ArgumentTypeError(f"cannot read config file {path}: {err.strerror or err}") from None
    if problem:
        raise argparse.ArgumentTypeError(f"config file {path}: {problem}")
    if size > MAX_CONFIG_BYTES:
        raise argparse.ArgumentTypeError(f"config file {path} holds {size:,} bytes, more than an options file's "
                                         f"limit of {MAX_CONFIG_BYTES:,} (glassnet.cli._common.MAX_CONFIG_BYTES)")
    if sys.version_info >= (3, 11):
        import tomllib
    else:                                  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            tomllib.loads(fh.read(MAX_CONFIG_BYTES + 1).decode("utf-8"))
    except RecursionError:
        raise argparse.ArgumentTypeError(f"config file {path} is nested too deeply to be an options file") from None
    except OSError as err:
        raise argparse.ArgumentTypeError(f"cannot read config file {path}: {err.strerror or err}") from None
    except ValueError:                     # not TOML, bad UTF-8: `train` reads it again and says so
        pass
    return path


def text(value):
    """A name (train --output): any text but the empty string."""
    if not str(value).strip():
        raise argparse.ArgumentTypeError(f"expected a non-empty name, got {value!r}")
    return str(value)


def path(value):
    """A file or folder named on the command line (MODEL, FILE, RUN_FOLDER): any text but the empty string;
    whether it exists and what it holds is checked when it is read (exit 1, naming it)."""
    if not str(value):
        raise argparse.ArgumentTypeError("expected a file path, got ''")
    return str(value)


def flag(value):
    if isinstance(value, bool):
        return value
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


# ----------------------------------------------------------------------------
# A saved model and the dataset it is scored on
# ----------------------------------------------------------------------------

def recorded_dataset(model_path):
    """The dataset the metrics.json next to a model names, or None when there is no metrics.json.
    A metrics.json that cannot be read, or that names no dataset or a file that is gone, is an error
    naming it (pass --dataset): never a silent fall back to another dataset."""
    return runs.recorded_dataset(os.path.dirname(model_path) or ".")


def model_features(path, model):
    """The shape of one sample the model of file `path` takes; CommandError naming the file when the model
    declares none (saved before it was built)."""
    if getattr(model, "input_shape", None) is None:
        raise CommandError(f"{path}: the model does not declare its input shape (it was saved before it was "
                           f"built); save it after fit, or with an Input layer in front")
    return runs.model_features(model)


def check_classifier(path, model, command):
    """CommandError naming the file unless the model's output is one row of class scores per sample."""
    shape = tuple(model.output_shape)
    if len(shape) != 2:
        raise CommandError(f"{path}: the model's output has shape {shape}; glassnet {command} needs a classifier "
                           f"whose output has shape (None, classes) (add Flatten and a Dense layer)")


def model_and_test_split(args, samples=None, classifier=False):
    """(model path, model, recorded dataset or None, dataset, x_test as the model takes it: its first
    `samples`, default all) for the MODEL and --dataset of evaluate and gradcheck; with `classifier`,
    the model must output class scores (check_classifier)."""
    path = runs.model_path(args.model)
    model = runs.load_model(path)
    model_features(path, model)
    if classifier:
        check_classifier(path, model, args.command)
    recorded = None if args.dataset else recorded_dataset(path)
    data, x = runs.load_test_split(model, args.dataset or recorded or runs.DEFAULT_DATASET, samples)
    return path, model, recorded, data, x
