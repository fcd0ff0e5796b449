"""What the monitoring callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau) share: the
direction of a monitored value.

mode "auto" follows the compiled metric the monitored value comes from, as Keras does (its
direction: AUC(name="prc") is maximised whatever its name); when fit starts, `metric_mode` looks
it up.  Until then, and for a value no metric makes (the loss), the name decides: a name (without
"val_") that speaks of a score that grows as the model gets better (accuracy, AUC, precision, recall,
F1, the true positive and true negative counts) is maximised, the others (the loss, the errors, the
cross-entropies, the false counts) are minimised.
"""
from __future__ import annotations

from .. import metrics as metrics_module

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


def metric_mode(monitor: str, model):
    """'max' or 'min' from the direction of the compiled metric that logs `monitor` (with or without
    "val_"), or None when no metric of the model logs it (the loss) or its direction is unknown."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    for logged, metric in getattr(model, "_metrics", None) or ():
        if logged == name and metric is not None:
            way = metrics_module.direction(metric)
            return None if way is None else "max" if way == "up" else "min"
    return None


def skipped_validation(monitor: str, logs, model) -> bool:
    """True when `monitor` is a 'val_*' value, fit has validation data, and this epoch ran no
    validation (fit's validation_freq): the callback waits for the next validated epoch, as in Keras.
    Without validation data at all, a 'val_*' monitor stays an error."""
    return (monitor.startswith("val_") and getattr(model, "_validation_scheduled", False)
            and not any(str(key).startswith("val_") for key in logs))
