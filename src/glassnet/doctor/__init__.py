"""The training doctor: `fit` watches its own training and says, in plain words, what looks wrong.

    history = model.fit(x, y, epochs=10)             # the doctor is on by default
    history.findings                                 # what it found: [Finding(cause, message, epoch, batch, advice)]
    model.fit(x, y, epochs=10, doctor=False)         # off for this fit
    gn.doctor.disable()                              # off for every fit in this process (enable() undoes it)
    model.fit(x, y, doctor=gn.doctor.Doctor(every=1, ignore=["overfitting"]))    # tuned

Findings follow fit's `verbose`: with verbose 1 or 2 (the default "auto" is 1) each is printed
as a `TrainingWarning` (a UserWarning) at the end of its epoch; with verbose=0 nothing is printed.
Either way they are kept on the History fit returns, `history.findings`, one per cause per fit,
each naming the cause, the numbers behind it and the fixes that the model does not use yet.

The rules (thresholds are the Doctor's arguments; docs/doctor.md says why each is chosen and
measures them on healthy and broken runs):

    nan_loss             the training loss is NaN or infinite
    exploding_loss       the training loss exceeds explode_factor (10) x the first batch's loss
    rising_loss          the epoch's training loss rose rise_epochs (3) epochs in a row, in all by more than
                         rise_min_delta (5%) of max(|best loss|, first loss - best loss) and more than
                         rise_noise (5) x the run's own epoch-to-epoch noise (watch.noise)
    vanishing_gradients  a layer's ||dW|| / ||W|| < vanishing_ratio (1e-7) while another layer's is at
                         least vanishing_spread (1000) times that (1e-4): the gradient dies on its way back
    exploding_gradients  a layer's gradient norm ||dW|| > exploding_norm (1000)
    dead_relu            more than dead_fraction (50%) of a hidden ReLU layer's units output 0 for every
                         sample checked in a whole epoch
    saturated            in the model's first epoch of training, more than saturated_fraction (50%) of a
                         hidden sigmoid or tanh layer's units sit within saturation_margin (0.01) of an
                         asymptote for at least saturated_samples (90%) of the checked samples
    overfitting          for overfit_epochs (3) epochs in a row val_loss rose while the training loss fell,
                         in all by more than rise_min_delta (5%) of the best val_loss and rise_noise (5) x
                         its own epoch-to-epoch noise

Package layout: findings.py (RULES, Finding, TrainingWarning), watch.py (the Doctor callback),
advice.py (the fixes, each checked against what the model already does).
"""
from __future__ import annotations

from .. import callbacks as _callbacks
from .findings import RULES, Finding, TrainingWarning
from .watch import Doctor

__all__ = ["Doctor", "TrainingWarning", "Finding", "RULES", "enable", "disable", "is_enabled"]

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


def for_fit(doctor, callbacks, history=None, verbose=None):
    """The Doctor `fit` adds to its callbacks (or None), from fit's `doctor=` argument.

    True: a default Doctor, unless `disable()` was called or the callbacks already hold one;
    False or None: none; a Doctor: that one.  `history` (fit's History) gets `.findings`, a list
    every Doctor of this fit adds to; `verbose` is fit's (resolved) verbose, which decides whether
    a Doctor with verbose="auto" prints.
    """
    if history is not None:
        history.findings = []
    if doctor is not None and not isinstance(doctor, (bool, Doctor)):
        raise TypeError(f"doctor must be True, False or a glassnet.doctor.Doctor, got {doctor!r}")
    given = [cb for cb in callbacks if isinstance(cb, Doctor)]    # a Doctor among the callbacks always runs
    chosen = None
    if doctor is None or doctor is False:
        pass
    elif isinstance(doctor, Doctor):
        if any(cb is doctor for cb in given):
            given = [doctor]
        else:
            chosen = doctor
    elif not given and _enabled:
        chosen = Doctor()
    stopping = any(isinstance(cb, _callbacks.EarlyStopping) and str(cb.monitor).startswith("val_")
                   for cb in callbacks)
    terminate = any(isinstance(cb, _callbacks.TerminateOnNaN) for cb in callbacks)
    lr_setters = tuple(getattr(_callbacks, name) for name in ("LearningRateScheduler", "ReduceLROnPlateau")
                       if hasattr(_callbacks, name))
    lr_callback = any(isinstance(cb, lr_setters) for cb in callbacks) or any(
        type(cb).__name__ == "ReduceLROnPlateau" for cb in callbacks)
    for d in given + ([chosen] if chosen is not None else []):
        d.early_stopping_on_validation = stopping
        d.terminate_on_nan = terminate
        d.lr_callback = lr_callback
        d._history = history
        d._fit_verbose = verbose
    return chosen
