"""The playground's settings: one declared table, and everything else (checks, the page's controls, the
URL hash) read from it.

    s = Settings.from_dict({"dataset": "moons", "hidden": [8, 4]})   # missing keys take their defaults
    s.hidden, s.loss                                                 # (8, 4), 'binary_crossentropy'
    s.to_query()                     # 'dataset=moons&noise=0.1&...&hidden=8,4&...' (the page's URL hash)
    Settings.from_query(s.to_query()) == s                           # True
    options()                        # the table as JSON, from which the page builds its controls

The idea is scikit-learn's: each parameter is declared once, with its kind and limits, and validated
from that declaration, so the checks, the help text and the page can never disagree.  A wrong value is
a ValueError naming the setting, what it allows and what arrived: `batch_size: an integer from 1 to 256,
got 100000`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

import numpy as np

DATASETS = ("circles", "moons", "xor", "spirals", "gaussians", "plane")
FEATURE_NAMES = ("x", "y", "x2", "y2", "xy", "sinx", "siny")
ACTIVATIONS = ("step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "softmax")
CLASSIFICATION_LOSSES = ("binary_crossentropy", "sparse_categorical_crossentropy", "mean_squared_error",
                         "mean_absolute_error")
REGRESSION_LOSSES = ("mean_squared_error", "mean_absolute_error")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adagrad", "adam")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "random_normal", "zeros")
REGULARIZATIONS = ("none", "l1", "l2")
MAX_LAYERS, MAX_UNITS = 8, 16


@dataclass(frozen=True)
class Setting:
    """One row of the table.  kind: "choice" (one of `choices`), "choices" (a non-empty subset of
    `choices`, kept in their order), "int" / "float" (from `low` to `high`), "ints" (a list of at most
    `length` integers, each from `low` to `high`)."""
    name: str
    kind: str
    default: object
    help: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    length: int | None = None

    def as_json(self) -> dict:
        """The row for the page: name, kind, default, choices or min/max (and max_length), help."""
        row = {"name": self.name, "kind": self.kind, "default": _plain(self.default)}
        if self.choices:
            row["choices"] = list(self.choices)
        if self.low is not None:
            row["min"], row["max"] = self.low, self.high
        if self.length is not None:
            row["max_length"] = self.length
        if self.name == "loss":
            row["choices_by_task"] = {"classification": list(CLASSIFICATION_LOSSES),
                                      "regression": list(REGRESSION_LOSSES)}
        row["help"] = self.help
        return row


SETTINGS = (
    Setting("dataset", "choice", "circles", "the data set; plane is a regression (the network learns a number)",
            choices=DATASETS),
    Setting("noise", "float", 0.1, "standard deviation of the Gaussian noise added to the points, in the "
            "frame's units (the frame is [-6, 6]; plane: noise / 6 on the target)", low=0.0, high=1.0),
    Setting("n_samples", "int", 400, "how many points, train and test together", low=20, high=2000),
    Setting("train_fraction", "float", 0.5, "the share of the points used for training; the rest test it",
            low=0.1, high=0.9),
    Setting("features", "choices", ["x", "y"], "the input features computed from each point (x, y)",
            choices=FEATURE_NAMES),
    Setting("hidden", "ints", [4, 2], "the hidden layers: units per layer (none for a single-layer network)",
            low=1, high=MAX_UNITS, length=MAX_LAYERS),
    Setting("activation", "choice", "tanh", "the hidden layers' activation function", choices=ACTIVATIONS),
    Setting("loss", "choice", "binary_crossentropy", "the loss function (plane: mean_squared_error or "
            "mean_absolute_error)", choices=CLASSIFICATION_LOSSES),
    Setting("optimizer", "choice", "sgd", "how the weights are updated (momentum: SGD with momentum 0.9)",
            choices=OPTIMIZERS),
    Setting("learning_rate", "float", 0.03, "the step size of each update", low=1e-5, high=10.0),
    Setting("batch_size", "int", 10, "samples per training step", low=1, high=256),
    Setting("initializer", "choice", "glorot_uniform", "how the weights start (random_normal: stddev 0.01, "
            "the notes' weight_init_std; zeros: every unit alike)", choices=INITIALIZERS),
    Setting("regularization", "choice", "none", "a penalty on the weights' size (l1: rate * sum|W|, "
            "l2: rate * sum W^2)", choices=REGULARIZATIONS),
    Setting("regularization_rate", "float", 0.001, "the penalty's factor", low=0.0, high=1.0),
    Setting("seed", "int", 0, "the random seed: the data, the first weights and the batch order",
            low=0, high=2**31 - 1),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def options() -> list[dict]:
    """The table as JSON rows, in order: what the page builds its controls from."""
    return [s.as_json() for s in SETTINGS]


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _short(value, limit=60):
    """repr(value) for a message, cut to about `limit` characters (10**400 or a 60 kB string is not echoed)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _number_text(low, high, integer):
    return f"{'an integer' if integer else 'a number'} from {low:g} to {high:g}" if not integer \
        else f"an integer from {int(low)} to {int(high)}"


