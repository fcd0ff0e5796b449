"""Classes that can be rebuilt from a file, found by name.

Every class a model file may name (layers, models, losses, optimizers, learning-rate schedules,
initializers, regularizers) registers itself here where it is defined:

    @register("layer")
    class Dense(Layer): ...

and the file reader asks `lookup("layer", "Dense")`. The file format (glassnet.saving) sits above
the models in the import order, so it never needs to import a model or layer class by name: what
is registered is what can be loaded. A user's own classes go through `custom_objects` instead.
"""
from __future__ import annotations

KINDS = ("layer", "model", "loss", "optimizer", "schedule", "initializer", "regularizer")

_CLASSES: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}


def register(kind, name=None):
    """Class decorator: make `cls` loadable as `kind` under `name` (default: the class's own name)."""
    if kind not in _CLASSES:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")

    def decorate(cls):
        key = name or cls.__name__
        known = _CLASSES[kind].get(key)
        if known is not None and known is not cls:
            raise ValueError(f"a {kind} class named {key!r} is registered already ({known.__module__})")
        _CLASSES[kind][key] = cls
        return cls
    return decorate


def lookup(kind, name):
    """The class registered as `kind` under `name`, or None."""
    return _CLASSES[kind].get(name)


def classes(kind) -> dict[str, type]:
    """A copy of {name: class} for one kind."""
    return dict(_CLASSES[kind])
