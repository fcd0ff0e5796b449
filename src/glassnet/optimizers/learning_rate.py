"""optimizer.learning_rate as Keras scripts use it: a number with Keras's variable methods.

    lr = model.optimizer.learning_rate     # a LearningRate: a float, the rate of the next step
    float(lr), lr * 0.5, f"{lr:.1e}"       # a float in every way (arithmetic, formatting, JSON)
    model.optimizer.learning_rate = 0.01   # Keras's three ways to set it; each takes effect at the
    lr.assign(0.01)                        # next step and is saved with the model
    gn.backend.set_value(lr, 0.01)
    lr.numpy()                             # a 0-d NumPy array; gn.backend.get_value(lr) too

The one difference from Keras's variable: a LearningRate is a reading, taken when
`optimizer.learning_rate` is read.  `assign` sets the optimizer's rate, but the float already read
keeps its value (a float cannot change); read `optimizer.learning_rate` again to see the new rate.
That keeps every reading a plain number, safe to store in logs and histories.

With a schedule, the reading is the schedule's value at the optimizer's `iterations`.  Keras refuses
to set a number over a schedule; glassnet replaces the schedule with that constant rate.
"""
from __future__ import annotations

import numpy as np


def _plain(value):
    """A LearningRate or a 0-d array as the plain number it holds (anything else unchanged)."""
    if isinstance(value, LearningRate):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


class LearningRate(float):
    """An optimizer's learning rate, read now: a float with Keras's variable methods."""

    __slots__ = ("_optimizer",)
    shape = ()
    ndim = 0
    name = "learning_rate"
    trainable = False

    def __new__(cls, value, optimizer=None):
        self = super().__new__(cls, value)
        self._optimizer = optimizer
        return self

    @property
    def path(self) -> str:
        """"adam/learning_rate", as Keras names the variable."""
        return f"{getattr(self._optimizer, 'name', 'optimizer')}/learning_rate"

    def numpy(self) -> np.ndarray:
        """The rate as a 0-d float64 NumPy array."""
        return np.array(float(self))

    @property
    def value(self) -> np.ndarray:
        return self.numpy()

    def assign(self, value):
        """Set the optimizer's learning rate (a number > 0, or a schedule): the next step uses it.
        Returns the new reading."""
        if self._optimizer is None:
            raise TypeError("this learning rate belongs to no optimizer; set optimizer.learning_rate instead")
        self._optimizer.learning_rate = value
        return self._optimizer.learning_rate

    def assign_add(self, delta):
        return self.assign(float(self) + _number(delta, "assign_add"))

    def assign_sub(self, delta):
        return self.assign(float(self) - _number(delta, "assign_sub"))

    def __reduce__(self):                      # pickles and copies as the plain float it is
        return float, (float(self),)

    def __deepcopy__(self, memo):
        return float(self)

    def __copy__(self):
        return float(self)


def _number(value, what):
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} expects a number, got {type(value).__name__}")
    return float(value)
