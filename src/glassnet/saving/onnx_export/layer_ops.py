"""glassnet's activations and its layers on whole samples (Dense, normalisation, merging, reshaping,
Embedding, ...) as ONNX nodes. Each converter is `convert(g, layer, x) -> y`: x the name of the input
tensor (a list of names for a merging layer), y the name of the output; the layer's numbers
(weights, moving statistics, arguments) become initializers and attributes.

Activations (by name, as Dense, Conv and Activation take them):
    linear -> (nothing)        sigmoid -> Sigmoid      tanh -> Tanh          relu -> Relu
    step -> Cast(Greater(x, 0))    elu -> Elu(alpha=1)    leaky_relu -> LeakyRelu(alpha=0.2): glassnet's
    slope, given explicitly (ONNX's default is 0.01)    softmax -> Softmax(axis=-1)
    swish -> Mul(x, Sigmoid(x)) at every opset (ONNX's Swish op, opset 24, fails in ONNX Runtime from 25)
"""
from __future__ import annotations

import numpy as np

from ... import activations as _activations
from ... import backend


class NotExportable(ValueError):
    """A layer or setting that has no ONNX form here; the message names the layer and why."""


def activate(g, activation: str, x: str, hint: str) -> str:
    """The activation named `activation` (a glassnet table name) applied to x."""
    if activation == "linear":
        return x
    if activation == "sigmoid":
        return g.op("Sigmoid", [x], hint)
    if activation == "tanh":
        return g.op("Tanh", [x], hint)
    if activation == "relu":
        return g.op("Relu", [x], hint)
    if activation == "elu":
        return g.op("Elu", [x], hint, alpha=1.0)
    if activation == "leaky_relu":
        slope = _default_slope()
        return g.op("LeakyRelu", [x], hint, alpha=slope)
    if activation == "softmax":
        return g.op("Softmax", [x], hint, axis=-1)
    if activation == "swish":
        # at every opset: ONNX's own Swish op (opset 24) has no kernel in ONNX Runtime 1.32, which runs it only
        # by expanding it at opset 24 exactly and fails from opset 25 on (measured); the two ops are exact
        return g.op("Mul", [x, g.op("Sigmoid", [x], hint + "_sigmoid")], hint)
    if activation == "step":
        positive = g.op("Greater", [x, g.const(0.0, hint + "_zero")], hint + "_positive")
        return g.op("Cast", [positive], hint, to=g.elem)
    raise NotExportable(f"the activation {activation!r} has no ONNX mapping; "
                        f"known: {', '.join(sorted(_activations.ACTIVATIONS))}")


def _default_slope() -> float:
    """The slope activation="leaky_relu" uses (glassnet.activations.leaky_relu's default)."""
    import inspect
    return float(inspect.signature(_activations.leaky_relu).parameters["negative_slope"].default)


def _rank(layer) -> int:
    return len(layer.input_shape)


def _label(layer) -> str:
    return f"{type(layer).__name__} {layer.name!r}"


# -- core ---------------------------------------------------------------------------------------------
def dense(g, layer, x):
    z = g.op("MatMul", [x, g.const(layer.params["W"], layer.name + "/kernel")], layer.name + "_matmul")
    if layer.use_bias:
        z = g.op("Add", [z, g.const(layer.params["b"], layer.name + "/bias")], layer.name + "_z")
    return activate(g, layer.activation, z, layer.name)


def activation(g, layer, x):
    return activate(g, layer.activation, x, layer.name)


def identity(g, layer, x):
    """Identity, InputLayer, and the layers that only act while training (Dropout, SpatialDropout2D,
    GaussianNoise): predict passes their input through, so does the exported graph."""
    return x


def flatten(g, layer, x):
    return g.op("Flatten", [x], layer.name, axis=1)


def reshape(g, layer, x):
    shape = [0] + [int(d) for d in layer.target_shape]           # 0: keep the batch size (allowzero=0)
    return g.op("Reshape", [x, g.ints(shape, layer.name + "/shape")], layer.name)


# -- activation layers ----------------------------------------------------------------------------------
def softmax(g, layer, x):
    ndim = _rank(layer)
    axes = sorted({a % ndim for a in ([layer.axis] if isinstance(layer.axis, int) else layer.axis)})
    if len(axes) == 1:
        return g.op("Softmax", [x], layer.name, axis=axes[0])
    # several axes: exp(x - max) / sum(exp(x - max)) over all of them
    shifted = g.op("Sub", [x, g.reduce("ReduceMax", x, axes, layer.name + "_max")], layer.name + "_shifted")
    e = g.op("Exp", [shifted], layer.name + "_exp")
    return g.op("Div", [e, g.reduce("ReduceSum", e, axes, layer.name + "_sum")], layer.name)


def relu(g, layer, x):
    if layer.max_value is None and not layer.negative_slope and not layer.threshold:
        return g.op("Relu", [x], layer.name)
    t = g.const(layer.threshold, layer.name + "/threshold")
    zero = g.const(0.0, layer.name + "/zero")
    y = g.op("Where", [g.op("Greater", [x, t], layer.name + "_above"), x, zero], layer.name + "_kept")
    if layer.max_value is not None:
        y = g.op("Min", [y, g.const(layer.max_value, layer.name + "/max_value")], layer.name + "_capped")
    if layer.negative_slope:
        below = g.op("Relu", [g.op("Sub", [t, x], layer.name + "_t_minus_x")], layer.name + "_below")
        leak = g.op("Mul", [below, g.const(layer.negative_slope, layer.name + "/negative_slope")], layer.name + "_leak")
        y = g.op("Sub", [y, leak], layer.name + "_leaky")
    return g.op("Identity", [y], layer.name)


