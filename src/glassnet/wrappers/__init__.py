"""scikit-learn estimators around glassnet models, with Keras 3's names (keras.wrappers).

    from glassnet.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

    base.py         SKLBase: the parameters (Keras 3's + random_state + routed), fit, partial_fit, seeds
    routing.py      routed parameters: model__units, fit__epochs, compile__loss, optimizer__learning_rate
    classifier.py   SKLearnClassifier: labels, predict_proba, predict
    regressor.py    SKLearnRegressor
    transformer.py  SKLearnTransformer: transform = the model's outputs
    networks.py     mlp_classifier, mlp_regressor: ready-made model callables (model__units, ...)

Needs scikit-learn (pip install "glassnet[sklearn]"); `import glassnet` does not load it.
"""
from __future__ import annotations

try:
    import sklearn  # noqa: F401
except ImportError:                                         # pragma: no cover - the extra is installed in CI
    raise ImportError("glassnet.wrappers needs scikit-learn: pip install \"glassnet[sklearn]\" "
                      "(or pip install scikit-learn)") from None

from .base import SKLBase
from .classifier import SKLearnClassifier
from .networks import mlp_classifier, mlp_regressor
from .regressor import SKLearnRegressor
from .routing import ROUTES
from .transformer import SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer", "SKLBase", "ROUTES", "mlp_classifier", "mlp_regressor"]
