"""The networks `glassnet train --model NAME` builds.

    mlp             the study notes' fully connected classifier: Dense hidden layers (--hidden,
                    --activation), then softmax; samples flattened (the default, 784-50 sigmoid-10)
    convnet         keras.io's simple MNIST convnet (examples/keras_convnet.py): Conv2D 32 3x3 relu,
                    MaxPooling2D 2, Conv2D 64 3x3 relu, MaxPooling2D 2, Flatten, Dropout 0.5, Dense softmax
    simple_convnet  the textbook's SimpleConvNet (examples/convnet_by_hand.py): Conv2D 30 5x5 relu,
                    MaxPooling2D 2, Flatten, Dense 100 relu, Dense softmax; weights drawn from N(0, 0.01^2)

The convolutional networks take images (height, width, channels); their batch size defaults to their
sources' (128 for convnet as keras.io, 100 for simple_convnet as the book).
"""
from __future__ import annotations

from ..initializers import RandomNormal
from ..layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from ..models import Sequential

MODELS = ("mlp", "convnet", "simple_convnet")
#: the models that read images (height, width, channels) rather than flat samples
IMAGE_MODELS = ("convnet", "simple_convnet")
#: each model's batch size when --batch-size is not given
BATCH_SIZES = {"mlp": 32, "convnet": 128, "simple_convnet": 100}


def mlp(input_shape, classes, hidden=(50,), activation="sigmoid", dtype="float32"):
    layers = []
    for i, width in enumerate(hidden):
        extra = {"input_shape": tuple(input_shape)} if i == 0 else {}
        layers.append(Dense(width, activation=activation, dtype=dtype, **extra))
    layers.append(Dense(classes, activation="softmax", dtype=dtype,
                        **({} if layers else {"input_shape": tuple(input_shape)})))
    return Sequential(layers)


def convnet(input_shape, classes, dtype="float32"):
    return Sequential([
        Input(shape=input_shape, dtype=dtype),
        Conv2D(32, kernel_size=(3, 3), activation="relu", dtype=dtype),
        MaxPooling2D(pool_size=(2, 2), dtype=dtype),
        Conv2D(64, kernel_size=(3, 3), activation="relu", dtype=dtype),
        MaxPooling2D(pool_size=(2, 2), dtype=dtype),
        Flatten(dtype=dtype),
        Dropout(0.5, dtype=dtype),
        Dense(classes, activation="softmax", dtype=dtype),
    ])


def simple_convnet(input_shape, classes, dtype="float32", weight_init_std=0.01):
    init = RandomNormal(stddev=weight_init_std)
    return Sequential([
        Input(shape=input_shape, dtype=dtype),
        Conv2D(30, kernel_size=5, activation="relu", kernel_initializer=init, dtype=dtype),
        MaxPooling2D(pool_size=2, dtype=dtype),
        Flatten(dtype=dtype),
        Dense(100, activation="relu", kernel_initializer=init, dtype=dtype),
        Dense(classes, activation="softmax", kernel_initializer=init, dtype=dtype),
    ])


def build(name, input_shape, classes, hidden=(50,), activation="sigmoid", dtype="float32"):
    """The network `name` for samples of `input_shape` and `classes` classes (ValueError when the
    images are too small for its convolutions and pools)."""
    if name == "mlp":
        return mlp(input_shape, classes, hidden, activation, dtype)
    if name == "convnet":
        return convnet(input_shape, classes, dtype)
    if name == "simple_convnet":
        return simple_convnet(input_shape, classes, dtype)
    raise ValueError(f"unknown model {name!r}; choose {', '.join(MODELS)}")
