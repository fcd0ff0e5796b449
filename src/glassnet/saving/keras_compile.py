"""The compile settings of a Keras 3 `.keras` file (its "compile_config"), both ways.

What maps: the optimizer (its class name, a constant learning rate or one of Keras's learning-rate
schedules, and the settings glassnet's class of that name accepts), the loss (a name, or a class name
with from_logits) and the metrics (names, and metric objects as Keras writes them: {"module":
"keras.metrics", "class_name", "config"}, the config holding exactly Keras's arguments), the weighted
metrics of a one-output model the same way.
A model with several outputs: a loss, loss_weights and metrics per output, as Keras 3 writes them
(learnt from its files): lists in output order for list outputs ("loss": [null, "mse"], "loss_weights":
[1.0, 0.5], "metrics": [[], ["mae"]]), dicts keyed by output name for dict outputs (outputs without a
loss or metrics left out; a metric list may be one name: {"kind": "accuracy"}), loss_weights null
when not given, and one loss spec for every output when compile had one.
Anything else (a schedule of your own, a Keras-only optimizer, loss or metric, label smoothing,
weighted metrics of several outputs, ...) is not guessed at: writing leaves compile_config out and loading gives the
model uncompiled, each with a KerasCompileWarning saying what did not map.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np

from .. import _registry
from ..optimizers.schedules import LearningRateSchedule
from .. import losses as losses_module
from .. import metrics as metrics_module
from .format import CONFIG, ModelFileError, short

_OPTIMIZER_SETTINGS = ("beta_1", "beta_2", "epsilon", "amsgrad", "momentum", "nesterov", "rho", "centered",
                       "initial_accumulator_value", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
# Keras optimizer settings glassnet has no use for when they hold their neutral value
_NEUTRAL = {"use_ema": (False, None), "loss_scale_factor": (None,), "gradient_accumulation_steps": (None,),
            "weight_decay": (None, 0, 0.0), "clipnorm": (None,), "clipvalue": (None,), "global_clipnorm": (None,)}
_IGNORED = {"name", "ema_momentum", "ema_overwrite_frequency"}


class KerasCompileWarning(UserWarning):
    """Compile settings that do not map between Keras and glassnet; the model is saved or loaded without them."""


class _NoMap(Exception):
    """A setting that does not map (the reason)."""


# ======================================================================
# glassnet -> Keras
# ======================================================================

def to_keras(model):
    """The compile_config for a compiled glassnet model, or None (with a warning) when it does not map."""
    opt = model.optimizer
    config = opt.get_config()
    schedule = _schedule_to_keras(opt._learning_rate)
    if schedule is None and callable(opt._learning_rate):
        return _skip_save("its optimizer's learning rate is a function or a schedule of your own")
    opt_config = {"name": opt.name, "learning_rate": schedule or float(config["learning_rate"])}
    opt_config.update({k: v for k, v in config.items() if k in _OPTIMIZER_SETTINGS})
    try:
        weighted = None
        if getattr(model, "_heads", None) is not None:
            loss, loss_weights, metrics = _per_output_to_keras(model)
        else:
            loss, loss_weights, metrics = _loss_to_keras(model.loss), None, _metrics_to_keras(model._metric_specs)
            weighted = _metrics_to_keras(getattr(model, "_weighted_specs", None) or []) or None
    except _NoMap as err:
        return _skip_save(str(err))
    return {"optimizer": {"module": "keras.optimizers", "class_name": type(opt).__name__, "config": opt_config,
                          "registered_name": None},
            "loss": loss, "loss_weights": loss_weights, "metrics": metrics or None, "weighted_metrics": weighted,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def _loss_to_keras(loss):
    loss_name = getattr(loss, "name", None)
    if not isinstance(loss_name, str) or _registry.lookup("loss", type(loss).__name__) is not type(loss):
        raise _NoMap(f"its loss {type(loss).__name__} is not one of glassnet's own")
    if getattr(loss, "from_logits", False):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": {"name": loss_name, "reduction": "sum_over_batch_size", "from_logits": True},
                "registered_name": None}
    return loss_name


def _metrics_to_keras(specs):
    metrics = []
    for spec in specs:
        if isinstance(spec, metrics_module.Metric):
            if _registry.lookup("metric", type(spec).__name__) is not type(spec):
                raise _NoMap(f"its metric {spec.name!r} is a {type(spec).__name__}, a class of your own")
            metrics.append({"module": "keras.metrics", "class_name": type(spec).__name__,
                            "config": spec.get_config(), "registered_name": None})
            continue
        try:
            metrics.append(metrics_module.serialize(spec))          # a name, or one of glassnet's functions
        except ValueError:
            raise _NoMap(f"its metric {metrics_module.name_of(spec)!r} is a function of your own") from None
    return metrics


def _per_output_to_keras(model):
    """(loss, loss_weights, metrics) of a model with several outputs, as Keras writes them: lists in
    output order for list outputs ([null, "mse"]; metrics [[], ["mae"]]), dicts keyed by output name
    for dict outputs (outputs without a loss or metrics left out); loss_weights null when all are 1."""
    names = model.output_names
    losses = [None if loss is None else _loss_to_keras(loss) for loss in model.loss]
    metrics = [_metrics_to_keras(specs) for specs in model._metric_specs]
    weights = [float(w) for w in model._loss_weights]
    if model._output_keys:
        return ({n: loss for n, loss in zip(names, losses) if loss is not None},
                None if all(w == 1.0 for w in weights) else
                {n: w for n, w, loss in zip(names, weights, losses) if loss is not None},
                {n: m for n, m in zip(names, metrics) if m})
    return losses, None if all(w == 1.0 for w in weights) else weights, metrics if any(metrics) else None


# the schedules Keras 3 has, with the same names, arguments and formulas as glassnet's
_KERAS_SCHEDULES = ("ExponentialDecay", "InverseTimeDecay", "PolynomialDecay", "PiecewiseConstantDecay",
                    "CosineDecay", "CosineDecayRestarts")


def _schedule_to_keras(lr):
    """Keras's serialized form of a glassnet schedule Keras also has, else None.  StepDecay is written
    as what it equals, ExponentialDecay(staircase=True)."""
    if not isinstance(lr, LearningRateSchedule):
        return None
    name, config = type(lr).__name__, lr.get_config()
    if name == "StepDecay":
        name, config = "ExponentialDecay", {**config, "staircase": True, "name": "ExponentialDecay"}
    if name not in _KERAS_SCHEDULES or _registry.lookup("schedule", type(lr).__name__) is not type(lr):
        return None
    return {"module": "keras.optimizers.schedules", "class_name": name, "config": config, "registered_name": None}


def _schedule_from_keras(spec):
    """glassnet's schedule for Keras's serialized one (a _NoMap for a schedule glassnet lacks)."""
    name = spec.get("class_name")
    config = spec.get("config")
    if name not in _KERAS_SCHEDULES or not isinstance(config, dict):
        raise _NoMap(f"the learning rate is a schedule glassnet does not have ({name!r:.60})")
    cls = _registry.lookup("schedule", name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(config) - accepted)
    if unknown:
        raise _NoMap(f"the {name} schedule has settings glassnet's lacks: {unknown}")
    return cls(**config)


def _skip_save(reason):
    warnings.warn(f"the .keras file is written without compile settings: {reason}, which Keras files "
                  f"cannot describe in a way Keras would read the same", KerasCompileWarning, stacklevel=4)
    return None


# ======================================================================
# Keras -> glassnet
# ======================================================================

def from_keras(path, model, compile_config):
    """Compile `model` as compile_config says (True); when a setting does not map, warn and leave it
    uncompiled (False).  Per-output settings that contradict the model's outputs (a list of another
    length, a dict naming other outputs) are a ModelFileError: the file is damaged."""
    try:
        if not isinstance(compile_config, dict):
            raise _NoMap("compile_config is not a JSON object")
        optimizer = _optimizer(compile_config.get("optimizer"))
        loss = compile_config.get("loss")
        if len(getattr(model, "outputs", ())) > 1:
            settings = _per_output_from_keras(path, model.output_names, compile_config)
        elif hasattr(model, "output_names") and (isinstance(loss, list) or isinstance(loss, dict)
                                                 and "class_name" not in loss):
            settings = _per_output_from_keras(path, model.output_names, compile_config)   # Model(x, {"a": t})
            settings = {"loss": settings["loss"][0], "metrics": (settings["metrics"] or [[]])[0],
                        "loss_weights": [1.0 if w is None else w for w in settings["loss_weights"] or [1.0]]}
        else:
            if compile_config.get("loss_weights") not in (None, [], {}):
                raise _NoMap("loss_weights is set")
            settings = {"loss": _loss(compile_config.get("loss")), "metrics": _metrics(compile_config.get("metrics"))}
        weighted = compile_config.get("weighted_metrics")
        if weighted not in (None, [], {}):
            if len(getattr(model, "outputs", ())) > 1 or not isinstance(weighted, list):
                raise _NoMap("weighted_metrics of several outputs are set")
            settings["weighted_metrics"] = _metrics(weighted)
        model.compile(optimizer=optimizer, **settings)
    except ModelFileError:
        raise
    except (_NoMap, TypeError, ValueError, KeyError) as err:
        warnings.warn(f"{path}: loaded uncompiled: the compile settings in {CONFIG} do not map to glassnet "
                      f"({err}); call model.compile(...) before training", KerasCompileWarning, stacklevel=4)
        return False
    return True


def _per_output_from_keras(path, names, compile_config):
    """compile's loss, loss_weights and metrics for a model with several outputs (`names`), each
    one value per output in output order, from Keras's lists (in output order) or dicts (by name);
    a loss may also be one spec for every output."""
    def per_output(value, what):
        if isinstance(value, list):
            if len(value) != len(names):
                raise ModelFileError(path, f"{CONFIG}: compile_config's {what} is a list of {len(value)}, but the "
                                           f"model has {len(names)} outputs ({short(names)})")
            return list(value)
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ModelFileError(path, f"{CONFIG}: compile_config's {what} names the outputs {short([str(k)[:40] for k in unknown])}, "
                                       f"which the model does not have (its outputs: {short(names)})")
        return [value.get(name) for name in names]

    loss = compile_config.get("loss")
    if isinstance(loss, list) or isinstance(loss, dict) and ("class_name" not in loss or "class_name" in names):
        loss = [None if spec is None else _loss(spec) for spec in per_output(loss, "loss")]
    else:
        loss = _loss(loss)                              # one loss for every output
    weights = compile_config.get("loss_weights")
    if isinstance(weights, (list, dict)):
        weights = per_output(weights, "loss_weights")
        if not all(w is None or isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights):
            raise _NoMap(f"loss_weights {weights!r:.80} are not numbers")
    elif weights is not None:
        raise _NoMap(f"loss_weights {weights!r:.40} is not a list or a dict")
    metrics = compile_config.get("metrics")
    if isinstance(metrics, (list, dict)):
        metrics = [_metrics(m if m is None or isinstance(m, list) else [m]) for m in per_output(metrics, "metrics")]
    elif metrics is not None:
        raise _NoMap(f"metrics {metrics!r:.40} is not a list or a dict")
    return {"loss": loss, "loss_weights": weights, "metrics": metrics}


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
        if key == "learning_rate" and isinstance(value, dict):
            value = _schedule_from_keras(value)
        elif key == "learning_rate" and not isinstance(value, (int, float)):
            raise _NoMap(f"the learning rate {value!r:.60} is not a number or a schedule")
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
# Keras 3 keeps an optimizer's variables as [iterations, learning_rate (not with a schedule), then
# for each trainable variable its slots in turn]; for Adam and AdamW the slots are (momentum, velocity), which are
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
    out = [np.array(opt.iterations, dtype=np.int64)]
    if not callable(opt._learning_rate):           # Keras keeps no learning-rate variable for a schedule
        out.append(np.array(opt.learning_rate, dtype=np.float32))
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
    head = 1 if callable(opt._learning_rate) else 2     # iterations (and the learning rate, unless a schedule)
    if not saved or len(saved) == head and not int(np.asarray(saved[0])):
        return                                       # Keras saved an optimizer that never stepped
    weights = model.trainable_weights
    order = keras_weight_order(model)
    shapes = [weights[i].shape for i in order]
    ms_saved, vs_saved = saved[head::2], saved[head + 1::2]
    if not _adam_like(opt) or len(saved) != head + 2 * len(weights) or \
            [a.shape for a in ms_saved] != shapes or [a.shape for a in vs_saved] != shapes or \
            np.asarray(saved[0]).dtype.kind not in "iu" or np.asarray(saved[0]).shape != ():
        warnings.warn(f"{path}: the optimizer state in the file does not map to glassnet's "
                      f"{type(opt).__name__}; training starts with fresh optimizer state",
                      KerasCompileWarning, stacklevel=4)
        return
    variables = model._optimizer_variables()
    dtype = variables[0].dtype
    ms, vs = [None] * len(order), [None] * len(order)
    for i, m, v in zip(order, ms_saved, vs_saved):             # Keras's order back to glassnet's
        ms[i], vs[i] = m.astype(dtype), v.astype(dtype)
    if len(variables) == 1 and variables[0] is model._flat_weights:
        slots = [{"m": np.concatenate([m.ravel() for m in ms]), "v": np.concatenate([v.ravel() for v in vs])}]
    else:
        slots = [{"m": m, "v": v} for m, v in zip(ms, vs)]
    opt.set_state({"iterations": int(np.asarray(saved[0])), "slots": slots}, variables)
