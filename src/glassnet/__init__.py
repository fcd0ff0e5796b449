"""glassnet: neural networks in NumPy that you can see through, and that run fast.

    import glassnet as gn
    model = gn.Sequential([
        gn.layers.Dense(50, activation="sigmoid", input_shape=(784,)),
        gn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

The namespaces mirror Keras (`import glassnet as keras` runs Keras scripts):
models, layers, optimizers, losses, activations, initializers, regularizers,
metrics, callbacks, datasets, utils, ops.
"""
from . import (activations, backend, callbacks, convolution, datasets, initializers, layers, losses, metrics, models, ops,
               optimizers, regularizers)
from .backend import floatx, set_floatx, set_random_seed
from .gradcheck import gradient_check, numerical_gradient
from .layers import Input
from .models import Model, Sequential
from . import saving
from .saving import ModelFileError, load_model
from . import doctor, explain, perceptron
from .explain import Trace
from .perceptron import Perceptron
from ._version import __version__

from . import utils

__all__ = ["Sequential", "Model", "Input", "activations", "backend", "callbacks", "convolution", "datasets", "initializers", "layers",
           "losses", "metrics", "models", "ops", "optimizers", "regularizers", "floatx", "set_floatx",
           "set_random_seed", "gradient_check", "numerical_gradient", "saving", "load_model", "ModelFileError",
           "doctor", "explain", "perceptron", "Perceptron", "Trace", "plot", "utils", "__version__"]


def __getattr__(name):
    """`gn.plot` and `gn.wrappers` load the figures (matplotlib) and the scikit-learn estimators
    (scikit-learn) only when first used.  wrappers stays out of __all__: `from glassnet import *`
    must work without scikit-learn."""
    if name in ("plot", "wrappers"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")
