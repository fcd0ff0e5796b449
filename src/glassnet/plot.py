"""Figures with matplotlib, imported only when a figure is drawn.

    from glassnet import plot
    plot.plot_history(history, "curves.png")            # loss and accuracy, train and validation
    history.plot("curves.png")                          # the same, from the History fit returned
    plot.plot_activations(path="activations.png")       # every activation and its derivative
    plot.plot_decision_boundary(model, x, y)            # decision regions of a model on 2-D data
    plot.plot_confusion_matrix(y_true, y_pred)          # annotated counts; plot.confusion_matrix(...) the numbers
    plot.plot_weights(model)                            # first-layer weights as 28x28 images
    plot.plot_misclassified(model, x, y)                # the images the model gets wrong
    plot.plot_layer_histograms(model, x)                # weights and activations, layer by layer
    plot.plot_optimizer_paths()                         # SGD, Momentum, AdaGrad, RMSprop, Adam on f(x, y)
    plot.plot_run("runs/20250101-120000")               # all of a run folder's figures (`glassnet plot`)

Every ``plot_*`` function returns the matplotlib ``Figure`` (a notebook shows it) and, given
``path=``, also saves it there (PNG unless the name ends in .svg, .pdf, ...), atomically: the
image is written to a temporary name and renamed, so no reader ever sees half a file.

Figures are drawn on matplotlib's Agg canvas through ``matplotlib.figure.Figure``, never
through pyplot: no display is needed, pyplot's global state is left alone, and figures can be
drawn from several threads at once.  matplotlib is optional (``pip install "glassnet[plot]"``):
the rest of glassnet never imports it, and the functions here that need no drawing
(``confusion_matrix``, ``optimizer_paths``, ``decision_grid``) work without it.
"""
from __future__ import annotations

import copy
import io
import json
import math
import os
import threading
from collections.abc import Mapping
from typing import Callable, NamedTuple

import numpy as np

__all__ = [
    "plot_history", "plot_activations", "plot_decision_boundary", "decision_grid", "plot_confusion_matrix",
    "confusion_matrix", "plot_weights", "plot_misclassified", "plot_layer_histograms",
    "plot_optimizer_paths", "optimizer_paths", "default_optimizers", "TestFunction", "FUNCTIONS",
    "plot_run", "save_figure", "predicted_classes", "tile_images", "MissingMatplotlibError",
]

INSTALL_HINT = 'pip install "glassnet[plot]"'
DPI = 100

#: the files `plot_run` (and `glassnet plot RUN_FOLDER`) draws into a run folder
RUN_FIGURES = ("curves.png", "confusion_matrix.png", "weights.png", "misclassified.png", "histograms.png")


class MissingMatplotlibError(ImportError):
    """matplotlib is not installed; the message says how to install it."""


# ----------------------------------------------------------------------------
# Figures and files
# ----------------------------------------------------------------------------

_FIGURE_CLASSES: dict = {}


def _matplotlib():
    """(Figure subclass, Agg canvas class); imported here so that glassnet never needs matplotlib to load."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise MissingMatplotlibError(f"drawing figures needs matplotlib, which is not installed "
                                     f"({err}); install it with: {INSTALL_HINT}") from None
    classes = _FIGURE_CLASSES.get(Figure)
    if classes is None:
        class GlassnetFigure(Figure):
            """A matplotlib Figure on the Agg canvas that shows itself as a PNG in a notebook."""

            def _repr_png_(self):
                buf = io.BytesIO()
                self.savefig(buf, format="png", dpi=DPI)
                return buf.getvalue()

        GlassnetFigure.__module__, GlassnetFigure.__qualname__ = __name__, "GlassnetFigure"    # picklable
        classes = _FIGURE_CLASSES.setdefault(Figure, (GlassnetFigure, FigureCanvasAgg))
        globals()["GlassnetFigure"] = classes[0]
    return classes


def __getattr__(name):
    if name == "GlassnetFigure":            # the Figure subclass, created when matplotlib is first needed
        return _matplotlib()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _new_figure(figsize, layout="constrained"):
    figure_class, canvas_class = _matplotlib()
    fig = figure_class(figsize=figsize, layout=layout)
    canvas_class(fig)
    return fig


def save_figure(fig, path, dpi=DPI):
    """Save `fig` to `path` atomically (temporary name, then os.replace); the format follows the
    file name's ending (.png, .svg, .pdf, ...; PNG when there is none).  Returns the path as a str."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(tmp, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi)
        os.replace(tmp, path)
    finally:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
    return path


def _finish(fig, path):
    if path is not None:
        save_figure(fig, path)
    return fig