def leaky_relu(g, layer, x):
    return g.op("LeakyRelu", [x], layer.name, alpha=float(layer.negative_slope))   # ONNX's default is 0.01


def elu(g, layer, x):
    return g.op("Elu", [x], layer.name, alpha=float(layer.alpha))


def prelu(g, layer, x):
    return g.op("PRelu", [x, g.const(layer.params["alpha"], layer.name + "/alpha")], layer.name)


# -- normalisation and preprocessing ------------------------------------------------------------------
def batch_normalization(g, layer, x):
    """Inference: (x - moving_mean) * gamma / sqrt(moving_variance + epsilon) + beta, on the last axis."""
    dtype = np.dtype(layer.dtype)
    var = layer.state["moving_variance"]
    inv_std = (1.0 / np.sqrt(var + layer.epsilon)).astype(dtype)
    scale = inv_std * layer.params["gamma"] if layer.scale else inv_std
    y = g.op("Sub", [x, g.const(layer.state["moving_mean"], layer.name + "/moving_mean")], layer.name + "_centered")
    y = g.op("Mul", [y, g.const(scale, layer.name + "/scale")], layer.name + "_scaled")
    if layer.center:
        y = g.op("Add", [y, g.const(layer.params["beta"], layer.name + "/beta")], layer.name + "_shifted")
    return g.op("Identity", [y], layer.name)


def layer_normalization(g, layer, x):
    ndim, axes = _rank(layer), list(layer._axes_built)
    mean = g.reduce("ReduceMean", x, axes, layer.name + "_mean")
    centered = g.op("Sub", [x, mean], layer.name + "_centered")
    var = g.reduce("ReduceMean", g.op("Mul", [centered, centered], layer.name + "_square"), axes, layer.name + "_var")
    std = g.op("Sqrt", [g.op("Add", [var, g.const(layer.epsilon, layer.name + "/epsilon")], layer.name + "_var_eps")],
               layer.name + "_std")
    y = g.op("Div", [centered, std], layer.name + "_normalized")
    if layer.scale:
        y = g.op("Mul", [y, g.const(layer._broadcast(layer.params["gamma"], ndim), layer.name + "/gamma")],
                 layer.name + "_scaled")
    if layer.center:
        y = g.op("Add", [y, g.const(layer._broadcast(layer.params["beta"], ndim), layer.name + "/beta")],
                 layer.name + "_shifted")
    return g.op("Identity", [y], layer.name)


def normalization(g, layer, x):
    mean, variance = layer._statistics(_rank(layer))
    scale = np.maximum(np.sqrt(variance), backend.epsilon()).astype(layer.dtype, copy=False)   # as forward
    mean_name, scale_name = g.const(mean, layer.name + "/mean"), g.const(scale, layer.name + "/scale")
    if layer.invert:
        return g.op("Add", [g.op("Mul", [x, scale_name], layer.name + "_scaled"), mean_name], layer.name)
    return g.op("Div", [g.op("Sub", [x, mean_name], layer.name + "_centered"), scale_name], layer.name)


def rescaling(g, layer, x):
    y = g.op("Mul", [x, g.const(layer.scale, layer.name + "/scale")], layer.name + "_scaled")
    if layer.offset:
        y = g.op("Add", [y, g.const(layer.offset, layer.name + "/offset")], layer.name + "_offset")
    return g.op("Identity", [y], layer.name)


def embedding(g, layer, x):
    """Rows of the table: the ids arrive in the model's float type (as predict takes them) and are cast."""
    ids = g.op("Cast", [x], layer.name + "_ids", to=g.onnx.TensorProto.INT64)
    return g.op("Gather", [g.const(layer.params["embeddings"], layer.name + "/embeddings"), ids], layer.name, axis=0)


# -- merging ------------------------------------------------------------------------------------------------
def _chain(g, op_type, xs, hint):
    y = xs[0]
    for k, other in enumerate(xs[1:]):
        y = g.op(op_type, [y, other], f"{hint}_{k}" if k < len(xs) - 2 else hint)
    return y


def concatenate(g, layer, xs):
    return g.op("Concat", list(xs), layer.name, axis=int(layer.axis))


def add(g, layer, xs):
    return _chain(g, "Add", xs, layer.name)


def subtract(g, layer, xs):
    return g.op("Sub", list(xs), layer.name)


def multiply(g, layer, xs):
    return _chain(g, "Mul", xs, layer.name)


def average(g, layer, xs):
    total = _chain(g, "Add", xs, layer.name + "_sum")
    return g.op("Div", [total, g.const(len(xs), layer.name + "/count")], layer.name)


def maximum(g, layer, xs):
    return g.op("Max", list(xs), layer.name)


def minimum(g, layer, xs):
    return g.op("Min", list(xs), layer.name)


CONVERTERS = {
    "Dense": dense, "Activation": activation, "Flatten": flatten, "Reshape": reshape,
    "Identity": identity, "InputLayer": identity, "Dropout": identity, "SpatialDropout2D": identity,
    "GaussianNoise": identity,
    "Softmax": softmax, "ReLU": relu, "LeakyReLU": leaky_relu, "ELU": elu, "PReLU": prelu,
    "BatchNormalization": batch_normalization, "LayerNormalization": layer_normalization,
    "Normalization": normalization, "Rescaling": rescaling, "Embedding": embedding,
    "Concatenate": concatenate, "Add": add, "Subtract": subtract, "Multiply": multiply, "Average": average,
    "Maximum": maximum, "Minimum": minimum,
}
