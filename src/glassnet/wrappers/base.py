"""The estimator the three wrappers share: its parameters (Keras 3's, plus random_state and routed
parameters), the model it trains (copied, or built by a callable), fit and partial_fit, and seeds.

    SKLBase(model, warm_start=False, model_kwargs=None, fit_kwargs=None, random_state=None, **routed)

`model` is a compiled glassnet model (copied before each fresh fit, weights as given), or a callable
`model(X=X, y=y, **model_kwargs)` returning a compiled model.  `routed` holds scikeras-style routed
parameters (wrappers/routing.py): get_params lists them and set_params sets them, so GridSearchCV and
sklearn.base.clone treat them as any other parameter.
"""
from __future__ import annotations

import contextlib
import copy
import numbers
import threading

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import backend
from ..models import Model
from . import routing

FLOATS = (np.float32, np.float64)       # X keeps these; anything else (ints, bools) becomes float32
# glassnet's generator is one per process: seeded fits in threads of one process (joblib's threading
# backend, a Dask worker with several threads) take turns, so that each stays the same run
_SEEDED = threading.RLock()


class SKLBase(BaseEstimator):
    """A glassnet model as a scikit-learn estimator (the shared part of the three wrappers).

    Args:
        model: a compiled glassnet Model, or a callable `model(X=X, y=y, **model_kwargs)` returning one.
            A Model is deep-copied (with its weights as they are) before each fit that starts afresh,
            so every such fit starts from the same weights and the model passed in is never trained.
        warm_start: when True, fit continues training `model_` from the previous fit (if any).
        model_kwargs: keyword arguments for the callable `model`.
        fit_kwargs: keyword arguments for `model.fit` (epochs, batch_size, ...).  Keyword arguments
            given to the wrapper's `fit` come over these.  verbose defaults to 0 and the training
            doctor to off (fit_kwargs={"verbose": 1, "doctor": True} turns them on).
        random_state: None (glassnet's global generator, as set by gn.set_random_seed), or an int:
            the model's initial weights, its dropout and fit's shuffling come from a generator of the
            estimator's own seeded with it, so the same data gives the same model bit for bit,
            without touching the global generator.
        **routed: routed parameters, `model__NAME`, `fit__NAME`, `compile__NAME`, `optimizer__NAME`
            (glassnet.wrappers.routing).

    Attributes after fit: model_ (the trained glassnet model), history_ (dict of per-epoch lists:
    the History's .history, extended by warm-started fits and partial_fit), n_features_in_,
    feature_names_in_ (for DataFrames with string column names).
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None, random_state=None, **routed):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs
        self.random_state = random_state
        self._routed = dict(routed)        # checked when fit runs (scikit-learn: __init__ never raises)

    # ------------------------------------------------------------------
    # Parameters: the signature's, and the routed ones
    # ------------------------------------------------------------------
    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self.__dict__.get("_routed", {}))
        return params

    def set_params(self, **params):
        mine = self.__dict__.get("_routed", {})
        routed = {k: v for k, v in params.items() if routing.is_routed(k) or k in mine}
        rest = {k: v for k, v in params.items() if k not in routed}
        if rest:
            super().set_params(**rest)
        self.__dict__.setdefault("_routed", {}).update(routed)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.target_tags.multi_output = True             # y (n, k): k outputs (regressor, transformer)
        return tags

    # ------------------------------------------------------------------
    # Seeds
    # ------------------------------------------------------------------
    @contextlib.contextmanager
    def _seeded(self, reset):
        """With an int random_state, run the block on the estimator's own generator (a fresh one on
        reset, else the one the last fit left), then give the global generator back."""
        seed = self.random_state
        if seed is None:
            yield
            return
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"random_state must be None or a non-negative int, got {seed!r}")
        with _SEEDED:
            if reset or getattr(self, "_rng", None) is None:
                self._rng = np.random.default_rng(int(seed))
            saved = backend._RNG
            backend._RNG = self._rng
            try:
                yield
            finally:
                backend._RNG = saved

    # ------------------------------------------------------------------
    # The model
    # ------------------------------------------------------------------
    def _new_model(self, X, y):
        """A fresh compiled model: a copy of `model`, or what the callable `model` returns; then the
        compile__ and optimizer__ parameters applied, and built for X's features."""
        name = type(self).__name__
        model_args = routing.merged(self.model_kwargs, self._routed, "model", "model_kwargs")
        if isinstance(self.model, Model):
            if model_args:
                raise ValueError(f"{name}: model_kwargs and model__ parameters go to a callable model, but "
                                 f"model is a {type(self.model).__name__} instance; got {sorted(model_args)}")
            model = copy.deepcopy(self.model)
        elif callable(self.model):
            model = self.model(X=X, y=y, **model_args)
            if not isinstance(model, Model):
                raise TypeError(f"{name}: the callable model must return a compiled glassnet Model, "
                                f"got {type(model).__name__}")
        else:
            raise TypeError(f"{name}: model must be a compiled glassnet Model or a callable "
                            f"model(X=X, y=y, **model_kwargs) returning one, got {type(self.model).__name__}")
        if not getattr(model, "compiled", False):
            raise ValueError(f"{name}: the model must be compiled (model.compile(optimizer=..., loss=...)) "
                             f"before the wrapper fits it")
        if len(getattr(model, "outputs", ())) > 1:
            raise ValueError(f"{name}: the model must have one output, this one has {len(model.outputs)}")
        routing.recompile(model, routing.routed(self._routed, "compile"))
        routing.set_optimizer(model, routing.routed(self._routed, "optimizer"))
        if not model.built:
            model.build((None,) + X.shape[1:])
        return model

    def _fit_args(self, given, partial):
        args = routing.merged(self.fit_kwargs, self._routed, "fit", "fit_kwargs")
        args.update(given)
        args.setdefault("verbose", 0)
        args.setdefault("doctor", False)
        if partial:
            args["epochs"] = 1
            args.pop("initial_epoch", None)
        for key in ("x", "y"):
            if key in args:
                raise TypeError(f"{type(self).__name__}: {key} comes from fit(X, y), not from fit keyword arguments")
        return args

    # ------------------------------------------------------------------
    # Data: what subclasses change
    # ------------------------------------------------------------------
    def _validate(self, X, y, reset):
        """(X, y) checked by scikit-learn (2-D X, n_features_in_ set on reset)."""
        return validate_data(self, X, y, reset=reset, dtype=FLOATS, multi_output=True, y_numeric=True)

    def _encode(self, y, reset, classes=None):
        """(y for the callable model, y for model.fit before the model is known).  Regressors: y as a column."""
        y = np.asarray(y)
        if reset:
            self._y_ndim = y.ndim
        elif y.ndim != self._y_ndim and not (y.ndim == 2 and y.shape[1] == 1 and self._y_ndim == 1):
            raise ValueError(f"{type(self).__name__}: y has {y.ndim} dimension(s), the earlier fit had {self._y_ndim}")
        y = y.reshape(len(y), -1)
        return y, y

    def _target(self, model, y):
        """y as model.fit takes it, once the model is known."""
        return y

    # ------------------------------------------------------------------
    # fit and partial_fit
    # ------------------------------------------------------------------
    def _train(self, X, y, given, partial, classes=None):
        routing.check_routed(self._routed, type(self).__name__)
        fitted = hasattr(self, "model_")
        reset = not fitted or not (partial or self.warm_start)
        X, y = self._validate(X, y, reset=reset)
        y_model, y_fit = self._encode(y, reset=reset, classes=classes)
        args = self._fit_args(given, partial)
        with self._seeded(reset):
            model = self._new_model(X, y_model) if reset else self.model_
            history = model.fit(X, self._target(model, y_fit), **args)
        logs = {k: list(v) for k, v in getattr(history, "history", {}).items()}
        if reset:
            self.history_ = logs
        else:
            for key, values in logs.items():
                self.history_.setdefault(key, []).extend(values)
        self.model_ = model
        return self

    def fit(self, X, y, **kwargs):
        """Train a fresh model on (X, y) (or continue `model_` with warm_start=True); kwargs go to model.fit."""
        return self._train(X, y, kwargs, partial=False)

    def partial_fit(self, X, y, **kwargs):
        """One epoch over (X, y), continuing the model of the earlier fit or partial_fit (a fresh model
        on the first call).  The epochs of fit_kwargs and fit__epochs are fit's, not partial_fit's."""
        return self._train(X, y, kwargs, partial=True)

    def _outputs(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=FLOATS)
        return np.asarray(self.model_.predict(X, verbose=0))