def _grid_figure(rows, cols, cell, left=0.6, right=0.2, top=0.4, bottom=0.5, wgap=0.6, hgap=0.65):
    """A figure with a rows x cols grid of axes, each `cell` = (width, height) inches, margins and gaps
    in inches.  (A fixed layout: constrained layout would double the time to save a grid.)"""
    width = left + right + cols * cell[0] + (cols - 1) * wgap
    height = top + bottom + rows * cell[1] + (rows - 1) * hgap
    fig = _new_figure((width, height), layout=None)
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=wgap / cell[0], hspace=hgap / cell[1])
    return fig, fig.subplots(rows, cols, squeeze=False)


def _grid_shape(n, max_cols):
    cols = max(1, min(max_cols, n))
    return math.ceil(n / cols), cols


def _class_colors(k):
    """k distinct colours: matplotlib's tab10 (tab20 beyond 10 classes, a sampled colormap beyond 20)."""
    import matplotlib
    if k <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(k)]
    if k <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(k)]
    return [matplotlib.colormaps["turbo"](i / (k - 1)) for i in range(k)]


# ----------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------

def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _image_shape(shape, what="shape"):
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be (height, width), got {shape!r}") from None
    if len(shape) != 2 or min(shape) <= 0:
        raise ValueError(f"{what} must be (height, width) with positive sides, got {shape!r}")
    return shape


def _labels(y, what="y"):
    """Class labels as an int64 array (n,): integers (or whole floats, booleans); one-hot rows or
    class probabilities (n, k) with k > 1 are turned into labels with argmax."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold integer class labels, got dtype {y.dtype}")
    if y.ndim == 2 and y.shape[1] > 1:
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(f"{what} must be finite, got NaN or infinite values")
        return y.argmax(axis=1).astype(np.int64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{what} must hold one class label per sample (shape (n,)) or one-hot rows "
                         f"(shape (n, k)), got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError(f"{what} must be finite, got NaN or infinite labels")
        if np.any(y != np.round(y)):
            raise ValueError(f"{what} must hold whole numbers (class labels 0, 1, ...), got values such as "
                             f"{y[y != np.round(y)][0]!r}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"{what} holds negative labels ({int(y.min())}); class labels are 0, 1, ...")
    return y


def predicted_classes(probabilities):
    """Class predictions from a model's outputs: threshold 0.5 for one sigmoid column, argmax otherwise."""
    p = np.asarray(probabilities)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        return (p.reshape(-1) > 0.5).astype(np.int64)
    if p.ndim != 2:
        raise ValueError(f"expected model outputs of shape (n, classes), got shape {p.shape}")
    return p.argmax(axis=1).astype(np.int64)


def _model_classes(model, outputs):
    width = outputs.shape[1] if outputs.ndim == 2 else 1
    return 2 if width == 1 else width


def _require_model(model, what):
    if not hasattr(model, "predict") or not hasattr(model, "layers"):
        raise TypeError(f"{what} expects a glassnet model (such as a Sequential), got {type(model).__name__}")


# ----------------------------------------------------------------------------
# Training curves
# ----------------------------------------------------------------------------

def _history_values(values):
    """Per-epoch values as floats; None (NaN written as null in history.json) becomes NaN."""
    return [math.nan if v is None else float(v) for v in values]


def plot_history(history, path=None, figsize=(12, 6), title=None):
    """The training curves as the study notes plot them: loss on the left, accuracy on the right.

    `history` is the History that ``fit`` returns, or its ``.history`` dict (lists per epoch under
    "loss", "accuracy", "val_loss", "val_accuracy"; validation keys optional; the accuracy panel
    is left out when no accuracy was recorded).  Training is drawn solid with circles, validation
    dashed with squares; the x axis counts epochs from 1; accuracy on a fixed 0-1 scale with the
    legend at the lower right, as in the notes; loss starts at 0.  NaN values (a diverged epoch)
    leave gaps.  Returns the Figure; saves it to `path` when given.
    """
    history = getattr(history, "history", history)
    if not isinstance(history, Mapping):
        raise TypeError(f"plot_history expects a History or its .history dict, got {type(history).__name__}")
    if not history or not any(len(v) for v in history.values()):
        raise ValueError("plot_history: the history is empty (no epochs recorded)")
    panels = [("loss", "loss", "Loss")]
    if history.get("accuracy") or history.get("val_accuracy"):
        panels.append(("accuracy", "accuracy", "Accuracy"))
    fig = _new_figure(figsize if len(panels) == 2 else (figsize[0] / 2 + 1, figsize[1]))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, label, heading) in zip(axes, panels):
        drawn = []
        for name, style, marker, prefix in (("train", "-", "o", ""), ("validation", "--", "s", "val_")):
            values = history.get(prefix + key)
            if not values:
                continue
            values = _history_values(values)
            ax.plot(range(1, len(values) + 1), values, linestyle=style, marker=marker, label=f"{name} {label}")
            drawn.extend(v for v in values if math.isfinite(v))
        ax.set_title(heading)
        ax.set_xlabel("epochs")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        if not drawn:
            ax.text(0.5, 0.5, f"no finite {label} recorded", ha="center", va="center", transform=ax.transAxes)
            continue
        n = max(len(history.get(key) or ()), len(history.get("val_" + key) or ()))
        ax.set_xlim(0.5, n + 0.5)
        if n <= 20:
            ax.set_xticks(range(1, n + 1))
        if key == "accuracy":
            ax.set_ylim(0, 1.0)
            ax.legend(loc="lower right")
        else:
            top = max(drawn)
            ax.set_ylim(0, top * 1.1 if top > 0 else 1.0)
            ax.legend(loc="best")
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# Activation functions
# ----------------------------------------------------------------------------

