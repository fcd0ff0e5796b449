"""The training doctor: `fit` watches its own training and says, in plain words, what looks wrong.

    model.fit(x, y, epochs=10)                       # the doctor is on by default
    model.fit(x, y, epochs=10, doctor=False)         # off for this fit
    gn.doctor.disable()                              # off for every fit in this process (enable() undoes it)
    model.fit(x, y, doctor=gn.doctor.Doctor(every=1, ignore=["overfitting"]))    # tuned

Each finding is a `TrainingWarning` (a UserWarning), raised at most once per cause
per fit, naming the cause, the numbers behind it and the fix.  The usual
`warnings` filters silence or select them:

    warnings.filterwarnings("ignore", category=gn.doctor.TrainingWarning)
    python -W "ignore::glassnet.doctor.TrainingWarning" script.py

The rules (thresholds are the Doctor's arguments; docs/doctor.md says why each is chosen):

    nan_loss             the training loss is NaN or infinite
    exploding_loss       the training loss exceeds explode_factor (10) x the first batch's loss
    rising_loss          the epoch's training loss rose rise_epochs (3) epochs in a row
    vanishing_gradients  a layer's ||dW|| / ||W|| < vanishing_ratio (1e-7) while another layer's is at
                         least vanishing_spread (1000) times that (1e-4): the gradient dies on its way back
    exploding_gradients  a layer's gradient norm ||dW|| > exploding_norm (1000)
    dead_relu            more than dead_fraction (50%) of a hidden ReLU layer's units output 0
                         for every sample of a checked batch
    saturated            in the model's first epoch of training, more than saturated_fraction (50%) of a
                         hidden sigmoid or tanh layer's units sit within saturation_margin (0.01) of an
                         asymptote for at least saturated_samples (90%) of the checked samples
    overfitting          for overfit_epochs (3) epochs in a row val_loss rose while the training loss fell

Speed: the per-batch hook is one integer test; layer statistics are read, from what
the layers already cached (pre-activations, gradients), only on batches where
`batch % every == 0` (the first batch of every epoch, then every 10th); the loss
rules run once per epoch.  Findings are printed at the end of the epoch, after its
progress line.
"""
from __future__ import annotations

import math
import os
import sys
import warnings
from typing import NamedTuple

import numpy as np

from . import callbacks as _callbacks

__all__ = ["Doctor", "TrainingWarning", "Finding", "RULES", "enable", "disable", "is_enabled"]

RULES = ("nan_loss", "exploding_loss", "rising_loss", "vanishing_gradients", "exploding_gradients",
         "dead_relu", "saturated", "overfitting")


class TrainingWarning(UserWarning):
    """A problem the training doctor found during `fit`; `.cause` is the rule's name (see RULES)."""

    def __init__(self, message, cause=None):
        super().__init__(message)
        self.cause = cause


class Finding(NamedTuple):
    cause: str          # one of RULES
    message: str        # the warning's text
    epoch: int          # counted from 0, as callbacks count
    batch: int | None   # the checked batch, or None for an epoch-level rule


_enabled = True


def enable():
    """Turn the doctor back on for every later fit (the default)."""
    global _enabled
    _enabled = True


def disable():
    """Turn the doctor off for every later fit in this process (fit(..., doctor=Doctor()) still runs one)."""
    global _enabled
    _enabled = False


