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

`optimizer.learning_rate` is a LearningRate: a live scalar, as Keras's variable, that reads the rate
for the next step and is set in place (`optimizer.learning_rate = 0.01` or `.assign(0.01)`).

The modules: optimizer.py (the Optimizer base: apply, clipping, state, config), sgd.py,
adaptive.py (Adagrad, RMSprop), adam.py (Adam, AdamW), schedules.py (the learning-rate
schedules, also glassnet.optimizers.schedules as in Keras) and learning_rate.py (LearningRate).
"""
from __future__ import annotations

from .. import _registry
from . import schedules
from .optimizer import Optimizer
from .learning_rate import LearningRate
from .schedules import (CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, LearningRateSchedule,
                        PiecewiseConstantDecay, PolynomialDecay, StepDecay)
# in this order: the classes register (and _CLASSES lists them) as SGD, Adagrad, RMSprop, Adam, AdamW
from .sgd import SGD
from .adaptive import Adagrad, RMSprop
from .adam import Adam, AdamW

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "schedules", "LearningRateSchedule",
           "ExponentialDecay", "InverseTimeDecay", "PolynomialDecay", "PiecewiseConstantDecay", "CosineDecay",
           "CosineDecayRestarts", "StepDecay", "LearningRate",
           "get", "names", "serialize", "deserialize"]

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
