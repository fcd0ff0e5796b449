"""Keras 3 specs of the layers beyond the first few (keras_file holds Dense, Activation, Flatten, Dropout,
BatchNormalization, Rescaling): Normalization, Softmax, ReLU, LeakyReLU, ELU, PReLU, Reshape, Identity,
LayerNormalization, GaussianNoise, Embedding, GlobalAveragePooling1D.

TO_KERAS[class name](layer) gives the layer's Keras config (without name, trainable and dtype, which
keras_file adds); FROM_KERAS[class name](config) gives the glassnet constructor's arguments from a Keras
config, raising ValueError for an option glassnet lacks. The layouts are those Keras 3.15 writes:

    Normalization       {"axis": [-1] | [] (None), "invert", "mean": null | values, "variance": ...}; weights
                        mean, variance, count (int32, shape ()) -- none when mean/variance are given
    LayerNormalization  {"axis": [-1], "epsilon", "center", "scale", "rms_scaling": false, ...}; gamma, beta
    PReLU               {"alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"}; alpha
                        (the sample's shape, 1 on shared axes)
    Embedding           {"input_dim", "output_dim", "embeddings_initializer", "mask_zero", ...}; embeddings
    Softmax {"axis"}, ReLU {"max_value", "negative_slope", "threshold"}, LeakyReLU {"negative_slope"},
    ELU {"alpha"}, Reshape {"target_shape"}, Identity {}, GaussianNoise {"stddev", "seed"},
    GlobalAveragePooling1D {"data_format", "keepdims"}: no weights (an empty group each in the weights file)
"""
from __future__ import annotations


def _axis(axis):
    """glassnet's axis (an int, a tuple or None) as Keras writes it: a list ([] for None)."""
    if axis is None:
        return []
    return [axis] if isinstance(axis, int) else list(axis)


def _keras_axis(axis):
    """A Keras axis (a list of one, a list, an int or null) as glassnet takes it."""
    if isinstance(axis, list) and len(axis) == 1:
        return axis[0]
    return axis


TO_KERAS = {
    "Normalization": lambda l: {"axis": _axis(l.axis), "invert": l.invert, "mean": l.input_mean,
                                "variance": l.input_variance},
    "Softmax": lambda l: {"axis": l.axis if isinstance(l.axis, int) else list(l.axis)},
    "ReLU": lambda l: {"max_value": l.max_value, "negative_slope": l.negative_slope, "threshold": l.threshold},
    "LeakyReLU": lambda l: {"negative_slope": l.negative_slope},
    "ELU": lambda l: {"alpha": l.alpha},
    "PReLU": lambda l: {"alpha_regularizer": None, "alpha_constraint": None, "shared_axes": l.shared_axes},
    "Reshape": lambda l: {"target_shape": list(l.target_shape)},
    "Identity": lambda l: {},
    "LayerNormalization": lambda l: {"axis": _axis(l.axis), "epsilon": l.epsilon, "center": l.center,
                                     "scale": l.scale, "rms_scaling": False},
    "GaussianNoise": lambda l: {"stddev": l.stddev, "seed": l.seed},
    "Embedding": lambda l: {"input_dim": l.input_dim, "output_dim": l.output_dim, "mask_zero": False},
    "GlobalAveragePooling1D": lambda l: {"data_format": l.data_format, "keepdims": l.keepdims},
}


def _normalization(c):
    return {"axis": _keras_axis(c.get("axis", -1)), "invert": c.get("invert", False), "mean": c.get("mean"),
            "variance": c.get("variance")}


def _layer_normalization(c):
    if c.get("rms_scaling"):
        raise ValueError("LayerNormalization with rms_scaling=True is not supported")
    return {"axis": _keras_axis(c.get("axis", -1)), "epsilon": c.get("epsilon", 1e-3),
            "center": c.get("center", True), "scale": c.get("scale", True)}


def _embedding(c):
    if c.get("mask_zero"):
        raise ValueError("Embedding with mask_zero=True is not supported (glassnet has no masks yet)")
    for key in ("lora_rank", "quantization_config"):
        if c.get(key) is not None:
            raise ValueError(f"Embedding with {key}={c[key]!r:.40} is not supported")
    return {"input_dim": c["input_dim"], "output_dim": c["output_dim"]}


def _leaky_relu(c):
    return {"negative_slope": c.get("negative_slope", c.get("alpha", 0.3))}


FROM_KERAS = {
    "Normalization": _normalization,
    "Softmax": lambda c: {"axis": _keras_axis(c.get("axis", -1))},
    "ReLU": lambda c: {"max_value": c.get("max_value"), "negative_slope": c.get("negative_slope", 0.0),
                       "threshold": c.get("threshold", 0.0)},
    "LeakyReLU": _leaky_relu,
    "ELU": lambda c: {"alpha": c.get("alpha", 1.0)},
    "PReLU": lambda c: {"shared_axes": c.get("shared_axes")},
    "Reshape": lambda c: {"target_shape": c["target_shape"]},
    "Identity": lambda c: {},
    "LayerNormalization": _layer_normalization,
    "GaussianNoise": lambda c: {"stddev": c["stddev"], "seed": c.get("seed")},
    "Embedding": _embedding,
    "GlobalAveragePooling1D": lambda c: {"data_format": c.get("data_format") or "channels_last",
                                         "keepdims": c.get("keepdims", False)},
}

#: options of these layers that glassnet drops with a warning when it reads a Keras file (their
#: weights load, and predictions are unchanged; training differs)
DROPPED = ("alpha_regularizer", "alpha_constraint", "embeddings_regularizer", "embeddings_constraint")
