"""The Figure wrapper and what every figure module shares: matplotlib (imported only when a figure is
drawn), the Agg canvas, atomic saving, grids of axes, class colours and input checks."""
from __future__ import annotations

import io
import math
import os

import numpy as np

INSTALL_HINT = 'pip install "glassnet[plot]"'
DPI = 100


class MissingMatplotlibError(ImportError):
    """matplotlib is not installed; the message says how to install it."""


_FIGURE_CLASSES: dict = {}


def require_matplotlib():
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

        GlassnetFigure.__module__, GlassnetFigure.__qualname__ = "glassnet.plot", "GlassnetFigure"    # picklable
        classes = _FIGURE_CLASSES.setdefault(Figure, (GlassnetFigure, FigureCanvasAgg))
    return classes


def new_figure(figsize, layout="constrained"):
    figure_class, canvas_class = require_matplotlib()
    fig = figure_class(figsize=figsize, layout=layout)
    canvas_class(fig)
    return fig


def save_figure(fig, path, dpi=DPI):
    """Save `fig` to `path` atomically (saving.archive.atomic_write: temporary name, then os.replace; an
    OSError names `path`); the format follows the
    file name's ending (.png, .svg, .pdf, ...; PNG when there is none).  Returns the path as a str."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    from pathlib import Path

    from ..saving import archive       # its temporary names let a later save remove a killed save's leftovers
    archive.atomic_write(Path(path), lambda fh: fig.savefig(fh, format=fmt, dpi=dpi))
    return path


def finish(fig, path):
    if path is not None:
        save_figure(fig, path)
    return fig


def grid_figure(rows, cols, cell, left=0.6, right=0.2, top=0.4, bottom=0.5, wgap=0.6, hgap=0.65):
    """A figure with a rows x cols grid of axes, each `cell` = (width, height) inches, margins and gaps
    in inches.  (A fixed layout: constrained layout would double the time to save a grid.)"""
    width = left + right + cols * cell[0] + (cols - 1) * wgap
    height = top + bottom + rows * cell[1] + (rows - 1) * hgap
    fig = new_figure((width, height), layout=None)
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=wgap / cell[0], hspace=hgap / cell[1])
    return fig, fig.subplots(rows, cols, squeeze=False)


def grid_shape(n, max_cols):
    cols = max(1, min(max_cols, n))
    return math.ceil(n / cols), cols


def class_colors(k):
    """k distinct colours: matplotlib's tab10 (tab20 beyond 10 classes, a sampled colormap beyond 20)."""
    import matplotlib
    if k <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(k)]
    if k <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(k)]
    return [matplotlib.colormaps["turbo"](i / (k - 1)) for i in range(k)]


def check_image_shape(shape, what="shape"):
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be (height, width), got {shape!r}") from None
    if len(shape) != 2 or min(shape) <= 0:
        raise ValueError(f"{what} must be (height, width) with positive sides, got {shape!r}")
    return shape


def predicted_classes(probabilities):
    """Class predictions from a model's outputs: threshold 0.5 for one sigmoid column, argmax otherwise."""
    p = np.asarray(probabilities)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        return (p.reshape(-1) > 0.5).astype(np.int64)
    if p.ndim != 2:
        raise ValueError(f"expected model outputs of shape (n, classes), got shape {p.shape}")
    return p.argmax(axis=1).astype(np.int64)


def model_classes(model, outputs):
    width = outputs.shape[1] if outputs.ndim == 2 else 1
    return 2 if width == 1 else width


def require_model(model, what):
    if not hasattr(model, "predict") or not hasattr(model, "layers"):
        raise TypeError(f"{what} expects a glassnet model (such as a Sequential), got {type(model).__name__}")