def _activation_curves(name, x):
    """(title, f(x), f'(x)) for a table activation; softmax is shown as softmax([x, 0])[0]."""
    from . import activations
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
    from . import activations
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
    x = np.linspace(lo, hi, _positive_int(points, "points"))
    rows, cols = _grid_shape(len(canonical), 3)
    fig, axes = _grid_figure(rows, cols, (3.6, 2.6), left=0.5, top=0.35, bottom=0.35, wgap=0.5, hgap=0.55)
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
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# Decision regions
# ----------------------------------------------------------------------------

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
    _require_model(model, "decision_grid")
    x = _points_2d(x)
    resolution = _positive_int(resolution, "resolution")
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
    y = _labels(y)
    if len(y) != len(x):
        raise ValueError(f"x and y must have the same number of samples, got {len(x)} and {len(y)}")
    k = max(2 if grid.outputs.shape[-1] == 1 else grid.outputs.shape[-1], int(y.max()) + 1)
    colors = _class_colors(k)
    fig = _new_figure((6.5, 5.5))
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
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# Confusion matrix
# ----------------------------------------------------------------------------

def confusion_matrix(y_true, y_pred, num_classes=None):
    """counts[i, j]: the number of samples of true class i predicted as class j (int64, k x k).

    Labels are integers 0, 1, ... (one-hot rows or probabilities (n, k) are turned into labels
    with argmax).  `num_classes` defaults to the largest label + 1; labels outside it are an error.
    The diagonal's sum divided by the total is the accuracy.  Needs no matplotlib.
    """
    t = _labels(y_true, "y_true")
    p = _labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true and y_pred must have the same number of samples, got {len(t)} and {len(p)}")
    largest = int(max(t.max(initial=-1), p.max(initial=-1)))
    if num_classes is None:
        k = largest + 1
    else:
        k = _positive_int(num_classes, "num_classes")
        if largest >= k:
            which = "y_true" if t.max(initial=-1) >= k else "y_pred"
            raise ValueError(f"{which} holds label {largest}, outside the {k} classes 0..{k - 1}")
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def plot_confusion_matrix(y_true, y_pred, labels=None, normalize=False, path=None, title=None, cmap="Blues"):
    """The confusion matrix as an annotated heat map: rows the true class, columns the predicted one.

    `labels`: names for the classes (their number fixes the matrix size), default 0, 1, ...
    `normalize`: False (counts), True or "true" (each row divided by its total: the fraction of
    each true class predicted as each class; the diagonal is the recall), "pred" (columns) or
    "all".  Every cell is annotated (up to 30 classes).  Returns the Figure; saves it to `path`.
    """
    if labels is not None:
        labels = [str(name) for name in labels]
    counts = confusion_matrix(y_true, y_pred, len(labels) if labels else None)
    k = counts.shape[0]
    if labels is None:
        labels = [str(i) for i in range(k)]
    if normalize is True:
        normalize = "true"
    if normalize not in (False, None, "true", "pred", "all"):
        raise ValueError(f"normalize must be False, True, 'true', 'pred' or 'all', got {normalize!r}")
    shown = counts.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            shown = shown / counts.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            shown = shown / counts.sum(axis=0, keepdims=True)
        elif normalize == "all":
            shown = shown / max(counts.sum(), 1)
    shown = np.nan_to_num(shown)                           # a class with no samples: zeros
    side = min(max(4.5, 0.55 * k + 2.5), 20)
    fig = _new_figure((side + 1.2, side))
    ax = fig.subplots()
    image = ax.imshow(shown, cmap=cmap, vmin=0, interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if k <= 30:
        top = shown.max() if shown.size else 0
        for i in range(k):
            for j in range(k):
                text = f"{shown[i, j]:.2f}" if normalize else f"{counts[i, j]:d}"
                ax.text(j, i, text, ha="center", va="center", fontsize=9 if k <= 12 else 7,
                        color="white" if top and shown[i, j] > top / 2 else "black")
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = int(counts.sum())
    accuracy = np.trace(counts) / total if total else math.nan
    what = {"true": ", rows normalised", "pred": ", columns normalised", "all": ", fractions of all"}.get(normalize, "")
    ax.set_title(title or f"Confusion matrix ({total:,} samples, accuracy {accuracy:.3f}{what})")
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# Weights, misclassified images, histograms
# ----------------------------------------------------------------------------

def _first_kernel(model_or_layer):
    """(kernel (inputs, units), name) of the first layer with a 'W', or a 2-D array as given."""
    if isinstance(model_or_layer, np.ndarray):
        if model_or_layer.ndim != 2:
            raise ValueError(f"plot_weights expects a kernel of shape (inputs, units), got shape "
                             f"{model_or_layer.shape}")
        return model_or_layer, "kernel"
    layers = getattr(model_or_layer, "layers", None)
    if layers is None:
        if hasattr(model_or_layer, "params"):
            layers = [model_or_layer]
        else:
            raise TypeError(f"plot_weights expects a model, a layer or a kernel array, "
                            f"got {type(model_or_layer).__name__}")
    for layer in layers:
        w = getattr(layer, "params", {}).get("W")
        if w is not None:
            return np.asarray(w), getattr(layer, "name", None) or type(layer).__name__
    if any(not getattr(layer, "built", True) for layer in layers):
        raise ValueError("plot_weights: the layer has no weights yet; build the model first "
                         "(give input_shape=(784,) or fit it)")
    raise ValueError("plot_weights: no layer with a kernel 'W' (a Dense layer) found")


def tile_images(images, cols, pad=1):
    """Put equal-sized images (n, h, w) side by side, `cols` per row, `pad` NaN pixels between them.

    Image j sits at rows r*(h+pad) : r*(h+pad)+h and columns c*(w+pad) : c*(w+pad)+w of the
    mosaic, with r, c = divmod(j, cols); unused places stay NaN (drawn as the colormap's 'bad' colour).
    """
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape
    rows = math.ceil(n / cols)
    mosaic = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad), np.nan)
    for j in range(n):
        r, c = divmod(j, cols)
        mosaic[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = images[j]
    return mosaic


def plot_weights(model_or_layer, path=None, shape=(28, 28), max_units=50, cmap="RdBu_r"):
    """The first Dense layer's weights, one tile per hidden unit: column j of the kernel W (inputs,
    units) reshaped to `shape` (28x28 for MNIST) and divided by its largest absolute value, so each
    tile spans -1 (blue) .. 0 (white) .. +1 (red).  Shows the first `max_units` units, ten per row,
    in one mosaic image (``tile_images``): the unit number is the row's label plus the column's.
    Accepts a model, a layer, or a kernel array.  Returns the Figure; saves it to `path` when given.
    """
    import matplotlib
    w, name = _first_kernel(model_or_layer)
    shape = _image_shape(shape)
    max_units = _positive_int(max_units, "max_units")
    inputs, units = w.shape
    if inputs != shape[0] * shape[1]:
        raise ValueError(f"plot_weights: the kernel of {name!r} has {inputs} inputs per unit, which cannot be "
                         f"shown as {shape[0]}x{shape[1]} images; pass shape=(height, width) with "
                         f"height * width == {inputs}")
    n = min(units, max_units)
    rows, cols = _grid_shape(n, 10)
    tiles = np.asarray(w[:, :n], dtype=np.float64).T.reshape((n,) + shape)
    scale = np.abs(tiles).reshape(n, -1).max(axis=1)
    tiles = tiles / np.where(scale > 0, scale, 1.0)[:, None, None]
    pad = max(1, max(shape) // 14)
    fig = _new_figure((0.85 * cols * shape[1] / 28 + 1.6, 0.85 * rows * shape[0] / 28 + 1.0))
    ax = fig.subplots()
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="0.35")          # the gaps between tiles
    image = ax.imshow(tile_images(tiles, cols, pad), cmap=colormap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([c * (shape[1] + pad) + (shape[1] - 1) / 2 for c in range(cols)], [f"+{c}" for c in range(cols)])
    ax.set_yticks([r * (shape[0] + pad) + (shape[0] - 1) / 2 for r in range(rows)],
                  [str(r * cols) for r in range(rows)])
    ax.tick_params(length=0, labelsize=8)
    ax.set_ylabel("unit (row + column)")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, shrink=0.8, label="weight / max |weight| of the unit")
    shown = f"{n} of {units} units" if n < units else f"{units} units"
    ax.set_title(f"First-layer weights of {name!r}: {shown}", fontsize=11)
    return _finish(fig, path)


def plot_misclassified(model, x, y, path=None, max_images=25, image_shape=(28, 28), labels=None):
    """The inputs the model classifies wrongly, as images titled 'true t, pred p' with the predicted
    class's probability below; the first `max_images` of them in data order, five per row.

    `x` is what the model takes ((n, 784) or (n, 28, 28)); each sample is shown reshaped to
    `image_shape`.  `y`: class labels or one-hot rows.  `labels`: optional class names.
    With no mistakes the figure says so.  Returns the Figure; saves it to `path` when given.
    """
    _require_model(model, "plot_misclassified")
    image_shape = _image_shape(image_shape, "image_shape")
    max_images = _positive_int(max_images, "max_images")
    x_arr = np.asarray(x)
    y = _labels(y)
    if len(y) != len(x_arr):
        raise ValueError(f"x and y must have the same number of samples, got {len(x_arr)} and {len(y)}")
    if x_arr.ndim < 2 or x_arr[0].size != image_shape[0] * image_shape[1]:
        raise ValueError(f"plot_misclassified: samples of shape {x_arr.shape[1:]} cannot be shown as "
                         f"{image_shape[0]}x{image_shape[1]} images; pass image_shape=(height, width)")
    outputs = np.asarray(model.predict(x, batch_size=256))
    pred = predicted_classes(outputs)
    wrong = np.flatnonzero(pred != y)
    name = (lambda c: str(labels[c]) if labels is not None and c < len(labels) else str(c))
    if len(wrong) == 0:
        fig = _new_figure((5, 2))
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, f"no misclassified examples among {len(y):,}", ha="center", va="center")
        return _finish(fig, path)
    shown = wrong[:max_images]
    rows, cols = _grid_shape(len(shown), 5)
    fig = _new_figure((1.9 * cols + 0.2, 2.15 * rows + 0.7), layout=None)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.03, top=1 - 0.7 / (2.15 * rows + 0.7),
                        wspace=0.15, hspace=0.45)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    binary = outputs.ndim == 1 or outputs.shape[1] == 1
    for ax, i in zip(axes, shown):
        ax.imshow(np.asarray(x_arr[i], dtype=np.float64).reshape(image_shape), cmap="gray", interpolation="nearest")
        if binary:
            p1 = float(outputs.reshape(-1)[i])
            prob = p1 if pred[i] == 1 else 1 - p1
        else:
            prob = float(outputs[i, pred[i]])
        ax.set_title(f"true {name(y[i])}, pred {name(pred[i])}", fontsize=9, color="tab:red", pad=3)
        ax.set_xlabel(f"#{i}  p={prob:.2f}", fontsize=8, labelpad=2)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(shown):]:
        ax.remove()
    fig.suptitle(f"Misclassified: {len(wrong):,} of {len(y):,} ({len(wrong) / len(y):.1%}); "
                 f"showing {len(shown)}", fontsize=11)
    return _finish(fig, path)


