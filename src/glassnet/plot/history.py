"""Training curves: loss and accuracy per epoch, train and validation."""
from __future__ import annotations

import math
from collections.abc import Mapping

from ._figure import finish, new_figure


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
    fig = new_figure(figsize if len(panels) == 2 else (figsize[0] / 2 + 1, figsize[1]))
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
    return finish(fig, path)
