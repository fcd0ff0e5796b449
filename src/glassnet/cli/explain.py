"""`glassnet explain` (one training step of a tiny network, number by number) and `glassnet gradcheck`
(backpropagation against numerical gradients); the traces themselves are glassnet.explain."""
from __future__ import annotations

import argparse

import numpy as np

from .. import optimizers
from ..backend import set_random_seed
from ..datasets import mnist_mini
from ..explain import CONVNET_DEFAULTS, EXAMPLES, convnet_example, explain_example
from ..gradcheck import gradient_check
from ..layers import Dense, Input
from ..models import Sequential
from ._common import (MAX_COUNT, CommandError, Formatter, _positive_int, activation, dataset, hidden, loss_name,
                      model_and_test_split, optimizer, path, positive_float, positive_int, precision, seed, up_to)

#: `glassnet explain`'s network when no --example is given (the 2-3-2 of the README's by-hand example)
EXPLAIN_DEFAULTS = {"hidden": (3,), "activation": "sigmoid", "optimizer": "sgd", "samples": 1, "seed": 0}
#: `glassnet gradcheck`'s network when no MODEL is given
#: the networks `glassnet explain --model NAME` traces
MODELS = ("dense", "convnet")
#: the options that describe one network only
DENSE_ONLY, CONVNET_ONLY = ("hidden", "activation"), ("filters", "kernel_size", "pixel")
GRADCHECK_DEFAULTS = {"hidden": (5, 3), "activation": "tanh", "loss": "sparse_categorical_crossentropy",
                      "features": 4, "classes": 3}


#: The most parameters the networks explain and gradcheck build from their options may hold (8 MB in float64):
#: they are printed number by number or checked entry by entry; a larger one is a usage error naming this.
MAX_PARAMS = 1_000_000


#: gradcheck perturbs every entry of its random network unless --max-entries is given: two forward passes per
#: entry, so the time grows with the square of the size; beyond this many parameters --max-entries is needed.
MAX_EVERY_ENTRY = 10_000


def _check_size(args, widths):
    """A usage error (exit 2) when the Dense network of these layer widths holds more than MAX_PARAMS, or
    (gradcheck) more than MAX_EVERY_ENTRY when every entry is to be checked."""
    params = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    if args.command == "gradcheck" and args.max_entries is None and MAX_EVERY_ENTRY < params <= MAX_PARAMS:
        args.parser.error(f"the network {'-'.join(map(str, widths))} holds {params:,} parameters; checking every "
                          f"entry of more than {MAX_EVERY_ENTRY:,} (glassnet.cli.explain.MAX_EVERY_ENTRY) would "
                          f"take very long: give --max-entries N to check N entries of each parameter")
    if params > MAX_PARAMS:
        shape = "-".join(map(str, widths))
        args.parser.error(f"the network {shape} would hold {params:,} parameters, more than the limit of "
                          f"{MAX_PARAMS:,} for {args.command} (glassnet.cli.explain.MAX_PARAMS); use smaller "
                          f"--hidden widths" + (" or --features/--classes" if args.command == "gradcheck" else ""))


#: explain --model convnet reads 8x8 digits: a kernel of at most 7 leaves a 2x2 map for its 2x2 pooling
MAX_KERNEL_SIZE = 7


