"""Classes that can be rebuilt from a file, found by name.

Every class a model file may name (layers, models, losses, optimizers, learning-rate schedules,
initializers, regularizers, metrics) registers itself here where it is defined:

    @register("layer")
    class Dense(Layer): ...

and the file reader asks `lookup("layer", "Dense")`. The file format (glassnet.saving) sits above
the models in the import order, so it never needs to import a model or layer class by name: what
is registered is what can be loaded. A user's own classes go through `custom_objects` instead.
"""
from __future__ import annotations

KINDS = ("layer", "model", "loss", "optimizer", "schedule", "initializer", "regularizer", "metric")

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


# ----------------------------------------------------------------------
# Name lookup shared by activations, losses, metrics, initializers, regularizers, optimizers
# ----------------------------------------------------------------------

def find(name, table, what, *, aliases=None, known=None, plural=None):
    """The key of `table` that the str `name` means: lower-cased, then through `aliases`.

    An unknown name raises ValueError("Unknown <what> 'x'; known <plural>: a, b, ...") listing
    `known` (default: the table's keys, sorted).
    """
    key = name.lower()
    key = (aliases or {}).get(key, key)
    if key in table:
        return key
    known = sorted(table) if known is None else known
    raise ValueError(f"Unknown {what} {name!r}; known {plural or what + 's'}: {', '.join(known)}")


def from_spec(spec, what, table, *, plural=None):
    """The object a {"class_name": name, "config": {...}} dict describes. `name` is a key of `table`
    or the class name of one of its classes; the class is rebuilt with from_config(config) when it
    has one, else with cls(**config)."""
    name = spec.get("class_name")
    cls = table.get(name) if isinstance(name, str) else None
    if cls is None:
        cls = next((c for c in table.values() if c.__name__ == name), None)
    if cls is None:
        raise ValueError(f"Unknown {what} class {name!r}; known {plural or what + 's'}: {', '.join(sorted(table))}")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise TypeError(f"the config of {what} {name!r} must be a dict of its arguments, got {type(config).__name__}")
    config = dict(config)
    return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)


def resolve(identifier, what, table, base, *, accepts, aliases=None, known=None, plural=None):
    """The object `identifier` stands for, the way every `get()` of glassnet reads one:

        an instance of `base`            passes through
        a subclass of `base`             is created with its defaults
        {"class_name", "config"}         is rebuilt (from_spec)
        a name (str)                     table[find(name)]() : any case, aliases, unknown names listed

    anything else raises TypeError("<what> must be <accepts>, got <type>").
    """
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if isinstance(identifier, dict):
        return from_spec(identifier, what, table, plural=plural)
    if isinstance(identifier, str):
        return table[find(identifier, table, what, aliases=aliases, known=known, plural=plural)]()
    raise TypeError(f"{what} must be {accepts}, got {type(identifier).__name__}")


def name_of(kind, obj) -> str:
    """The name under which the class of `obj` is registered as `kind` (what a file stores)."""
    for name, cls in _CLASSES[kind].items():
        if type(obj) is cls:
            return name
    raise ValueError(f"{type(obj).__name__} is not a registered {kind} class; register it with "
                     f"@glassnet._registry.register({kind!r}) to save it")


def config_repr(obj) -> str:
    """`ClassName(key=value, ...)` from obj.get_config(): the __repr__ of every configurable object."""
    return f"{type(obj).__name__}({', '.join(f'{k}={v!r}' for k, v in obj.get_config().items())})"
