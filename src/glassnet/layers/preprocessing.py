"""Preprocessing inside the model: Rescaling and Normalization (Keras's names and arguments).

    model = gn.Sequential([
        gn.layers.Rescaling(1 / 255, input_shape=(784,)),      # uint8 pixels -> [0, 1]
        gn.layers.Dense(50, activation="sigmoid"),
        gn.layers.Dense(10, activation="softmax"),
    ])
    model.fit(x_uint8, y)          # the pixels stay uint8: each batch is converted on its own

Scaling in the model, rather than `x / 255` up front, keeps a data set as it is stored
(60,000 MNIST images: 47 MB of uint8 instead of 188 MB of float32, or a np.memmap),
and the saved model applies the same scaling to whatever it is given later.

Normalization standardises each feature with a mean and variance learnt from data before training
(`adapt`), or given:

    norm = gn.layers.Normalization()         # axis=-1: one mean and variance per feature
    norm.adapt(x_train)                      # mean = x.mean(axis=0), variance = x.var(axis=0)
    y = (x - mean) / max(sqrt(variance), 1e-7)        # invert=True: y = mean + x * max(sqrt(variance), 1e-7)

Its weights are Keras's: `mean`, `variance` and `count` (an int32 scalar: the samples adapt() read;
Keras 3 keeps it at 0), none of them trainable; with mean= and variance= given it has no weights, the
values are in its config. Backward: dL/dx = dL/dy / max(sqrt(variance), 1e-7).
"""
from __future__ import annotations

import numpy as np

from .. import _checks, backend
from .._registry import register
from .base import Layer, Variable, _axes, _axis_argument


