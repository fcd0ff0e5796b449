"""Ready-made model callables for the wrappers: a small multilayer perceptron, built for X and y.

    SKLearnClassifier(model=mlp_classifier, model__units=(32, 16), fit__epochs=20)
    SKLearnRegressor(model=mlp_regressor, model__activation="tanh", optimizer__learning_rate=1e-2)

Each is a callable `f(X=X, y=y, **model_kwargs)` as the wrappers call it; its keywords are what
model__ parameters search.  They live in a module (not in a script) so that joblib's worker
processes can import them by name.
"""
from __future__ import annotations

from .. import layers
from ..models import Sequential


def _mlp(X, width, units, activation, dropout, output_activation):
    units = (units,) if isinstance(units, int) else tuple(units)
    model = Sequential([layers.Input(shape=tuple(X.shape[1:]))])
    for n in units:
        model.add(layers.Dense(n, activation=activation))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(width, activation=output_activation))
    return model


def mlp_classifier(X, y, units=(16,), activation="relu", dropout=0.0, optimizer="adam", metrics=None):
    """Dense layers of `units` (an int or a tuple: one hidden layer each), then softmax over y's
    columns (the wrapper gives y one-hot), compiled with categorical cross-entropy."""
    model = _mlp(X, y.shape[1], units, activation, dropout, "softmax")
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=metrics)
    return model


def mlp_regressor(X, y, units=(16,), activation="relu", dropout=0.0, optimizer="adam", loss="mean_squared_error",
                  metrics=None):
    """Dense layers of `units`, then a linear layer of y's width, compiled with `loss` (mean squared error)."""
    model = _mlp(X, 1 if y.ndim == 1 else y.shape[1], units, activation, dropout, "linear")
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model
