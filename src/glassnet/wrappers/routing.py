"""Routed parameters (scikeras's convention): `model__units=32`, `fit__epochs=20`,
`optimizer__learning_rate=1e-3`, `compile__loss="mse"`.

A routed parameter is an estimator parameter like any other (get_params lists it, set_params sets it,
GridSearchCV searches it), whose name says where its value goes:

    model__NAME      the model callable's keyword NAME (over model_kwargs[NAME])
    fit__NAME        model.fit's keyword NAME (over fit_kwargs[NAME]; fit(..., NAME=) is stronger still)
    compile__NAME    model.compile's keyword NAME (optimizer, loss, metrics, ...): the model is compiled
                     again with NAME replaced and its other settings kept
    optimizer__NAME  an attribute of the compiled optimizer, set after compile__ (learning_rate,
                     momentum, beta_1, ...)
"""
from __future__ import annotations

ROUTES = ("model", "fit", "compile", "optimizer")
COMPILE_KEYS = ("optimizer", "loss", "metrics", "loss_weights", "weighted_metrics")


def is_routed(name) -> bool:
    """Is `name` a routed parameter ("model__units")?"""
    if not isinstance(name, str) or "__" not in name:
        return False
    route, _, key = name.partition("__")
    return route in ROUTES and bool(key)


def check_routed(params: dict, owner: str) -> None:
    """Refuse keyword arguments that are not routed parameters, naming the routes."""
    for name in params:
        if not is_routed(name):
            raise TypeError(f"{owner} got an unexpected keyword argument {name!r}: extra keyword arguments "
                            f"must be routed parameters, named {', '.join(r + '__NAME' for r in ROUTES)}")
        route, _, key = name.partition("__")
        if route == "compile" and key not in COMPILE_KEYS:
            raise ValueError(f"{owner}: {name!r} routes to model.compile, which this wrapper recompiles with "
                             f"one of {', '.join(COMPILE_KEYS)}; got {key!r}")


def routed(params: dict, route: str) -> dict:
    """{"units": 32} from {"model__units": 32, "fit__epochs": 3} and route "model"."""
    prefix = route + "__"
    return {name[len(prefix):]: value for name, value in params.items() if name.startswith(prefix)}


def merged(base, params: dict, route: str, what: str) -> dict:
    """A copy of the dict `base` (model_kwargs or fit_kwargs; None is {}) with the routed `route__` values over it."""
    if base is None:
        base = {}
    if not isinstance(base, dict):
        raise TypeError(f"{what} must be a dict or None, got {type(base).__name__}")
    out = dict(base)
    out.update(routed(params, route))
    return out


def recompile(model, settings: dict) -> None:
    """Compile `model` again with `settings` (compile__ values) over its own loss, optimizer and metrics."""
    if not settings:
        return
    args = {"optimizer": model.optimizer, "loss": model.loss, "metrics": list(getattr(model, "_metric_specs", []) or [])}
    weighted = getattr(model, "_weighted_specs", None)
    if weighted:
        args["weighted_metrics"] = list(weighted)
    if getattr(model, "_loss_weights", None) is not None:
        args["loss_weights"] = list(model._loss_weights)
    args.update(settings)
    model.compile(**args)


def set_optimizer(model, settings: dict) -> None:
    """Give the compiled model a fresh optimizer of the same class with `settings` (optimizer__NAME)
    over its configuration: the optimizer's own checks see every value."""
    if not settings:
        return
    opt = model.optimizer
    config = {**opt.get_config(), **settings}
    try:
        new = type(opt).from_config(config)
    except TypeError:
        import inspect
        known = sorted(p for p in inspect.signature(type(opt).__init__).parameters if p not in ("self", "kwargs"))
        unknown = sorted(set(settings) - set(known))
        raise ValueError(f"optimizer__{unknown[0] if unknown else '?'}: the optimizer {type(opt).__name__} takes "
                         f"{', '.join(known)}; got {', '.join(sorted(settings))}") from None
    recompile(model, {"optimizer": new})
