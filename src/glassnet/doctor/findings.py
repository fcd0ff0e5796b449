"""What the doctor reports: the rule names, a Finding, the TrainingWarning, and where the warning points."""
from __future__ import annotations

import math
import os
import sys
from typing import NamedTuple

import numpy as np

RULES = ("nan_loss", "exploding_loss", "rising_loss", "vanishing_gradients", "exploding_gradients",
         "dead_relu", "saturated", "overfitting")


class TrainingWarning(UserWarning):
    """A problem the training doctor found during `fit`; `.cause` is the rule's name (see RULES)."""

    def __init__(self, message, cause=None):
        super().__init__(message)
        self.cause = cause


class Finding(NamedTuple):
    """One finding: `history.findings` and `Doctor.findings` list them in the order they were found."""
    cause: str                    # one of RULES
    message: str                  # the whole text: what was seen, why it matters, "Fix: " and the advice
    epoch: int                    # counted from 0, as callbacks count
    batch: int | None             # the checked batch, or None for a rule judged at the end of an epoch
    advice: tuple = ()            # the fixes, each one sentence, only those the model does not already use


# the glassnet package's folder: a warning points at the first frame outside it (the user's fit call)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def caller_stacklevel():
    """The stacklevel, for a warning raised by our caller, of the first frame outside glassnet (the fit call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def check_number(value, what, low=0.0, upper=None, integer=False, allow_low=False):
    """A Doctor argument: a finite number > low (>= low with allow_low), <= upper when given."""
    kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = not isinstance(value, bool) and isinstance(value, kind) and math.isfinite(value) \
        and (value >= low if allow_low else value > low) and (upper is None or value <= upper)
    if not ok:
        bound = f"{'>=' if allow_low else '>'} {low:g}" + ("" if upper is None else f" and <= {upper:g}")
        raise ValueError(f"Doctor {what} must be {'an integer' if integer else 'a number'} {bound}, got {value!r}")
    return int(value) if integer else float(value)


def check_verbose(value):
    """Doctor(verbose=...): "auto" (follow fit's verbose), or 0/1/2 (False/True)."""
    if value == "auto" and isinstance(value, str):
        return value
    if isinstance(value, (bool, int, np.integer)) and 0 <= int(value) <= 2:
        return int(value)
    raise ValueError(f"Doctor verbose must be 'auto', 0, 1 or 2, got {value!r}")


def g(value):
    """A number for a message: 3 significant digits."""
    return f"{value:.3g}"
