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

and the convolutional network's layers (issue 12):

    Conv2D, Conv1D      {"filters", "kernel_size": [3, 3], "strides": [1, 1], "padding", "data_format":
                        "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation", "use_bias",
                        "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                        "activity_regularizer", "kernel_constraint", "bias_constraint"}; kernel (kh, kw, cin,
                        filters) -- Conv1D (k, cin, filters) -- then bias (filters,): glassnet's W and b as they are
    MaxPooling2D, AveragePooling2D, MaxPooling1D, AveragePooling1D
                        {"pool_size": [2, 2], "padding", "strides": [2, 2], "data_format"}
    GlobalAveragePooling2D, GlobalMaxPooling2D, GlobalMaxPooling1D   {"data_format", "keepdims"}
    ZeroPadding2D       {"padding": [[top, bottom], [left, right]], "data_format"}
    UpSampling2D        {"size": [2, 2], "data_format", "interpolation": "nearest"}
    SpatialDropout2D    {"rate", "seed", "data_format"} (Keras writes its dtype as a plain string, no trainable)

None of these but the convolutions has weights. glassnet's convolutions, window pooling, padding, upsampling
and spatial dropout read channels-last images only (the global poolings take both), so a Keras file with
data_format="channels_first" on one of them, a grouped convolution (groups != 1), or a convolution with a constraint
or an activity regularizer is refused, naming the layer and the option: the layers would compute something
else, or could not go on training as the Keras model does. (Dense, older, drops its constraints with a
warning instead.)
"""
from __future__ import annotations

from .. import _registry

_ACT_TO_KERAS = {"swish": "silu"}           # glassnet name -> Keras name, where they differ
_NO_KERAS = {"step"}                        # glassnet activations Keras 3 does not have
_REGULARIZERS = {"L1": "l1", "L2": "l2", "L1L2": "l1_l2"}     # Keras class -> glassnet's registry name


def keras_activation(name, layer):
    """glassnet's activation name as Keras 3 names it; a ValueError for one Keras lacks (step)."""
    if name in _NO_KERAS:
        raise ValueError(f"cannot save as .keras: layer {layer.name!r} uses the activation {name!r}, which "
                         f"Keras 3 does not have; save it as .glassnet instead")
    return _ACT_TO_KERAS.get(name, name)


def activation(value):
    """A Keras activation (a name, or {"class_name": "function", "config": name}) as glassnet names it."""
    if isinstance(value, dict):           # {"class_name": "function", "config": "relu"} in some Keras files
        value = value.get("config")
    if isinstance(value, str) and value.lower() == "silu":
        return "swish"
    return value


def keras_regularizer(reg):
    """A glassnet L1, L2 or L1L2 as Keras describes it (the same penalty: l1 sum|W| + l2 sum W^2)."""
    if reg is None:
        return None
    name = type(reg).__name__
    if _REGULARIZERS.get(name) != _registry.name_of("regularizer", reg):
        raise ValueError(f"cannot save as .keras: the regularizer {name} is not one Keras 3 has; save as .glassnet")
    return {"module": "keras.regularizers", "class_name": name, "config": reg.get_config(), "registered_name": None}


def regularizer(spec):
    """A Keras L1, L2 or L1L2 regularizer config as glassnet's; anything else is a ValueError."""
    if spec is None:
        return None
    name = spec.get("class_name") if isinstance(spec, dict) else spec
    if name not in ("L1", "L2", "L1L2"):
        raise ValueError(f"the regularizer {name!r} is not one glassnet has (L1, L2, L1L2)")
    config = spec.get("config") or {} if isinstance(spec, dict) else {}
    return _registry.lookup("regularizer", _REGULARIZERS[name])(**{k: v for k, v in config.items()
                                                                  if k in ("l1", "l2")})


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

