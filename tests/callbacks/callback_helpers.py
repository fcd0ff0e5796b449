"""Helpers shared by the callback tests (tests/callbacks/test_*.py); the fixtures are in conftest.py."""
import numpy as np

import glassnet as gn
from glassnet.callbacks import Callback

N, FEATURES, CLASSES = 60, 4, 3


def make_model(optimizer="adam", seed=0, loss="sparse_categorical_crossentropy"):
    gn.set_random_seed(seed)
    model = gn.Sequential([gn.layers.Dense(8, activation="tanh", input_shape=(FEATURES,)),
                           gn.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


class Script(Callback):
    """Puts scripted values under `key` into the epoch logs (callbacks after it see them)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class WeightsAtEpochEnd(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def by_hand(model, x, y):
    """(cross-entropy, accuracy) from predict(), in float64."""
    p = model.predict(x).astype(np.float64)
    loss = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)))
    return loss, float(np.mean(np.argmax(p, axis=1) == y))
