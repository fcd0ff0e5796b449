"""SKLearnTransformer: a glassnet model as a scikit-learn transformer (transform = the model's outputs)."""
from __future__ import annotations

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import validate_data

from .base import FLOATS, SKLBase


class SKLearnTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, SKLBase):
    """A glassnet model as a scikit-learn transformer (Keras 3's keras.wrappers.SKLearnTransformer).

    fit(X, y) trains the model on (X, y); fit(X) (y None) trains it to give X back, an autoencoder.
    transform(X) is the model's outputs, named sklearntransformer0, 1, ... by get_feature_names_out
    (so set_output(transform="pandas") works).  Parameters are SKLBase's (glassnet.wrappers.base).
    """

    @property
    def _n_features_out(self):
        """The width of the model's output (what get_feature_names_out names)."""
        return self.model_.output_shape[-1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []       # outputs are in the model's float type
        return tags

    def _validate(self, X, y, reset):
        if y is None:
            X = validate_data(self, X, reset=reset, dtype=FLOATS)
            return X, X
        return super()._validate(X, y, reset)

    def fit(self, X, y=None, **kwargs):
        """Train a fresh model on (X, y), or on (X, X) when y is None; kwargs go to model.fit."""
        return self._train(X, y, kwargs, partial=False)

    def partial_fit(self, X, y=None, **kwargs):
        """One epoch over (X, y) (or (X, X)), continuing the earlier fit's model."""
        return self._train(X, y, kwargs, partial=True)

    def transform(self, X):
        """The model's outputs for X."""
        return self._outputs(X)