def pixel(text):
    """ROW,COL,FILTER: an output pixel of the first convolution layer (checked against its shape later)."""
    try:
        values = tuple(int(part) for part in str(text).split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 0 or max(values) > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected ROW,COL,FILTER: three integers >= 0 such as 2,3,1, got {text!r}")
    return values


pixel.limit = MAX_COUNT


def kernel_size(text):
    """K of the convnet's K x K kernel: 1 to MAX_KERNEL_SIZE."""
    value = _positive_int(text)                          # any size: the message below names the limit
    if value > MAX_KERNEL_SIZE:
        raise argparse.ArgumentTypeError(f"expected a kernel size up to {MAX_KERNEL_SIZE} (the 8x8 digits must leave "
                                         f"a 2x2 map for the 2x2 pooling), got {text!r}")
    return value


kernel_size.limit = MAX_KERNEL_SIZE


def _network_options(parser, defaults, whose):
    """--hidden and --activation: the tiny network's hidden layers (explain's, or gradcheck's random one)."""
    widths = ",".join(map(str, defaults["hidden"]))
    parser.add_argument("--hidden", type=hidden, default=None, metavar="W[,W...]",
                        help=f"hidden layer widths{whose} (default: {widths})")
    parser.add_argument("--activation", type=activation, default=None, metavar="NAME",
                        help=f"activation of the hidden layers{whose} (default: {defaults['activation']})")


def add_parsers(sub):
    explain = sub.add_parser(
        "explain", formatter_class=Formatter, help="print one training step of a tiny network, number by number",
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
               "  glassnet explain --hidden 4,3 --activation tanh --samples 2 --markdown > step.md\n"
               "  glassnet explain --model convnet --pixel 2,3,1\n"
               "  glassnet explain --model convnet --lang ko --max-items 80")
    explain.add_argument("--example", choices=EXAMPLES, default=None,
                         help="a worked example instead of the default network: backprop-2-1-2 is note 002's "
                              "network (2 inputs, 1 sigmoid hidden neuron, 2 sigmoid outputs)")
    explain.add_argument("--model", choices=MODELS, default="dense",
                         help="dense (default): a 2-3-2 network of Dense layers; convnet: Input 8x8x1 -> Conv2D 2 "
                              "filters 3x3 relu -> MaxPooling2D 2 -> Flatten -> Dense 10 softmax, on 8x8 digits "
                              "of the bundled MNIST sample")
    explain.add_argument("--lang", choices=("en", "ko"), default="en",
                         help="language of the printout: en (default) or ko (the study notes' Korean terms)")
    explain.add_argument("--markdown", action="store_true", help="print Markdown tables instead of text")
    explain.add_argument("--precision", type=precision, default=None, metavar="N|full",
                         help="significant digits, or 'full' for every digit (default: 4; full with --example)")
    _network_options(explain, EXPLAIN_DEFAULTS, "")
    explain.add_argument("--optimizer", type=optimizer, default=None, metavar="NAME",
                         help="sgd, adagrad, rmsprop, adam or adamw (default: sgd)")
    explain.add_argument("--lr", "--learning-rate", dest="lr", type=positive_float, default=None, metavar="RATE",
                         help="learning rate (default: 0.1; 0.5 for the example)")
    explain.add_argument("--samples", type=up_to(MAX_COUNT), default=None, metavar="N",
                         help="batch size: 1 (default) is the input [1, 0.5]; more draws random inputs")
    explain.add_argument("--seed", type=seed, default=None, metavar="N",
                         help="random seed of the initial weights and inputs (default: 0)")
    explain.add_argument("--filters", type=up_to(MAX_COUNT), default=None, metavar="N",
                         help=f"convnet: filters of the Conv2D layer (default: 2; at most {MAX_COUNT:,})")
    explain.add_argument("--kernel-size", type=kernel_size, default=None, metavar="K",
                         help=f"convnet: its K x K kernel (default: 3; at most {MAX_KERNEL_SIZE})")
    explain.add_argument("--pixel", type=pixel, default=None, metavar="ROW,COL,FILTER",
                         help="convnet: the output pixel of the Conv2D layer written out as its sum "
                              "(default: the middle one of filter 0)")
    explain.add_argument("--max-items", type=positive_int, default=40, metavar="N",
                         help="arrays with more values are summarised as min/max/mean (default: 40; "
                              "80 shows the convnet's 8x8 inputs and 6x6 feature maps in full)")
    explain.add_argument("--no-update", action="store_true",
                         help="show the update without applying it (the weights after are what it would give)")
    explain.set_defaults(handler=cmd_explain, parser=explain)

    check = sub.add_parser(
        "gradcheck", formatter_class=Formatter, help="compare backpropagation with numerical gradients",
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
    check.add_argument("model", type=path, metavar="MODEL", nargs="?", default=None,
                       help="a .glassnet model file or run folder (default: a small random network)")
    _network_options(check, GRADCHECK_DEFAULTS, " of the random network")
    check.add_argument("--loss", type=loss_name, default=None, metavar="NAME",
                       help="its loss: sparse_categorical_crossentropy (default), categorical_crossentropy, "
                            "binary_crossentropy, mse or mae; the output activation follows (softmax, sigmoid, "
                            "linear)")
    check.add_argument("--features", type=up_to(MAX_COUNT), default=None, metavar="N",
                       help="its input width (default: 4)")
    check.add_argument("--classes", type=up_to(MAX_COUNT), default=None, metavar="N",
                       help="its number of classes / outputs (default: 3)")
    check.add_argument("--samples", type=up_to(MAX_COUNT), default=8, metavar="N",
                       help="samples in the batch (default: 8)")
    check.add_argument("--seed", type=seed, default=0, metavar="N",
                       help="random seed of the network, the samples and the entries checked (default: 0)")
    check.add_argument("--max-entries", type=positive_int, default=None, metavar="N",
                       help="entries perturbed per parameter (default: all for the random network, which then holds "
                            "at most 10,000 parameters; 20 for MODEL)")
    check.add_argument("--tolerance", type=positive_float, default=1e-6, metavar="TOL",
                       help="largest relative error that passes (default: 1e-6)")
    check.add_argument("--step", type=positive_float, default=1e-5, metavar="H",
                       help="the central differences' step (default: 1e-5). A smaller one, such as 1e-7, keeps "
                            "the differences of a trained ReLU network from stepping across a kink (where ReLU "
                            "bends). A ReLU input of exactly 0 (a zero bias on a blank patch of an image) is a "
                            "kink at any step: backprop takes ReLU's slope there as 0, the differences as 1/2")
    check.add_argument("--dataset", type=dataset, default=None, metavar="NAME|FILE.npz",
                       help="with MODEL: the dataset whose test samples are used (default: the one recorded "
                            "next to the model, else mnist-mini)")
    check.set_defaults(handler=cmd_gradcheck, parser=check)


def _explain_inputs(samples, features, rng):
    if samples == 1:
        return np.array([[1.0, 0.5]]), np.array([1])
    x = np.round(rng.uniform(-1, 1, size=(samples, features)), 1)
    return x, rng.integers(0, 2, size=samples)


def cmd_explain(args, out, err):
    precision = None if args.precision == "full" else args.precision
    if args.example:
        given = [f"--{k.replace('_', '-')}" for k in ("hidden", "activation", "optimizer", "samples", "seed")
                 + CONVNET_ONLY if getattr(args, k) is not None]
        if args.model != "dense":
            given.append("--model")
        if given:
            args.parser.error(f"{', '.join(given)} do{'es' if len(given) == 1 else ''} not apply to --example "
                              f"{args.example}, whose network is fixed")
        text = explain_example(args.example, lang=args.lang, markdown=args.markdown,
                                       precision=precision,
                                       learning_rate=args.lr or 0.5, update=not args.no_update)
        print(text, file=out, end="" if text.endswith("\n") else "\n")
        return 0
    others = DENSE_ONLY if args.model == "convnet" else CONVNET_ONLY
    given = [f"--{k.replace('_', '-')}" for k in others if getattr(args, k) is not None]
    if given:
        args.parser.error(f"{', '.join(given)} do{'es' if len(given) == 1 else ''} not apply to --model {args.model}")
    if args.model == "convnet":
        return _explain_convnet(args, precision, out)
    opts = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in EXPLAIN_DEFAULTS.items()}
    _check_size(args, (2, *opts["hidden"], 2))
    set_random_seed(opts["seed"])
    layers = []
    for i, width in enumerate(opts["hidden"]):
        extra = {"input_shape": (2,)} if i == 0 else {}
        layers.append(Dense(width, activation=opts["activation"], dtype="float64", **extra))
    layers.append(Dense(2, activation="softmax", dtype="float64"))
    model = Sequential(layers)
    optimizer = optimizers.get(opts["optimizer"])
    optimizer.learning_rate = args.lr or 0.1
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x, y = _explain_inputs(opts["samples"], 2, np.random.default_rng(opts["seed"]))
    tr = model.trace(x, y, update=not args.no_update, lang=args.lang,
                     precision=4 if args.precision is None else precision, max_items=args.max_items)
    print(tr.to_markdown() if args.markdown else tr.to_text(), file=out)
    return 0


def _explain_convnet(args, precision, out):
    """`glassnet explain --model convnet`: the small ConvNet of glassnet.explain.convnet on 8x8 digits."""
    opts = {k: v for k, v in CONVNET_DEFAULTS.items()}
    for key in ("filters", "kernel_size", "samples", "seed", "optimizer"):
        if getattr(args, key) is not None:
            opts[key] = getattr(args, key)
    if args.lr is not None:
        opts["learning_rate"] = args.lr
    digits = len(mnist_mini.load_data()[1][1]) if opts["samples"] > 1 else 1
    if opts["samples"] > digits:
        args.parser.error(f"argument --samples: expected up to {digits:,} with --model convnet (the test digits of "
                          f"mnist-mini), got {opts['samples']}")
    if args.pixel is not None:
        side = 8 - opts["kernel_size"] + 1                    # the Conv2D map: 'valid' padding, stride 1
        row, col, filt = args.pixel
        if row >= side or col >= side or filt >= opts["filters"]:
            args.parser.error(f"argument --pixel: {row},{col},{filt} is outside the Conv2D output of shape "
                              f"({side}, {side}, {opts['filters']}) (rows 0-{side - 1}, columns 0-{side - 1}, "
                              f"filters 0-{opts['filters'] - 1})")
    model, x, y = convnet_example(**opts)
    tr = model.trace(x, y, update=not args.no_update, lang=args.lang, pixel=args.pixel,
                     precision=4 if args.precision is None else precision, max_items=args.max_items)
    print(tr.to_markdown() if args.markdown else tr.to_text(), file=out)
    return 0


def _gradcheck_network(opts, samples, rng):
    """The random float64 network gradcheck checks without a MODEL, and its batch."""
    loss = opts["loss"]
    classes, features = opts["classes"], opts["features"]
    if loss == "binary_crossentropy":
        units, out_act = 1, "sigmoid"
    elif loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        units, out_act = classes, "softmax"
    else:
        units, out_act = classes, "linear"
    layers = [Input(shape=(features,), dtype="float64")]
    layers += [Dense(w, activation=opts["activation"], dtype="float64") for w in opts["hidden"]]
    layers.append(Dense(units, activation=out_act, dtype="float64"))
    model = Sequential(layers)
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
    path, model, _, data, x = model_and_test_split(args, samples=args.samples)
    n = len(x)
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


def cmd_gradcheck(args, out, err):
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
        if opts["classes"] < 2 and opts["loss"] in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
            args.parser.error(f"argument --classes: expected at least 2 for {opts['loss']}, got {opts['classes']}")
        _check_size(args, (opts["features"], *opts["hidden"],
                           1 if opts["loss"] == "binary_crossentropy" else opts["classes"]))
        set_random_seed(args.seed)
        model, x, y, name = _gradcheck_network(opts, args.samples, np.random.default_rng(args.seed))
        max_entries = args.max_entries
    result = gradient_check(model, x, y, h=args.step, tolerance=args.tolerance, max_entries=max_entries, seed=args.seed)
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
