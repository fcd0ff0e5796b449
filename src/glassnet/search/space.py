"""The search space of `glassnet search`: the hyper-parameters, their values, grid or random trials.

One declared table, SPACE, lists every hyper-parameter a search may vary, with the converter that
checks one value (the same converters `glassnet train` uses for its flags and --config values), its
default (train's) and its help.  A space maps each name to a list of values; a grid search runs every
combination, a random search draws `trials` combinations (lr may also be a range, drawn log-uniformly).
OPTIONS lists the settings shared by every trial (dataset, validation split, seed, dtype).

Level 6 (with the command line): the converters are the command's, imported when used.
"""
from __future__ import annotations

import argparse
import itertools
import math

import numpy as np

#: the most trials a search may hold (a grid's product, or --trials): beyond it, a clear error
MAX_TRIALS = 10_000
#: the most hidden layers a trial's network may have
MAX_LAYERS = 100


def _conv(name):
    """The converter of one value of `name` (a string -> value, ArgumentTypeError when bad)."""
    from ..cli import _common as c          # lazy: glassnet.cli imports this package
    table = {"layers": c.up_to(MAX_LAYERS), "units": c.up_to(c.MAX_WIDTH), "activation": c.activation,
             "optimizer": c.optimizer, "lr": c.positive_float, "batch_size": c.positive_int,
             "epochs": c.up_to(c.MAX_COUNT), "dataset": c.dataset, "validation_split": c.fraction,
             "seed": c.seed, "dtype": c.dtype, "trials": c.up_to(MAX_TRIALS)}
    return table[name]


#: name -> (default values, what a value is, help); the order is the results' column order
SPACE = {
    "layers": ([1], "int", "hidden layers of the fully connected network"),
    "units": ([50], "int", "units of each hidden layer"),
    "activation": (["sigmoid"], "str", "activation of the hidden layers (any glassnet activation)"),
    "optimizer": (["adam"], "str", "sgd, adagrad, rmsprop, adam or adamw"),
    "lr": ([None], "float", "learning rate; with --trials, also a range LOW:HIGH, drawn log-uniformly"),
    "batch_size": ([32], "int", "samples per gradient step"),
    "epochs": ([10], "int", "passes over the training data"),
}
#: settings shared by every trial -> default
OPTIONS = {"dataset": "mnist-mini", "validation_split": 0.1, "seed": 0, "dtype": "float32"}
#: names a TOML file may use besides the names themselves (dashes or underscores)
ALIASES = {"learning_rate": "lr", "hidden_layers": "layers"}


def canonical(key):
    name = str(key).strip().replace("-", "_")
    return ALIASES.get(name, name)


class LogRange:
    """A learning-rate range [low, high], drawn log-uniformly by a random search."""

    def __init__(self, low, high):
        if not low < high:
            raise ValueError(f"a range's low end must be below its high end, got {low!r}:{high!r}")
        self.low, self.high = float(low), float(high)

    def draw(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def __eq__(self, other):
        return isinstance(other, LogRange) and (self.low, self.high) == (other.low, other.high)

    def __repr__(self):
        return f"{self.low!r}:{self.high!r}"


def parse_value(name, value):
    """One value of `name` (a string from a flag, or a TOML number/string), checked; ArgumentTypeError."""
    kind = SPACE[name][1] if name in SPACE else None
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        raise argparse.ArgumentTypeError(f"expected one {kind or 'value'}, got {value!r}")
    if kind == "int" and isinstance(value, float):
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}")
    if kind == "str" and not isinstance(value, str):
        raise argparse.ArgumentTypeError(f"expected a name, got {value!r}")
    text = repr(value) if isinstance(value, float) else str(value)
    if name == "lr" and ":" in text:
        low, _, high = text.partition(":")
        try:
            return LogRange(_conv("lr")(low), _conv("lr")(high))
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return _conv(name)(text)


def parse_values(name, values):
    """A list of values of `name` (a comma-separated string, a TOML list or one TOML value)."""
    if isinstance(values, str):
        values = [v for v in values.split(",")]
    elif not isinstance(values, list):
        values = [values]
    if not values:
        raise argparse.ArgumentTypeError("expected at least one value, got an empty list")
    parsed = [parse_value(name, v) for v in values]
    if len(parsed) > MAX_TRIALS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_TRIALS:,} values, got {len(parsed):,}")
    return parsed


def values_type(name):
    """An argparse type: comma-separated values of `name`."""
    def convert(text):
        return parse_values(name, text)
    convert.__name__ = f"{name} values"
    return convert


def full_space(given):
    """Every hyper-parameter's values: the given ones, the defaults for the rest."""
    return {name: list(given.get(name, SPACE[name][0])) for name in SPACE}


def grid_size(space):
    return math.prod(len(v) for v in space.values())


def check_space(space, kind, trials):
    """ValueError when the space cannot be searched as asked (too many trials, a range in a grid)."""
    if kind not in ("grid", "random"):
        raise ValueError(f"expected the search kind 'grid' or 'random', got {kind!r}")
    if kind == "grid":
        ranges = [n for n, vals in space.items() if any(isinstance(v, LogRange) for v in vals)]
        if ranges:
            raise ValueError(f"a grid search takes lists of values; {', '.join(ranges)} is a range "
                             f"(LOW:HIGH): give --trials N for a random search")
        size = grid_size(space)
        if size > MAX_TRIALS:
            raise ValueError(f"the grid holds {size:,} trials, more than the limit of {MAX_TRIALS:,} "
                             f"(glassnet.search.MAX_TRIALS): give fewer values, or --trials N for a random search")
    elif not (isinstance(trials, int) and 1 <= trials <= MAX_TRIALS):
        raise ValueError(f"a random search needs a number of trials from 1 to {MAX_TRIALS:,}, got {trials!r}")


def trial_seed(search_seed, index):
    """Trial `index`'s seed: derived from the search seed and the index alone (so the same on any worker)."""
    return int(np.random.SeedSequence([int(search_seed), int(index)]).generate_state(1)[0] & 0x7FFFFFFF)


def configurations(space, kind="grid", trials=None, seed=0):
    """The trials' hyper-parameters, in order: dicts {layers, units, activation, optimizer, lr,
    batch_size, epochs, index, seed}."""
    check_space(space, kind, trials)
    names = list(SPACE)
    if kind == "grid":
        combos = [dict(zip(names, combo)) for combo in itertools.product(*(space[n] for n in names))]
    else:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 2**31 - 1]))
        combos = []
        for _ in range(trials):
            combo = {}
            for n in names:
                choice = space[n][int(rng.integers(len(space[n])))]
                combo[n] = choice.draw(rng) if isinstance(choice, LogRange) else choice
            combos.append(combo)
    for i, combo in enumerate(combos):
        combo["index"] = i
        combo["seed"] = trial_seed(seed, i)
    return combos
