"""`glassnet search`: a hyper-parameter search (grid or random) from flags or a TOML file, on Dask.

The space's names, converters and defaults are glassnet.search.space.SPACE (the flags and the TOML
file's [space] table are checked by the same converters); the trials, where they run and what is written
are glassnet.search's trials, runner and report.
"""
from __future__ import annotations

import argparse
import re
import time

from .. import runs
from ..search import report, runner, space, trials
from ._common import CommandError, Formatter, config_file, up_to

HINT = runner.DISTRIBUTED_HINT


def scheduler_address(text):
    text = str(text).strip()
    if not re.fullmatch(r"([a-z][a-z0-9+.-]*://)?[^\s:/]+:\d{1,5}", text):
        raise argparse.ArgumentTypeError(f"expected a Dask scheduler address such as tcp://HOST:8786, got {text!r}")
    return text


def add_parser(sub):
    d = space.OPTIONS
    search = sub.add_parser(
        "search", formatter_class=Formatter, help="hyper-parameter search (grid or random), on Dask",
        description="Train and score a network for each combination of hyper-parameters (a grid), or for\n"
                    "--trials N random ones, on a `glassnet train` dataset; rank them by validation accuracy;\n"
                    "print the table and write a run folder: results.csv, scores.png, search.json and the\n"
                    "best model as a run folder best/. The trials run on a Dask LocalCluster (one worker per\n"
                    "core), on an existing cluster (--scheduler), or one after another (--serial, or when\n"
                    f"Dask is missing: {HINT}).",
        epilog="Each flag takes comma-separated values, e.g. --units 32,64 --lr 0.001,0.01; with --trials N,\n"
               "--lr also takes a range LOW:HIGH drawn log-uniformly. A TOML file (--config) holds the\n"
               "settings at the top (dataset = \"mnist-mini\", trials = 16, seed = 0) and the values in a\n"
               "[space] table (units = [32, 64]); flags override it. See docs/hyperparameter-search.md.\n\n"
               "examples:\n"
               "  glassnet search --units 32,64 --lr 0.001,0.01 --epochs 2          # a 4-trial grid\n"
               "  glassnet search --config search.toml --scheduler tcp://10.0.0.5:8786")
    S = argparse.SUPPRESS
    search.add_argument("--config", type=config_file, metavar="FILE.toml", default=None, help="read the search from a TOML file")
    for name, (default, _, help_text) in space.SPACE.items():
        flags = ["--" + name.replace("_", "-")] + (["--learning-rate"] if name == "lr" else [])
        shown = "the optimizer's Keras default" if default == [None] else ",".join(map(str, default))
        search.add_argument(*flags, dest=name, type=space.values_type(name), default=S, metavar="V[,V...]",
                            help=f"{help_text} (default: {shown})")
    search.add_argument("--trials", type=up_to(space.MAX_TRIALS), default=S, metavar="N",
                        help="a random search of N trials (default: the whole grid)")
    search.add_argument("--dataset", type=lambda t: space.parse_value("dataset", t), default=S,
                        metavar="NAME|FILE.npz", help=f"any `glassnet train` dataset (default: {d['dataset']})")
    search.add_argument("--validation-split", type=lambda t: space.parse_value("validation_split", t), default=S,
                        metavar="F", help=f"held out to score the trials (default: {d['validation_split']})")
    search.add_argument("--seed", type=lambda t: space.parse_value("seed", t), default=S, metavar="N",
                        help=f"the search's seed; trial i's seed is derived from it and i (default: {d['seed']})")
    search.add_argument("--dtype", type=lambda t: space.parse_value("dtype", t), default=S, metavar="TYPE",
                        help=f"float32 or float64 (default: {d['dtype']})")
    search.add_argument("--scheduler", type=scheduler_address, default=None, metavar="tcp://HOST:PORT",
                        help="run on an existing Dask cluster (default: a LocalCluster on this machine)")
    search.add_argument("--workers", type=up_to(1024), default=None, metavar="N",
                        help="the LocalCluster's worker processes (default: one per core)")
    search.add_argument("--serial", action="store_true", help="run the trials one after another, without Dask")
    search.add_argument("--top", type=positive_rows, default=20, metavar="N", help="rows of the table (default: 20)")
    search.add_argument("--output", "-o", default=None, metavar="DIR",
                        help="run folder (default: runs/search-YYYYmmdd-HHMMSS; never overwritten)")
    search.add_argument("--no-best", dest="best", action="store_false", help="do not retrain and save the best model")
    search.add_argument("--quiet", "-q", action="store_true", help="no line per finished trial")
    search.set_defaults(handler=cmd_search, parser=search)


def positive_rows(text):
    return up_to(space.MAX_TRIALS)(text)


