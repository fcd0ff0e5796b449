"""`glassnet train`: train a classifier and save a run folder (options from flags and --config TOML)."""
from __future__ import annotations

import argparse
import os
import sys
import time

from .. import optimizers, plot, runs
from .._version import __version__
from ..backend import set_random_seed
from ..runs import DATASETS, MODEL_FILE, NPZ_KEYS, image_shape, load_dataset, make_run_dir, to_features
from . import networks, resume
from ._common import (PROG, CommandError, Formatter, activation, config_file, dataset, dtype, flag, fraction, hidden,
                      model_name, optimizer, positive_float, positive_int, seed, text)

#: `glassnet train`'s defaults: the study notes' network (784-50 sigmoid, 10 softmax, Adam, batch 32).
TRAIN_DEFAULTS = {
    "dataset": runs.DEFAULT_DATASET,
    "model": "mlp",
    "hidden": (50,),
    "activation": "sigmoid",
    "optimizer": "adam",
    "lr": None,                 # None: the optimizer's Keras default (Adam: 0.001)
    "batch_size": None,         # None: the model's (networks.BATCH_SIZES: mlp 32, convnet 128, simple_convnet 100)
    "epochs": 10,
    "validation_split": 0.1,
    "seed": 0,
    "dtype": "float32",
    "output": None,             # None: runs/<YYYYmmdd-HHMMSS>/
    "quiet": False,
}
#: names a --config file may use besides the option names themselves (dashes or underscores)
CONFIG_ALIASES = {"learning_rate": "lr"}
#: options that shape the fully connected network only
MLP_OPTIONS = ("hidden", "activation")

#: option -> converter; the same converters check command-line strings and --config values
TRAIN_TYPES = {
    "dataset": dataset, "model": model_name, "hidden": hidden, "activation": activation, "optimizer": optimizer,
    "lr": positive_float, "batch_size": positive_int, "epochs": positive_int,
    "validation_split": fraction, "seed": seed, "dtype": dtype, "output": text, "quiet": flag,
}


def add_parser(sub):
    d = TRAIN_DEFAULTS
    train = sub.add_parser(
        "train", formatter_class=Formatter, help="train a classifier and save a run folder",
        description="Train a classifier (default: the notes' 784-50 sigmoid-10 softmax network, Adam,\n"
                    "batch 32; --model convnet or simple_convnet for a convolutional network) on images\n"
                    "scaled to [0, 1], print Keras's progress and the test loss and accuracy, and save\n"
                    "everything to a run folder:\n"
                    "model.glassnet, history.json, history.csv, curves.png, summary.txt, metrics.json.",
        epilog="Options may also come from a TOML file (--config run.toml) holding the same names, with\n"
               "dashes or underscores (batch-size = 64, hidden = [128, 64]); command-line flags override it.")
    S = argparse.SUPPRESS       # absent flags stay absent, so a --config file can fill them in
    train.add_argument("--config", type=config_file, metavar="FILE.toml", default=None,
                       help="read options from a TOML file (flags given here override it)")
    train.add_argument("--dataset", type=dataset, default=S, metavar="NAME|FILE.npz",
                       help=f"{', '.join(DATASETS)}, or an .npz file holding {', '.join(NPZ_KEYS)} "
                            f"(default: {d['dataset']})")
    train.add_argument("--model", type=model_name, default=S, metavar="NAME",
                       help="mlp: fully connected (--hidden, --activation); convnet: keras.io's MNIST convnet "
                            "(Conv2D 32, pool, Conv2D 64, pool, dropout 0.5, softmax); simple_convnet: the "
                            "textbook's SimpleConvNet (Conv2D 30 5x5, pool, Dense 100, softmax) "
                            f"(default: {d['model']})")
    train.add_argument("--hidden", type=hidden, default=S, metavar="W[,W...]",
                       help="hidden layer widths of --model mlp, comma-separated (default: 50)")
    train.add_argument("--activation", type=activation, default=S, metavar="NAME",
                       help=f"activation of --model mlp's hidden layers, any glassnet activation "
                            f"(default: {d['activation']})")
    train.add_argument("--optimizer", type=optimizer, default=S, metavar="NAME",
                       help=f"sgd, adagrad, rmsprop, adam or adamw (default: {d['optimizer']})")
    train.add_argument("--lr", "--learning-rate", dest="lr", type=positive_float, default=S, metavar="RATE",
                       help="learning rate (default: the optimizer's Keras default, 0.001 for Adam)")
    train.add_argument("--batch-size", type=positive_int, default=S, metavar="N",
                       help="samples per gradient step (default: the model's: 32 for mlp, 128 for convnet, "
                            "100 for simple_convnet)")
    train.add_argument("--epochs", type=positive_int, default=S, metavar="N",
                       help=f"passes over the training data (default: {d['epochs']})")
    train.add_argument("--validation-split", type=fraction, default=S, metavar="F",
                       help=f"fraction of the training data held out for validation, the last ones, "
                            f"as in Keras (default: {d['validation_split']})")
    train.add_argument("--seed", type=seed, default=S, metavar="N",
                       help=f"random seed: the same seed gives the same run (default: {d['seed']})")
    train.add_argument("--dtype", type=dtype, default=S, metavar="TYPE",
                       help=f"float32 or float64 (default: {d['dtype']})")
    train.add_argument("--output", "-o", type=text, default=S, metavar="DIR",
                       help="run folder, made new (default: runs/YYYYmmdd-HHMMSS); an existing folder is never "
                            "used, even an empty one: a suffix -1, -2, ... is added")
    train.add_argument("--quiet", "-q", action="store_true", default=S,
                       help="no summary or progress: print only the test results and the run folder")
    train.add_argument("--resume", metavar="RUN", type=text, default=None,
                       help="continue the unfinished run in folder RUN (killed, interrupted) from its backup, "
                            "with its recorded options, to the result the run would have had")
    train.set_defaults(handler=cmd_train, parser=train)


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
    if name in ("dataset", "model", "output", "activation", "optimizer", "dtype") and not isinstance(value, str):
        raise argparse.ArgumentTypeError(f"expected a string, got {value!r}")
    if name in ("batch_size", "epochs", "seed") and isinstance(value, float):
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}")
    return repr(value) if isinstance(value, float) else str(value)


