"""The Doctor: a callback that reads the loss, the layers' activations and the gradients during `fit`."""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import callbacks as _callbacks
from . import advice as _advice
from .findings import RULES, Finding, TrainingWarning, caller_stacklevel, check_number, check_verbose, g


def noise(series):
    """A series' epoch-to-epoch noise: its standard deviation around a smooth trend, from the second
    differences d_i = s[i+1] - 2 s[i] + s[i-1] (a straight trend cancels; white noise of standard deviation
    sigma gives |d| a median of 0.6745 x sqrt(6) sigma = 1.65 sigma).  0 with fewer than 3 values."""
    d = np.abs(np.diff(np.asarray(series, dtype=np.float64), 2))
    return float(np.median(d)) / 1.65 if d.size else 0.0


class Doctor(_callbacks.Callback):
    """Watches a fit and reports, once per cause, what looks wrong, with the fixes the model does not use yet.

    fit adds one by default; pass doctor=Doctor(...) to fit to change a threshold, or ignore=[rule
    names] to skip rules.  Findings go to `history.findings` (and `.findings` here); they are printed,
    as TrainingWarnings, when fit's verbose is 1 or 2 (verbose="auto"), always (verbose=1) or never
    (verbose=0).
    """

    def __init__(self, every=10, explode_factor=10.0, rise_epochs=3, rise_min_delta=0.05, rise_noise=5.0,
                 vanishing_ratio=1e-7, vanishing_spread=1e3, exploding_norm=1e3,
                 dead_fraction=0.5, saturated_fraction=0.5, saturation_margin=0.01, saturated_samples=0.9,
                 min_samples=32, overfit_epochs=3, ignore=(), verbose="auto"):
        super().__init__()
        self.every = check_number(every, "every", integer=True)
        self.explode_factor = check_number(explode_factor, "explode_factor", low=1.0)
        self.rise_epochs = check_number(rise_epochs, "rise_epochs", integer=True)
        self.rise_min_delta = check_number(rise_min_delta, "rise_min_delta", allow_low=True)
        self.rise_noise = check_number(rise_noise, "rise_noise", allow_low=True)
        self.vanishing_ratio = check_number(vanishing_ratio, "vanishing_ratio")
        self.vanishing_spread = check_number(vanishing_spread, "vanishing_spread", allow_low=True)
        self.exploding_norm = check_number(exploding_norm, "exploding_norm")
        self.dead_fraction = check_number(dead_fraction, "dead_fraction", upper=1.0, allow_low=True)
        self.saturated_fraction = check_number(saturated_fraction, "saturated_fraction", upper=1.0, allow_low=True)
        self.saturation_margin = check_number(saturation_margin, "saturation_margin", upper=0.5)
        self.saturated_samples = check_number(saturated_samples, "saturated_samples", upper=1.0)
        self.min_samples = check_number(min_samples, "min_samples", integer=True)
        self.overfit_epochs = check_number(overfit_epochs, "overfit_epochs", integer=True)
        self.verbose = check_verbose(verbose)
        if isinstance(ignore, str):
            ignore = [ignore]
        ignore = frozenset(ignore)
        unknown = sorted(ignore - set(RULES))
        if unknown:
            raise ValueError(f"Doctor ignore= names unknown rules {unknown}; the rules are: {', '.join(RULES)}")
        self.ignore = ignore
        # set by fit (glassnet.doctor.for_fit) from its other callbacks and arguments
        self.early_stopping_on_validation = False     # then the overfitting rule stays quiet
        self.terminate_on_nan = False                 # then nan_loss does not suggest it
        self.lr_callback = False                      # a callback sets the learning rate: no schedule advice
        self._fit_verbose = None                      # fit's verbose; None: read from the callback params
        self._history = None                          # fit's History: findings go to history.findings too
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
        self._watch = []               # (index, layer, kind, |z| limit, state)
        self._kernels = []             # (index, layer) with a trainable kernel W
        self.died_in_training = False  # a dead layer had been alive in an earlier epoch

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
                # state: relu: [units seen positive, rows, alive in an earlier epoch, first epoch counted];
                # sigmoid/tanh: [flat counts per unit, rows]
                self._watch.append((i, layer, kind, limits[kind], [None, 0, False, 0]))
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
        self._check_dead()
        self._flush()

    def on_train_end(self, logs=None):
        self._flush()
        self._history = None           # the link lasts one fit

    @property
    def input_max(self):
        """The largest |value| in the last batch the first layer with a kernel saw (None if unknown);
        read only when advice is written, so the checks cost nothing for it."""
        layer = self._kernels[0][1] if self._kernels else None
        x = getattr(layer, "_x", None)
        if x is None or not x.size:
            return None
        return float(max(abs(float(np.max(x))), abs(float(np.min(x)))))

    # ------------------------------------------------------------------
    # Reporting
    # ------------------------------------------------------------------
    def _printing(self):
        if self.verbose != "auto":
            return bool(self.verbose)
        verbose = self._fit_verbose if self._fit_verbose is not None else self.params.get("verbose", 1)
        return bool(verbose)

    def _flag(self, cause, seen, fixes, batch=None):
        """Record a finding: `seen` says what was measured and why it matters; `fixes` the advice."""
        if cause in self._fired or cause in self.ignore:
            return False
        self._fired.add(cause)
        fixes = tuple(fixes)
        text = f"glassnet doctor [{cause}]: {seen} Fix: {'; '.join(fixes)}."
        finding = Finding(cause, text, self._epoch, batch, fixes)
        self.findings.append(finding)
        if self._history is not None:
            found = getattr(self._history, "findings", None)
            if found is None:
                self._history.findings = found = []
            found.append(finding)
        self._pending.append(finding)
        return True

    def _flush(self):
        """Print what was found (as TrainingWarnings) after the epoch's progress line, when verbose asks."""
        pending, self._pending = self._pending, []
        if not pending or not self._printing():
            return
        for finding in pending:
            warnings.warn(TrainingWarning(finding.message, finding.cause), stacklevel=caller_stacklevel())

    def _where(self, batch):
        return f"epoch {self._epoch + 1}" + ("" if batch is None else f", batch {batch + 1}")

    # ------------------------------------------------------------------
    # Loss rules
    # ------------------------------------------------------------------
    def _check_loss(self, loss, batch, what):
        """NaN/inf and exploding loss; returns False when the loss is not finite."""
        if not math.isfinite(loss):
            self._flag("nan_loss",
                       f"the training loss is {loss} (seen at {self._where(batch)}); the weights are now broken "
                       f"and training cannot recover.", _advice.nan_loss(self), batch)
            return False
        if self._reference is None:
            self._reference = loss
        elif self._reference > 0 and loss > self.explode_factor * self._reference:
            self._flag("exploding_loss",
                       f"the training loss grew from {g(self._reference)} (first batch) to {g(loss)} "
                       f"({what} mean, {self._where(batch)}), more than {self.explode_factor:g}x: training is "
                       f"diverging.", _advice.exploding_loss(self), batch)
        return True

    def _rise(self, series, n, scale):
        """The rise over the last n epochs of `series` when it is real, else None: it rose in each of them,
        and in all by more than rise_min_delta x scale and more than rise_noise x the series' own
        epoch-to-epoch noise before the rise (see noise())."""
        last = series[-n - 1:]
        if not all(b > a for a, b in zip(last, last[1:])):
            return None
        rise = last[-1] - last[0]
        if rise <= self.rise_min_delta * scale or rise <= self.rise_noise * noise(series[:-n]):
            return None
        return rise

    def _check_rising(self):
        """The loss rose for rise_epochs epochs; scale: max(|best loss|, first loss - best loss), the loss
        itself or the progress the run had made, whichever is larger."""
        n = self.rise_epochs
        losses = self._losses
        if len(losses) <= n or {"nan_loss", "exploding_loss"} & self._fired:
            return
        if not all(math.isfinite(v) for v in losses):
            return
        best = min(losses)
        scale = max(abs(best), losses[0] - best)
        rise = self._rise(losses, n, scale)
        if rise is None:
            return
        path = " -> ".join(g(v) for v in losses[-n - 1:])
        self._flag("rising_loss",
                   f"the training loss rose {n} epochs in a row ({path}), by {g(rise)} in all: more than "
                   f"{self.rise_min_delta:.0%} of {g(scale)} (the larger of the best loss and the progress made) "
                   f"and more than {self.rise_noise:g}x the run's epoch-to-epoch noise ({g(noise(losses[:-n]))}). "
                   f"The optimizer's steps overshoot the minimum.", _advice.rising_loss(self))

    def _check_overfitting(self):
        n = self.overfit_epochs
        if self.early_stopping_on_validation or len(self._val_losses) <= n or len(self._losses) <= n:
            return
        val, train = self._val_losses[-n - 1:], self._losses[-n - 1:]
        if any(v is None or not math.isfinite(v) for v in val + train):
            return
        train_falls = all(b < a for a, b in zip(train, train[1:]))
        history = [v for v in self._val_losses if v is not None and math.isfinite(v)]
        best = min(history)
        if train_falls and self._rise(history, n, abs(best)) is not None:
            self._flag("overfitting",
                       f"for {n} epochs the training loss fell ({g(train[0])} -> {g(train[-1])}) while val_loss "
                       f"rose ({g(val[0])} -> {g(val[-1])}; its best was {g(best)}): the network is memorising "
                       f"its training set instead of learning what generalises.", _advice.overfitting(self))

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
        """Counts per unit: ReLU units seen positive this epoch; sigmoid/tanh units near an asymptote."""
        opt = getattr(self.model, "optimizer", None)
        # steps is None for a generator of unknown length
        first_epoch = getattr(opt, "iterations", 0) <= (self.params.get("steps") or 0)
        for i, layer, kind, limit, state in self._watch:
            if kind != "relu" and not first_epoch:
                continue               # later saturation is the network's own doing: it fits, and Adam keeps moving
            z = getattr(layer, "_z", None) if hasattr(layer, "units") else getattr(layer, "_x", None)
            if z is None:
                continue
            z = z.reshape(-1, z.shape[-1])
            if kind == "relu":         # relu(z) = 0 where z <= 0: a unit is alive once it was positive
                alive = np.any(z > 0, axis=0)
                if state[0] is None:
                    state[0], state[3] = alive, self._epoch
                else:
                    np.logical_or(state[0], alive, out=state[0])
                state[1] += len(z)
                continue
            flat = np.count_nonzero(np.abs(z) > limit, axis=0)
            state[0] = flat if state[0] is None else state[0] + flat
            state[1] += len(z)
            if state[1] < self.min_samples:
                continue
            counts, rows = state[0], state[1]
            state[0], state[1] = None, 0
            units = counts.size
            stuck = int(np.count_nonzero(counts >= self.saturated_samples * rows))
            if stuck > self.saturated_fraction * units:
                self._blamed = max(self._blamed, i)
                self._flag("saturated", self._saturated_message(layer, kind, stuck, units, rows, batch),
                           _advice.saturated(self, layer), batch)

    def _check_dead(self):
        """At the end of an epoch: the ReLU units that were 0 for every sample checked in the epoch."""
        if "nan_loss" in self._fired:
            return                     # NaN weights: the activations say nothing more
        for i, layer, kind, _, state in self._watch:
            if kind != "relu" or state[0] is None or state[1] < self.min_samples:
                continue               # too few samples yet: the count goes on into the next epoch
            alive, rows = state[0], state[1]
            state[0], state[1] = None, 0
            units = alive.size
            dead = units - int(np.count_nonzero(alive))
            if dead <= self.dead_fraction * units:
                state[2] = True        # alive this epoch: a later death is training's doing
                continue
            self.died_in_training = state[2]
            self._blamed = max(self._blamed, i)
            self._flag("dead_relu", self._dead_message(layer, dead, units, rows, state[3]),
                       _advice.dead_relu(self, layer))

    def _dead_message(self, layer, dead, units, rows, since):
        hint = ""
        kernel = getattr(layer, "kernel_initializer", None)
        bias = getattr(layer, "bias_initializer", None)
        if kernel is not None and type(kernel).__name__ == "Zeros":
            hint = " Its kernel starts at zeros: every unit computes 0, and relu passes no gradient at 0."
        elif getattr(layer, "use_bias", False) and type(bias).__name__ == "Constant" and bias.value < 0:
            hint = f" Its biases start at {g(bias.value)}: with a negative bias most inputs never make a unit positive."
        elif self.died_in_training:
            hint = " They were alive in an earlier epoch: large steps pushed their biases and weights negative."
        epochs = f"epoch {self._epoch + 1}" if since == self._epoch else f"epochs {since + 1}-{self._epoch + 1}"
        return (f"{dead} of {units} ReLU units ({dead / units:.0%}) of layer {layer.name!r} output 0 for every "
                f"one of the {rows} samples checked in {epochs} (the first batch and every {self.every}th after it); "
                f"a dead unit passes no gradient, so it never recovers.{hint}")

    def _saturated_message(self, layer, kind, stuck, units, rows, batch):
        ends = "0 or 1" if kind == "sigmoid" else "-1 or 1"
        return (f"{stuck} of {units} {kind} units ({stuck / units:.0%}) of layer {layer.name!r} sit within "
                f"{self.saturation_margin:g} of {ends} for at least {self.saturated_samples:.0%} of {rows} samples "
                f"({self._where(batch)}): there the slope of {kind} is about 0, so almost no gradient passes and "
                f"the layer barely learns.")

    def _check_gradients(self, batch):
        stats = []
        for i, layer in self._kernels:
            grad, w = layer.grads["W"], layer.params["W"]
            g_norm = math.sqrt(float(np.vdot(grad, grad)))
            w_norm = math.sqrt(float(np.vdot(w, w)))
            if not math.isfinite(g_norm):
                return                 # the nan_loss rule will speak
            stats.append((i, layer, g_norm, w_norm, g_norm / w_norm if w_norm > 0 else math.inf))
        big = [s for s in stats if s[2] > self.exploding_norm]
        if big:
            i, layer, g_norm, _, _ = max(big, key=lambda s: s[2])
            names = ", ".join(repr(s[1].name) for s in big)
            self._flag("exploding_gradients",
                       f"the gradient of layer {layer.name!r} has norm ||dW|| = {g(g_norm)} ({self._where(batch)}; "
                       f"threshold {self.exploding_norm:g}; layers over it: {names}). Steps this large throw the "
                       f"weights far from where they were, and training diverges or jumps about.",
                       _advice.exploding_gradients(self), batch)
        if len(stats) < 2:
            return                     # vanishing is about depth: gradients shrinking on their way back
        top = max(s[4] for s in stats)
        if top < self.vanishing_ratio * self.vanishing_spread:
            return                     # every layer is still: a minimum (or a plateau), not a depth problem
        # an exact zero is no vanishing gradient: it is what a dead ReLU layer (or an all-zero kernel) passes
        low = [s for s in stats if s[4] < self.vanishing_ratio and s[2] > 0.0]
        if self._blamed >= 0:          # gradients that vanish behind a dead or saturated layer are its doing
            low = [s for s in low if s[0] > self._blamed]
        if low:
            i, layer, g_norm, w_norm, ratio = min(low, key=lambda s: s[4])
            best = max(stats, key=lambda s: s[4])
            names = ", ".join(repr(s[1].name) for s in low)
            self._flag("vanishing_gradients",
                       f"layer {layer.name!r} gets a gradient only {g(ratio)} the size of its weights "
                       f"(||dW|| / ||W|| = {g(g_norm)} / {g(w_norm)}; threshold {self.vanishing_ratio:g}), while "
                       f"layer {best[1].name!r} gets {g(best[4])} ({self._where(batch)}; layers under the "
                       f"threshold: {names}). The gradient dies on its way back, so the early layers barely learn "
                       f"(in float32 a weight does not even change when a step is under 1e-7 of it).",
                       _advice.vanishing_gradients(self, [s[1] for s in low]), batch)
