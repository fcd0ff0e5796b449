"""SKLearnRegressor: a glassnet regressor as a scikit-learn one (one target or several)."""
from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from .base import SKLBase


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A glassnet model as a scikit-learn regressor (Keras 3's keras.wrappers.SKLearnRegressor).

    Parameters are SKLBase's (glassnet.wrappers.base).  y of shape (n,) or (n, k); the model is
    trained on y as a column (n, 1) or as given, and predict gives y's shape back (float64).
    Attributes after fit: model_, history_, n_features_in_.
    """

    def predict(self, X):
        """The model's predictions: shape (n,) when fit's y was 1-D, else (n, k)."""
        out = self._outputs(X).astype(np.float64)
        return out.ravel() if self._y_ndim == 1 and out.shape[1] == 1 else out
