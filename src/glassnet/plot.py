"""Figures with matplotlib, imported only when a figure is drawn.

    gn.plot.plot_history(history.history, "curves.png")

matplotlib is optional (``pip install "glassnet[plot]"``); the rest of glassnet
never imports it.  Figures are drawn on matplotlib's Agg canvas through
``matplotlib.figure.Figure`` (not pyplot), so they work without a display and
leave pyplot's global state alone.
"""
from __future__ import annotations

import math
import os

__all__ = ["plot_history", "MissingMatplotlibError"]

INSTALL_HINT = 'pip install "glassnet[plot]"'


class MissingMatplotlibError(ImportError):
    """matplotlib is not installed; the message says how to install it."""


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise MissingMatplotlibError(f"drawing figures needs matplotlib, which is not installed "
                                     f"({err}); install it with: {INSTALL_HINT}") from None
    return Figure


def plot_history(history, path):
    """Draw the training curves as the study notes plot them and save them to `path` (PNG, SVG, PDF...).

    `history` is a History's ``.history`` dict (or the History itself): lists per epoch under
    "loss", "accuracy", "val_loss", "val_accuracy" (validation keys optional).  Two panels:
    loss on the left, accuracy on the right; training solid with circles, validation dashed
    with squares; x axis "epochs" counted from 1; accuracy on a fixed 0-1 scale, legend at the
    lower right (as in the notes).  Loss starts at 0; its top follows the data.

    Returns `path`.  Raises MissingMatplotlibError (an ImportError) when matplotlib is missing.
    """
    history = getattr(history, "history", history)
    if not isinstance(history, dict):
        raise TypeError(f"plot_history expects a History or its .history dict, got {type(history).__name__}")
    lengths = {key: len(values) for key, values in history.items()}
    if not lengths or not any(lengths.values()):
        raise ValueError("plot_history: the history is empty (no epochs recorded)")
    Figure = _figure_class()

    fig = Figure(figsize=(12, 6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    panels = ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy"))
    for ax, key, label in panels:
        drawn = []
        for name, style, marker, prefix in (("train", "-", "o", ""), ("validation", "--", "s", "val_")):
            values = history.get(prefix + key)
            if not values:
                continue
            epochs = range(1, len(values) + 1)
            ax.plot(epochs, [float(v) for v in values], linestyle=style, marker=marker, label=f"{name} {label}")
            drawn.extend(float(v) for v in values if math.isfinite(float(v)))     # a diverged run: NaN gaps
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
    ax_loss.set_title("Loss")
    ax_acc.set_title("Accuracy")

    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        fig.savefig(tmp, format=fmt, dpi=100)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
