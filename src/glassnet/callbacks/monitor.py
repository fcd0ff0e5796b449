"""What the monitoring callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau) share: the
direction of a monitored value.

mode "auto" maximises a value whose name (without "val_") speaks of a score that grows as the model
gets better (accuracy, AUC, precision, recall, F1, the true positive and true negative counts) and
minimises the others (the loss, the errors, the cross-entropies, the false counts).
"""
from __future__ import annotations

MODES = ("auto", "min", "max")
_MAXIMISED = ("acc", "auc", "precision", "recall", "f1", "true_positives", "true_negatives")


def check_monitor(monitor, who) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"{who} monitor must be the name of a logged value such as 'val_loss', got {monitor!r}")
    return monitor


def resolve_mode(monitor: str, mode, who) -> str:
    """'min' or 'max' for `monitor` under `mode` ('auto', 'min' or 'max')."""
    if mode not in MODES:
        raise ValueError(f"{who} mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    return "max" if any(key in name for key in _MAXIMISED) else "min"
