"""The activation functions and their derivatives."""
from __future__ import annotations

import math

import numpy as np

from .. import activations
from .._checks import positive_int
from ._figure import finish, grid_figure, grid_shape


def _activation_curves(name, x):
    """(title, f(x), f'(x)) for a table activation; softmax is shown as softmax([x, 0])[0]."""
    row = activations.lookup(name)
    if row.name == "softmax":
        z = np.stack([x, np.zeros_like(x)], axis=1)          # two classes: the first one's probability
        return "softmax([x, 0])[0]", activations.softmax(z)[:, 0], activations.softmax_derivative(z)[:, 0, 0]
    return row.name, row.function(x), row.derivative(x)


def plot_activations(names=None, path=None, x_range=(-5.0, 5.0), points=401):
    """Each activation function (solid) with its derivative (dashed) on x in `x_range`.

    `names`: a name or a list of names from ``glassnet.activations`` (aliases such as "silu" work);
    default: every function of the ``ACTIVATIONS`` table, in its order.  Softmax is not elementwise:
    it is drawn for a two-class input [x, 0], where its first output is sigmoid(x) and the
    derivative plotted is d softmax([x, 0])[0] / dx.  One panel per function, three per row.
    Returns the Figure; saves it to `path` when given.
    """
    if names is None:
        names = list(activations.ACTIVATIONS)
    elif isinstance(names, str):
        names = [names]
    canonical = []
    for name in names:
        key = activations.canonical_name(name)           # unknown names: ValueError listing the known ones
        if key not in canonical:
            canonical.append(key)
    if not canonical:
        raise ValueError("plot_activations: no activation names given")
    lo, hi = (float(v) for v in x_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"x_range must be two finite numbers (low, high) with low < high, got {x_range!r}")
    x = np.linspace(lo, hi, positive_int(points, "points"))
    rows, cols = grid_shape(len(canonical), 3)
    fig, axes = grid_figure(rows, cols, (3.6, 2.6), left=0.5, top=0.35, bottom=0.35, wgap=0.5, hgap=0.55)
    axes = axes.ravel()
    for ax, name in zip(axes, canonical):
        title, y, dy = _activation_curves(name, x)
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.plot(x, y, linewidth=2, label="f(x)")
        ax.plot(x, dy, linestyle="--", linewidth=1.5, label="f'(x)")
        ax.set_title(title)
        ax.set_xlim(lo, hi)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    for ax in axes[len(canonical):]:
        ax.remove()
    return finish(fig, path)
