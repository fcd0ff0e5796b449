"""Layers (Keras names). Each follows the contract in `glassnet.layers.base`."""
from .base import Layer
from .core import Activation, Dense, Flatten, Input, InputLayer
from .preprocessing import Rescaling
from .regularization import BatchNormalization, Dropout

_CLASSES = {cls.__name__: cls for cls in (Dense, Activation, Flatten, InputLayer, Dropout, BatchNormalization,
                                          Rescaling)}


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict) -> Layer:
    name = config.get("class_name")
    if name not in _CLASSES:
        raise ValueError(f"Unknown layer class {name!r}; known layers: {', '.join(sorted(_CLASSES))}")
    return _CLASSES[name].from_config(config.get("config", {}))


__all__ = ["Layer", "Dense", "Activation", "Flatten", "Input", "InputLayer", "Dropout",
           "BatchNormalization", "Rescaling", "serialize", "deserialize"]