def _layer_outputs(model, x):
    """[(layer, output)] for each layer on the batch x (inference mode, nothing kept)."""
    model.predict(x, batch_size=256)                   # checks x (shape, numbers, finite) with the model's messages
    h = np.asarray(x, dtype=model.dtype)
    result = []
    for layer in model.layers:
        h = layer.forward(h, training=False)
        result.append((layer, np.array(h, copy=True)))
    return result


def plot_layer_histograms(model, x, path=None, bins=50):
    """Per-layer histograms: each layer's weights (left: W, b, ... overlaid) and its outputs on the
    batch `x` (right: the activations after the layer's activation function), one row per layer,
    as in the notes' study of activation distributions.  Titles give each output's mean and std.
    Returns the Figure; saves it to `path` when given.
    """
    _require_model(model, "plot_layer_histograms")
    bins = _positive_int(bins, "bins")
    if not getattr(model, "layers", None):
        raise ValueError("plot_layer_histograms: the model has no layers")
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    outputs = _layer_outputs(model, x)
    rows = len(outputs)
    fig, axes = _grid_figure(rows, 2, (4.6, 2.0), left=0.75, top=0.75, bottom=0.4, wgap=0.8, hgap=0.6)
    for (ax_w, ax_a), (layer, out) in zip(axes, outputs):
        name = getattr(layer, "name", None) or type(layer).__name__
        params = {k: np.asarray(v).ravel() for k, v in getattr(layer, "params", {}).items()}
        if params:
            # the largest array (the kernel W) as a histogram; the others (biases...) as ticks along the axis
            largest = max(params, key=lambda k: params[k].size)
            others = [k for k in params if k != largest]
            values = params[largest][np.isfinite(params[largest])]
            ax_w.stairs(*np.histogram(values, bins=bins), fill=True, color="tab:blue", alpha=0.8,
                        label=f"{largest} ({values.size:,} values)")
            rug = ax_w.get_xaxis_transform()               # x in data units, y in axes units
            for key, color in zip(others, ("tab:orange", "tab:red", "tab:purple", "tab:brown")):
                values = params[key][np.isfinite(params[key])]
                ax_w.vlines(values, 0, 0.12, transform=rug, color=color, linewidth=1,
                            label=f"{key} ({values.size:,} values, ticks)")
            ax_w.legend(fontsize="small")
            ax_w.set_ylabel("count")
            ax_w.set_title(f"{name}: weights")
        else:
            ax_w.text(0.5, 0.5, f"{name}: no weights", ha="center", va="center", transform=ax_w.transAxes)
            ax_w.set_xticks([])
            ax_w.set_yticks([])
        values = out.ravel()
        values = values[np.isfinite(values)].astype(np.float64)
        ax_a.stairs(*np.histogram(values, bins=bins), fill=True, color="tab:green", alpha=0.8)
        activation = getattr(layer, "activation", None)
        kind = f" ({activation})" if isinstance(activation, str) else ""
        stats = f"mean {values.mean():.3g}\nstd {values.std():.3g}" if values.size else "no finite values"
        ax_a.text(0.98, 0.95, stats, ha="right", va="top", fontsize="small", transform=ax_a.transAxes,
                  bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"})
        ax_a.set_ylabel("count")
        ax_a.set_title(f"{name}: outputs{kind} on {len(out):,} samples")
        for ax in (ax_w, ax_a):
            ax.grid(True, alpha=0.3)
    fig.suptitle("Weights and activations per layer")
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# Optimizer paths on a 2-D function (Deep Learning from Scratch, chapter 6)
# ----------------------------------------------------------------------------

class TestFunction(NamedTuple):
    """A 2-D function to descend: f(w) and its analytic gradient for w of shape (2,), a start,
    the minimum, the axes' limits, and the default number of steps and learning rates."""
    name: str
    f: Callable
    gradient: Callable
    start: tuple
    minimum: tuple
    xlim: tuple
    ylim: tuple
    steps: int
    learning_rates: dict


TestFunction.__test__ = False          # not a pytest test class, despite its name


def _textbook(w):
    return w[0] ** 2 / 20.0 + w[1] ** 2


def _textbook_gradient(w):
    return np.array([w[0] / 10.0, 2.0 * w[1]])


def _rosenbrock(w):
    return (1.0 - w[0]) ** 2 + 100.0 * (w[1] - w[0] ** 2) ** 2


def _rosenbrock_gradient(w):
    return np.array([-2.0 * (1.0 - w[0]) - 400.0 * w[0] * (w[1] - w[0] ** 2), 200.0 * (w[1] - w[0] ** 2)])


#: the functions optimizer_paths knows by name
FUNCTIONS = {
    # Deep Learning from Scratch, 6.1: f(x, y) = x^2 / 20 + y^2 from (-7, 2), 30 steps, the book's rates
    "textbook": TestFunction("f(x, y) = x²/20 + y²", _textbook, _textbook_gradient, (-7.0, 2.0), (0.0, 0.0),
                             (-10.0, 10.0), (-5.0, 5.0), 30,
                             {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "RMSprop": 0.3, "Adam": 0.3}),
    "rosenbrock": TestFunction("Rosenbrock (1 - x)² + 100 (y - x²)²", _rosenbrock, _rosenbrock_gradient,
                               (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.0), 2000,
                               {"SGD": 0.001, "Momentum": 0.0003, "AdaGrad": 0.5, "RMSprop": 0.005,
                                "Adam": 0.1}),
}


def _test_function(function):
    if isinstance(function, TestFunction):
        return function
    if isinstance(function, str) and function.lower() in FUNCTIONS:
        return FUNCTIONS[function.lower()]
    raise ValueError(f"unknown function {function!r}; choose from {', '.join(FUNCTIONS)} or pass a TestFunction")


def default_optimizers(function="textbook"):
    """{name: optimizer}: SGD, Momentum (SGD momentum=0.9), AdaGrad, RMSprop and Adam, glassnet's own
    classes with the learning rates of `function` (the book's for "textbook").  AdaGrad starts its
    accumulator at 0, as the book's does (Keras starts at 0.1)."""
    from . import optimizers
    lr = _test_function(function).learning_rates
    return {
        "SGD": optimizers.SGD(lr["SGD"]),
        "Momentum": optimizers.SGD(lr["Momentum"], momentum=0.9),
        "AdaGrad": optimizers.Adagrad(lr["AdaGrad"], initial_accumulator_value=0.0),
        "RMSprop": optimizers.RMSprop(lr["RMSprop"]),
        "Adam": optimizers.Adam(lr["Adam"]),
    }


def optimizer_paths(function="textbook", steps=None, start=None, optimizers=None):
    """{name: path}: where each optimizer takes a 2-element float64 point, step by step.

    path[0] is the start and path[t] the point after t updates, shape (steps + 1, 2).  Each step
    computes the analytic gradient at the point and calls the optimizer's ``apply`` on it, as
    training does on a weight array.  `function`: "textbook" (x²/20 + y², from (-7, 2), 30 steps,
    as in Deep Learning from Scratch ch. 6), "rosenbrock", or a TestFunction.  `optimizers`:
    {name: Optimizer} (copied, so the ones given keep their state), default
    ``default_optimizers(function)``.  Needs no matplotlib.
    """
    spec = _test_function(function)
    steps = spec.steps if steps is None else _positive_int(steps, "steps")
    start = np.array(spec.start if start is None else start, dtype=np.float64)
    if start.shape != (2,) or not np.isfinite(start).all():
        raise ValueError(f"start must be two finite numbers (x, y), got {start!r}")
    if optimizers is None:
        optimizers = default_optimizers(spec)
    elif not isinstance(optimizers, Mapping) or not optimizers:
        raise TypeError("optimizers must be a non-empty dict {name: glassnet optimizer}")
    paths = {}
    for name, optimizer in optimizers.items():
        if not hasattr(optimizer, "apply"):
            raise TypeError(f"optimizers[{name!r}] must be a glassnet optimizer, got {type(optimizer).__name__}")
        optimizer = copy.deepcopy(optimizer)
        w = start.copy()
        path = np.empty((steps + 1, 2))
        path[0] = w
        with np.errstate(over="ignore", invalid="ignore"):        # a diverging path ends in inf/NaN
            for t in range(1, steps + 1):
                optimizer.apply([np.asarray(spec.gradient(w), dtype=np.float64)], [w])
                path[t] = w
        paths[str(name)] = path
    return paths


def plot_optimizer_paths(path=None, function="textbook", steps=None, start=None, optimizers=None):
    """The paths of SGD, Momentum, AdaGrad, RMSprop and Adam on a 2-D function over its contour
    lines, one panel each (the minimum marked +), and a last panel with f along every path
    (log scale).  The paths are ``optimizer_paths(function, steps, start, optimizers)``; see there.
    Returns the Figure; saves it to `path` when given.
    """
    spec = _test_function(function)
    paths = optimizer_paths(spec, steps, start, optimizers)
    xs = np.linspace(*spec.xlim, 300)
    ys = np.linspace(*spec.ylim, 300)
    gx, gy = np.meshgrid(xs, ys)
    z = spec.f(np.array([gx, gy]))
    levels = np.unique(np.quantile(z, np.linspace(0, 1, 22)[1:-1]))
    rows, cols = _grid_shape(len(paths) + 1, 3)
    fig, axes = _grid_figure(rows, cols, (3.9, 3.0), top=0.75, bottom=0.55, wgap=0.75, hgap=0.8)
    axes = axes.ravel()
    for ax, (name, p) in zip(axes, paths.items()):
        ax.contour(gx, gy, z, levels=levels, colors="0.7", linewidths=0.7)
        ax.plot(p[:, 0], p[:, 1], "o-", color="tab:red", markersize=3, linewidth=1, label=name)
        ax.plot(*spec.minimum, "+", color="k", markersize=10, markeredgewidth=2)
        ax.set_xlim(*spec.xlim)
        ax.set_ylim(*spec.ylim)
        final = p[-1]
        ax.set_title(f"{name}: ({final[0]:.3f}, {final[1]:.3f}) after {len(p) - 1} steps", fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    ax = axes[len(paths)]
    for name, p in paths.items():
        values = np.array([spec.f(w) for w in p])
        ax.plot(range(len(p)), np.where(values > 0, values, np.nan), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("f")
    ax.set_title("f along each path")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    for ax in axes[len(paths) + 1:]:
        ax.remove()
    fig.suptitle(f"Optimizers on {spec.name}, from ({spec.start[0] if start is None else start[0]:g}, "
                 f"{spec.start[1] if start is None else start[1]:g})")
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# A run folder of `glassnet train` (the `glassnet plot` command)
# ----------------------------------------------------------------------------

def plot_run(run_dir, dataset=None, samples=1000):
    """Draw a `glassnet train` run folder's figures into it and return the paths written.

    Reads model.glassnet, history.json and metrics.json (the dataset used; `dataset=` overrides
    it, as ``glassnet evaluate --dataset`` does) and writes curves.png (only if missing),
    confusion_matrix.png and misclassified.png (on the test split), weights.png (when the inputs
    are square images) and histograms.png (on the first `samples` test images).
    Raises FileNotFoundError / ValueError for a missing or foreign folder.
    """
    from . import cli
    from .saving import load_model
    run_dir = os.fspath(run_dir)
    if not os.path.exists(run_dir):
        raise FileNotFoundError(f"no such run folder: {run_dir}")
    if not os.path.isdir(run_dir):
        raise ValueError(f"{run_dir} is not a folder; give a run folder written by glassnet train")
    model_path = os.path.join(run_dir, cli.MODEL_FILE)
    if not os.path.isfile(model_path):
        raise ValueError(f"{run_dir} is not a run folder (it has no {cli.MODEL_FILE}); "
                         f"give a folder written by glassnet train")
    _matplotlib()                                          # fail before reading anything when it is missing
    samples = _positive_int(samples, "samples")
    curves = os.path.join(run_dir, "curves.png")
    history_path = os.path.join(run_dir, "history.json")
    history = None
    if not os.path.exists(curves) and os.path.isfile(history_path):
        with open(history_path, encoding="utf-8") as fh:
            try:
                history = json.load(fh)
            except ValueError as err:
                raise ValueError(f"{history_path} is not valid JSON ({err})") from None
        if not isinstance(history, dict) or not all(isinstance(v, list) for v in history.values()):
            raise ValueError(f"{history_path} does not hold a history ({{'loss': [...], ...}})")

    # read and check everything before the first figure is written
    model = load_model(model_path)
    if dataset is None:
        dataset = _recorded_dataset(run_dir)
    data = cli.load_dataset(dataset)
    feature_shape = tuple(model.input_shape[1:])
    x = cli.to_features(data.x_test, model.dtype, f"{data.name} x_test", feature_shape)
    y = data.y_test
    outputs = model.predict(x, batch_size=256)
    classes = _model_classes(model, outputs)
    if y.max(initial=0) >= classes:
        raise ValueError(f"{data.name}: y_test holds label {int(y.max())}, but the model has {classes} classes")
    pred = predicted_classes(outputs)

    written = []
    if history is not None:
        plot_history(history, curves)
        written.append(curves)
    target = os.path.join(run_dir, "confusion_matrix.png")
    plot_confusion_matrix(y, pred, labels=[str(i) for i in range(classes)], path=target,
                          title=f"{data.name} test split: {len(y):,} samples, accuracy {np.mean(pred == y):.4f}")
    written.append(target)
    image = _image_side(data.x_test, feature_shape)
    if image is not None:
        try:
            _first_kernel(model)
            has_kernel = True
        except ValueError:
            has_kernel = False
        if has_kernel and int(np.prod(feature_shape)) == image[0] * image[1]:
            target = os.path.join(run_dir, "weights.png")
            plot_weights(model, target, shape=image)
            written.append(target)
        target = os.path.join(run_dir, "misclassified.png")
        plot_misclassified(model, x, y, target, image_shape=image)
        written.append(target)
    target = os.path.join(run_dir, "histograms.png")
    plot_layer_histograms(model, x[:samples], target)
    written.append(target)
    return written


def _recorded_dataset(run_dir):
    """The dataset named in the run's metrics.json (the default dataset when there is no metrics.json)."""
    from . import cli
    path = os.path.join(run_dir, "metrics.json")
    if not os.path.exists(path):
        return cli.TRAIN_DEFAULTS["dataset"]
    try:
        with open(path, encoding="utf-8") as fh:
            spec = json.load(fh)["options"]["dataset"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{path} does not name the dataset of the run (options.dataset); "
                         f"pass one with --dataset (dataset= in Python)") from None
    if not isinstance(spec, str):
        raise ValueError(f"{path}: options.dataset must be a string, got {spec!r}")
    if spec.strip().lower().replace("_", "-") in cli.DATASETS:
        return spec.strip().lower().replace("_", "-")
    if not os.path.isfile(spec):
        raise FileNotFoundError(f"the run's dataset file {spec} (named in {path}) is not found; "
                                f"pass one with --dataset (dataset= in Python)")
    return spec


def _image_side(x_test, feature_shape):
    """(height, width) of the test images, or None when the samples are not images."""
    if x_test.ndim == 3:
        return tuple(x_test.shape[1:])
    width = int(np.prod(feature_shape))
    side = math.isqrt(width)
    return (side, side) if side * side == width and side > 1 else None
