"""Small data sets for teaching: the notes' backprop example, logic gates and 2-D generators.

    x, y = gn.datasets.toy.backprop_demo()        # the 10 points of study note 002, x (10, 2), y (10,)
    x, y = gn.datasets.toy.logic_gate("xor")       # x (4, 2) in binary order 00, 01, 10, 11; y (4,)
    x, y = gn.datasets.toy.make_moons(200, noise=0.1, seed=0)
    x, y = gn.datasets.toy.make_circles(200, noise=0.05, factor=0.5, seed=0)
    x, y = gn.datasets.toy.make_spirals(300, n_classes=3, noise=0.02, seed=0)

Every function returns x as float64 of shape (n, 2) and y as int64 class
indices of shape (n,).  The generators follow scikit-learn's conventions
(`make_moons`, `make_circles`: n_samples split as evenly as possible between
the classes, Gaussian noise of standard deviation `noise` added to every
coordinate, samples shuffled unless shuffle=False) and draw from their own
NumPy Generator: the same `seed` gives the same points; seed=None draws from
glassnet's global generator, so `gn.set_random_seed` makes them repeat too.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import make_rng

__all__ = ["backprop_demo", "logic_gate", "LOGIC_GATES", "make_moons", "make_circles", "make_spirals"]

# Study note 002 (Neural Net Basic (1), the online-backprop exercise): (x1, x2, class).
_BACKPROP_DEMO = (
    (2.7810836, 2.550537003, 0),
    (1.465489372, 2.362125076, 0),
    (3.396561688, 4.400293529, 0),
    (1.38807019, 1.850220317, 0),
    (3.06407232, 3.005305973, 0),
    (7.627531214, 2.759262235, 1),
    (5.332441248, 2.088626775, 1),
    (6.922596716, 1.77106367, 1),
    (8.675418651, -0.242068655, 1),
    (7.673756466, 3.508563011, 1),
)

_GATE_INPUTS = ((0, 0), (0, 1), (1, 0), (1, 1))

#: Truth tables: the output for the inputs 00, 01, 10, 11.
LOGIC_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "xor": (0, 1, 1, 0),
}


def backprop_demo():
    """The notes' two-class example (study note 002): x (10, 2) float64, y (10,) int64.

    The first five points are class 0, the last five class 1, in the notes' order.
    """
    data = np.array(_BACKPROP_DEMO, dtype=np.float64)
    return data[:, :2].copy(), data[:, 2].astype(np.int64)


def logic_gate(name):
    """The truth table of "and", "or", "nand" or "xor": x (4, 2) float64 in the order 00, 01, 10, 11; y (4,) int64."""
    key = name.lower() if isinstance(name, str) else name
    if key not in LOGIC_GATES:
        raise ValueError(f"unknown logic gate {name!r}; known: {', '.join(map(repr, LOGIC_GATES))}")
    return np.array(_GATE_INPUTS, dtype=np.float64), np.array(LOGIC_GATES[key], dtype=np.int64)


# --------------------------------------------------------------------------- argument checks

def _check_n(n_samples, n_classes, fn):
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples <= 0:
        raise ValueError(f"{fn}: n_samples must be a positive integer, got {n_samples!r}")
    if n_samples < n_classes:
        raise ValueError(f"{fn}: n_samples must be at least {n_classes} (one per class), got {n_samples}")
    return int(n_samples)


def _check_noise(noise, fn):
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) \
            or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"{fn}: noise must be a finite number >= 0 (the standard deviation of the "
                         f"Gaussian noise), got {noise!r}")
    return float(noise)


def _split(n_samples, n_classes):
    """Class sizes as even as possible; the first classes take the remainder (scikit-learn's make_blobs rule).

    make_moons and make_circles use scikit-learn's own rule instead: the *second* class takes the odd sample.
    """
    base, extra = divmod(n_samples, n_classes)
    return [base + (k < extra) for k in range(n_classes)]


def _finish(x, y, noise, rng, shuffle):
    if shuffle:
        order = rng.permutation(len(y))
        x, y = x[order], y[order]
    if noise > 0:
        x = x + rng.normal(scale=noise, size=x.shape)
    return np.ascontiguousarray(x, dtype=np.float64), y.astype(np.int64)


# --------------------------------------------------------------------------- generators

def make_moons(n_samples=100, noise=0.0, seed=None, shuffle=True):
    """Two interleaving half circles (scikit-learn's make_moons).

    Class 0 is the upper half of the unit circle, (cos t, sin t) for t in [0, pi];
    class 1 the lower half circle (1 - cos t, 0.5 - sin t).  Class 0 has
    n_samples // 2 points, class 1 the rest.  Returns x (n, 2) float64, y (n,) int64.
    """
    n = _check_n(n_samples, 2, "make_moons")
    noise = _check_noise(noise, "make_moons")
    rng = make_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    x = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   np.column_stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _finish(x, y, noise, rng, shuffle)


def make_circles(n_samples=100, noise=0.0, factor=0.8, seed=None, shuffle=True):
    """A small circle inside a large one (scikit-learn's make_circles).

    Class 0: n_samples // 2 points evenly spaced on the unit circle; class 1: the
    rest, evenly spaced on the circle of radius `factor` (0 < factor < 1).
    Returns x (n, 2) float64, y (n,) int64.
    """
    n = _check_n(n_samples, 2, "make_circles")
    noise = _check_noise(noise, "make_circles")
    if isinstance(factor, bool) or not isinstance(factor, (int, float, np.integer, np.floating)) \
            or not 0 < factor < 1:
        raise ValueError(f"make_circles: factor (inner radius / outer radius) must lie strictly between "
                         f"0 and 1, got {factor!r}")
    rng = make_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0.0, 2 * np.pi, n_in, endpoint=False)
    x = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   float(factor) * np.column_stack([np.cos(t_in), np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _finish(x, y, noise, rng, shuffle)


def make_spirals(n_samples=100, n_classes=2, noise=0.0, seed=None, shuffle=True, turns=1.0):
    """Interleaved spiral arms, one per class (the classic two-spirals problem; CS231n's three).

    Arm k holds its points at radius r in [0.1, 1] (evenly spaced) and angle
    2*pi*(turns * r + k / n_classes): every arm is the first one rotated by
    k/n_classes of a full turn.  Class sizes differ by at most one (the first
    classes take the remainder).  Returns x (n, 2) float64, y (n,) int64.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"make_spirals: n_classes must be an integer >= 2, got {n_classes!r}")
    n_classes = int(n_classes)
    n = _check_n(n_samples, n_classes, "make_spirals")
    noise = _check_noise(noise, "make_spirals")
    if isinstance(turns, bool) or not isinstance(turns, (int, float, np.integer, np.floating)) \
            or not math.isfinite(turns) or turns <= 0:
        raise ValueError(f"make_spirals: turns must be a positive number, got {turns!r}")
    rng = make_rng(seed)
    xs, ys = [], []
    for k, m in enumerate(_split(n, n_classes)):
        r = np.linspace(0.1, 1.0, m)
        angle = 2 * np.pi * (float(turns) * r + k / n_classes)
        xs.append(np.column_stack([r * np.cos(angle), r * np.sin(angle)]))
        ys.append(np.full(m, k, np.int64))
    return _finish(np.vstack(xs), np.concatenate(ys), noise, rng, shuffle)