# ----------------------------------------------------------------------
# the convolutional network's layers
# ----------------------------------------------------------------------
_CONVS = ("Conv2D", "Conv1D")
_POOLS = ("MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D")
_GLOBAL_POOLS = ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalMaxPooling1D")
#: the keys of each layer's glassnet config that Keras's config holds too, under the same name
_SHARED_KEYS = {
    **{kind: ("pool_size", "padding", "strides", "data_format") for kind in _POOLS},
    **{kind: ("data_format", "keepdims") for kind in _GLOBAL_POOLS},
    "ZeroPadding2D": ("padding", "data_format"),
    "UpSampling2D": ("size", "data_format", "interpolation"),
    "SpatialDropout2D": ("rate", "seed", "data_format"),
}


def _conv_to_keras(layer):
    c = layer.get_config()
    return {"filters": c["filters"], "kernel_size": c["kernel_size"], "strides": c["strides"], "padding": c["padding"],
            "data_format": "channels_last", "dilation_rate": c["dilation_rate"], "groups": 1,
            "activation": keras_activation(c["activation"], layer), "use_bias": c["use_bias"],
            "kernel_regularizer": keras_regularizer(layer.kernel_regularizer),
            "bias_regularizer": keras_regularizer(layer.bias_regularizer),
            "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}


def _shared_to_keras(kind):
    def to_keras(layer):
        c = layer.get_config()
        return {key: c[key] for key in _SHARED_KEYS[kind] if key in c}
    return to_keras


#: layers whose Keras constructor takes no `trainable` and whose config names its dtype plainly ("float32")
PLAIN_BASE = ("SpatialDropout2D",)
TO_KERAS.update({kind: _conv_to_keras for kind in _CONVS})
TO_KERAS.update({kind: _shared_to_keras(kind) for kind in _SHARED_KEYS})


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


def _channels_last(c):
    """Keras's data_format None means its global default, channels_last unless configured otherwise."""
    data_format = c.get("data_format") or "channels_last"
    if data_format != "channels_last":
        raise ValueError(f"data_format={data_format!r:.40} is not supported: glassnet reads channels-last "
                         f"images only (data_format='channels_last')")
    return data_format


def _conv(c):
    _channels_last(c)
    if c.get("groups", 1) != 1:
        raise ValueError(f"groups={c['groups']!r:.40} is not supported: glassnet has no grouped convolutions "
                         f"(groups=1)")
    for key in ("kernel_constraint", "bias_constraint", "activity_regularizer", "lora_rank",
                "quantization_config"):
        if c.get(key) not in (None, 0):
            value = c[key].get("class_name", c[key]) if isinstance(c[key], dict) else c[key]
            raise ValueError(f"{key}={value!r:.60} is not supported by glassnet's convolutions")
    return {"filters": c["filters"], "kernel_size": c["kernel_size"], "strides": c.get("strides", 1),
            "padding": c.get("padding", "valid"), "dilation_rate": c.get("dilation_rate", 1),
            "activation": activation(c.get("activation")), "use_bias": c.get("use_bias", True),
            "kernel_regularizer": regularizer(c.get("kernel_regularizer")),
            "bias_regularizer": regularizer(c.get("bias_regularizer"))}


def _shared_from_keras(kind):
    def from_keras(c):
        if kind in _GLOBAL_POOLS:                  # these read channels-first inputs too
            return {"data_format": c.get("data_format") or "channels_last", "keepdims": c.get("keepdims", False)}
        _channels_last(c)
        kwargs = {key: c[key] for key in _SHARED_KEYS[kind] if key in c and key != "data_format"}
        return kwargs          # the layer checks the values (an interpolation it lacks is refused by name)
    return from_keras


FROM_KERAS.update({kind: _conv for kind in _CONVS})
FROM_KERAS.update({kind: _shared_from_keras(kind) for kind in _SHARED_KEYS})

#: options of these layers that glassnet drops with a warning when it reads a Keras file (their
#: weights load, and predictions are unchanged; training differs)
DROPPED = ("alpha_regularizer", "alpha_constraint", "embeddings_regularizer", "embeddings_constraint")
