"""Layers (Keras names). Each follows the contract in `glassnet.layers.base`; each class a model file
may name registers itself as a "layer" in glassnet._registry."""
from .. import _registry
from .base import Layer
from .base import KerasTensor, Variable
from .activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .convolutional import Conv1D, Conv2D
from .core import Activation, Dense, Flatten, Identity, Input, InputLayer
from .embedding import Embedding
from .global_pooling import GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D
from .merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .merging import add, average, concatenate, maximum, minimum, multiply, subtract
from .normalization import LayerNormalization
from .padding import ZeroPadding2D
from .pooling import AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D
from .preprocessing import Normalization, Rescaling
from .regularization import BatchNormalization, Dropout, GaussianNoise
from .reshaping import Reshape
from .spatial_dropout import SpatialDropout2D
from .upsampling import UpSampling2D

def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict) -> Layer:
    return _registry.from_spec(config, "layer", _registry.classes("layer"))


__all__ = ["Layer", "Dense", "Activation", "Flatten", "Input", "InputLayer", "Dropout",
           "BatchNormalization", "Rescaling", "serialize", "deserialize",
           "KerasTensor", "Variable", "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "Normalization", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU", "Reshape", "Identity",
           "LayerNormalization", "GaussianNoise", "Conv1D", "Conv2D", "MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D", "Embedding", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "ZeroPadding2D", "UpSampling2D",
           "SpatialDropout2D",
           "concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum"]
