"""The Optimizer base class: learning rate (or schedule), applying gradients, clipping, state and config.

Subclasses define `_slots` (the state arrays kept per variable) and `_update` (one variable's step).
"""
from __future__ import annotations

import math

import numpy as np

from .. import _checks, _registry
from .learning_rate import LearningRate, _plain
from .schedules import LearningRateSchedule

class Optimizer:
    """Base class. Subclasses define `_slots` (state arrays per variable) and `_update`."""

    _slots: tuple[str, ...] = ()

    def __init__(self, learning_rate=0.001, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        self._learning_rate = _learning_rate_value(learning_rate)
        given = [k for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(given) > 1:
            raise ValueError(f"Use at most one of clipnorm, clipvalue and global_clipnorm, got {given}")
        self.clipnorm = None if clipnorm is None else _checks.positive_number(clipnorm, "clipnorm")
        self.clipvalue = None if clipvalue is None else _checks.positive_number(clipvalue, "clipvalue")
        self.global_clipnorm = None if global_clipnorm is None else _checks.positive_number(global_clipnorm, "global_clipnorm")
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._variables: list[np.ndarray] | None = None
        self.slots: list[dict[str, np.ndarray]] = []

    # -- learning rate --------------------------------------------------------
    @property
    def learning_rate(self) -> LearningRate:
        """The learning rate for the next step (a schedule is evaluated at `iterations`): a float with
        Keras's variable methods, so opt.learning_rate.assign(0.01) sets it, as opt.learning_rate = 0.01 does."""
        return LearningRate(self._current_learning_rate(), self)

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _learning_rate_value(value)

    def _current_learning_rate(self) -> float:
        """The rate the next step uses, as a float (a schedule evaluated at `iterations`)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr())
        return lr

    # -- applying gradients ---------------------------------------------------
    def build(self, variables):
        """Create the state (slots) for `variables`; called on the first `apply`."""
        self._variables = list(variables)
        self.slots = [{name: self._init_slot(name, v) for name in self._slots} for v in self._variables]
        self._scratch = [np.empty_like(v) for v in self._variables]
        self._clipped = None

    def _init_slot(self, name, variable):
        return np.zeros_like(variable)

    def apply(self, grads, variables=None):
        """Update `variables` in place from `grads` (two aligned lists of arrays)."""
        grads = list(grads)
        if variables is None:
            if self._variables is None:
                raise ValueError("apply() needs the variables on its first call")
            variables = self._variables
        else:
            variables = list(variables)
            if self._variables is None or len(variables) != len(self._variables) or \
                    any(a is not b for a, b in zip(variables, self._variables)):
                if self._variables is not None and self.iterations:
                    self._check_same_shapes(variables)
                else:
                    self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(f"apply() got {len(grads)} gradients for {len(variables)} variables")
        for g, v in zip(grads, variables):
            if g.shape != v.shape:
                raise ValueError(f"gradient of shape {g.shape} does not match its variable's shape {v.shape}")
        self._apply(grads, variables)

    def _apply(self, grads, variables):
        """The step itself, for the variables the optimizer is built for (apply() checks them first;
        a model's training loop calls this directly once per batch)."""
        grads = self._clip(grads)
        lr = self._current_learning_rate()
        for i, (g, v) in enumerate(zip(grads, variables)):
            self._update(i, v, g, lr)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars):
        """Keras's form: an iterable of (gradient, variable) pairs."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def _check_same_shapes(self, variables):
        """Variables were replaced (e.g. a model repacked its weights): keep the state if shapes agree."""
        if [v.shape for v in variables] != [v.shape for v in self._variables]:
            raise ValueError("this optimizer already holds state for variables of shapes "
                             f"{[v.shape for v in self._variables]}, got {[v.shape for v in variables]}")
        self._variables = list(variables)

    # -- pickling ---------------------------------------------------------
    def _without_variables(self):
        """A shallow copy whose variables (a model's flat buffer, pickled with the model's layers
        already) are replaced by their shapes; a model rebinds them on its next step."""
        clone = object.__new__(type(self))             # a plain shallow copy (no __setstate__)
        clone.__dict__.update(self.__dict__)
        clone.__dict__["_variable_shapes"] = [(v.shape, v.dtype) for v in self._variables]
        clone.__dict__["_variables"] = None
        return clone

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_scratch", None)                  # the update's scratch: rebuilt on unpickling
        state["_clipped"] = None
        return state

    def __setstate__(self, state):
        shapes = state.pop("_variable_shapes", None)
        self.__dict__.update(state)
        if shapes is not None:
            # read-only placeholders of the right shapes: the model binds its buffer before a step
            self._variables = [np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape, (0,) * len(shape),
                                                               writeable=False) for shape, dtype in shapes]
        # joblib's mmap_mode="r" gives read-only arrays: the slots are updated in place
        self.slots = [{k: (np.array(v, copy=True, subok=False) if isinstance(v, np.ndarray)
                           and not v.flags.writeable else v) for k, v in slot.items()}
                      for slot in self.__dict__.get("slots", [])]
        if self._variables is not None:
            self._scratch = [np.empty(v.shape, v.dtype) for v in self._variables]

    def _clip(self, grads):
        if self.clipvalue is not None:
            if getattr(self, "_clipped", None) is None or len(self._clipped) != len(grads):
                self._clipped = [np.empty_like(g) for g in grads]
            return [np.clip(g, -self.clipvalue, self.clipvalue, out=c) for g, c in zip(grads, self._clipped)]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = float(np.sqrt(np.vdot(g, g)))
                out.append(g * (self.clipnorm / norm) if norm > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            if norm > self.global_clipnorm:
                return [g * (self.global_clipnorm / norm) for g in grads]
        return grads

    def _update(self, i, variable, grad, lr):
        raise NotImplementedError

    # -- state and config -----------------------------------------------------
    def get_state(self) -> dict:
        """The training state: {"iterations": int, "slots": [{slot name: copy of the array}, ...]}.

        One dict per variable the optimizer was built for: a model hands it one flat
        buffer (one dict), or one variable per weight array when clipnorm is set.
        """
        return {"iterations": int(self.iterations),
                "slots": [{name: array.copy() for name, array in slot.items()} for slot in self.slots]}

    def set_state(self, state, variables) -> None:
        """Bind to `variables` and restore `get_state()`'s iterations and slots.

        Every count, slot name, shape and dtype is checked before anything changes.
        """
        variables = list(variables)
        iterations = state.get("iterations", 0)
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
            raise ValueError(f"optimizer iterations must be an integer >= 0, got {iterations!r}")
        slots = list(state.get("slots", []))
        if len(slots) != len(variables):
            raise ValueError(f"the optimizer state holds slots for {len(slots)} variables, "
                             f"got {len(variables)} variables")
        expected = sorted(self._slots)
        for i, (slot, v) in enumerate(zip(slots, variables)):
            if sorted(slot) != expected:
                raise ValueError(f"{type(self).__name__} variable {i} needs slots {expected}, got {sorted(slot)}")
            for name, array in slot.items():
                array = np.asarray(array)
                if array.shape != v.shape or array.dtype != v.dtype:
                    raise ValueError(f"{type(self).__name__} slot {name!r} of variable {i} must have shape "
                                     f"{v.shape} and dtype {v.dtype}, got {array.shape} {array.dtype}")
        self.build(variables)
        for mine, saved in zip(self.slots, slots):
            for name, array in saved.items():
                mine[name][...] = array
        self.iterations = int(iterations)

    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        config = {"name": self.name, "learning_rate": lr}
        for key in ("clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _registry.from_spec(lr, "learning-rate schedule", _registry.classes("schedule"))
        return cls(**config)

    __repr__ = _registry.config_repr


def _learning_rate_value(value):
    """What an optimizer keeps as its learning rate: a schedule, a function, or a float > 0."""
    value = _plain(value)
    if isinstance(value, LearningRateSchedule) or callable(value):
        return value
    return _checks.positive_number(value, "learning_rate")