@register("layer")
class Rescaling(Layer):
    """y = x * scale + offset, for example Rescaling(1 / 255) or Rescaling(1 / 127.5, offset=-1)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _checks.finite_number(scale, "Rescaling scale")
        self.offset = _checks.finite_number(offset, "Rescaling offset")

    def forward(self, x, training=False):
        x = np.asarray(x)
        self._ensure_built(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(self.dtype)
        y = np.multiply(x, self.scale, out=self._buffer("y", x.shape, dtype), casting="unsafe")
        if self.offset:
            y += self.offset
        return y

    def backward(self, dy):
        if not self.need_input_grad:
            return None
        return np.multiply(dy, self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


@register("layer")
class Normalization(Layer):
    """Normalization(axis=-1, mean=None, variance=None, invert=False): (x - mean) / sqrt(variance), with the
    mean and variance learnt by adapt(data) or given; axis: the axes that keep their own statistics (an int,
    a list, or None for one mean and variance over everything)."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and not axis:
            axis = None                     # Keras writes axis=None as []
        self.axis = None if axis is None else _axis_argument(axis, "Normalization axis")
        if (mean is None) != (variance is None):
            raise ValueError("Normalization takes mean= and variance= together (or neither, and then adapt()); "
                             f"got mean={mean!r:.40} and variance={variance!r:.40}")
        self.input_mean = self.input_variance = None
        if mean is not None:
            self.input_mean = _statistic(mean, "mean")
            self.input_variance = _statistic(variance, "variance")
            if np.any(np.asarray(self.input_variance) < 0):
                raise ValueError(f"Normalization variance must not be negative, got {variance!r:.80}")
        self.invert = bool(invert)
        self._fixed = None              # (mean, variance) broadcast to the input, when given
        self._pending = None            # statistics adapt() found before the layer was built
        self._scale = None

    mean = property(lambda self: self._statistic_variable(0, "mean"),
                    doc="the mean, shaped to broadcast against a batch (Keras's normalizer.mean)")
    variance = property(lambda self: self._statistic_variable(1, "variance"),
                        doc="the variance, shaped to broadcast against a batch (Keras's normalizer.variance)")

    def _statistic_variable(self, index, name):
        if not self.built and self._pending is not None:     # axis=None adapted on a flat list: shape (1,), as Keras
            array = np.asarray(self._pending[index], dtype=self.dtype).reshape(1)
        elif not self.built:
            raise AttributeError(f"{self._label()} has no {name} yet: call adapt(data) or build it first")
        else:
            array = self._fixed[index] if self._fixed is not None else \
                self.state[name].reshape(self._broadcast_shape(len(self.input_shape)))
        variable = array.view(Variable)
        variable.path = f"{self.name}/{name}"
        return variable

    def _keep(self, ndim):
        return () if self.axis is None else _axes(self.axis, ndim, "Normalization axis")

    def _broadcast_shape(self, ndim):
        keep = self._keep(ndim)
        return tuple(self.input_shape[d] if d in keep else 1 for d in range(ndim))

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        keep = self._keep(len(input_shape))
        shape = tuple(input_shape[d] for d in keep)
        if any(d is None for d in shape):
            raise ValueError(f"Normalization needs the size of the axes it keeps ({self.axis}); got inputs of shape "
                             f"{input_shape}")
        self.input_shape = input_shape
        broadcast = self._broadcast_shape(len(input_shape))
        if self.input_mean is not None:
            try:
                self._fixed = tuple(np.array(np.broadcast_to(np.asarray(v, dtype=self.dtype), broadcast))
                                    for v in (self.input_mean, self.input_variance))
            except ValueError:
                raise ValueError(f"Normalization mean and variance of shape {np.shape(self.input_mean)} do not fit "
                                 f"inputs of shape {input_shape} (axis={self.axis})") from None
            self.state = {}
        else:
            self.state = {"mean": np.zeros(shape, self.dtype), "variance": np.ones(shape, self.dtype),
                          "count": np.zeros((), np.int32)}
            if self._pending is not None:
                self._store(*self._pending)
                self._pending = None
        super().build(input_shape)

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the mean and variance of `data` (an array, or an iterable of batches) over every axis but
        the kept ones; builds the layer from data's shape if it is not built yet."""
        if self.input_mean is not None:
            raise ValueError("this Normalization was given mean= and variance=; adapt() would overwrite them")
        arrays = _batches(data)
        first = arrays[0]
        if self.built:
            ndim = len(self.input_shape)
        elif self._declared_input_shape is not None:
            self.build((None,) + self._declared_input_shape)
            ndim = len(self.input_shape)
        elif self.axis is None and first.ndim < 2:
            ndim = None                     # one mean of a flat list: the input shape can wait for the model
        else:
            if first.ndim < 2:
                raise ValueError(f"Normalization.adapt needs a batch of samples of shape (n, features), got shape "
                                 f"{first.shape}; pass data.reshape(-1, 1) for one feature, or axis=None")
            self.build((None,) + first.shape[1:])
            ndim = len(self.input_shape)
        keep = self._keep(ndim) if ndim is not None else ()
        total = None
        for a in arrays:
            if ndim is not None and self.axis is not None:
                if a.ndim != ndim or any(a.shape[d] != self.input_shape[d] for d in keep):
                    raise ValueError(f"Normalization.adapt: the layer takes inputs of shape {self.input_shape}, "
                                     f"got data of shape {a.shape}")
            reduce = tuple(d for d in range(a.ndim) if d not in keep)
            n = int(np.prod([a.shape[d] for d in reduce]))
            if n == 0:
                continue
            mean = a.mean(axis=reduce, dtype=np.float64)
            m2 = np.square(a - mean.reshape([a.shape[d] if d in keep else 1 for d in range(a.ndim)]),
                           dtype=np.float64).sum(axis=reduce)
            if total is None:
                total = [n, mean, m2]
            else:                           # Chan et al.: merge the batch's mean and squared deviations
                count, mu, s2 = total
                delta = mean - mu
                both = count + n
                total = [both, mu + delta * (n / both), s2 + m2 + delta ** 2 * (count * n / both)]
        if total is None:
            raise ValueError("Normalization.adapt got no values to learn from")
        count, mean, m2 = total
        stats = (mean, m2 / count, count)
        if self.built:
            self._store(*stats)
        else:
            self._pending = stats

    def _store(self, mean, variance, count):
        self.state["mean"][...] = mean
        self.state["variance"][...] = variance
        self.state["count"][...] = min(int(count), np.iinfo(np.int32).max)

    def _statistics(self, ndim):
        if self._fixed is not None:
            return self._fixed
        shape = self._broadcast_shape(ndim)
        return self.state["mean"].reshape(shape), self.state["variance"].reshape(shape)

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        mean, variance = self._statistics(x.ndim)
        scale = np.maximum(np.sqrt(variance), backend.epsilon()).astype(self.dtype, copy=False)
        self._scale = scale
        if self.invert:
            return mean + x * scale
        return (x - mean) / scale

    def backward(self, dy):
        if self._scale is None:
            raise RuntimeError("Normalization.backward called before forward")
        if not self.need_input_grad:
            return None
        dy = np.asarray(dy, dtype=self.dtype)
        return dy * self._scale if self.invert else dy / self._scale

    def get_config(self):
        config = {**super().get_config(), "axis": self.axis if self.axis is None or isinstance(self.axis, int)
                  else list(self.axis), "invert": self.invert}
        config["mean"], config["variance"] = self.input_mean, self.input_variance
        return config


def _statistic(value, what):
    """A given mean or variance as a float or a (nested) list of floats, checked finite."""
    array = np.asarray(value, dtype=np.float64) if not isinstance(value, str) else None
    if array is None or not np.isfinite(array).all():
        raise ValueError(f"Normalization {what} must be finite numbers, got {value!r:.80}")
    return array.tolist()


def _batches(data):
    """adapt()'s data as a list of numeric arrays: one array (an ndarray, a list, a DataFrame), or the
    batches of another iterable (a generator, a dataset)."""
    if isinstance(data, np.ndarray) or isinstance(data, (list, tuple)) or hasattr(data, "__array__"):
        arrays = [np.asarray(data)]
    elif hasattr(data, "__iter__"):
        arrays = [np.asarray(batch[0] if isinstance(batch, tuple) else batch) for batch in data]
        if not arrays:
            raise ValueError("Normalization.adapt got an empty iterable: expected at least one batch")
    else:
        raise TypeError(f"Normalization.adapt takes an array or an iterable of batches, got {type(data).__name__}")
    for a in arrays:
        if a.dtype.kind not in "fiub" or a.size == 0:
            raise TypeError(f"Normalization.adapt takes non-empty arrays of numbers, got {a.dtype} of shape {a.shape}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError("Normalization.adapt got data with NaN or infinite values")
    return arrays
