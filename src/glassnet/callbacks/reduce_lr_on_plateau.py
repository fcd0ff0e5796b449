"""ReduceLROnPlateau: multiply the learning rate by `factor` when a monitored value stops improving."""
from __future__ import annotations

import warnings

from .. import _checks
from .base import Callback
from .monitor import check_monitor, metric_mode, resolve_mode


class ReduceLROnPlateau(Callback):
    """Keras's rule, epoch by epoch on logs[monitor]:

    - a value improves on the best so far when it is lower by more than min_delta (mode "min"; higher
      by more than min_delta in mode "max"; "auto" maximises accuracies, AUC, precision, recall and F1
      and minimises the rest); the first value always improves;
    - each epoch without improvement (outside the cooldown) adds one to `wait`; when `wait` reaches
      `patience`, the rate becomes max(lr * factor, min_lr) if lr > min_lr, `wait` returns to 0 and
      `cooldown` epochs follow in which `wait` stays at 0;
    - the rate in force during the epoch is logged as logs["learning_rate"] (so History and CSVLogger
      after it record it), and a missing monitor gives a warning and skips the epoch.

    The optimizer's learning_rate must be a number: a schedule fixes the rate itself (TypeError when
    a reduction is due, as in Keras).
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        self.monitor = check_monitor(monitor, "ReduceLROnPlateau")
        self.mode = resolve_mode(monitor, mode, "ReduceLROnPlateau")
        self._auto = mode == "auto"
        factor = _checks.finite_number(factor, "ReduceLROnPlateau factor", lower=0)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau factor must be a number in (0, 1) (new lr = lr * factor), "
                             f"got {factor!r}")
        self.factor = factor
        self.patience = _checks.non_negative_int(patience, "ReduceLROnPlateau patience")
        self.verbose = verbose
        self.min_delta = abs(_checks.finite_number(min_delta, "ReduceLROnPlateau min_delta"))
        self.cooldown = _checks.non_negative_int(cooldown, "ReduceLROnPlateau cooldown")
        self.min_lr = _checks.positive_number(min_lr, "ReduceLROnPlateau min_lr", allow_zero=True)
        self._reset()

    def _reset(self):
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _improves(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def on_train_begin(self, logs=None):
        if self._auto:
            self.mode = metric_mode(self.monitor, self.model) or self.mode
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            logs = {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        if self.monitor not in logs:
            warnings.warn(f"ReduceLROnPlateau monitors {self.monitor!r}, which is not among this epoch's logs "
                          f"({', '.join(logs)}); the learning rate is left as it is", stacklevel=2)
            return
        value = float(logs[self.monitor])          # NaN never improves: it counts as a plateau, as in Keras
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(value):
            self.best = value
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, optimizer, epoch):
        old = float(optimizer.learning_rate)
        if not old > self.min_lr:
            return False
        if not isinstance(optimizer._learning_rate, (int, float)):
            raise TypeError(f"ReduceLROnPlateau cannot set the learning rate of {type(optimizer).__name__}, whose "
                            f"learning_rate is a schedule ({type(optimizer._learning_rate).__name__}); give the "
                            f"optimizer a number as learning_rate, or use the schedule alone")
        new = max(old * self.factor, self.min_lr)
        optimizer.learning_rate = new
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
        return True
