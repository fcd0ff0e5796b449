"""Callbacks (Keras names and hooks): History, EarlyStopping, TerminateOnNaN,
LearningRateScheduler, LambdaCallback, and the progress display.

A callback overrides any of the hooks below; `fit` calls per-batch hooks only
for callbacks that define them, so the others cost nothing per batch.

    on_train_begin(logs)   on_epoch_begin(epoch, logs)   on_train_batch_begin(batch, logs)
    on_train_end(logs)     on_epoch_end(epoch, logs)     on_train_batch_end(batch, logs)
    on_test_begin(logs)    on_test_end(logs)             on_test_batch_end(batch, logs)

`logs` hold running means over the epoch so far ("loss", "accuracy", ...) and,
at epoch end, the validation scores ("val_loss", ...).
"""
from __future__ import annotations

import math
import sys
import time


class Callback:
    """Base class: every hook does nothing."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params)

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass


def overrides(callback: Callback, hook: str) -> bool:
    """Does `callback` define `hook` itself (rather than inherit the empty one)?"""
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class History(Callback):
    """Records the epoch logs: history.history["loss"][i] is the mean training loss of epoch i."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode must be 'auto', 'min' or 'max', got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping patience must be an integer >= 0, got {patience!r}")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
        self.mode = mode

    def _better(self, value, reference):
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which is not among the logs "
                             f"({', '.join(logs)}); pass validation data to monitor 'val_*' values")
        value = float(logs[self.monitor])
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start: schedule(epoch, lr) -> new lr."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.schedule(epoch, float(self.model.optimizer.learning_rate)))
        self.model.optimizer.learning_rate = lr
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class LambdaCallback(Callback):
    """A callback from plain functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
              "on_train_batch_begin", "on_train_batch_end")

    def __init__(self, **hooks):
        super().__init__()
        unknown = set(hooks) - set(self._HOOKS)
        if unknown:
            raise ValueError(f"LambdaCallback got unknown hooks {sorted(unknown)}; known: {', '.join(self._HOOKS)}")
        for name, fn in hooks.items():
            setattr(self, name, fn)

    def overrides(self, hook):
        return hook in self.__dict__


# --------------------------------------------------------------------------
# Progress display
# --------------------------------------------------------------------------

def format_logs(logs: dict) -> str:
    """' - accuracy: 0.8821 - loss: 0.4234 - val_accuracy: ...' as Keras prints them."""
    train = sorted(k for k in logs if not k.startswith("val_"))
    val = sorted(k for k in logs if k.startswith("val_"))
    return "".join(f" - {k}: {_fmt(logs[k])}" for k in train + val)


def _fmt(value):
    value = float(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"


def _fmt_time(seconds):
    return f"{seconds:.0f}s"


def _per_step(seconds, steps):
    per = seconds / max(steps, 1)
    if per >= 1:
        return f"{per:.0f}s/step"
    if per >= 1e-3:
        return f"{per * 1e3:.0f}ms/step"
    return f"{per * 1e6:.0f}us/step"


class ProgbarLogger(Callback):
    """Keras's progress display.

    verbose=1 on a terminal: 'Epoch 1/5' and a live bar with running metrics.
    verbose=2, or output that is not a terminal: one summary line per epoch.
    verbose=0: nothing.
    """

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def _stream(self):
        return self.stream if self.stream is not None else sys.stdout

    def _live(self):
        stream = self._stream()
        return self.verbose == 1 and hasattr(stream, "isatty") and stream.isatty()

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)
        self.steps = self.params.get("steps", 0)
        self._bar = None

    def on_epoch_begin(self, epoch, logs=None):
        if not self.verbose:
            return
        print(f"Epoch {epoch + 1}/{self.epochs}", file=self._stream(), flush=True)
        self._start = time.perf_counter()
        self._last = 0.0
        if self._live():
            from tqdm import tqdm
            self._bar = tqdm(total=self.steps, file=self._stream(), ascii=" ━", ncols=100, leave=True,
                             bar_format="{n_fmt}/{total_fmt} {bar:20} {elapsed}{postfix}",
                             dynamic_ncols=False, mininterval=0.1)

    # per-batch work only when a live bar is shown
    def on_train_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        self._bar.update(batch + 1 - self._bar.n)
        now = time.perf_counter()
        if now - self._last > 0.1:
            self._last = now
            self._bar.set_postfix_str(f" {_per_step(now - self._start, batch + 1)}{format_logs(logs or {})}",
                                      refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self._start
        tail = f"{_per_step(elapsed, self.steps)}{format_logs(logs or {})}"
        if self._bar is not None:
            self._bar.update(self.steps - self._bar.n)
            self._bar.set_postfix_str(f" {tail}", refresh=True)
            self._bar.close()
            self._bar = None
        else:
            print(f"{self.steps}/{self.steps} - {_fmt_time(elapsed)} - {tail}", file=self._stream(), flush=True)


class CallbackList:
    """Dispatches hooks to many callbacks; batch hooks only to those that define them."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self.batch_end = [cb for cb in self.callbacks if _defines(cb, "on_train_batch_end")]
        self.batch_begin = [cb for cb in self.callbacks if _defines(cb, "on_train_batch_begin")]

    def call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)


def _defines(cb, hook):
    if isinstance(cb, LambdaCallback):
        return cb.overrides(hook)
    if isinstance(cb, ProgbarLogger):
        return cb._live()
    return overrides(cb, hook)

