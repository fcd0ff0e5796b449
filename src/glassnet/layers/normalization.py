"""LayerNormalization (Keras's name, arguments and defaults): each sample normalised on its own.

For every sample, over the axes in `axis` (default -1, the features):

    mean = mean(x),  var = mean((x - mean)^2)          (the biased variance, as Keras)
    x_hat = (x - mean) / sqrt(var + epsilon)           epsilon = 1e-3
    y = gamma * x_hat + beta                           gamma (scale=True) and beta (center=True) are
                                                       learnt, one per position of the normalised axes

Unlike BatchNormalization (regularization.py) it needs no batch statistics: training and inference
compute the same thing, and a batch of one sample is fine. Backward, with n values normalised together
and g = dL/dy * gamma:

    dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + epsilon)
    dL/dgamma = sum of dL/dy * x_hat,   dL/dbeta = sum of dL/dy   (over the batch and the other axes)
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .. import initializers as _initializers
from .._registry import register
from .base import Layer, _axes, _axis_argument


@register("layer")
class LayerNormalization(Layer):
    """LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True): normalise each sample."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, rms_scaling=False, **kwargs):
        super().__init__(**kwargs)
        for what, value in (("beta_regularizer", beta_regularizer), ("gamma_regularizer", gamma_regularizer),
                            ("beta_constraint", beta_constraint), ("gamma_constraint", gamma_constraint)):
            if value is not None:
                raise ValueError(f"LayerNormalization {what} is not supported by glassnet; got {value!r}: "
                                 f"leave it None")
        if rms_scaling:
            raise ValueError("LayerNormalization rms_scaling=True is not supported (Keras 3 deprecates it: "
                             "it scales by the variance, not the root mean square); leave it False")
        self.axis = _axis_argument(axis, "LayerNormalization axis")
        self.epsilon = _checks.positive_number(epsilon, "LayerNormalization epsilon")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self._cache = None

    gamma = property(lambda self: self._variable("params", "gamma", "gamma"))
    beta = property(lambda self: self._variable("params", "beta", "beta"))

    def build(self, input_shape):
        axes = _axes(self.axis, len(input_shape), "LayerNormalization axis")
        shape = tuple(input_shape[a] for a in axes)
        self.params = {}
        if self.scale:
            self.params["gamma"] = self.gamma_initializer(shape, self.dtype)
        if self.center:
            self.params["beta"] = self.beta_initializer(shape, self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._axes_built = axes
        super().build(input_shape)

    def _broadcast(self, w, ndim):
        """gamma or beta shaped to broadcast against inputs of `ndim` dimensions."""
        shape = [1] * ndim
        for a, n in zip(self._axes_built, w.shape):
            shape[a] = n
        return w.reshape(shape)

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        axes = self._axes_built
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = np.mean(np.square(centered), axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + self.epsilon)
        x_hat = centered * inv_std
        y = x_hat * self._broadcast(self.params["gamma"], x.ndim) if self.scale else x_hat.copy()
        if self.center:
            y += self._broadcast(self.params["beta"], x.ndim)
        self._cache = (x_hat, inv_std)
        return y

    def backward(self, dy):
        if self._cache is None:
            raise RuntimeError("LayerNormalization.backward called before forward")
        x_hat, inv_std = self._cache
        dy = np.asarray(dy, dtype=self.dtype)
        if dy.shape != x_hat.shape:
            raise ValueError(f"{self._label()} backward expects dy of shape {x_hat.shape}, got {dy.shape}")
        axes = self._axes_built
        others = tuple(a for a in range(dy.ndim) if a not in axes)     # summed for gamma's and beta's gradients
        if self.scale:
            self.grads["gamma"][...] = np.sum(dy * x_hat, axis=others).reshape(self.grads["gamma"].shape)
        if self.center:
            self.grads["beta"][...] = np.sum(dy, axis=others).reshape(self.grads["beta"].shape)
        if not self.need_input_grad:
            return None
        g = dy * self._broadcast(self.params["gamma"], dy.ndim) if self.scale else dy
        return (g - g.mean(axis=axes, keepdims=True)
                - x_hat * np.mean(g * x_hat, axis=axes, keepdims=True)) * inv_std

    def get_config(self):
        return {**super().get_config(), "axis": self.axis if isinstance(self.axis, int) else list(self.axis),
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": _initializers.serialize(self.beta_initializer),
                "gamma_initializer": _initializers.serialize(self.gamma_initializer)}
