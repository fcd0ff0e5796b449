"""The compile settings of a model file: the loss, the metrics (names; metric objects by class name
and config), the optimizer (a learning-rate schedule included) and the optimizer's state (its slots
go to optimizer.npz)."""
from __future__ import annotations

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from . import arrays
from .format import CONFIG, OPTIMIZER, ModelFileError, find_class


# ======================================================================
# Saving
# ======================================================================

def describe(model):
    """({"loss", "metrics", "optimizer"}, optimizer_state or None, [(name, slot array)] or None)."""
    if getattr(model, "_heads", None) is not None:     # several outputs: per output, in output order
        settings = {"loss": [None if loss is None else _loss_spec(loss) for loss in model.loss],
                    "loss_weights": list(model._loss_weights),
                    "metrics": [[_metric_spec(m) for m in specs] for specs in model._metric_specs]}
        ranks = [h.loss_rank for h in model._heads]
        if ranks != sorted(ranks):                  # a loss dict in another order: History follows it
            settings["loss_order"] = [h.name for h in sorted(model._heads, key=lambda h: h.loss_rank)]
    else:
        settings = {"loss": _loss_spec(model.loss), "metrics": [_metric_spec(m) for m in model._metric_specs]}
        if getattr(model, "_weighted_specs", None):
            settings["weighted_metrics"] = [_metric_spec(m) for m in model._weighted_specs]
    settings["optimizer"] = optimizers_module.serialize(model.optimizer)
    return (settings,) + _optimizer_state(model)


def _loss_spec(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def _metric_spec(spec):
    """A name as written; one of glassnet's functions by its name; a Metric object as {"class_name",
    "config"}; a function of the user's by its name (custom_objects gives it back at load time)."""
    try:
        return metrics_module.serialize(spec)
    except ValueError:
        return metrics_module.name_of(spec)


def _optimizer_state(model):
    opt = model.optimizer
    if opt._variables is None and not opt.iterations:
        return None, None                          # it has not taken a step: nothing to keep
    variables = opt._variables or []
    if model.built and [v.shape for v in variables] != [v.shape for v in model._optimizer_variables()]:
        return None, None       # state for variables this model no longer has: training it would fail anyway
    state = opt.get_state()
    layout = "other"
    if variables and model.built:
        if len(variables) == 1 and variables[0] is model._flat_weights:
            layout = "flat"
        elif len(variables) == len(model.trainable_weights) and \
                all(a is b for a, b in zip(variables, model.trainable_weights)):
            layout = "per_variable"
    described = [{"shape": list(v.shape), "dtype": v.dtype.name, "slots": list(slot)}
                 for v, slot in zip(variables, state["slots"])]
    named = [(f"{i}/{name}", array) for i, slot in enumerate(state["slots"]) for name, array in slot.items()]
    return {"iterations": state["iterations"], "layout": layout, "variables": described}, named


# ======================================================================
# Loading
# ======================================================================

def restore(path, model, config, members, custom_objects):
    """Compile `model` as config.json says, then give its optimizer the saved state."""
    settings = config["compile"]
    try:
        several = isinstance(settings["loss"], list)
        if several:
            if len(settings["loss"]) > 1_000:
                raise ValueError(f"{len(settings['loss'])} losses")
            loss = [None if spec is None else _loss(path, spec, custom_objects) for spec in settings["loss"]]
        else:
            loss = _loss(path, settings["loss"], custom_objects)
        opt_spec = settings["optimizer"]
        opt_cls = find_class(path, custom_objects, "optimizer", opt_spec["class_name"], "optimizer")
        opt_config = dict(opt_spec["config"])
        lr = opt_config.get("learning_rate")
        if isinstance(lr, dict):
            schedule_cls = find_class(path, custom_objects, "schedule", lr["class_name"], "learning-rate schedule")
            opt_config["learning_rate"] = schedule_cls(**lr["config"])
        optimizer = opt_cls(**opt_config)
        if several:
            metrics = [[_metric(path, name, custom_objects) for name in names] for names in settings.get("metrics", [])]
            order = settings.get("loss_order")
            if order is not None:                   # the per-output losses as a dict, in the order they were given
                by_name = dict(zip(model.output_names, loss))
                if sorted(map(str, order)) != sorted(by_name):
                    raise ValueError(f"loss_order {order!r} does not name the outputs {sorted(by_name)}")
                loss = {name: by_name[name] for name in order}
            model.compile(optimizer=optimizer, loss=loss, metrics=metrics or None,
                          loss_weights=settings.get("loss_weights"))
        else:
            metrics = [_metric(path, name, custom_objects) for name in settings.get("metrics", [])]
            weighted = [_metric(path, name, custom_objects) for name in settings.get("weighted_metrics", [])]
            model.compile(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} holds compile settings glassnet cannot use: "
                                   f"{type(err).__name__}: {err}") from err
    _restore_state(path, model, config.get("optimizer_state"), members)


def _loss(path, spec, custom_objects):
    if spec["class_name"] == "LossFunctionWrapper":          # a loss function of your own, by its name
        config = spec.get("config") or {}
        fn = custom_objects.get(config.get("fn"))
        if not callable(fn):
            raise ModelFileError(path, f"{CONFIG} uses your own loss function {config.get('fn')!r}; pass "
                                       f"custom_objects={{{config.get('fn')!r}: the function}} or compile=False")
        return losses_module.LossFunctionWrapper(fn, name=config.get("name"))
    loss_cls = find_class(path, custom_objects, "loss", spec["class_name"], "loss")
    return loss_cls(**spec.get("config", {}))


def _metric(path, spec, custom_objects):
    if isinstance(spec, dict):                   # a Metric object: its class by name, rebuilt from its config
        cls = find_class(path, custom_objects, "metric", spec.get("class_name"), "metric class")
        config = spec.get("config") or {}
        if not isinstance(config, dict):
            raise ModelFileError(path, f"{CONFIG} gives the metric {spec.get('class_name')!r} a config that is "
                                       f"not a JSON object")
        return cls.from_config(dict(config))
    name = spec
    if name in custom_objects:
        return custom_objects[name]
    try:
        metrics_module.get(name)
    except ValueError:
        raise ModelFileError(path, f"{CONFIG} uses the metric {name!r}, which glassnet does not have; "
                                   f"pass custom_objects={{{name!r}: function}} or compile=False") from None
    return name


def _restore_state(path, model, state, members):
    if state is None:
        return
    if OPTIMIZER not in members:
        raise ModelFileError(path, f"{CONFIG} describes an optimizer state but the member {OPTIMIZER} is absent")
    try:
        variables = state["variables"]
        expected = [(f"{i}/{s}", tuple(v["shape"]), np.dtype(v["dtype"]))
                    for i, v in enumerate(variables) for s in v["slots"]]
        iterations = state["iterations"]
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} has a malformed optimizer_state ({err})") from err
    saved = iter(arrays.read_arrays(path, OPTIMIZER, members[OPTIMIZER], expected))
    slots = [{s: next(saved) for s in v["slots"]} for v in variables]
    if not model.built:
        raise ModelFileError(path, "the file holds optimizer state for a model without weights")
    try:
        model.optimizer.set_state({"iterations": iterations, "slots": slots}, model._optimizer_variables())
    except ValueError as err:
        raise ModelFileError(path, f"its optimizer state does not fit the model: {err}") from err
