"""The small ConvNet that `glassnet explain --model convnet` traces, on 8x8 digits.

    model, x, y = convnet_example()          # Input (8, 8, 1) -> Conv2D 2 3x3 relu -> MaxPooling2D 2
    trace = model.trace(x, y)                #   -> Flatten -> Dense 10 softmax, float64, SGD 0.1

The digits are the bundled MNIST sample's (glassnet.datasets.mnist_mini, its test split, in order),
made small enough to read every number: the 28x28 image without its 2-pixel border (24x24, where
MNIST has almost no ink) is averaged over 3x3 blocks (glassnet.convolution.pool, kind="average")
into 8x8, scaled to [0, 1] and rounded to two decimals.  The labels are the digits' classes 0-9.
"""
from __future__ import annotations

import numpy as np

from .. import layers as layers_module
from .. import optimizers
from ..backend import set_random_seed
from ..convolution import pool
from ..datasets import mnist_mini
from ..models import Sequential

#: `glassnet explain --model convnet`'s defaults
CONVNET_DEFAULTS = {"filters": 2, "kernel_size": 3, "samples": 1, "seed": 0, "optimizer": "sgd",
                    "learning_rate": 0.1}


def small_digits(samples=1):
    """(x, y): the first `samples` test digits of mnist_mini as 8x8 images (samples, 8, 8, 1) in [0, 1]
    (two decimals) and their labels (samples,)."""
    (_, _), (images, labels) = mnist_mini.load_data()
    if not 1 <= samples <= len(images):
        raise ValueError(f"samples must be between 1 and {len(images)} (the mnist-mini test split), got {samples}")
    x = images[:samples, 2:26, 2:26, None].astype(np.float64) / 255.0      # (n, 24, 24, 1)
    x = np.round(pool(x, 3, kind="average"), 2)                             # (n, 8, 8, 1)
    return x, labels[:samples].astype(np.int64)


def convnet_example(samples=1, filters=2, kernel_size=3, seed=0, optimizer="sgd", learning_rate=0.1):
    """The small ConvNet, compiled, and its batch: (model, x, y).

    Input (8, 8, 1) -> Conv2D(filters, kernel_size, relu) -> MaxPooling2D(2) -> Flatten ->
    Dense(10, softmax); float64 weights from `seed` (glorot_uniform kernels, zero biases);
    sparse categorical cross-entropy; `optimizer` ("sgd", "adam", ...) with `learning_rate`.
    x, y: the first `samples` 8x8 digits (`small_digits`).
    """
    x, y = small_digits(samples)
    set_random_seed(seed)
    model = Sequential([
        layers_module.Input(shape=(8, 8, 1), dtype="float64"),
        layers_module.Conv2D(filters, kernel_size, activation="relu", dtype="float64"),
        layers_module.MaxPooling2D(2, dtype="float64"),
        layers_module.Flatten(dtype="float64"),
        layers_module.Dense(10, activation="softmax", dtype="float64"),
    ], name="convnet")
    opt = optimizers.get(optimizer)
    opt.learning_rate = learning_rate
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    return model, x, y
