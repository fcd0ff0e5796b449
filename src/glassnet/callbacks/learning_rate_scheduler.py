"""LearningRateScheduler: the learning rate set by a function of the epoch."""
from __future__ import annotations

import inspect
import math
import numbers

from .base import Callback


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start: schedule(epoch, lr) -> new lr.

    As in Keras, a one-argument schedule(epoch) works too.  The rate in force
    during an epoch is logged as logs["learning_rate"] (so History records it).
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler needs a function schedule(epoch, lr), "
                            f"got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _accepts_two_args(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        if self._takes_lr:
            lr = self.schedule(epoch, float(self.model.optimizer.learning_rate))
        else:
            lr = self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"the schedule of LearningRateScheduler must return a finite number > 0, "
                             f"got {lr!r} for epoch {epoch}")
        lr = float(lr)
        self.model.optimizer.learning_rate = lr
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def _accepts_two_args(fn) -> bool:
    """Can fn be called as fn(epoch, lr)?  (Keras also accepts the old fn(epoch).)"""
    try:
        inspect.signature(fn).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:          # no signature available (some builtins): assume the Keras form
        return True
    return True
