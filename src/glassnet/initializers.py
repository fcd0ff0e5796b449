"""Weight initialisers (Keras names and defaults).

    init = gn.initializers.RandomNormal(stddev=0.01)   # the notes' weight_init_std=0.01
    W = init((784, 50))

An initialiser with `seed=` gives the same values at every call (as in Keras);
without one it draws from the global generator that `set_random_seed` seeds.

fan_in and fan_out are the input and output widths of a Dense kernel (in, out):
- GlorotUniform (Xavier): U(-l, l), l = sqrt(6 / (fan_in + fan_out))
- GlorotNormal:  truncated normal, stddev = sqrt(2 / (fan_in + fan_out))
- HeNormal:      truncated normal, stddev = sqrt(2 / fan_in)
- HeUniform:     U(-l, l), l = sqrt(6 / fan_in)
Truncated normals redraw values beyond two standard deviations and are scaled
by 1/0.8796 so the variance is the one stated, as Keras does.
"""
from __future__ import annotations

import numpy as np

from . import _checks, _registry, backend
from ._registry import register

_TRUNC_STD = 0.87962566103423978   # std of a unit normal truncated to [-2, 2]


class Initializer:
    """Base class: `init(shape, dtype=None) -> np.ndarray`."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    __repr__ = _registry.config_repr


@register("initializer", "zeros")
class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        _checks.array_size(shape, f"a weight made by {type(self).__name__}")
        return np.zeros(shape, dtype=backend.standardize_dtype(dtype))


@register("initializer", "ones")
class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        _checks.array_size(shape, f"a weight made by {type(self).__name__}")
        return np.ones(shape, dtype=backend.standardize_dtype(dtype))


@register("initializer", "constant")
class Constant(Initializer):
    """Every entry set to `value`: a number, or (as Keras broadcasts it) an array that broadcasts to
    the weight's shape, such as the tutorials' `Constant(np.log([pos / neg]))` for a one-unit bias."""

    def __init__(self, value=0.0):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"Constant expects a number or an array of numbers, got {value!r}") from None
        self.value = float(array) if array.ndim == 0 else array

    def __call__(self, shape, dtype=None):
        _checks.array_size(shape, f"a weight made by {type(self).__name__}")
        dtype = backend.standardize_dtype(dtype)
        if isinstance(self.value, float):
            return np.full(shape, self.value, dtype=dtype)
        try:
            return np.broadcast_to(self.value.astype(dtype), tuple(shape)).copy()
        except ValueError:
            raise ValueError(f"Constant holds a value of shape {self.value.shape}, which cannot fill a weight "
                             f"of shape {tuple(shape)}") from None

    def get_config(self):
        return {"value": self.value if isinstance(self.value, float) else self.value.tolist()}


class _Random(Initializer):
    def __init__(self, seed=None):
        self.seed = _checks.seed(seed)

    def _rng(self):
        return backend.global_rng() if self.seed is None else np.random.default_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class _Normal(_Random):
    """A normal distribution of given mean and standard deviation."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        if not stddev >= 0:
            raise ValueError(f"stddev must be >= 0, got {stddev!r}")
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None):
        _checks.array_size(shape, f"a weight made by {type(self).__name__}")
        dtype = backend.standardize_dtype(dtype)
        w = self._unit(self._rng(), shape) * self.stddev + self.mean
        return w.astype(dtype, copy=False)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@register("initializer", "random_normal")
class RandomNormal(_Normal):
    """N(mean, stddev^2). RandomNormal(stddev=0.01) is the notes' `weight_init_std * randn`."""

    @staticmethod
    def _unit(rng, shape):
        return rng.standard_normal(shape)


@register("initializer", "random_uniform")
class RandomUniform(_Random):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        if not maxval >= minval:
            raise ValueError(f"maxval must be >= minval, got minval={minval!r}, maxval={maxval!r}")
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None):
        _checks.array_size(shape, f"a weight made by {type(self).__name__}")
        dtype = backend.standardize_dtype(dtype)
        return self._rng().uniform(self.minval, self.maxval, size=shape).astype(dtype, copy=False)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


@register("initializer", "truncated_normal")
class TruncatedNormal(_Normal):
    """N(mean, stddev^2), values beyond two standard deviations redrawn."""

    @staticmethod
    def _unit(rng, shape):
        return _truncated_unit_normal(rng, shape)


@register("initializer", "variance_scaling")
class VarianceScaling(_Random):
    """Scale the variance by fan_in, fan_out or their average (the family Glorot and He belong to)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("distribution must be 'truncated_normal', 'untruncated_normal' or 'uniform', "
                             f"got {distribution!r}")
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None):
        _checks.array_size(shape, f"a weight made by {type(self).__name__}")
        dtype = backend.standardize_dtype(dtype)
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            w = rng.uniform(-limit, limit, size=shape)
        elif self.distribution == "truncated_normal":
            w = _truncated_unit_normal(rng, shape) * (np.sqrt(variance) / _TRUNC_STD)
        else:
            w = rng.standard_normal(shape) * np.sqrt(variance)
        return w.astype(dtype, copy=False)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _Preset(VarianceScaling):
    """A named VarianceScaling (scale, mode, distribution given by `preset`) whose only argument is the seed."""

    preset: tuple = ()

    def __init__(self, seed=None):
        super().__init__(*self.preset, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


@register("initializer", "glorot_uniform")
class GlorotUniform(_Preset):
    """Xavier uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)). Keras's Dense default."""

    preset = (1.0, "fan_avg", "uniform")


@register("initializer", "glorot_normal")
class GlorotNormal(_Preset):
    """Xavier normal: truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    preset = (1.0, "fan_avg", "truncated_normal")


@register("initializer", "he_normal")
class HeNormal(_Preset):
    """He normal: truncated normal with stddev sqrt(2 / fan_in); suits ReLU."""

    preset = (2.0, "fan_in", "truncated_normal")


@register("initializer", "he_uniform")
class HeUniform(_Preset):
    """He uniform: U(-l, l), l = sqrt(6 / fan_in)."""

    preset = (2.0, "fan_in", "uniform")


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape; a Dense kernel (in, out) gives (in, out)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_unit_normal(rng, shape):
    w = rng.standard_normal(shape)
    bad = np.abs(w) > 2
    while np.any(bad):
        w[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(w) > 2
    return w


_CLASSES = _registry.classes("initializer")      # {"zeros": Zeros, ..., "he_uniform": HeUniform}
_ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
            "uniform": "random_uniform", "normal": "random_normal"}          # Keras's short names
_CAMEL = {cls.__name__.lower(): name for name, cls in _CLASSES.items()}


def names() -> list[str]:
    return sorted(_CLASSES) + sorted(_ALIASES)


def get(identifier) -> Initializer:
    """An Initializer for a name ("he_normal", "GlorotUniform", ...), a {"class_name", "config"} dict,
    a subclass or an instance.

    None gives GlorotUniform(): a Keras 3 layer given `bias_initializer=None` (or any initializer
    None) draws that weight from glorot_uniform, the default of its `add_weight`, and so does glassnet.
    """
    if identifier is None:
        return GlorotUniform()
    return _registry.resolve(identifier, "initializer", _CLASSES, Initializer, aliases={**_CAMEL, **_ALIASES},
                             known=names(), accepts="a name (str) or an Initializer")


def serialize(init: Initializer) -> dict:
    return {"class_name": _registry.name_of("initializer", init), "config": init.get_config()}


def deserialize(config: dict) -> Initializer:
    return _registry.from_spec(config, "initializer", _CLASSES)
