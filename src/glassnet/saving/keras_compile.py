"""The compile settings of a Keras 3 `.keras` file (its "compile_config"), both ways.

What maps: the optimizer (its class name, a constant learning rate and the settings glassnet's class
of that name accepts), the loss (a name, or a class name with from_logits) and the metrics (names,
and metric objects as Keras writes them: {"module": "keras.metrics", "class_name", "config"}, the
config holding exactly Keras's arguments), the weighted metrics the same way.  Anything else (a learning-rate schedule, a Keras-only optimizer, loss or metric, label smoothing,
loss weights, ...) is not guessed at: writing leaves compile_config out and loading gives the
model uncompiled, each with a KerasCompileWarning saying what did not map.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np

from .. import _registry
from .. import losses as losses_module
from .. import metrics as metrics_module
from .format import CONFIG

_OPTIMIZER_SETTINGS = ("beta_1", "beta_2", "epsilon", "amsgrad", "momentum", "nesterov", "rho", "centered",
                       "initial_accumulator_value", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
# Keras optimizer settings glassnet has no use for when they hold their neutral value
_NEUTRAL = {"use_ema": (False, None), "loss_scale_factor": (None,), "gradient_accumulation_steps": (None,),
            "weight_decay": (None, 0, 0.0), "clipnorm": (None,), "clipvalue": (None,), "global_clipnorm": (None,)}
_IGNORED = {"name", "ema_momentum", "ema_overwrite_frequency"}


class KerasCompileWarning(UserWarning):
    """Compile settings that do not map between Keras and glassnet; the model is saved or loaded without them."""


# ======================================================================
# glassnet -> Keras
# ======================================================================

def to_keras(model):
    """The compile_config for a compiled glassnet model, or None (with a warning) when it does not map."""
    opt = model.optimizer
    config = opt.get_config()
    if isinstance(config.get("learning_rate"), dict) or callable(getattr(opt, "_learning_rate", None)):
        return _skip_save("its optimizer uses a learning-rate schedule")
    opt_config = {"name": opt.name, "learning_rate": float(config["learning_rate"])}
    opt_config.update({k: v for k, v in config.items() if k in _OPTIMIZER_SETTINGS})
    loss = model.loss
    loss_name = getattr(loss, "name", None)
    if not isinstance(loss_name, str) or _registry.lookup("loss", type(loss).__name__) is not type(loss):
        return _skip_save(f"its loss {type(loss).__name__} is not one of glassnet's own")
    if getattr(loss, "from_logits", False):
        loss_spec = {"module": "keras.losses", "class_name": type(loss).__name__,
                     "config": {"name": loss_name, "reduction": "sum_over_batch_size", "from_logits": True},
                     "registered_name": None}
    else:
        loss_spec = loss_name
    lists = []
    for specs in (model._metric_specs, getattr(model, "_weighted_specs", [])):
        metrics = []
        for spec in specs:
            if isinstance(spec, metrics_module.Metric):
                if _registry.lookup("metric", type(spec).__name__) is not type(spec):
                    return _skip_save(f"its metric {spec.name!r} is a {type(spec).__name__}, a class of your own")
                metrics.append({"module": "keras.metrics", "class_name": type(spec).__name__,
                                "config": spec.get_config(), "registered_name": None})
                continue
            try:
                metrics.append(metrics_module.serialize(spec))          # a name, or one of glassnet's functions
            except ValueError:
                return _skip_save(f"its metric {metrics_module.name_of(spec)!r} is a function of your own")
        lists.append(metrics or None)
    return {"optimizer": {"module": "keras.optimizers", "class_name": type(opt).__name__, "config": opt_config,
                          "registered_name": None},
            "loss": loss_spec, "loss_weights": None, "metrics": lists[0], "weighted_metrics": lists[1],
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def _skip_save(reason):
    warnings.warn(f"the .keras file is written without compile settings: {reason}, which Keras files "
                  f"cannot describe in a way Keras would read the same", KerasCompileWarning, stacklevel=4)
    return None


# ======================================================================
# Keras -> glassnet
# ======================================================================

class _NoMap(Exception):
    pass


def from_keras(path, model, compile_config):
    """Compile `model` as compile_config says (True); when a setting does not map, warn and leave it
    uncompiled (False)."""
    try:
        if not isinstance(compile_config, dict):
            raise _NoMap("compile_config is not a JSON object")
        optimizer = _optimizer(compile_config.get("optimizer"))
        loss = _loss(compile_config.get("loss"))
        metrics = _metrics(compile_config.get("metrics"))
        weighted = _metrics(compile_config.get("weighted_metrics"))
        if compile_config.get("loss_weights") not in (None, [], {}):
            raise _NoMap("loss_weights is set")
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted)
    except (_NoMap, TypeError, ValueError, KeyError) as err:
        warnings.warn(f"{path}: loaded uncompiled: the compile settings in {CONFIG} do not map to glassnet "
                      f"({err}); call model.compile(...) before training", KerasCompileWarning, stacklevel=4)
        return False
    return True


def _optimizer(spec):
    if isinstance(spec, str):
        spec = {"class_name": spec, "config": {}}
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise _NoMap(f"the optimizer {spec!r:.80} is not a class name and config")
    name = spec["class_name"]
    cls = _registry.lookup("optimizer", name)
    if cls is None:
        by_lower = {k.lower(): v for k, v in _registry.classes("optimizer").items()}
        cls = by_lower.get(name.lower())
    if cls is None:
        raise _NoMap(f"the optimizer {name!r} is not one glassnet has")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise _NoMap("the optimizer config is not a JSON object")
    accepted = set(inspect.signature(cls.__init__).parameters) | {"clipnorm", "clipvalue", "global_clipnorm"}
    kwargs = {}
    for key, value in config.items():
        if key in _IGNORED:
            continue
        if key == "learning_rate" and not isinstance(value, (int, float)):
            raise _NoMap("the learning rate is a schedule")
        if key in accepted:
            if value is not None:
                kwargs[key] = value
        elif value not in _NEUTRAL.get(key, ()):
            raise _NoMap(f"the optimizer setting {key}={value!r:.40} has no glassnet counterpart")
    return cls(**kwargs)


def _loss(spec):
    if isinstance(spec, str):
        return losses_module.get(spec)
    if isinstance(spec, dict) and spec.get("class_name") == "function" and isinstance(spec.get("config"), str):
        return losses_module.get(spec["config"])
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise _NoMap(f"the loss {spec!r:.80} is not a name or a class name and config")
    cls = _registry.lookup("loss", spec["class_name"])
    if cls is None:
        raise _NoMap(f"the loss {spec['class_name']!r} is not one glassnet has")
    config = spec.get("config") or {}
    kwargs = {}
    for key, value in config.items():
        if key == "from_logits" and value:
            kwargs["from_logits"] = True
        elif key == "label_smoothing" and value:
            raise _NoMap("the loss uses label_smoothing")
        elif key in ("axis", "ignore_class") and value not in (None, -1):
            raise _NoMap(f"the loss sets {key}={value!r}")
        elif key == "reduction" and value not in ("sum_over_batch_size", "auto", None):
            raise _NoMap(f"the loss reduction is {value!r}")
    return cls(**kwargs)


def _metrics(spec):
    if spec is None:
        return []
    if not isinstance(spec, list):
        raise _NoMap("metrics is not a list")
    found = []
    for item in spec:
        if isinstance(item, dict) and item.get("class_name") == "function":
            item = item.get("config")
        if isinstance(item, dict):                   # a metric object: {"module", "class_name", "config"}
            cls = _registry.lookup("metric", item.get("class_name")) if isinstance(item.get("class_name"), str) \
                else None
            if cls is None:
                raise _NoMap(f"the metric {item.get('class_name')!r:.60} is not one glassnet has")
            config = item.get("config") or {}
            if not isinstance(config, dict):
                raise _NoMap(f"the metric {item['class_name']!r} has a config that is not a JSON object")
            found.append(cls.from_config(dict(config)))   # TypeError for an argument glassnet's class lacks
            continue
        if not isinstance(item, str):
            raise _NoMap(f"the metric {item!r:.60} is not a name")
        metrics_module.get(item)          # ValueError for a name glassnet does not know
        found.append(item)
    return found


# ======================================================================
# Adam's state, both ways
# ======================================================================
# Keras 3 keeps an optimizer's variables as [iterations, learning_rate, then for each trainable
# variable its slots in turn]; for Adam and AdamW the slots are (momentum, velocity), which are
# glassnet's (m, v) (same update, same bias correction). glassnet hands its optimizer one flat
# buffer of every trainable weight (or one variable per weight with clipnorm), so the state is
# split or joined along the trainable weights. Other optimizers' state is not carried.

def _adam_like(opt):
    return type(opt).__name__ in ("Adam", "AdamW") and not getattr(opt, "amsgrad", False)


def state_to_keras(model):
    """(optimizer name, [Keras variables]) for a compiled glassnet Adam that has taken steps, else None."""
    opt = model.optimizer if model.compiled else None
    if opt is None or not _adam_like(opt) or not opt.iterations or opt._variables is None or not model.built:
        return None
    weights = model.trainable_weights
    variables = opt._variables
    if [v.shape for v in variables] != [v.shape for v in model._optimizer_variables()]:
        return None
    slots = opt.get_state()["slots"]
    if len(variables) == 1 and variables[0] is model._flat_weights:
        ms, vs = _split(slots[0]["m"], weights), _split(slots[0]["v"], weights)
    else:
        ms, vs = [s["m"] for s in slots], [s["v"] for s in slots]
    out = [np.array(opt.iterations, dtype=np.int64), np.array(opt.learning_rate, dtype=np.float32)]
    for i in keras_weight_order(model):
        out += [ms[i], vs[i]]
    return opt.name, out


def keras_weight_order(model):
    """Positions in model.trainable_weights, in the order Keras keeps a model's trainable variables
    (layer by layer in Keras's layer order, into models used as layers where they stand; for a
    Sequential of plain layers that is glassnet's own order)."""
    from .keras_nested import keras_leaves
    entries = model._trainable_entries
    position = {id(layer): i for i, layer in enumerate(keras_leaves(model))}
    return sorted(range(len(entries)), key=lambda i: position[id(entries[i][0])])


def _split(flat, weights):
    parts, offset = [], 0
    for w in weights:
        parts.append(flat[offset:offset + w.size].reshape(w.shape))
        offset += w.size
    return parts


def state_from_keras(path, model, saved):
    """Give a just-compiled glassnet Adam the state Keras saved (`saved`: its optimizer variables)."""
    opt = model.optimizer
    if not saved or len(saved) == 2 and not int(np.asarray(saved[0])):
        return                                       # Keras saved an optimizer that never stepped
    weights = model.trainable_weights
    order = keras_weight_order(model)
    shapes = [weights[i].shape for i in order]
    if not _adam_like(opt) or len(saved) != 2 + 2 * len(weights) or \
            [a.shape for a in saved[2::2]] != shapes or [a.shape for a in saved[3::2]] != shapes or \
            np.asarray(saved[0]).dtype.kind not in "iu" or np.asarray(saved[0]).shape != ():
        warnings.warn(f"{path}: the optimizer state in the file does not map to glassnet's "
                      f"{type(opt).__name__}; training starts with fresh optimizer state",
                      KerasCompileWarning, stacklevel=4)
        return
    variables = model._optimizer_variables()
    dtype = variables[0].dtype
    ms, vs = [None] * len(order), [None] * len(order)
    for i, m, v in zip(order, saved[2::2], saved[3::2]):       # Keras's order back to glassnet's
        ms[i], vs[i] = m.astype(dtype), v.astype(dtype)
    if len(variables) == 1 and variables[0] is model._flat_weights:
        slots = [{"m": np.concatenate([m.ravel() for m in ms]), "v": np.concatenate([v.ravel() for v in vs])}]
    else:
        slots = [{"m": m, "v": v} for m, v in zip(ms, vs)]
    opt.set_state({"iterations": int(np.asarray(saved[0])), "slots": slots}, variables)