def is_enabled() -> bool:
    return _enabled


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _caller_stacklevel():
    """The stacklevel, for a warning raised by our caller, of the first frame outside glassnet (the fit call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _check_number(value, what, low=0.0, upper=None, integer=False, allow_low=False):
    """A finite number > low (>= low with allow_low), <= upper when given."""
    kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = not isinstance(value, bool) and isinstance(value, kind) and math.isfinite(value) \
        and (value >= low if allow_low else value > low) and (upper is None or value <= upper)
    if not ok:
        bound = f"{'>=' if allow_low else '>'} {low:g}" + ("" if upper is None else f" and <= {upper:g}")
        raise ValueError(f"Doctor {what} must be {'an integer' if integer else 'a number'} {bound}, got {value!r}")
    return int(value) if integer else float(value)


def _g(value):
    """A number for a message: 3 significant digits."""
    return f"{value:.3g}"


class Doctor(_callbacks.Callback):
    """Watches a fit and warns (TrainingWarning), once per cause, about what looks wrong.

    fit adds one by default; pass doctor=Doctor(...) to fit to change a threshold, or
    ignore=[rule names] to skip rules.  After the fit, `.findings` lists what was found.
    """

    def __init__(self, every=10, explode_factor=10.0, rise_epochs=3, rise_min_delta=1e-3,
                 vanishing_ratio=1e-7, vanishing_spread=1e3, exploding_norm=1e3,
                 dead_fraction=0.5, saturated_fraction=0.5, saturation_margin=0.01, saturated_samples=0.9,
                 min_samples=32, overfit_epochs=3, ignore=()):
        super().__init__()
        self.every = _check_number(every, "every", integer=True)
        self.explode_factor = _check_number(explode_factor, "explode_factor", low=1.0)
        self.rise_epochs = _check_number(rise_epochs, "rise_epochs", integer=True)
        self.rise_min_delta = _check_number(rise_min_delta, "rise_min_delta", allow_low=True)
        self.vanishing_ratio = _check_number(vanishing_ratio, "vanishing_ratio")
        self.vanishing_spread = _check_number(vanishing_spread, "vanishing_spread", allow_low=True)
        self.exploding_norm = _check_number(exploding_norm, "exploding_norm")
        self.dead_fraction = _check_number(dead_fraction, "dead_fraction", upper=1.0, allow_low=True)
        self.saturated_fraction = _check_number(saturated_fraction, "saturated_fraction", upper=1.0, allow_low=True)
        self.saturation_margin = _check_number(saturation_margin, "saturation_margin", upper=0.5)
        self.saturated_samples = _check_number(saturated_samples, "saturated_samples", upper=1.0)
        self.min_samples = _check_number(min_samples, "min_samples", integer=True)
        self.overfit_epochs = _check_number(overfit_epochs, "overfit_epochs", integer=True)
        if isinstance(ignore, str):
            ignore = [ignore]
        ignore = frozenset(ignore)
        unknown = sorted(ignore - set(RULES))
        if unknown:
            raise ValueError(f"Doctor ignore= names unknown rules {unknown}; the rules are: {', '.join(RULES)}")
        self.ignore = ignore
        self.early_stopping_on_validation = False     # set by fit: then the overfitting rule stays quiet
        self.findings: list[Finding] = []
        self._reset()

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def _reset(self):
        self.findings = []
        self._fired = set()
        self._pending = []
        self._epoch = 0
        self._reference = None         # the first checked training loss of this fit
        self._losses = []              # per-epoch training loss
        self._val_losses = []          # per-epoch val_loss (None when absent)
        self._blamed = -1              # last layer index the dead/saturated rules blamed
        self._watch = []               # (index, layer, kind, |z| limit, [flat outputs per unit, rows seen])
        self._kernels = []             # (index, layer) with a trainable kernel W

    def on_train_begin(self, logs=None):
        self._reset()
        layers = self.model.layers
        # the saturated limit on |z|: sigmoid(z) within m of 0 or 1 <=> |z| > log((1 - m) / m);
        # tanh(z) within m of -1 or 1 <=> |z| > atanh(1 - m)
        m = self.saturation_margin
        limits = {"relu": 0.0, "sigmoid": math.log((1 - m) / m), "tanh": math.atanh(1 - m)}
        for i, layer in enumerate(layers[:-1]):           # the output layer's saturation is confidence
            kind = getattr(layer, "activation", None)
            if kind in limits and hasattr(layer, "_x"):
                self._watch.append((i, layer, kind, limits[kind], [None, 0]))
        for i, layer in enumerate(layers):
            w = layer.params.get("W")
            if layer.trainable and w is not None and w.ndim >= 2 and "W" in layer.grads:
                self._kernels.append((i, layer))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if batch % self.every:
            return
        self._check_batch(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None:
            loss = float(loss)
            self._check_loss(loss, None, "epoch")
            self._losses.append(loss)
            self._check_rising()
        val = logs.get("val_loss")
        self._val_losses.append(None if val is None else float(val))
        self._check_overfitting()
        self._flush()

    def on_train_end(self, logs=None):
        self._flush()

    # ------------------------------------------------------------------
    # Reporting
    # ------------------------------------------------------------------
    def _flag(self, cause, message, batch=None):
        if cause in self._fired or cause in self.ignore:
            return False
        self._fired.add(cause)
        text = f"glassnet doctor [{cause}]: {message}"
        finding = Finding(cause, text, self._epoch, batch)
        self.findings.append(finding)
        self._pending.append(finding)
        return True

    def _flush(self):
        """Warn about what was found, after the epoch's progress line."""
        pending, self._pending = self._pending, []
        for finding in pending:
            warnings.warn(TrainingWarning(finding.message, finding.cause), stacklevel=_caller_stacklevel())

    def _where(self, batch):
        return f"epoch {self._epoch + 1}" + ("" if batch is None else f", batch {batch + 1}")

    # ------------------------------------------------------------------
    # Loss rules
    # ------------------------------------------------------------------
    def _check_loss(self, loss, batch, what):
        """NaN/inf and exploding loss; returns False when the loss is not finite."""
        if not math.isfinite(loss):
            self._flag("nan_loss",
                       f"the training loss is {loss} (seen at {self._where(batch)}); the weights are now broken and "
                       f"training cannot recover. Usual causes: a learning rate far too high, inputs that are not "
                       f"scaled (raw 0-255 pixels, large measurements), a log(0) in a hand-made loss. Fix: lower the "
                       f"learning rate (10x smaller), scale the inputs (x / 255, or standardise them), or clip the "
                       f"gradients (optimizer clipnorm=1.0); callbacks=[gn.callbacks.TerminateOnNaN()] stops at "
                       f"the first bad batch.", batch)
            return False
        if self._reference is None:
            self._reference = loss
        elif self._reference > 0 and loss > self.explode_factor * self._reference:
            self._flag("exploding_loss",
                       f"the training loss grew from {_g(self._reference)} (first batch) to {_g(loss)} "
                       f"({what} mean, {self._where(batch)}), more than {self.explode_factor:g}x: training is "
                       f"diverging. Fix: lower the learning rate (10x smaller), scale the inputs and targets, or "
                       f"clip the gradients (optimizer clipnorm=1.0).", batch)
        return True

    def _check_rising(self):
        n = self.rise_epochs
        losses = self._losses
        if len(losses) <= n or {"nan_loss", "exploding_loss"} & self._fired:
            return
        last = losses[-n - 1:]
        if not all(math.isfinite(v) for v in last):
            return
        if all(b > a + self.rise_min_delta * abs(a) for a, b in zip(last, last[1:])):
            try:
                lr = f" ({_g(float(self.model.optimizer.learning_rate))})"
            except Exception:         # pragma: no cover - an optimizer without a readable rate
                lr = ""
            path = " -> ".join(_g(v) for v in last)
            self._flag("rising_loss",
                       f"the training loss rose {n} epochs in a row ({path}): the learning rate{lr} is probably "
                       f"too high, so each step overshoots the minimum. Fix: lower the learning rate (3-10x "
                       f"smaller), decay it (gn.optimizers.schedules.ExponentialDecay), or use Adam.")

    def _check_overfitting(self):
        n = self.overfit_epochs
        if self.early_stopping_on_validation or len(self._val_losses) <= n or len(self._losses) <= n:
            return
        val, train = self._val_losses[-n - 1:], self._losses[-n - 1:]
        if any(v is None or not math.isfinite(v) for v in val + train):
            return
        d = self.rise_min_delta
        val_rises = all(b > a + d * abs(a) for a, b in zip(val, val[1:]))
        train_falls = all(b < a for a, b in zip(train, train[1:]))
        if val_rises and train_falls:
            self._flag("overfitting",
                       f"for {n} epochs the training loss fell ({_g(train[0])} -> {_g(train[-1])}) while val_loss "
                       f"rose ({_g(val[0])} -> {_g(val[-1])}): the network is memorising its training set instead "
                       f"of learning what generalises. Fix: stop at the best epoch (callbacks=[gn.callbacks."
                       f"EarlyStopping(monitor='val_loss', patience=3, restore_best_weights=True)]), add Dropout or "
                       f"a weight penalty (kernel_regularizer=gn.regularizers.L2(1e-4)), use a smaller network, or "
                       f"get more training data.")

    # ------------------------------------------------------------------
    # Checked batches: activations and gradients
    # ------------------------------------------------------------------
    def _check_batch(self, batch, logs):
        loss = (logs or {}).get("loss")
        if loss is not None and not self._check_loss(float(loss), batch, "running"):
            return                     # NaN weights: the other statistics say nothing more
        if self._watch:
            self._check_activations(batch)
        if self._kernels:
            self._check_gradients(batch)

    def _check_activations(self, batch):
        """Dead ReLU and saturated units, counted per unit over at least min_samples checked samples."""
        opt = getattr(self.model, "optimizer", None)
        first_epoch = getattr(opt, "iterations", 0) <= self.params.get("steps", 0)
        for i, layer, kind, limit, seen in self._watch:
            if kind != "relu" and not first_epoch:
                continue               # later saturation is the network's own doing: it fits, and Adam keeps moving
            z = getattr(layer, "_z", None) if hasattr(layer, "units") else getattr(layer, "_x", None)
            if z is None:
                continue
            z = z.reshape(-1, z.shape[-1])
            # flat outputs: relu(z) = 0 where z <= 0; sigmoid/tanh near an asymptote where |z| > limit
            flat = np.count_nonzero(z <= 0 if kind == "relu" else np.abs(z) > limit, axis=0)
            seen[0] = flat if seen[0] is None else seen[0] + flat
            seen[1] += len(z)
            if seen[1] < self.min_samples:
                continue
            counts, rows = seen
            seen[0], seen[1] = None, 0
            units = counts.size
            if kind == "relu":
                stuck = int(np.count_nonzero(counts == rows))
                if stuck > self.dead_fraction * units:
                    self._blamed = max(self._blamed, i)
                    self._flag("dead_relu", self._dead_message(layer, stuck, units, rows, batch), batch)
            else:
                stuck = int(np.count_nonzero(counts >= self.saturated_samples * rows))
                if stuck > self.saturated_fraction * units:
                    self._blamed = max(self._blamed, i)
                    self._flag("saturated", self._saturated_message(layer, kind, stuck, units, rows, batch), batch)

    def _dead_message(self, layer, dead, units, rows, batch):
        hint = ""
        init = getattr(layer, "bias_initializer", None)
        value = getattr(init, "value", None)
        if getattr(layer, "use_bias", False) and value is not None and value < 0:
            hint = f" Its biases start at {value:g}: with a negative bias most inputs never make a unit positive."
        return (f"{dead} of {units} ReLU units ({dead / units:.0%}) of layer {layer.name!r} output 0 for every one "
                f"of {rows} samples ({self._where(batch)}); a dead unit passes no gradient, so it never "
                f"recovers.{hint} Fix: biases that start at 0 (the default), He initialisation "
                f"(kernel_initializer='he_normal'), a lower learning rate, or leaky_relu / elu, which never go "
                f"flat.")

    def _saturated_message(self, layer, kind, stuck, units, rows, batch):
        x = getattr(layer, "_x", None)
        scale = ""
        if x is not None and x.size:
            scale = f" The largest input to this layer is {_g(float(np.max(np.abs(x))))}."
        ends = "0 or 1" if kind == "sigmoid" else "-1 or 1"
        return (f"{stuck} of {units} {kind} units ({stuck / units:.0%}) of layer {layer.name!r} sit within "
                f"{self.saturation_margin:g} of {ends} for at least {self.saturated_samples:.0%} of {rows} samples "
                f"({self._where(batch)}): "
                f"there the slope of {kind} is about 0, so almost no gradient passes and the layer barely "
                f"learns.{scale} Fix: scale the inputs (x / 255, or standardise them), use smaller initial weights "
                f"(Glorot, the default), a lower learning rate, BatchNormalization before the activation, or relu.")

    def _check_gradients(self, batch):
        stats = []
        for i, layer in self._kernels:
            g, w = layer.grads["W"], layer.params["W"]
            g_norm = math.sqrt(float(np.vdot(g, g)))
            w_norm = math.sqrt(float(np.vdot(w, w)))
            if not math.isfinite(g_norm):
                return                 # the nan_loss rule will speak
            stats.append((i, layer, g_norm, w_norm, g_norm / w_norm if w_norm > 0 else math.inf))
        big = [s for s in stats if s[2] > self.exploding_norm]
        if big:
            i, layer, g_norm, _, _ = max(big, key=lambda s: s[2])
            names = ", ".join(repr(s[1].name) for s in big)
            self._flag("exploding_gradients",
                       f"the gradient of layer {layer.name!r} has norm ||dW|| = {_g(g_norm)} ({self._where(batch)}; "
                       f"threshold {self.exploding_norm:g}; layers over it: {names}). Steps this large throw the "
                       f"weights far from where they were, and training diverges or jumps about. Fix: clip the "
                       f"gradients (optimizer clipnorm=1.0 or global_clipnorm=1.0), lower the learning rate, scale "
                       f"the inputs and targets, use smaller initial weights (Glorot or He), or add "
                       f"BatchNormalization.", batch)
        if len(stats) < 2:
            return                     # vanishing is about depth: gradients shrinking on their way back
        top = max(s[4] for s in stats)
        if top < self.vanishing_ratio * self.vanishing_spread:
            return                     # every layer is still: a minimum (or a plateau), not a depth problem
        low = [s for s in stats if s[4] < self.vanishing_ratio]
        if self._blamed >= 0:          # gradients that vanish behind a dead or saturated layer are its doing
            low = [s for s in low if s[0] > self._blamed and s[2] > 0.0]
        if low:
            i, layer, g_norm, w_norm, ratio = min(low, key=lambda s: s[4])
            best = max(stats, key=lambda s: s[4])
            names = ", ".join(repr(s[1].name) for s in low)
            self._flag("vanishing_gradients",
                       f"layer {layer.name!r} gets a gradient only {_g(ratio)} the size of its weights "
                       f"(||dW|| / ||W|| = {_g(g_norm)} / {_g(w_norm)}; threshold {self.vanishing_ratio:g}), while "
                       f"layer {best[1].name!r} gets {_g(best[4])} ({self._where(batch)}; layers under the "
                       f"threshold: {names}). The gradient dies on its way back, so the early layers barely learn "
                       f"(in float32 a weight does not even change when a step is under 1e-7 of it). Fix: relu "
                       f"(or leaky_relu) instead of sigmoid/tanh in hidden layers, Glorot or He initialisation "
                       f"instead of tiny random weights, fewer layers, or BatchNormalization.", batch)


def for_fit(doctor, callbacks):
    """The Doctor `fit` adds to its callbacks (or None), from fit's `doctor=` argument.

    True: a default Doctor, unless `disable()` was called or the callbacks already hold one;
    False or None: none; a Doctor: that one.
    """
    if doctor is None or doctor is False:
        return None
    if doctor is not True and not isinstance(doctor, Doctor):
        raise TypeError(f"doctor must be True, False or a glassnet.doctor.Doctor, got {doctor!r}")
    given = [cb for cb in callbacks if isinstance(cb, Doctor)]
    chosen = None
    if isinstance(doctor, Doctor):
        if any(cb is doctor for cb in given):
            given = [doctor]
        else:
            chosen = doctor
    elif not given and _enabled:
        chosen = Doctor()
    stopping = any(isinstance(cb, _callbacks.EarlyStopping) and str(cb.monitor).startswith("val_")
                   for cb in callbacks)
    for d in given + ([chosen] if chosen is not None else []):
        d.early_stopping_on_validation = stopping
    return chosen
