"""Activation layers with arguments (Keras names and defaults): Softmax, ReLU, LeakyReLU, ELU, PReLU.

Each is the function of glassnet.activations as a layer of its own, with the arguments Keras gives it:

    Softmax(axis=-1)            y = exp(x) / sum(exp(x)) along axis
    ReLU(max_value=None, negative_slope=0.0, threshold=0.0)
                                y = min(x, max_value)                    where x > threshold
                                y = negative_slope * (x - threshold)     elsewhere (0 with the defaults)
    LeakyReLU(negative_slope=0.3)   y = x where x >= 0, else negative_slope * x  (Keras 3's default 0.3)
    ELU(alpha=1.0)              y = x where x > 0, else alpha * (exp(x) - 1)
    PReLU(alpha_initializer="zeros", shared_axes=None)
                                y = x where x > 0, else alpha * x, with alpha a weight learnt per unit
                                (one per value of an axis in shared_axes: shared_axes=[1] shares it
                                along axis 1 of (batch, steps, features))

Backward passes, given dL/dy (f' where it is elementwise):
    ReLU      1 on (threshold, max_value), negative_slope below the threshold, 0 above max_value
    ELU       1 where x > 0, else alpha * exp(x) = y + alpha
    PReLU     dL/dx = dL/dy * (1 or alpha);  dL/dalpha = sum of dL/dy * min(x, 0) over the shared axes
    Softmax   dL/dx = y * (dL/dy - sum(dL/dy * y along axis))   (the vector-Jacobian product)

A Softmax over the last axis is the activation a model fuses with categorical cross-entropy, as an
Activation("softmax") is: the model's loss then starts from the logits (forward_logits/backward_logits).
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .. import activations as _activations
from .. import initializers as _initializers
from .._registry import register
from .base import Layer, _axes, _axis_argument


class _Elementwise(Layer):
    """A layer y = f(x) of the same shape, caching x (and y) for backward."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._x = self._y = None

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._x = x
        self._y = self._function(x)
        return self._y

    def backward(self, dy):
        if self._x is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dy = np.asarray(dy, dtype=self.dtype)
        if dy.shape != self._x.shape:
            raise ValueError(f"{self._label()} backward expects dy of shape {self._x.shape}, got {dy.shape}")
        return self._input_gradient(dy)

    def _function(self, x):
        raise NotImplementedError

    def _input_gradient(self, dy):
        raise NotImplementedError


def _slope(value, what):
    return _checks.positive_number(value, what, allow_zero=True)


@register("layer")
class Softmax(_Elementwise):
    """Softmax(axis=-1): probabilities along `axis` (an int or a list of ints)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_argument(axis, "Softmax axis")

    @property
    def activation(self):
        """"softmax" when it acts on the last axis alone: a model then fuses it with categorical
        cross-entropy (as it does Activation("softmax")); None otherwise."""
        if not self.built:
            return "softmax" if self.axis in (-1, (-1,)) else None
        ndim = len(self.input_shape)
        return "softmax" if _axes(self.axis, ndim) == (ndim - 1,) else None

    def build(self, input_shape):
        _axes(self.axis, len(input_shape), "Softmax axis")           # checks the axes fit the input
        super().build(input_shape)

    def _function(self, x):
        return _activations.softmax(x, axis=_axes(self.axis, x.ndim))

    def _input_gradient(self, dy):
        y = self._y
        return y * (dy - np.sum(dy * y, axis=_axes(self.axis, y.ndim), keepdims=True))

    # the fused path (models/step.py): the loss takes the logits x and hands back dL/dx
    def forward_logits(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._x = x
        return x

    def backward_logits(self, dz):
        return dz

    def get_config(self):
        return {**super().get_config(), "axis": self.axis if isinstance(self.axis, int) else list(self.axis)}


@register("layer")
class ReLU(_Elementwise):
    """ReLU(max_value=None, negative_slope=0.0, threshold=0.0), Keras's rectifier with its options."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _slope(max_value, "ReLU max_value")
        self.negative_slope = _slope(negative_slope, "ReLU negative_slope")
        self.threshold = _slope(threshold, "ReLU threshold")

    @property
    def activation(self):
        """"relu" for the plain rectifier (no slope, threshold or cap): the training doctor then watches
        its units for dead ones, as it watches Dense(activation="relu"); None for the variants."""
        plain = self.max_value is None and not self.negative_slope and not self.threshold
        return "relu" if plain else None

    def _function(self, x):
        t = self.threshold
        y = np.where(x > t, x, 0).astype(self.dtype, copy=False)
        if self.max_value is not None:
            np.minimum(y, self.max_value, out=y)
        if self.negative_slope:
            y -= self.negative_slope * np.maximum(t - x, 0)
        return y

    def _input_gradient(self, dy):
        if not self.need_input_grad:
            return None
        x = self._x
        slope = (x > self.threshold).astype(self.dtype)
        if self.max_value is not None:
            slope[x > self.max_value] = 0
        if self.negative_slope:
            slope[x < self.threshold] = self.negative_slope
        return dy * slope

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


