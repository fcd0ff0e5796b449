"""The doctor's advice: each fix is offered only when the model does not already do it.

Before suggesting a change the doctor reads the model: its optimizer (which one, the learning
rate and the optimizer's default, a schedule, gradient clipping), each layer's activation and
initializers, BatchNormalization, Dropout and weight penalties, the size of the inputs it saw,
and the callbacks of the fit (TerminateOnNaN).  An Adam user is never told to use Adam; a model
that already clips its gradients is not told to clip them.
"""
from __future__ import annotations

import inspect

from .. import losses as _losses
from .findings import g

# inputs whose largest magnitude on the checked batches is above this are "not scaled": standardised
# data stays within about 5 (a normal sample of a million values rarely passes 5); raw pixels reach 255
UNSCALED = 10.0


# ----------------------------------------------------------------------------- reading the model
def all_layers(model):
    """The model's layers, a model used as a layer opened up."""
    out = []
    for layer in getattr(model, "layers", []):
        inner = getattr(layer, "layers", None)
        out.extend(all_layers(layer) if isinstance(inner, list) and inner else [layer])
    return out


def _kind(layer):
    return type(layer).__name__


def optimizer_facts(model):
    """(optimizer, its class name, the learning rate now, its class's default, is it a schedule)."""
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None, "", None, None, False
    try:
        lr = float(opt.learning_rate)
    except Exception:               # an optimizer without a readable rate
        lr = None
    try:
        default = inspect.signature(type(opt).__init__).parameters["learning_rate"].default
        default = float(default) if isinstance(default, (int, float)) else None
    except (KeyError, TypeError, ValueError):
        default = None
    schedule = callable(getattr(opt, "_learning_rate", None))
    return opt, type(opt).__name__, lr, default, schedule


def is_adaptive(model):
    """Adam, AdamW, RMSprop, Adagrad, ...: every optimizer but plain SGD scales its steps per weight."""
    opt = getattr(model, "optimizer", None)
    return opt is not None and type(opt).__name__ != "SGD"


def clipping(model):
    """'clipnorm=1.0' (or clipvalue / global_clipnorm) when the optimizer clips its gradients, else ''."""
    opt = getattr(model, "optimizer", None)
    for name in ("clipnorm", "global_clipnorm", "clipvalue"):
        value = getattr(opt, name, None)
        if value is not None:
            return f"{name}={g(value)}"
    return ""


def init_name(init):
    """An initializer in a few words: 'zeros', 'constant(-5)', 'he_normal', 'random_normal(stddev=0.01)'."""
    kind = type(init).__name__
    if kind in ("Zeros", "Ones"):
        return kind.lower()
    if kind == "Constant":
        return f"constant({g(init.value)})"
    preset = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeNormal": "he_normal",
              "HeUniform": "he_uniform"}
    if kind in preset:
        return preset[kind]
    if kind in ("RandomNormal", "TruncatedNormal"):
        return f"{'random_normal' if kind == 'RandomNormal' else 'truncated_normal'}(stddev={g(init.stddev)})"
    if kind == "RandomUniform":
        return f"random_uniform({g(init.minval)}, {g(init.maxval)})"
    return kind


def scaled_init(init):
    """Glorot, He or another variance-scaling initializer: weights sized to the layer's fan."""
    return any(c.__name__ == "VarianceScaling" for c in type(init).__mro__)


def he_init(init):
    return type(init).__name__ in ("HeNormal", "HeUniform") or (
        scaled_init(init) and getattr(init, "scale", 1.0) == 2.0 and getattr(init, "mode", "") == "fan_in")


def has_layer(model, kind):
    return any(_kind(layer) == kind for layer in all_layers(model))


def dropout_rates(model):
    return [float(layer.rate) for layer in all_layers(model) if _kind(layer) == "Dropout"]


def regularized(model):
    return any(getattr(layer, "kernel_regularizer", None) is not None for layer in all_layers(model))


def rescaled(model):
    """The model scales its own inputs (a Rescaling or Normalization layer)."""
    return has_layer(model, "Rescaling") or has_layer(model, "Normalization")


# ----------------------------------------------------------------------------- single fixes
def lower_lr(model, factor=10, why=""):
    """'lower the learning rate (Adam, now 0.1: try 0.01)'; for a schedule, its starting rate."""
    opt, name, lr, default, schedule = optimizer_facts(model)
    if lr is None:
        return "lower the learning rate (10x smaller)"
    what = "the schedule's initial_learning_rate" if schedule else "the learning rate"
    if default is not None and lr >= 100 * default:         # far above: the default is the place to start
        return f"lower {what} ({name}, now {g(lr)}): try {g(default)} ({name}'s default)"
    default_text = f"; {name}'s default is {g(default)}" if default is not None and default != lr else ""
    return f"lower {what} ({name}, now {g(lr)}{default_text}): try {g(lr / factor)}{why}"


def lr_above_default(model):
    _, _, lr, default, _ = optimizer_facts(model)
    return lr is not None and default is not None and lr > default * 1.0001


def scale_inputs(doctor):
    """Scale the inputs, unless the inputs the doctor saw are already small or the model scales them."""
    seen = doctor.input_max
    if doctor.model is not None and rescaled(doctor.model):
        return None
    if seen is not None and seen <= UNSCALED:
        return None
    size = "" if seen is None else f" (the largest input value in the last batch is {g(seen)})"
    return f"scale the inputs{size}: x / 255 for pixels, or standardise each feature (x - mean) / std"


