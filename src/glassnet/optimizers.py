"""Optimizers (Keras names, arguments, defaults and update formulas) and learning-rate schedules.

Each optimizer updates variables in place from their gradients:

    opt = gn.optimizers.SGD(learning_rate=0.1)
    opt.apply(grads, variables)          # lists of arrays; or Keras's apply_gradients(zip(grads, vars))

Update rules, with g the gradient and lr the learning rate at this step:

    SGD       v = momentum * v - lr * g;   w += v          (nesterov: w += momentum * v - lr * g)
    Adagrad   a += g^2;                    w -= lr * g / sqrt(a + eps)
    RMSprop   s = rho * s + (1 - rho) g^2; w -= lr * g / sqrt(s + eps)   (centered: s - mean(g)^2)
    Adam      m += (1 - b1)(g - m);  v += (1 - b2)(g^2 - v)
              w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
    AdamW     w -= lr * weight_decay * w, then the Adam step

`clipvalue` clips each gradient element, `clipnorm` each variable's gradient
norm, `global_clipnorm` the norm of all gradients together.

Inside a model, all weights live in one flat buffer, so an update is a handful
of NumPy calls per step rather than a handful per weight array.
"""
from __future__ import annotations

import math

import numpy as np

from . import _checks, _registry, backend
from ._registry import register


# --------------------------------------------------------------------------
# Learning-rate schedules (steps are optimizer iterations, i.e. batches)
# --------------------------------------------------------------------------

class LearningRateSchedule:
    """A function of the step: schedule(step) -> learning rate."""

    def __call__(self, step) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {k: list(v) if isinstance(v, list) else v for k, v in self.__dict__.items()}

    __repr__ = _registry.config_repr


@register("schedule")
class ExponentialDecay(LearningRateSchedule):
    """lr * decay_rate ** (step / decay_steps); with staircase=True the exponent is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _checks.positive_number(decay_steps, "decay_steps")
        self.decay_rate = _checks.positive_number(decay_rate, "decay_rate")
        self.staircase = bool(staircase)

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p


@register("schedule")
class StepDecay(LearningRateSchedule):
    """Step decay: lr * decay_rate ** floor(step / decay_steps), e.g. halve every 1,000 batches."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate=0.5):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        steps = _checks.positive_number(decay_steps, "decay_steps")
        if steps != int(steps):                        # int(0.5) would be 0: a division by zero later
            raise ValueError(f"decay_steps must be a whole number of steps >= 1, got {decay_steps!r}")
        self.decay_steps = int(steps)
        self.decay_rate = _checks.positive_number(decay_rate, "decay_rate")

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** (step // self.decay_steps)


@register("schedule")
class CosineDecay(LearningRateSchedule):
    """Cosine annealing from lr to alpha * lr over decay_steps, then constant."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        self.initial_learning_rate = _checks.positive_number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _checks.positive_number(decay_steps, "decay_steps")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)

    def __call__(self, step):
        t = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1 + math.cos(math.pi * t))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)


@register("schedule")
class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while step <= boundaries[i] (the last value after the last boundary)."""

    def __init__(self, boundaries, values):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay needs len(values) == len(boundaries) + 1, "
                             f"got {len(values)} values and {len(boundaries)} boundaries")
        self.boundaries = [int(b) for b in boundaries]
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay boundaries must increase, got {self.boundaries}")
        self.values = [_checks.positive_number(v, "learning rate value") for v in values]

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


schedules = type("schedules", (), {c.__name__: c for c in (
    LearningRateSchedule, ExponentialDecay, StepDecay, CosineDecay, PiecewiseConstantDecay)})


# --------------------------------------------------------------------------
# Optimizers
# --------------------------------------------------------------------------

