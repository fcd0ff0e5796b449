"""The playground's data: the six sets in the frame [-6, 6]^2, the seven input features, the split.

    points, y = glassnet.datasets.toy.make_2d("moons", 400, noise=0.1, seed=0)
    x = features(points, ("x", "y", "x2"))            # (400, 3) float64: the network's input
    (x_train, y_train), (x_test, y_test) = split(x, y, 0.5)

Each feature is written three ways in FEATURES: the label the page shows, a function, and the same
function as a Python expression over `p` (the points, (n, 2)).  The exported script writes the
expressions; a test checks that evaluating them gives the functions' values bit for bit, so the page
and the script feed the network the same numbers.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..datasets.toy import make_2d
from .settings import FEATURE_NAMES


class Feature(NamedTuple):
    """One input feature: its label, its function of the points (n, 2) -> (n,), its Python expression."""
    label: str
    function: Callable
    expression: str


FEATURES = {
    "x": Feature("x", lambda p: p[:, 0], "p[:, 0]"),
    "y": Feature("y", lambda p: p[:, 1], "p[:, 1]"),
    "x2": Feature("x²", lambda p: p[:, 0] ** 2, "p[:, 0] ** 2"),
    "y2": Feature("y²", lambda p: p[:, 1] ** 2, "p[:, 1] ** 2"),
    "xy": Feature("x·y", lambda p: p[:, 0] * p[:, 1], "p[:, 0] * p[:, 1]"),
    "sinx": Feature("sin(x)", lambda p: np.sin(p[:, 0]), "np.sin(p[:, 0])"),
    "siny": Feature("sin(y)", lambda p: np.sin(p[:, 1]), "np.sin(p[:, 1])"),
}
assert tuple(FEATURES) == FEATURE_NAMES


def features(points, names) -> np.ndarray:
    """The input matrix (n, k) float64: column j is feature names[j] of each point."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"features: points must have shape (n, 2), got {p.shape}")
    # a str is refused: "xy" names the product feature, and iterating it would quietly give columns x and y
    if not isinstance(names, (list, tuple)) or not names \
            or not all(isinstance(n, str) and n in FEATURES for n in names):
        raise ValueError(f"features: names must be a non-empty list of {', '.join(FEATURES)}, got {names!r}")
    out = np.empty((len(p), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        out[:, j] = FEATURES[name].function(p)
    return out


def n_train(n_samples, train_fraction) -> int:
    """round(n_samples * train_fraction), kept from 1 to n_samples - 1 (both parts non-empty)."""
    return min(max(round(n_samples * train_fraction), 1), n_samples - 1)


def load(settings):
    """The points and targets of `settings` and the split: a dict with points, y, x (the features),
    n_train, and x_train, y_train, x_test, y_test (y float64 for plane, int64 otherwise)."""
    points, y = make_2d(settings.dataset, settings.n_samples, noise=settings.noise, seed=settings.seed)
    y = y.astype(np.float64 if settings.dataset == "plane" else np.int64)
    x = features(points, settings.features)
    k = n_train(settings.n_samples, settings.train_fraction)
    return {"points": points, "y": y, "x": x, "n_train": k,
            "x_train": x[:k], "y_train": y[:k], "x_test": x[k:], "y_test": y[k:]}