def clip_gradients(model):
    if clipping(model):
        return None
    return "clip the gradients (optimizer clipnorm=1.0 or global_clipnorm=1.0)"


def batch_norm(model):
    if has_layer(model, "BatchNormalization"):
        return None
    return "add BatchNormalization between a Dense layer and its activation"


def unscaled_kernels(model, layers=None):
    """Fix for layers whose kernels do not start at a fan-scaled size (Glorot/He)."""
    layers = [layer for layer in (layers or all_layers(model))
              if getattr(layer, "kernel_initializer", None) is not None]
    odd = [layer for layer in layers if not scaled_init(layer.kernel_initializer)]
    if not odd:
        return None
    names = ", ".join(f"{layer.name!r} ({init_name(layer.kernel_initializer)})" for layer in odd[:3])
    return (f"initial weights sized to each layer: kernel_initializer='glorot_uniform' (the default) or "
            f"'he_normal' for relu, instead of the fixed-size weights of {names}")


def keep(*fixes):
    return tuple(f for f in fixes if f)


# ----------------------------------------------------------------------------- advice per rule
def nan_loss(doctor):
    model = doctor.model
    fixes = [lower_lr(model), scale_inputs(doctor), clip_gradients(model)]
    if not doctor.terminate_on_nan:
        fixes.append("stop at the first bad batch with callbacks=[gn.callbacks.TerminateOnNaN()]")
    losses = getattr(model, "loss", None)
    builtin = tuple(_losses._CLASSES.values())
    if any(loss is not None and not isinstance(loss, builtin) for loss in
           (losses if isinstance(losses, list) else [losses])):
        fixes.append("check your own loss for a log(0) or a division by 0")
    return keep(*fixes)


def exploding_loss(doctor):
    model = doctor.model
    return keep(lower_lr(model), scale_inputs(doctor), clip_gradients(model))


def rising_loss(doctor):
    model = doctor.model
    _, name, lr, _, schedule = optimizer_facts(model)
    fixes = [lower_lr(model, factor=3, why=" (3-10x smaller)")]
    if not schedule and not doctor.lr_callback:
        fixes.append("or let it decay (gn.optimizers.schedules.ExponentialDecay(...) as the learning rate)")
    if name == "SGD":
        fixes.append("or use Adam, which scales each weight's step to its gradient's size")
    return keep(*fixes)


def vanishing_gradients(doctor, low_layers):
    model = doctor.model
    squashing = [layer for layer in all_layers(model)[:-1] if getattr(layer, "activation", None) in ("sigmoid", "tanh")]
    fixes = []
    if squashing:
        names = ", ".join(repr(layer.name) for layer in squashing[:4])
        fixes.append(f"relu (or leaky_relu) instead of sigmoid/tanh in the hidden layers ({names}): their slope "
                     f"is at most 0.25 (sigmoid) or 1 (tanh), so each one shrinks the gradient")
    fixes.append(unscaled_kernels(model))
    fixes.append(batch_norm(model))
    fixes.append("or fewer layers")
    return keep(*fixes)


def exploding_gradients(doctor):
    model = doctor.model
    return keep(clip_gradients(model), lower_lr(model) if lr_above_default(model) or not is_adaptive(model) else None,
                scale_inputs(doctor), unscaled_kernels(model), batch_norm(model))


def dead_relu(doctor, layer):
    model = doctor.model
    fixes = []
    bias = getattr(layer, "bias_initializer", None)
    if getattr(layer, "use_bias", False) and type(bias).__name__ == "Constant" and bias.value < 0:
        fixes.append(f"start the biases at 0 (bias_initializer='zeros', the default) instead of {g(bias.value)}")
    kernel = getattr(layer, "kernel_initializer", None)
    if kernel is not None and not scaled_init(kernel):
        fixes.append(f"a random kernel sized to the layer, kernel_initializer='he_normal', instead of "
                     f"{init_name(kernel)}")
    elif kernel is not None and not he_init(kernel):
        fixes.append("He initialisation (kernel_initializer='he_normal'), made for relu")
    if lr_above_default(model) or doctor.died_in_training:
        fixes.append(lower_lr(model))
    fixes.append("or leaky_relu / elu, which never go flat")
    return keep(*fixes)


def saturated(doctor, layer):
    model = doctor.model
    fixes = [scale_inputs(doctor)]
    kernel = getattr(layer, "kernel_initializer", None)
    if kernel is not None and not scaled_init(kernel):
        fixes.append(f"smaller initial weights: kernel_initializer='glorot_uniform' (the default) instead of "
                     f"{init_name(kernel)}")
    if lr_above_default(model):
        fixes.append(lower_lr(model))
    fixes.append(batch_norm(model))
    fixes.append("or relu, which does not saturate for positive inputs")
    return keep(*fixes)


def overfitting(doctor):
    model = doctor.model
    rates = dropout_rates(model)
    fixes = ["stop at the best epoch: callbacks=[gn.callbacks.EarlyStopping(monitor='val_loss', patience=3, "
             "restore_best_weights=True)]"]
    if not rates:
        fixes.append("add Dropout (gn.layers.Dropout(0.3) after a hidden layer)")
    elif max(rates) < 0.5:
        fixes.append(f"a higher Dropout rate (now at most {g(max(rates))})")
    if not regularized(model):
        fixes.append("a weight penalty (kernel_regularizer=gn.regularizers.L2(1e-4))")
    else:
        fixes.append("a stronger weight penalty")
    fixes.append("a smaller network, or more training data")
    return keep(*fixes)