def given_options(args):
    """The options the --config file and the flags set (not the defaults)."""
    given = _config_options(args.config, args.parser) if args.config is not None else {}
    given.update({k: v for k, v in vars(args).items() if k in TRAIN_DEFAULTS})
    return given


def train_options(args):
    """Defaults, then the --config file, then the flags given on the command line; the model's batch
    size when none is given.  --hidden or --activation with a ConvNet is a usage error (exit 2)."""
    options = dict(TRAIN_DEFAULTS)
    given = given_options(args)
    options.update(given)
    if options["model"] != "mlp":
        for key in MLP_OPTIONS:
            if key in given:
                args.parser.error(f"--{key} shapes --model mlp's hidden layers; --model {options['model']} "
                                  f"has a fixed architecture (drop --{key}, or use --model mlp)")
    if options["batch_size"] is None:
        options["batch_size"] = networks.BATCH_SIZES[options["model"]]
    return options


def cmd_train(args, out, err):
    resumed = None
    if getattr(args, "resume", None) is not None:       # the run's recorded options (cli/resume.py)
        resumed = resume.prepare(args.resume, given_options(args), args.parser, TRAIN_TYPES, _config_text)
        opts = resumed.options
    else:
        opts = train_options(args)
    quiet = opts["quiet"]
    started = time.perf_counter()

    set_random_seed(opts["seed"])
    data = load_dataset(opts["dataset"])
    dtype = opts["dtype"]
    images = opts["model"] in networks.IMAGE_MODELS
    shape = image_shape(data.x_train, f"{data.name} x_train") if images else None    # (height, width, channels)
    x_train = to_features(data.x_train, dtype, f"{data.name} x_train", shape)
    x_test = to_features(data.x_test, dtype, f"{data.name} x_test", shape)
    features = int(x_train[0].size)
    if data.classes < 2:
        raise CommandError(f"{data.name}: the labels name only one class (0); a classifier needs at least two")

    try:
        model = networks.build(opts["model"], x_train.shape[1:], data.classes, opts["hidden"], opts["activation"],
                               dtype)
    except ValueError as err:              # images too small for the convolutions and pools
        raise CommandError(f"{data.name}: images of shape {x_train.shape[1:]} do not fit --model {opts['model']}: "
                           f"{err}") from None
    optimizer = optimizers.get(opts["optimizer"])
    if opts["lr"] is not None:
        optimizer.learning_rate = opts["lr"]
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    n_val = len(x_train) - int(len(x_train) * (1.0 - opts["validation_split"])) if opts["validation_split"] else 0
    if n_val >= len(x_train) or (opts["validation_split"] and n_val == 0):
        raise CommandError(f"--validation-split {opts['validation_split']} leaves no samples for "
                           f"{'training' if n_val else 'validation'} with {len(x_train)} training samples")
    run_dir = resumed.run_dir if resumed else make_run_dir(opts["output"])
    if not quiet:
        sample = "x".join(map(str, x_train.shape[1:])) + " images" if images else f"{features} values"
        print(f"glassnet train: {data.name}: {len(x_train) - n_val:,} training, {n_val:,} validation, "
              f"{len(x_test):,} test samples of {sample}, {data.classes} classes", file=out)
        model.summary()
    if resumed:                                 # printed even with --quiet: the run goes on from a backup
        print(f"glassnet train: resuming {run_dir} after epoch {resumed.epoch} of {opts['epochs']}", file=out)
    try:
        if not resumed:
            resume.write_options(run_dir, opts)     # the backup in RUN/backup/ makes the run resumable
        fit_start = time.perf_counter()
        history = model.fit(x_train, data.y_train, epochs=opts["epochs"], batch_size=opts["batch_size"],
                            validation_split=opts["validation_split"], verbose=0 if quiet else "auto",
                            callbacks=resume.fit_callbacks(run_dir, resumed and resumed.history))
        fit_seconds = time.perf_counter() - fit_start
        test_loss, test_accuracy = model.evaluate(x_test, data.y_test, verbose=0 if quiet else 2)

        hist = {k: [float(v) for v in values] for k, values in history.history.items()}
        if resumed:                             # the epochs before the resumed fit, then its own
            hist = {k: resumed.history.get(k, []) + hist.get(k, []) for k in {**resumed.history, **hist}}
        model.save(os.path.join(run_dir, MODEL_FILE))
        runs.write_text(os.path.join(run_dir, "history.json"), runs.json_text(hist))
        runs.write_text(os.path.join(run_dir, "history.csv"), runs.history_csv(hist))
        lines = []
        model.summary(print_fn=lines.append)
        runs.write_text(os.path.join(run_dir, "summary.txt"), "\n".join(lines) + "\n")
        options = dict(opts)
        options["hidden"] = list(opts["hidden"])
        if images:                                  # options a ConvNet does not use are not recorded
            for key in MLP_OPTIONS:
                del options[key]
        options["lr"] = float(optimizer.learning_rate) if opts["lr"] is None else opts["lr"]
        options["output"] = run_dir
        metrics = {
            "test_loss": float(test_loss),
            "test_accuracy": float(test_accuracy),
            "epochs_run": len(history.epoch) + (resumed.epoch if resumed else 0),
            "final": {k: v[-1] for k, v in hist.items() if v},
            "samples": {"train": len(x_train) - n_val, "validation": n_val, "test": len(x_test)},
            "features": features,
            "input_shape": list(x_train.shape[1:]),
            "classes": data.classes,
            "params": model.count_params(),
            "fit_seconds": round(fit_seconds, 3),
            "seconds": round(time.perf_counter() - started, 3),
            "glassnet_version": __version__,
            "config_file": args.config,
            "options": {k.replace("_", "-"): v for k, v in options.items()},
        }
        if resumed:
            metrics["resumed_after_epoch"] = resumed.epoch      # fit_seconds counts the resumed fit only
        runs.write_text(os.path.join(run_dir, "metrics.json"), runs.json_text(metrics))
        resume.remove_backup(run_dir)           # the run is finished: metrics.json says so
        try:
            plot.plot_history(hist, os.path.join(run_dir, "curves.png"))
        except ImportError as e:               # matplotlib missing: warn once, keep the rest of the run
            print(f"{PROG}: warning: curves.png not written: {e}", file=err)
    except BaseException as exc:                # no empty run folder is left; a write error names its file
        if not resumed:
            resume.discard_unresumable(run_dir)     # failed before the first backup: nothing to resume
        problem = runs.abandon_run_dir(run_dir, exc)
        if problem is not None:
            raise problem from exc
        raise

    print(f"test_loss: {test_loss:.4f}", file=out)
    print(f"test_accuracy: {test_accuracy:.4f}", file=out)
    print(f"run folder: {run_dir}", file=out)
    return 0