@register("layer")
class LeakyReLU(_Elementwise):
    """LeakyReLU(negative_slope=0.3): x where x >= 0, else negative_slope * x (Keras 3's name and default;
    Keras 2's `alpha=` is accepted too)."""

    def __init__(self, negative_slope=0.3, alpha=None, **kwargs):
        super().__init__(**kwargs)
        if alpha is not None:                                  # Keras 2's name, which Keras 3 still reads
            negative_slope = alpha
        self.negative_slope = _slope(negative_slope, "LeakyReLU negative_slope")

    def _function(self, x):
        return np.where(x >= 0, x, self.negative_slope * x).astype(self.dtype, copy=False)

    def _input_gradient(self, dy):
        if not self.need_input_grad:
            return None
        return np.where(self._x >= 0, dy, self.negative_slope * dy).astype(self.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


@register("layer")
class ELU(_Elementwise):
    """ELU(alpha=1.0): x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _checks.finite_number(alpha, "ELU alpha")

    def _function(self, x):
        return _activations.elu(x, self.alpha)

    def _input_gradient(self, dy):
        if not self.need_input_grad:
            return None
        return dy * _activations.elu_derivative(self._x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


@register("layer")
class PReLU(_Elementwise):
    """PReLU(alpha_initializer="zeros", shared_axes=None): a leaky ReLU whose slope alpha is learnt,
    one per unit (alpha has the shape of a sample, with 1 on each shared axis)."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        for what, value in (("alpha_regularizer", alpha_regularizer), ("alpha_constraint", alpha_constraint)):
            if value is not None:
                raise ValueError(f"PReLU {what} is not supported by glassnet (it has no such option here); "
                                 f"got {value!r}: leave it None")
        self.alpha_initializer = _initializers.get(alpha_initializer)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = [shared_axes] if isinstance(shared_axes, (int, np.integer)) else list(shared_axes)
            if not axes or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 1
                                   for a in axes):
                raise ValueError(f"PReLU shared_axes must be None or axes >= 1 (axis 0 is the batch), "
                                 f"got {shared_axes!r}")
            self.shared_axes = sorted({int(a) for a in axes})

    alpha = property(lambda self: self._variable("params", "alpha", "alpha"), doc="the learnt slopes (a Variable)")

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f"PReLU shared_axes={self.shared_axes} do not fit inputs of shape "
                                 f"{tuple(input_shape)}")
            shape[axis - 1] = 1
        self.params = {"alpha": self.alpha_initializer(tuple(shape), self.dtype)}
        self.grads = {"alpha": np.zeros_like(self.params["alpha"])}
        super().build(input_shape)

    def _function(self, x):
        return np.where(x > 0, x, self.params["alpha"] * x).astype(self.dtype, copy=False)

    def _input_gradient(self, dy):
        x = self._x
        negative = np.minimum(x, 0) * dy                      # dL/dalpha before summing over shared axes
        grad = negative.sum(axis=0)
        for axis in self.shared_axes or ():
            grad = grad.sum(axis=axis - 1, keepdims=True)
        self.grads["alpha"][...] = grad
        if not self.need_input_grad:
            return None
        return np.where(x > 0, dy, self.params["alpha"] * dy).astype(self.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": _initializers.serialize(self.alpha_initializer),
                "shared_axes": self.shared_axes}

