"""The confusion matrix as an annotated heat map (the counts: glassnet.metrics.confusion_matrix)."""
from __future__ import annotations

import math

import numpy as np

from ..metrics import confusion_matrix
from ._figure import finish, new_figure


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
    fig = new_figure((side + 1.2, side))
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
    return finish(fig, path)
