"""Small data sets for teaching: the notes' backprop example, logic gates and 2-D generators.

    x, y = gn.datasets.toy.backprop_demo()        # the 10 points of study note 002, x (10, 2), y (10,)
    x, y = gn.datasets.toy.logic_gate("xor")       # x (4, 2) in binary order 00, 01, 10, 11; y (4,)
    x, y = gn.datasets.toy.make_moons(200, noise=0.1, seed=0)
    x, y = gn.datasets.toy.make_circles(200, noise=0.05, factor=0.5, seed=0)
    x, y = gn.datasets.toy.make_spirals(300, n_classes=3, noise=0.02, seed=0)
    x, y = gn.datasets.toy.make_xor(200, noise=0.05, seed=0)          # the four quadrants
    x, y = gn.datasets.toy.make_gaussians(200, noise=0.05, seed=0)    # two blobs
    x, y = gn.datasets.toy.make_plane(200, noise=0.05, seed=0)        # regression: y float64
    x, y = gn.datasets.toy.make_2d("moons", 400, noise=0.1, seed=0)   # the playground's [-6, 6]^2 frame

Every function returns x as float64 of shape (n, 2) and y as int64 class
indices of shape (n,) (make_plane, a regression set: y float64).  The generators follow scikit-learn's conventions
(`make_moons`, `make_circles`: n_samples split as evenly as possible between
the classes, Gaussian noise of standard deviation `noise` added to every
coordinate, samples shuffled unless shuffle=False) and draw from their own
NumPy Generator: the same `seed` gives the same points; seed=None draws from
glassnet's global generator, so `gn.set_random_seed` makes them repeat too.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from ..backend import make_rng

__all__ = ["backprop_demo", "logic_gate", "LOGIC_GATES", "make_moons", "make_circles", "make_spirals",
           "make_xor", "make_gaussians", "make_plane", "make_2d", "PLAYGROUND_SETS"]

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
    # compared, not converted: 10**400 is an int no float holds (math.isfinite would raise OverflowError)
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) \
            or not 0 <= noise <= sys.float_info.max:
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


def make_xor(n_samples=100, noise=0.0, seed=None, shuffle=True):
    """The XOR pattern: points in the four quadrants of [-1, 1]^2, class = whether x1 and x2 differ in sign.

    Class 0 lies in the quadrants where x1 * x2 > 0 (top right, bottom left), class 1 where x1 * x2 < 0:
    no straight line separates them, the classic reason for a hidden layer.  Each coordinate is drawn
    uniformly at a distance 0.05 to 1 from the axis (a small gap keeps the quadrants apart before noise).
    Class 0 has n_samples // 2 points, class 1 the rest.  Returns x (n, 2) float64, y (n,) int64.
    """
    n = _check_n(n_samples, 2, "make_xor")
    noise = _check_noise(noise, "make_xor")
    rng = make_rng(seed)
    n0 = n // 2
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    size = rng.uniform(0.05, 1.0, size=(n, 2))              # distance from each axis
    sx = rng.choice([-1.0, 1.0], size=n)                     # the sign of x1: left or right
    sy = np.where(y == 0, sx, -sx)                           # same sign for class 0, opposite for class 1
    x = size * np.column_stack([sx, sy])
    return _finish(x, y, noise, rng, shuffle)


def make_gaussians(n_samples=100, noise=0.0, seed=None, shuffle=True):
    """Two round Gaussian blobs: class 0 around (0.4, 0.4), class 1 around (-0.4, -0.4), each of standard
    deviation 0.15 per coordinate (before `noise`, which adds its own spread on top).

    The easy case: a straight line separates them.  Class 0 has n_samples // 2 points, class 1 the rest.
    Returns x (n, 2) float64, y (n,) int64.
    """
    n = _check_n(n_samples, 2, "make_gaussians")
    noise = _check_noise(noise, "make_gaussians")
    rng = make_rng(seed)
    n0 = n // 2
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    centres = np.where(y[:, None] == 0, 0.4, -0.4)
    x = centres + rng.normal(scale=0.15, size=(n, 2))
    return _finish(x, y, noise, rng, shuffle)


def make_plane(n_samples=100, noise=0.0, seed=None, shuffle=True):
    """A regression set: x uniform in [-1, 1]^2, target y = (x1 + x2) / 2 (a tilted plane, in [-1, 1]).

    `noise` is the standard deviation of Gaussian noise added to the target (not to x): a regression
    learns y from x, and noisy targets are what it must average out.  Returns x (n, 2) float64 and
    y (n,) float64.  (shuffle only matters for the random stream: the points are drawn in random order.)
    """
    n = _check_n(n_samples, 1, "make_plane")
    noise = _check_noise(noise, "make_plane")
    rng = make_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    if shuffle:
        x = x[rng.permutation(n)]
    y = (x[:, 0] + x[:, 1]) / 2.0
    if noise > 0:
        y = y + rng.normal(scale=noise, size=n)
    return np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)


# The playground's frame is [-6, 6]^2.  Each set is drawn at its own unit size, then moved and scaled
# (x_frame = scale * (x - centre)) so that its noise-free points lie within about [-5, 5]^2.
_FRAME = {
    "circles": (make_circles, (0.0, 0.0), 5.0, {"factor": 0.5}),
    "moons": (make_moons, (0.5, 0.25), 3.3, {}),
    "xor": (make_xor, (0.0, 0.0), 5.0, {}),
    "spirals": (make_spirals, (0.0, 0.0), 5.0, {"n_classes": 2}),
    "gaussians": (make_gaussians, (0.0, 0.0), 5.0, {}),
    "plane": (make_plane, (0.0, 0.0), 6.0, {}),
}

#: The six data sets of `glassnet playground`, in its order (plane is the regression one).
PLAYGROUND_SETS = tuple(_FRAME)


def make_2d(name, n_samples=400, noise=0.0, seed=None):
    """One of the playground's six sets, shuffled, in its frame [-6, 6]^2: circles, moons, xor, spirals,
    gaussians (classification: y int64 0/1) or plane (regression: y float64 in [-1, 1] before noise).

    `noise` is the standard deviation of the Gaussian noise in the frame's own units: noise=1 moves a
    point by about 1 of the frame's 12 (the set is drawn with noise / scale and then scaled).  For plane
    the noise goes on the target, as the same fraction of its range: standard deviation noise / 6.
    Returns points (n, 2) float64 and y (n,).
    """
    if not isinstance(name, str) or name not in _FRAME:
        raise ValueError(f"make_2d: name must be one of {', '.join(map(repr, _FRAME))}, got {name!r}")
    make, centre, scale, extra = _FRAME[name]
    _check_n(n_samples, 1 if name == "plane" else 2, "make_2d")       # errors name make_2d, the function called
    noise = _check_noise(noise, "make_2d")
    x, y = make(n_samples, noise=noise / 6.0 if name == "plane" else noise / scale, seed=seed, shuffle=True,
                **extra)
    x = (x - np.asarray(centre)) * scale
    return np.ascontiguousarray(x, dtype=np.float64), y
