"""SKLearnClassifier: a glassnet classifier as a scikit-learn one (labels of any kind, predict_proba).

Labels are encoded by their sorted unique values (`classes_`).  The callable model receives y one-hot
(as Keras 3's wrapper gives it: y.shape[1] is the number of classes); model.fit then receives the
targets the compiled model can take: class indices for a sparse loss, 0/1 for a one-unit (sigmoid)
output, one-hot otherwise.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import validate_data

from .base import FLOATS, SKLBase


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A glassnet model as a scikit-learn classifier (Keras 3's keras.wrappers.SKLearnClassifier).

    Parameters are SKLBase's (glassnet.wrappers.base).  Attributes after fit: classes_, model_,
    history_, n_features_in_.  predict_proba gives one column per class (a one-unit sigmoid output p
    gives [1 - p, p]; a loss with from_logits=True has its softmax or sigmoid applied).
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False          # one label per sample
        return tags

    def _validate(self, X, y, reset):
        return validate_data(self, X, y, reset=reset, dtype=FLOATS)

    def _encode(self, y, reset, classes=None):
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__} takes binary or multiclass targets (one label per "
                             f"sample), got {kind} targets")
        if reset:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes to learn from, got 1 class: "
                                 f"{labels[0]!r}")
            self.classes_ = labels
        idx = np.searchsorted(self.classes_, y)
        idx = np.minimum(idx, len(self.classes_) - 1)
        unseen = self.classes_[idx] != y
        if unseen.any():
            raise ValueError(f"{type(self).__name__}: y holds labels not among classes_ {list(self.classes_)}: "
                             f"{sorted(set(np.asarray(y)[unseen].tolist()))[:5]}")
        onehot = np.eye(len(self.classes_), dtype=np.float32)[idx]
        return onehot, idx

    def _target(self, model, idx):
        width = model.output_shape[-1]
        n = len(self.classes_)
        if width == 1:
            if n != 2:
                raise ValueError(f"{type(self).__name__}: a model with one output unit separates 2 classes, "
                                 f"y has {n}: give the last layer {n} units (softmax)")
            return idx.astype(np.float32).reshape(-1, 1)
        if width != n:
            raise ValueError(f"{type(self).__name__}: the model's output has {width} units, y has {n} classes")
        if getattr(model.loss, "sparse_labels", False):
            return idx
        return np.eye(n, dtype=np.float32)[idx]

    def partial_fit(self, X, y, classes=None, **kwargs):
        """One epoch over (X, y).  classes: every label the estimator will see (scikit-learn's
        convention), needed on the first call when this batch does not hold them all."""
        return self._train(X, y, kwargs, partial=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities, one row per sample and one column per class of classes_ (float64)."""
        out = self._outputs(X).astype(np.float64)
        if getattr(self.model_.loss, "from_logits", False):
            if out.shape[1] == 1:
                out = 1.0 / (1.0 + np.exp(-out))
            else:
                out = np.exp(out - out.max(axis=1, keepdims=True))
                out /= out.sum(axis=1, keepdims=True)
        if out.shape[1] == 1:
            out = np.hstack([1.0 - out, out])
        return out

    def decision_function(self, X):
        """Scores whose largest entry is the predicted class: log-probabilities (n, n_classes), or for two
        classes the log-odds of classes_[1] (n,), positive where it is predicted (scikit-learn's
        convention; Keras 3's wrapper returns the model's raw outputs)."""
        proba = self.predict_proba(X)
        logp = np.log(np.clip(proba, np.finfo(np.float64).tiny, None))
        if proba.shape[1] == 2:
            return logp[:, 1] - logp[:, 0]
        return logp

    def predict(self, X):
        """The most probable class of each sample (labels from classes_)."""
        proba = self.predict_proba(X)                # checks first: NotFittedError before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]