def _config(path):
    """(settings, space values) of a TOML file; CommandError naming the file for anything wrong."""
    from .train import _read_toml
    try:
        table = _read_toml(path)
    except FileNotFoundError:
        raise CommandError(f"search file not found: {path}") from None
    except IsADirectoryError:
        raise CommandError(f"search file {path} is a directory") from None
    except OSError as err:
        raise CommandError(f"cannot read search file {path}: {err.strerror or err}") from None
    except ValueError as err:
        raise CommandError(f"search file {path} is not valid TOML: {' '.join(str(err).split())}") from None
    settings, values = {}, {}
    known = sorted(list(space.OPTIONS) + ["trials", "space"])
    for key, value in table.items():
        name = space.canonical(key)
        try:
            if name == "space":
                if not isinstance(value, dict):
                    raise argparse.ArgumentTypeError(f"expected a table [space], got {value!r}")
                for k, v in value.items():
                    n = space.canonical(k)
                    if n not in space.SPACE:
                        raise CommandError(f"search file {path}: [space] has unknown key {k!r}; known keys: "
                                           f"{', '.join(s.replace('_', '-') for s in space.SPACE)}")
                    try:
                        values[n] = space.parse_values(n, v)
                    except argparse.ArgumentTypeError as err:
                        raise CommandError(f"search file {path}: [space] {k}: {err}") from None
            elif name in space.OPTIONS or name == "trials":
                settings[name] = space.parse_value(name, value)
            else:
                raise CommandError(f"search file {path} has unknown key {key!r}; known keys: "
                                   f"{', '.join(k.replace('_', '-') for k in known)}")
        except argparse.ArgumentTypeError as err:
            raise CommandError(f"search file {path}: {key}: {err}") from None
    return settings, values


def search_options(args):
    """(settings, space, kind, trials): defaults, then the TOML file, then the flags."""
    settings, values = dict(space.OPTIONS), {}
    if args.scheduler is not None and (args.serial or args.workers is not None):
        args.parser.error(f"--scheduler runs the trials on that cluster's workers; drop "
                          f"{'--serial' if args.serial else '--workers'}")
    if args.serial and args.workers is not None:
        args.parser.error("--workers sizes the LocalCluster; --serial runs without one (drop one of them)")
    if args.config is not None:
        file_settings, file_values = _config(args.config)
        settings.update(file_settings)
        values.update(file_values)
    given = vars(args)
    settings.update({k: given[k] for k in list(space.OPTIONS) + ["trials"] if k in given})
    values.update({k: given[k] for k in space.SPACE if k in given})
    trials_n = settings.pop("trials", None)
    kind = "random" if trials_n is not None else "grid"
    full = space.full_space(values)
    try:
        space.check_space(full, kind, trials_n)
    except ValueError as err:
        if args.config is not None:
            raise CommandError(f"search file {args.config}: {err}") from None
        args.parser.error(str(err))
    return settings, full, kind, trials_n


def cmd_search(args, out, err):
    settings, full, kind, n = search_options(args)
    configs = space.configurations(full, kind, n, settings["seed"])
    data = trials.prepare(settings["dataset"], settings["dtype"], settings["validation_split"])
    run_dir = runs.make_run_dir(args.output or f"runs/search-{time.strftime('%Y%m%d-%H%M%S')}")
    where = ("serially" if args.serial else f"on {args.scheduler}" if args.scheduler else
             f"on a Dask LocalCluster ({args.workers or 'one worker per core'})")
    count = f"{len(configs)} trial{'s' if len(configs) != 1 else ''}"
    print(f"glassnet search: {count} ({kind}) on {data.name}, {where}", file=out)

    def progress(result):
        if not args.quiet:
            print(f"  trial {result['index']}: val_accuracy {result['val_accuracy']:.4f} "
                  f"({result['seconds']:.1f} s, {result['worker']})", file=out, flush=True)

    def notice(line):
        print(f"glassnet: note: {line}", file=err)

    started = time.perf_counter()
    try:
        results = runner.run(data, configs, scheduler=args.scheduler, workers=args.workers, serial=args.serial,
                             validation_split=settings["validation_split"], progress=progress, notice=notice)
    except (runner.MissingDaskError, runner.TrialError) as e:
        raise CommandError(str(e)) from None
    except OSError as e:                    # no scheduler at that address (distributed's timeout is an OSError)
        raise CommandError(f"cannot reach the Dask scheduler {args.scheduler}: {e}") from None
    seconds = time.perf_counter() - started
    results = report.ranked(results)
    record = {**settings, "kind": kind, "trials": len(configs), "space": {k: [repr(v) if isinstance(v, space.LogRange)
                                                                           else v for v in vals]
                                                                       for k, vals in full.items()},
              "scheduler": args.scheduler, "serial": args.serial, "seconds": round(seconds, 3),
              "config_file": args.config}
    print(report.table(results, args.top), file=out)
    best = report.write(results, record, run_dir, out, err, best_model=args.best)
    retried = [r["index"] for r in results if r["retried"]]
    if retried:
        print(f"retried (a worker was lost): trial {', '.join(map(str, sorted(retried)))}", file=out)
    print(f"{len(results)} trials in {seconds:.1f} s; best: trial {results[0]['index']} "
          f"(val_accuracy {results[0]['val_accuracy']:.4f})", file=out)
    if best:
        print(f"best model: {best}", file=out)
    print(f"run folder: {run_dir}", file=out)
    return 0
