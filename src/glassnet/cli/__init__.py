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

The package: _common (errors, argument types: thin wrappers of glassnet._checks), train,
evaluate (evaluate and info), predict, plot, explain (explain and gradcheck).  Run folders and
the datasets the commands read are glassnet.runs.
"""
from __future__ import annotations

import argparse
import io
import os
import sys

from .._version import __version__
from ..metrics import confusion_matrix
from ..runs import (DATASETS, MODEL_FILE, NPZ_KEYS, Dataset, history_csv, load_dataset, make_run_dir,
                    to_features)
from . import evaluate, explain, export, playground, plot, predict, search, train
from ._common import PROG, CommandError, Formatter, MissingDependencyError
from .evaluate import format_confusion_matrix
from .explain import EXPLAIN_DEFAULTS, GRADCHECK_DEFAULTS
from .predict import IMAGES_HINT, image_side, read_array, read_image
from .train import CONFIG_ALIASES, TRAIN_DEFAULTS, TRAIN_TYPES, train_options

__all__ = ["main", "build_parser", "PROG", "CommandError", "MissingDependencyError", "TRAIN_DEFAULTS",
           "CONFIG_ALIASES", "TRAIN_TYPES", "EXPLAIN_DEFAULTS", "GRADCHECK_DEFAULTS", "DATASETS", "NPZ_KEYS",
           "MODEL_FILE", "IMAGES_HINT", "Dataset", "load_dataset", "to_features", "make_run_dir", "history_csv",
           "confusion_matrix", "format_confusion_matrix", "train_options", "image_side", "read_image",
           "read_array"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=Formatter,
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
               "  glassnet gradcheck                              # backprop vs numerical gradients\n"
               "  glassnet export runs/<run>                      # the model as an ONNX file\n"
               "  glassnet search --units 32,64 --lr 0.001,0.01   # a hyper-parameter search, on Dask\n"
               "  glassnet playground                             # a network learning in the browser\n\n"
               "Run 'glassnet COMMAND --help' for a command's options; see docs/cli.md.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train.add_parser(sub)
    evaluate.add_evaluate_parser(sub)
    predict.add_parser(sub)
    evaluate.add_info_parser(sub)
    plot.add_parser(sub)
    explain.add_parsers(sub)            # explain, gradcheck
    export.add_parser(sub)
    search.add_parser(sub)
    playground.add_parser(sub)
    return parser


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
        args, extra = parser.parse_known_args(argv)
        if extra:                          # reported by the command's parser: its usage line and its name
            getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
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
