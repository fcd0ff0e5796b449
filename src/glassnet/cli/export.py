"""`glassnet export`: a saved model as an ONNX file that ONNX Runtime serves (needs the `onnx` extra)."""
from __future__ import annotations

import argparse
from pathlib import Path

from .. import runs
from ..saving import onnx_export
from ._common import Formatter, MissingDependencyError

ONNX_HINT = 'pip install "glassnet[onnx]"'


def _opset(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer opset such as {onnx_export.DEFAULT_OPSET}, "
                                         f"got {text!r}") from None
    if value < onnx_export.MIN_OPSET:
        raise argparse.ArgumentTypeError(f"expected an opset of at least {onnx_export.MIN_OPSET}, got {value}")
    return value


def add_parser(sub):
    export = sub.add_parser(
        "export", formatter_class=Formatter, help="write a saved model as an ONNX file",
        description="Write a saved model (.glassnet or .keras file, or a run folder) as an ONNX file for\n"
                    "ONNX Runtime and other ONNX runtimes: the same numbers as predict, a dynamic batch\n"
                    "axis. Needs the onnx extra: " + ONNX_HINT + ". See docs/onnx.md.",
        epilog="examples:\n"
               "  glassnet export runs/<run>                       # writes runs/<run>/model.onnx\n"
               "  glassnet export model.glassnet --output served/digits.onnx --opset 17")
    export.add_argument("model", metavar="MODEL", help="a .glassnet or .keras model file, or a run folder")
    export.add_argument("--format", choices=["onnx"], default="onnx", help="the file format (default: onnx)")
    export.add_argument("--output", "-o", metavar="FILE", help="where to write (default: MODEL with the suffix .onnx)")
    export.add_argument("--opset", type=_opset, default=None, metavar="N",
                        help=f"the ONNX opset (default: {onnx_export.DEFAULT_OPSET})")
    export.set_defaults(handler=cmd_export, parser=export)


def cmd_export(args, out, err):
    try:
        onnx = onnx_export.import_onnx()
    except ImportError:
        raise MissingDependencyError(f"exporting to ONNX needs the onnx package, which is not installed; install "
                                     f"it with: {ONNX_HINT}") from None
    newest = onnx.defs.onnx_opset_version()
    if args.opset is not None and args.opset > newest:
        args.parser.error(f"argument --opset: the installed onnx {onnx.__version__} knows opsets up to {newest}, "
                          f"got {args.opset}")
    path = runs.model_path(args.model)
    target = Path(args.output) if args.output else Path(path).with_suffix(".onnx")
    model = runs.load_model(path)
    written = onnx_export.export_onnx(model, target, verbose=False, opset_version=args.opset)
    opset = args.opset or onnx_export.DEFAULT_OPSET
    print(f"wrote {written} (ONNX opset {opset}, inputs {_shapes(model, 'input')}, outputs "
          f"{_shapes(model, 'output')})", file=out)
    return 0


def _shapes(model, which):
    shape = getattr(model, which + "_shape")
    shapes = shape if isinstance(shape, list) else [shape]
    return ", ".join("(batch, " + ", ".join(str(d) for d in s[1:]) + ")" for s in shapes)