def _check(setting, value):
    """The value of `setting` as its plain Python form, or a ValueError naming setting, limits and value."""
    name, kind = setting.name, setting.kind
    if kind == "choice":
        if not isinstance(value, str) or value not in setting.choices:
            raise ValueError(f"{name}: one of {', '.join(setting.choices)}, got {_short(value)}")
        return value
    if kind in ("int", "float"):
        integer = kind == "int"
        allowed = _number_text(setting.low, setting.high, integer)
        ok_type = (int, np.integer) if integer else (int, float, np.integer, np.floating)
        # an int is compared as it is (math.isfinite(10**400) would overflow converting it to a float)
        if isinstance(value, bool) or not isinstance(value, ok_type) \
                or (isinstance(value, (float, np.floating)) and not math.isfinite(value)) \
                or not setting.low <= value <= setting.high:
            raise ValueError(f"{name}: {allowed}, got {_short(value)}")
        return int(value) if integer else float(value) + 0.0          # + 0.0: -0.0 becomes 0.0
    if kind == "choices":
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"{name}: a non-empty list of {', '.join(setting.choices)}, got {_short(value)}")
        for item in value:
            if not isinstance(item, str) or item not in setting.choices:
                raise ValueError(f"{name}: each one of {', '.join(setting.choices)}, got {_short(item)}")
        if len(set(value)) != len(value):
            raise ValueError(f"{name}: each at most once, got {_short(list(value))}")
        return tuple(c for c in setting.choices if c in value)
    if kind == "ints":
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{name}: a list of at most {setting.length} layers, each an integer from "
                             f"{setting.low} to {setting.high} units, got {_short(value)}")
        if len(value) > setting.length:
            raise ValueError(f"{name}: at most {setting.length} layers, got {len(value)}")
        for i, units in enumerate(value):
            if isinstance(units, bool) or not isinstance(units, (int, np.integer)) \
                    or not setting.low <= units <= setting.high:
                raise ValueError(f"{name}: each layer an integer from {setting.low} to {setting.high} units, "
                                 f"got {_short(units)} (layer {i + 1})")
        return tuple(int(u) for u in value)
    raise AssertionError(kind)                     # the table above uses only these kinds


