"""Layers that regularise training: Dropout, GaussianNoise and BatchNormalization.

Dropout (inverted): while training, each unit is kept with probability
1 - rate and scaled by 1 / (1 - rate); at inference it is the identity.

BatchNormalization: while training, normalise each feature with the batch's
mean and (biased) variance, then scale by gamma and shift by beta; keep
moving averages  moving = momentum * moving + (1 - momentum) * batch_stat
and use them at inference.  Keras's defaults: momentum=0.99, epsilon=1e-3.

GaussianNoise(stddev): while training, y = x + noise with noise ~ N(0, stddev^2) drawn afresh for
every batch (so dL/dx = dL/dy); at inference it is the identity.
"""
from __future__ import annotations

import numpy as np

from .. import _checks, backend
from .. import initializers as _initializers
from .._registry import register
from .base import Layer


@register("layer")
class Dropout(Layer):
    """Dropout(rate): zero a fraction `rate` of the inputs while training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _checks.fraction(rate, "Dropout rate")
        self.rng = backend.make_rng(seed)       # checks the seed; a Generator passed in is used as is
        self.seed = None if isinstance(seed, np.random.Generator) else seed
        self._mask = None

    def forward(self, x, training=False):
        x = np.asarray(x)
        self._ensure_built(x)
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        keep = 1.0 - self.rate
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(self.dtype)
        mask = self.rng.random(x.shape, dtype=np.float32 if dtype == np.float32 else np.float64)
        mask = np.less(mask, keep, out=self._buffer("keep", x.shape, bool))
        scaled = self._buffer("mask", x.shape, dtype)
        np.multiply(mask, dtype.type(1.0 / keep), out=scaled)
        self._mask = scaled
        return x * scaled

    def backward(self, dy):
        if not self.need_input_grad:
            return None
        return dy if self._mask is None else dy * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@register("layer")
class GaussianNoise(Layer):
    """GaussianNoise(stddev, seed=None): add N(0, stddev^2) noise while training; the identity at inference."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _checks.positive_number(stddev, "GaussianNoise stddev", allow_zero=True)
        self.rng = backend.make_rng(seed)       # checks the seed; a Generator passed in is used as is
        self.seed = None if isinstance(seed, np.random.Generator) else seed

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        if not training or self.stddev == 0.0:
            return x
        noise = self.rng.standard_normal(x.shape, dtype=np.dtype(self.dtype))
        noise *= self.stddev
        noise += x
        return noise

    def backward(self, dy):
        return None if not self.need_input_grad else np.asarray(dy)     # the noise does not depend on x

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


@register("layer")
class BatchNormalization(Layer):
    """Normalise each feature over the batch, then gamma * x_hat + beta (Keras defaults)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError(f"BatchNormalization supports axis=-1 (the feature axis), got axis={axis!r}")
        self.axis = -1
        self.momentum = _checks.fraction(momentum, "BatchNormalization momentum", closed=True)
        self.epsilon = _checks.positive_number(epsilon, "BatchNormalization epsilon")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.moving_mean_initializer = _initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = _initializers.get(moving_variance_initializer)
        self._cache = None

    gamma = property(lambda self: self._variable("params", "gamma", "gamma"))
    beta = property(lambda self: self._variable("params", "beta", "beta"))
    moving_mean = property(lambda self: self._variable("state", "moving_mean", "moving_mean"))
    moving_variance = property(lambda self: self._variable("state", "moving_variance", "moving_variance"))

    def build(self, input_shape):
        c = input_shape[-1]
        self.params = {}
        if self.scale:
            self.params["gamma"] = self.gamma_initializer((c,), self.dtype)
        if self.center:
            self.params["beta"] = self.beta_initializer((c,), self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.state = {"moving_mean": self.moving_mean_initializer((c,), self.dtype),
                      "moving_variance": self.moving_variance_initializer((c,), self.dtype)}
        super().build(input_shape)

    def forward(self, x, training=False):
        x = self._check_input(x)
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        if training:
            mean = x2.mean(axis=0)
            centered = x2 - mean
            var = np.mean(np.square(centered), axis=0)
            m = self.momentum
            self.state["moving_mean"] *= m
            self.state["moving_mean"] += (1 - m) * mean
            self.state["moving_variance"] *= m
            self.state["moving_variance"] += (1 - m) * var
        else:
            centered = x2 - self.state["moving_mean"]
            var = self.state["moving_variance"]
        inv_std = 1.0 / np.sqrt(var + self.epsilon)
        x_hat = centered * inv_std
        y = x_hat * self.params["gamma"] if self.scale else x_hat.copy()
        if self.center:
            y += self.params["beta"]
        self._cache = (x_hat, inv_std, training, shape)
        return y.reshape(shape)

    def backward(self, dy):
        if self._cache is None:
            raise RuntimeError("BatchNormalization.backward called before forward")
        x_hat, inv_std, training, shape = self._cache
        dy = np.asarray(dy).reshape(x_hat.shape)
        if self.scale:
            np.sum(dy * x_hat, axis=0, out=self.grads["gamma"])
        if self.center:
            np.sum(dy, axis=0, out=self.grads["beta"])
        if not self.need_input_grad:
            return None
        dx_hat = dy * self.params["gamma"] if self.scale else dy
        if not training:                       # moving statistics are constants
            return (dx_hat * inv_std).reshape(shape)
        dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * np.mean(dx_hat * x_hat, axis=0)) * inv_std
        return dx.reshape(shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": _initializers.serialize(self.beta_initializer),
                "gamma_initializer": _initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": _initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": _initializers.serialize(self.moving_variance_initializer)}