class Optimizer:
    """Base class. Subclasses define `_slots` (state arrays per variable) and `_update`."""

    _slots: tuple[str, ...] = ()

    def __init__(self, learning_rate=0.001, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        if isinstance(learning_rate, LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = _checks.positive_number(learning_rate, "learning_rate")
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
    def learning_rate(self) -> float:
        """The learning rate for the next step (a schedule is evaluated at `iterations`)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule) or callable(value):
            self._learning_rate = value
        else:
            self._learning_rate = _checks.positive_number(value, "learning_rate")

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
        lr = self.learning_rate
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


@register("optimizer")
class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum. Keras default lr 0.01."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _checks.fraction(momentum, "momentum")
        self.nesterov = bool(nesterov)
        self._slots = ("momentum",) if self.momentum else ()

    def _update(self, i, w, g, lr):
        step = np.multiply(g, lr, out=self._scratch[i])      # lr * g
        if not self.momentum:
            w -= step
            return
        v = self.slots[i]["momentum"]
        v *= self.momentum
        v -= step                                              # v = momentum * v - lr * g
        if self.nesterov:                                      # w += momentum * v - lr * g
            w -= step
            np.multiply(v, self.momentum, out=step)
            w += step
        else:
            w += v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


@register("optimizer")
class Adagrad(Optimizer):
    """Adagrad: per-weight rates that shrink with the sum of squared gradients."""

    _slots = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _checks.positive_number(initial_accumulator_value, "initial_accumulator_value",
                                                   allow_zero=True)
        self.epsilon = _checks.positive_number(epsilon, "epsilon", allow_zero=True)

    def _init_slot(self, name, variable):
        return np.full_like(variable, self.initial_accumulator_value)

    def _update(self, i, w, g, lr):
        acc, tmp = self.slots[i]["accumulator"], self._scratch[i]
        np.multiply(g, g, out=tmp)
        acc += tmp
        np.add(acc, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        w -= tmp

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


@register("optimizer")
class RMSprop(Optimizer):
    """RMSprop: divide by a moving root mean square of the gradients."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _checks.fraction(rho, "rho")
        self.momentum = _checks.fraction(momentum, "momentum")
        self.epsilon = _checks.positive_number(epsilon, "epsilon", allow_zero=True)
        self.centered = bool(centered)
        self._slots = ("velocity",) + (("momentum",) if self.momentum else ()) + \
            (("average_gradient",) if self.centered else ())

    def _update(self, i, w, g, lr):
        s, tmp = self.slots[i], self._scratch[i]
        v = s["velocity"]
        v *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        v += tmp
        if self.centered:
            mg = s["average_gradient"]
            mg *= self.rho
            mg += (1 - self.rho) * g
            np.multiply(mg, mg, out=tmp)
            np.subtract(v, tmp, out=tmp)
            tmp += self.epsilon
        else:
            np.add(v, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        if self.momentum:
            mom = s["momentum"]
            mom *= self.momentum
            mom += tmp
            w -= mom
        else:
            w -= tmp

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


@register("optimizer")
class Adam(Optimizer):
    """Adam, in Keras's form (bias correction folded into the step size, eps outside the root)."""

    _slots = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _checks.fraction(beta_1, "beta_1")
        self.beta_2 = _checks.fraction(beta_2, "beta_2")
        self.epsilon = _checks.positive_number(epsilon, "epsilon", allow_zero=True)
        self.amsgrad = bool(amsgrad)
        if self.amsgrad:
            self._slots = ("m", "v", "v_hat")

    def _update(self, i, w, g, lr):
        s = self.slots[i]
        m, v, v_hat = s["m"], s["v"], s.get("v_hat")
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)   # bias correction, folded
        decay = self._decay(lr)
        kernel = backend.kernel("adam", w.dtype)
        if kernel is not None and g.dtype == w.dtype and w.flags.c_contiguous and g.flags.c_contiguous:
            # the same operations, in the same order, in one compiled pass (glassnet/_kernels.py)
            kernel(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                   None if v_hat is None else v_hat.reshape(-1), decay, 1 - self.beta_1, 1 - self.beta_2,
                   alpha, self.epsilon)
            return
        # Twelve in-place passes over the (flat) buffers, no temporaries: the step is memory-bound
        # (its sqrt is the one pass that costs more).  Python floats stay "weak" scalars under NumPy 2,
        # so float32 state stays float32.
        tmp = self._scratch[i]
        if decay != 1:
            w *= decay                              # AdamW: decoupled weight decay first
        np.subtract(g, m, out=tmp)                  # m += (1 - b1) (g - m)
        tmp *= 1 - self.beta_1
        m += tmp
        np.multiply(g, g, out=tmp)                  # v += (1 - b2) (g^2 - v)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        if v_hat is not None:
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=tmp)                         # w -= alpha m / (sqrt(v) + eps)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        w -= tmp

    def _decay(self, lr):
        """The factor w is multiplied by before the step: 1 for Adam."""
        return 1.0

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


@register("optimizer")
class AdamW(Adam):
    """Adam with decoupled weight decay: w -= lr * weight_decay * w before each Adam step."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, **kwargs)
        self.weight_decay = _checks.positive_number(weight_decay, "weight_decay", allow_zero=True)

    def _decay(self, lr):
        """AdamW's decoupled weight decay: w *= 1 - lr * weight_decay before the Adam step."""
        return 1 - lr * self.weight_decay if self.weight_decay else 1.0

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


_CLASSES = {cls.__name__.lower(): cls for cls in _registry.classes("optimizer").values()}


def names() -> list[str]:
    return sorted(_CLASSES)


def get(identifier) -> Optimizer:
    """An Optimizer for a name ("adam", "SGD", ...) with Keras defaults, a {"class_name", "config"}
    dict, a subclass or an instance."""
    return _registry.resolve(identifier, "optimizer", _CLASSES, Optimizer,
                             accepts="a name (str) or an Optimizer")


def serialize(opt: Optimizer) -> dict:
    return {"class_name": type(opt).__name__, "config": opt.get_config()}


def deserialize(config: dict) -> Optimizer:
    return _registry.from_spec(config, "optimizer", _CLASSES)