@dataclass(frozen=True)
class Settings:
    """A checked, frozen set of values, one per row of SETTINGS (build it with from_dict or from_query)."""
    dataset: str
    noise: float
    n_samples: int
    train_fraction: float
    features: tuple
    hidden: tuple
    activation: str
    loss: str
    optimizer: str
    learning_rate: float
    batch_size: int
    initializer: str
    regularization: str
    regularization_rate: float
    seed: int

    @property
    def task(self) -> str:
        """"regression" for plane, else "classification"."""
        return "regression" if self.dataset == "plane" else "classification"

    @classmethod
    def from_dict(cls, values=None) -> "Settings":
        """Check a dict of JSON values; missing keys take the default (plane's default loss is
        mean_squared_error); an unknown key is an error that lists the known ones."""
        values = {} if values is None else values
        if not isinstance(values, dict):
            raise ValueError(f"settings: a JSON object of name -> value, got {type(values).__name__}")
        unknown = [k for k in values if k not in _BY_NAME]
        if unknown:
            raise ValueError(f"settings: unknown {', '.join(map(_short, unknown[:5]))}; the settings are: "
                             f"{', '.join(_BY_NAME)}")
        out = {}
        for s in SETTINGS:
            if s.name in values:
                value = values[s.name]
            elif s.name == "loss" and out.get("dataset") == "plane":
                value = "mean_squared_error"
            else:
                value = s.default
            if s.name == "loss" and out["dataset"] == "plane" and value not in REGRESSION_LOSSES:
                what = ", a classification loss" if value in CLASSIFICATION_LOSSES else ""
                raise ValueError(f"loss: the plane data set is a regression, so one of "
                                 f"{', '.join(REGRESSION_LOSSES)}; got {_short(value)}{what}")
            out[s.name] = _check(s, value)
        return cls(**out)

    @classmethod
    def from_query(cls, text: str) -> "Settings":
        """Parse the page's URL hash, "dataset=moons&hidden=4,2&..." (a leading "#" or "?" is allowed)."""
        if not isinstance(text, str):
            raise ValueError(f"settings query: a string like 'dataset=moons&hidden=4,2', got {_short(text)}")
        text = text.lstrip("#?")
        values = {}
        for part in filter(None, text.split("&")):
            key, eq, raw = part.partition("=")
            key, raw = unquote(key), unquote(raw)
            if not eq:
                raise ValueError(f"settings query: each part is name=value, got {_short(part)}")
            if key in values:
                raise ValueError(f"settings query: {_short(key)} given twice")
            setting = _BY_NAME.get(key)
            values[key] = raw if setting is None else _parse(setting, raw)
        return cls.from_dict(values)

    def to_dict(self) -> dict:
        """Plain JSON values, every setting, in the table's order."""
        return {s.name: _plain(getattr(self, s.name)) for s in SETTINGS}

    def to_query(self) -> str:
        """The URL-hash form from_query reads: every setting, in the table's order."""
        parts = []
        for s in SETTINGS:
            value = getattr(self, s.name)
            if s.kind in ("choices", "ints"):
                text = ",".join(str(v) for v in value)
            elif s.kind == "float":
                text = repr(float(value))
            else:
                text = str(value)
            parts.append(f"{s.name}={quote(text, safe=',.-_')}")
        return "&".join(parts)


# The numbers of the URL hash: plain ASCII digits, as to_query writes them.  (int() and float() alone would
# also take "٣", "１", "1_000" and " 4 ", which no page writes and no reader of the link would expect.)
_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|-?(?:nan|inf|infinity)", re.IGNORECASE)


def _parse(setting, raw):
    """A query string's text for `setting`, as the JSON value from_dict checks (errors name the setting,
    what it allows, and the text)."""
    kind = setting.kind
    if kind == "int":
        if _INT.fullmatch(raw) and len(raw) <= 20:
            return int(raw)
        raise ValueError(f"{setting.name}: {_number_text(setting.low, setting.high, True)}, got {_short(raw)}")
    if kind == "float":
        if _FLOAT.fullmatch(raw) and len(raw) <= 40:
            return float(raw)
        raise ValueError(f"{setting.name}: {_number_text(setting.low, setting.high, False)}, got {_short(raw)}")
    if kind == "ints":
        items = raw.split(",") if raw else []
        if all(_INT.fullmatch(v) and len(v) <= 20 for v in items):
            return [int(v) for v in items]
        raise ValueError(f"{setting.name}: integers from {setting.low} to {setting.high} separated by commas "
                         f"(at most {setting.length} layers; empty for none), got {_short(raw)}")
    if kind == "choices":
        return raw.split(",") if raw else []
    return raw
