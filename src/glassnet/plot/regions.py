"""Decision regions of a classifier on 2-D data."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import positive_int
from ..metrics import as_labels
from ._figure import class_colors, finish, new_figure, predicted_classes, require_model


class DecisionGrid(NamedTuple):
    """A model's predictions on a regular grid over 2-D data."""
    xx: np.ndarray              # (resolution, resolution) first coordinate
    yy: np.ndarray              # (resolution, resolution) second coordinate
    classes: np.ndarray         # (resolution, resolution) predicted class (int64)
    outputs: np.ndarray         # (resolution, resolution, outputs) the model's outputs


def _points_2d(x, what="x"):
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"{what} must hold 2-D points, shape (n, 2) with n >= 1, got shape {x.shape}")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{what} must be finite, got NaN or infinite values")
    return x


def decision_grid(model, x, resolution=200, margin=0.1):
    """The model's predicted class on a resolution x resolution grid covering the points `x` (n, 2)
    plus `margin` (a fraction of their range) on each side.  Returns a DecisionGrid(xx, yy, classes,
    outputs): classes[i, j] is the prediction at (xx[i, j], yy[i, j]): threshold 0.5 for one sigmoid
    output, argmax for softmax outputs.  Needs no matplotlib."""
    require_model(model, "decision_grid")
    x = _points_2d(x)
    resolution = positive_int(resolution, "resolution")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.maximum((hi - lo) * float(margin), 1e-3 * np.maximum(1.0, np.abs(lo)))    # one point: a small square
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    outputs = np.asarray(model.predict(np.column_stack([xx.ravel(), yy.ravel()]), batch_size=4096))
    classes = predicted_classes(outputs).reshape(xx.shape)
    return DecisionGrid(xx, yy, classes, outputs.reshape(xx.shape + (-1,)))


def plot_decision_boundary(model, x, y, path=None, resolution=200, margin=0.1, title=None):
    """A classifier's decision regions on 2-D data, with the points coloured by their true class.

    Works for one sigmoid output (class 1 where p > 0.5; the p = 0.5 line is drawn in black) and
    for softmax outputs (the argmax).  `y`: class labels (n,) or one-hot rows.  The regions are a
    pcolormesh over ``decision_grid(model, x, resolution)``.  Returns the Figure; saves it to `path`.
    """
    from matplotlib.colors import ListedColormap
    grid = decision_grid(model, x, resolution, margin)
    x = _points_2d(x)
    y = as_labels(y)
    if len(y) != len(x):
        raise ValueError(f"x and y must have the same number of samples, got {len(x)} and {len(y)}")
    k = max(2 if grid.outputs.shape[-1] == 1 else grid.outputs.shape[-1], int(y.max()) + 1)
    colors = class_colors(k)
    fig = new_figure((6.5, 5.5))
    ax = fig.subplots()
    ax.pcolormesh(grid.xx, grid.yy, grid.classes, cmap=ListedColormap(colors), vmin=-0.5, vmax=k - 0.5,
                  alpha=0.3, shading="nearest", rasterized=True)
    if grid.outputs.shape[-1] == 1:
        p = grid.outputs[..., 0]
        if p.min() < 0.5 < p.max():
            ax.contour(grid.xx, grid.yy, p, levels=[0.5], colors="k", linewidths=1.2)
    for c in range(k):
        mask = y == c
        if mask.any():
            ax.scatter(x[mask, 0], x[mask, 1], s=22, color=colors[c], edgecolors="k", linewidths=0.5,
                       label=f"class {c}")
    accuracy = float(np.mean(predicted_classes(model.predict(x, batch_size=256)) == y))
    ax.set_title(title or f"Decision regions (accuracy on these points {accuracy:.3f})")
    ax.set_xlabel("x[:, 0]")
    ax.set_ylabel("x[:, 1]")
    ax.set_xlim(grid.xx[0, 0], grid.xx[0, -1])
    ax.set_ylim(grid.yy[0, 0], grid.yy[-1, 0])
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    return finish(fig, path)
