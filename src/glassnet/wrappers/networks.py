"""Ready-made model callables for the wrappers: a small multilayer perceptron, built for X and y.

    SKLearnClassifier(model=mlp_classifier, model__units=(32, 16), fit__epochs=20)
    GridSearchCV(SKLearnClassifier(mlp_classifier), {"model__layers": [1, 2], "model__units": [16, 64]})
    SKLearnRegressor(model=mlp_regressor, model__activation="tanh", optimizer__learning_rate=1e-2)

Each is a callable `f(X=X, y=y, **model_kwargs)` as the wrappers call it; its keywords are what
model__ parameters search.  They live in a module (not in a script) so that joblib's worker
processes can import them by name.
"""
from __future__ import annotations

import numpy as np

from .. import layers
from ..models import Sequential


def hidden_units(units, layers=None) -> tuple:
    """The widths of the hidden layers: `units` (an int) repeated `layers` times (1 by default), or
    `units` as a tuple of widths, one per layer (then `layers`, if given, must be its length)."""
    if isinstance(units, (int, np.integer)) and not isinstance(units, bool):
        count = 1 if layers is None else layers
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(f"layers must be a non-negative int (the number of hidden layers), got {layers!r}")
        return (int(units),) * int(count)
    if isinstance(units, (list, tuple)):
        if layers is not None and layers != len(units):
            raise ValueError(f"units {tuple(units)} gives {len(units)} hidden layers, but layers={layers!r}")
        return tuple(units)
    raise TypeError(f"units must be an int or a tuple of ints (one per hidden layer), got {units!r}")


def _mlp(X, width, units, layers_count, activation, dropout, output_activation):
    units = hidden_units(units, layers_count)
    model = Sequential([layers.Input(shape=tuple(X.shape[1:]))])
    for n in units:
        model.add(layers.Dense(n, activation=activation))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(width, activation=output_activation))
    return model


def mlp_classifier(X, y, units=16, layers=None, activation="relu", dropout=0.0, optimizer="adam", metrics=None):
    """Hidden Dense layers (`layers` of `units` each, or a tuple of widths as `units`), then softmax
    over y's columns (the wrapper gives y one-hot), compiled with categorical cross-entropy."""
    model = _mlp(X, y.shape[1], units, layers, activation, dropout, "softmax")
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=metrics)
    return model


def mlp_regressor(X, y, units=16, layers=None, activation="relu", dropout=0.0, optimizer="adam",
                  loss="mean_squared_error", metrics=None):
    """Hidden Dense layers as mlp_classifier's, then a linear layer of y's width, compiled with `loss`."""
    model = _mlp(X, 1 if y.ndim == 1 else y.shape[1], units, layers, activation, dropout, "linear")
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model
