"""Loss functions, with Keras names and argument order (y_true, y_pred).

Plain functions return one loss per sample (Keras semantics):

    >>> gn.losses.mean_squared_error([[0., 1.]], [[0.5, 0.5]])
    array([0.25])

Loss classes (`MeanSquaredError()`, `CategoricalCrossentropy()`, ...) return
the mean over the batch, and know their gradient with respect to y_pred.
With per-sample weights w (Keras's `sample_weight`), the loss is Keras's
"sum over batch size": sum(w_i * l_i) / n, and its gradient is the unweighted
one with row i scaled by w_i.
Cross-entropy fuses with the activation in front of it: softmax followed by
categorical cross-entropy, or sigmoid followed by binary cross-entropy, is
computed from the logits z, and the backward pass is exactly (p - t) / n.

The study notes' own names are here too, in the notes' argument order:
`cross_entropy_error(y, t)` and `sum_squared_error(y, t)`.
"""
from __future__ import annotations

import re

import numpy as np

from . import _registry, backend, loss_gradient
from ._registry import register
from .activations import _row_max, _row_offsets, sigmoid


# --------------------------------------------------------------------------
# Per-sample functions (Keras)
# --------------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)^2) over the last axis: one value per sample."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_error")
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_error")
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-sum(t * log p) over the last axis, t one-hot (or a distribution).

    With from_logits=False, p is clipped to [eps, 1 - eps] (eps = 1e-7) as Keras does.
    """
    y_true, y_pred = _pair(y_true, y_pred, "categorical_crossentropy")
    return -np.sum(y_true * _log_probs(y_pred, from_logits), axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-log p[label] for integer labels y_true of shape (n,) or (n, 1)."""
    y_pred = _as_float(y_pred)
    labels = _labels(y_true, y_pred)
    logp = _log_probs(y_pred, from_logits)
    return -np.take_along_axis(logp, labels[:, None], axis=-1)[:, 0]


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """-(t log p + (1 - t) log(1 - p)), averaged over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "binary_crossentropy")
    if from_logits:
        z = y_pred
        per_unit = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
    else:
        eps = backend.epsilon()
        p = np.clip(y_pred, eps, 1 - eps)
        per_unit = -(y_true * np.log(p) + (1 - y_true) * np.log1p(-p))
    return np.mean(per_unit, axis=-1)


# ------------------------------------------------------------------------ The notes' functions

def cross_entropy_error(y, t, delta=1e-7):
    """The notes' cross-entropy: -sum(t * log(y + delta)) / batch_size.

    `y` holds probabilities, one row per sample (a 1-D y is one sample);
    `t` is one-hot with y's shape, or integer labels.
    """
    y, t = _as_float(y), np.asarray(t)
    if y.ndim == 0:
        raise ValueError("cross_entropy_error expects y with one row of probabilities per sample, got a scalar")
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    if t.size == y.size:
        if t.shape != y.shape:
            raise ValueError(f"cross_entropy_error expects t with y's shape {y.shape}, got {t.shape}")
        return float(-np.sum(t * np.log(y + delta)) / y.shape[0])
    labels = _labels(t, y)
    return float(-np.sum(np.log(y[np.arange(y.shape[0]), labels] + delta)) / y.shape[0])


def sum_squared_error(y, t):
    """The textbook's 0.5 * sum((y - t)^2)."""
    y, t = _pair(t, y, "sum_squared_error")[::-1]
    return float(0.5 * np.sum(np.square(y - t)))


# --------------------------------------------------------------------------
# Loss classes: mean over the batch, with gradients
# --------------------------------------------------------------------------

class Loss:
    """Base class: `loss(y_true, y_pred)` is the batch mean; `gradient` is dL/dy_pred.

    A loss of your own subclasses it as in Keras: `super().__init__(name=...)`, and `call(y_true,
    y_pred)` returning one loss per sample; its gradient is then found by central differences
    (glassnet.loss_gradient).  Or give `per_sample` and `gradient` yourself, in closed form."""

    name = "loss"
    #: the output activation this loss can absorb into an exact (p - t) / n backward
    fuses_with: str | None = None
    from_logits = False
    #: does y_true hold integer class labels?
    sparse_labels = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        """Keras's arguments; reduction is the mean over the batch ("sum_over_batch_size"), dtype is ignored."""
        if name is not None:
            if not isinstance(name, str) or not name:
                raise TypeError(f"a loss's name must be a non-empty str, got {name!r}")
            self.name = name
        elif type(self).name == "loss" and type(self) is not Loss:
            self.name = _snake_case(type(self).__name__)
        if reduction not in ("sum_over_batch_size", "mean"):
            raise ValueError(f"glassnet's losses reduce by the mean over the batch (reduction='sum_over_batch_size', "
                             f"Keras's default), got reduction={reduction!r}")

    def call(self, y_true, y_pred):
        """One loss per sample: a Loss of your own defines this (Keras's Loss.call)."""
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred) (or per_sample and gradient)")

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The batch mean; with sample_weight (one weight per sample), sum(w_i * l_i) / n as Keras."""
        if sample_weight is None:
            return float(np.mean(self.per_sample(y_true, y_pred)))
        per = self.per_sample(y_true, y_pred)
        return self.weighted(per, _sample_weights(sample_weight, per) if per.ndim else np.asarray(sample_weight))

    @staticmethod
    def weighted(per_sample, sample_weight):
        """Keras's weighted reduction of per-sample losses: sum(w_i * l_i) / (number of losses).

        sample_weight: one weight per row of per_sample (shape (n,)), already checked."""
        if per_sample.ndim == 0:
            raise ValueError("this loss returns one number for the whole batch, so it cannot weigh samples "
                             "(sample_weight, class_weight): return one loss per sample instead")
        w = sample_weight.reshape((-1,) + (1,) * (per_sample.ndim - 1))
        return float(np.sum(per_sample * w)) / per_sample.size

    def weighted_gradient(self, y_true, y_pred, sample_weight):
        """dL/dy_pred of the weighted loss: the unweighted gradient with row i times w_i."""
        g = self.gradient(y_true, y_pred)
        g *= sample_weight.reshape((-1,) + (1,) * (g.ndim - 1))
        return g

    def per_sample(self, y_true, y_pred):
        return loss_gradient.losses_of(self.call, y_true, y_pred, self.name)

    def gradient(self, y_true, y_pred):
        """dL/dy_pred for the batch mean, same shape as y_pred; for a loss of your own (call), by
        central differences (glassnet.loss_gradient)."""
        return loss_gradient.gradient(self.call, y_true, y_pred, self.name, self.__dict__.setdefault("_numeric", {}))

    def logits_forward_backward(self, y_true, z):
        """(loss, dL/dz, p) for logits z of the fused activation. Only where `fuses_with` is set."""
        raise NotImplementedError(f"{type(self).__name__} does not fuse with an activation")

    def _fused(self, y_true, z, dz_out=None, want_p=True, want_dz=True):
        """(loss, dL/dz, p) as logits_forward_backward, for targets a model has already checked
        (`Sequential._check_y`); a model calls this once per batch.

        dz_out: a buffer of z's shape that may receive the result; want_p / want_dz = False: that
        value is not needed (it may come back as None), which may save work.
        """
        return self.logits_forward_backward(y_true, z)

    def get_config(self) -> dict:
        return {"from_logits": self.from_logits} if self.fuses_with else {}

    __repr__ = _registry.config_repr


@register("loss")
class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def per_sample(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)

    def gradient(self, y_true, y_pred):
        diff = y_pred - y_true
        diff *= 2 / diff.size
        return diff


@register("loss")
class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def per_sample(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)

    def gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true) / y_pred.size


class _FusedLoss(Loss):
    """A cross-entropy: it takes probabilities, or logits z with from_logits=True, and fuses with the
    activation `fuses_with`. Subclasses give `function` (the per-sample function) and
    `_probability_gradient` (dL/dy_pred for probabilities)."""

    function = None

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def per_sample(self, y_true, y_pred):
        return type(self).function(y_true, y_pred, from_logits=self.from_logits)

    def _fused_weighted(self, y_true, z, sample_weight, dz_out=None, want_p=True, want_dz=True):
        """_fused() for the weighted loss sum(w_i * l_i) / n: (loss, dL/dz, p), where dL/dz is the
        fused w_i (p_i - t_i) / n (the unweighted dL/dz, row i times w_i) and the per-sample losses
        come from the logits by the stable formula."""
        _, dz, p = self._fused(y_true, z, dz_out, want_p, want_dz)
        per = type(self).function(y_true, z, from_logits=True)
        if dz is not None:
            dz *= sample_weight.reshape((-1,) + (1,) * (dz.ndim - 1))
        return self.weighted(per, sample_weight), dz, p

    def gradient(self, y_true, y_pred):
        if self.from_logits:
            return self.logits_forward_backward(y_true, y_pred)[1]
        return self._probability_gradient(y_true, y_pred)

    def _probability_gradient(self, y_true, y_pred):
        raise NotImplementedError


@register("loss")
class CategoricalCrossentropy(_FusedLoss):
    """Cross-entropy against one-hot targets; fuses with softmax."""

    name = "categorical_crossentropy"
    fuses_with = "softmax"
    function = staticmethod(categorical_crossentropy)

    def _probability_gradient(self, y_true, y_pred):
        eps = backend.epsilon()
        inside = (y_pred > eps) & (y_pred < 1 - eps)          # the clip's gradient is 0 outside
        return -y_true / np.clip(y_pred, eps, 1 - eps) * inside / y_pred.shape[0]

    def logits_forward_backward(self, y_true, z):
        n = z.shape[0]
        shifted = _shifted(z)
        p = np.exp(shifted)
        s = np.sum(p, axis=-1, keepdims=True)
        p /= s
        t_sum = np.sum(y_true, axis=-1, keepdims=True)
        # per sample: -sum(t * (shifted - log s)) = log(s) * sum(t) - sum(t * shifted)
        loss = float(np.sum(np.log(s) * t_sum) - np.sum(y_true * shifted)) / n
        dz = p * t_sum
        dz -= y_true
        dz /= n
        return loss, dz, p


@register("loss")
class SparseCategoricalCrossentropy(_FusedLoss):
    """Cross-entropy against integer labels; fuses with softmax."""

    name = "sparse_categorical_crossentropy"
    fuses_with = "softmax"
    sparse_labels = True
    function = staticmethod(sparse_categorical_crossentropy)

    def _probability_gradient(self, y_true, y_pred):
        labels = _labels(y_true, y_pred)
        n = y_pred.shape[0]
        rows = np.arange(n)
        eps = backend.epsilon()
        picked = y_pred[rows, labels]
        g = np.zeros_like(y_pred)
        inside = (picked > eps) & (picked < 1 - eps)
        g[rows, labels] = np.where(inside, -1.0 / np.clip(picked, eps, 1 - eps), 0.0) / n
        return g

    def logits_forward_backward(self, y_true, z):
        return self._fused(_labels(y_true, z), z)

    def _fused(self, labels, z, dz_out=None, want_p=True, want_dz=True):
        """Softmax + cross-entropy from logits z (n, k) for checked labels (intp, shape (n,)).

        loss = mean(log sum exp(z - max) - (z - max)[label]);  dz = (softmax(z) - onehot) / n, bit for
        bit.  Everything happens in one buffer (dz_out, or a new array): shift, exp, normalise,
        subtract 1 at the labels (through flat indices, no one-hot), divide by n.
        """
        kernel = backend.kernel("softmax_cross_entropy", z.dtype) if dz_out is not None else None
        if kernel is not None and z.flags.c_contiguous and dz_out.flags.c_contiguous:
            return kernel(labels, z, dz_out, want_p, want_dz)             # the same steps, compiled
        n, k = z.shape
        with np.errstate(over="ignore"):                                  # beyond -max float: -inf, exp 0
            dz = np.subtract(z, _row_max(z), out=dz_out)                  # shifted logits
        flat = dz.reshape(-1)                                              # a view: dz is contiguous
        at_labels = labels + _row_offsets(n, k)                            # (i, label_i), flattened
        picked = flat.take(at_labels)
        np.exp(dz, out=dz)
        s = dz.sum(axis=-1, keepdims=True)
        loss = float(np.log(s).sum() - picked.sum()) / n
        if not (want_p or want_dz):
            return loss, None, None
        dz /= s                                                            # p = softmax(z)
        if not want_dz:
            return loss, None, dz
        p = dz.copy() if want_p else None
        flat[at_labels] -= 1
        dz /= n
        return loss, dz, p

    def _fused_weighted(self, labels, z, sample_weight, dz_out=None, want_p=True, want_dz=True):
        """_fused() weighted: the per-sample losses -log p[label] are read off the probabilities the
        fused step computes anyway (recomputed from the logits, stably, if one underflows to 0)."""
        n, k = z.shape
        _, dz, p = self._fused(labels, z, dz_out, True, want_dz)
        picked = p.reshape(-1).take(labels + _row_offsets(n, k))
        if picked.min() > 0:
            per = np.log(picked)
            np.negative(per, out=per)
        else:
            per = sparse_categorical_crossentropy(labels, z, from_logits=True)
        if dz is not None:
            dz *= sample_weight[:, None]
        return self.weighted(per, sample_weight), dz, p if want_p else None


@register("loss")
class BinaryCrossentropy(_FusedLoss):
    """Binary cross-entropy, averaged over output units; fuses with sigmoid."""

    name = "binary_crossentropy"
    fuses_with = "sigmoid"
    function = staticmethod(binary_crossentropy)

    def _probability_gradient(self, y_true, y_pred):
        eps = backend.epsilon()
        inside = (y_pred > eps) & (y_pred < 1 - eps)
        p = np.clip(y_pred, eps, 1 - eps)
        return (p - y_true) / (p * (1 - p)) * inside / y_pred.size

    def logits_forward_backward(self, y_true, z):
        per_unit = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
        loss = float(np.mean(per_unit))
        p = sigmoid(z)
        dz = p - y_true
        dz /= z.size
        return loss, dz, p

    def _fused_weighted(self, y_true, z, sample_weight, dz_out=None, want_p=True, want_dz=True):
        """The weighted loss from the logits: per-sample losses (the mean over the output units),
        and dL/dz = w_i (p_i - t_i) / z.size."""
        per_unit = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
        p = sigmoid(z)
        dz = None
        if want_dz:
            dz = p - y_true
            dz /= z.size
            dz *= sample_weight.reshape((-1,) + (1,) * (z.ndim - 1))
        return self.weighted(per_unit.mean(axis=-1), sample_weight), dz, p


class LossFunctionWrapper(Loss):
    """A loss function of your own as a Loss (Keras's LossFunctionWrapper): compile(loss=fn) wraps
    fn this way.  fn(y_true, y_pred, **kwargs) returns one loss per sample (or one number); the
    training loss is their mean, and its gradient is found by central differences
    (glassnet.loss_gradient: 2 x outputs calls of fn per batch)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper expects a function of (y_true, y_pred), got {type(fn).__name__}")
        super().__init__(name=name or getattr(fn, "__name__", None) or "loss", reduction=reduction)
        self.fn, self._fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {"fn": getattr(self.fn, "__name__", repr(self.fn)), "name": self.name}


# ------------------------------------------------------------------------ Name resolution

_CLASSES = {cls.name: cls for cls in _registry.classes("loss").values()}    # "mean_squared_error": ...
_ALIASES = {
    "mse": "mean_squared_error", "meansquarederror": "mean_squared_error",
    "mae": "mean_absolute_error", "meanabsoluteerror": "mean_absolute_error",
    "cce": "categorical_crossentropy", "categoricalcrossentropy": "categorical_crossentropy",
    "scce": "sparse_categorical_crossentropy",
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "bce": "binary_crossentropy", "binarycrossentropy": "binary_crossentropy",
}
_FUNCTIONS = {
    mean_squared_error: "mean_squared_error", mean_absolute_error: "mean_absolute_error",
    categorical_crossentropy: "categorical_crossentropy",
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
    binary_crossentropy: "binary_crossentropy",
}


def names() -> list[str]:
    return sorted(_CLASSES) + sorted(k for k in _ALIASES if "_" not in k and k.islower() and len(k) <= 4)


def get(identifier) -> Loss:
    """A Loss object for a name ("mse", "sparse_categorical_crossentropy", ...), a glassnet loss function,
    a {"class_name", "config"} dict, a Loss subclass or a Loss; a function of your own, fn(y_true,
    y_pred) -> one loss per sample, becomes a LossFunctionWrapper (differentiated numerically)."""
    if callable(identifier) and identifier in _FUNCTIONS:
        identifier = _FUNCTIONS[identifier]
    elif callable(identifier) and not isinstance(identifier, (type, Loss)):
        return LossFunctionWrapper(identifier)
    return _registry.resolve(identifier, "loss", _CLASSES, Loss, aliases=_ALIASES, known=names(), plural="losses",
                             accepts="a name (str), a glassnet loss function or a Loss")


def from_config(name: str, config: dict) -> Loss:
    return _CLASSES[name](**config)


# ------------------------------------------------------------------------ Helpers

def _snake_case(name):
    """A class name as Keras names its losses: CustomMSE -> custom_mse, FocalLoss -> focal_loss."""
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)).lower()


def _sample_weights(sample_weight, per_sample):
    """One finite weight per sample, for Loss.__call__."""
    w = np.asarray(sample_weight, dtype=per_sample.dtype if per_sample.dtype.kind == "f" else np.float64)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != per_sample.shape[:1]:
        raise ValueError(f"sample_weight must hold one weight per sample, shape ({per_sample.shape[0]},), "
                         f"got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight must be finite, got NaN or infinite weights")
    return w


def _as_float(a):
    return a if (a := np.asarray(a)).dtype.kind == "f" else a.astype(np.float64)


def _pair(y_true, y_pred, what):
    y_pred = _as_float(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{what} expects y_true and y_pred of the same shape, "
                         f"got y_true {y_true.shape} and y_pred {y_pred.shape}")
    return y_true, y_pred


def _labels(y_true, y_pred):
    if y_pred.ndim != 2:
        raise ValueError(f"expected y_pred of shape (batch, classes) for integer labels, got shape {y_pred.shape}")
    labels = np.asarray(y_true)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or labels.shape[0] != y_pred.shape[0]:
        raise ValueError(f"expected integer labels of shape ({y_pred.shape[0]},), got shape {labels.shape}")
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError("expected integer class labels, got non-integer values")
    elif labels.dtype.kind not in "iu":
        raise TypeError(f"expected integer class labels, got dtype {labels.dtype}")
    k = y_pred.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= k):        # before the cast: 1e20 stays 1e20
        raise ValueError(f"labels must lie in [0, {k - 1}] for {k} classes, got values from {labels.min()} to {labels.max()}")
    return labels.astype(np.intp, copy=False)


def _shifted(z):
    """z - max(z) over the last axis, kept >= -max float (-inf would make 0 * log p NaN for a zero target)."""
    with np.errstate(over="ignore"):
        shifted = z - np.max(z, axis=-1, keepdims=True)
    return np.maximum(shifted, np.finfo(shifted.dtype).min, out=shifted)


def _log_probs(y_pred, from_logits):
    if from_logits:
        shifted = _shifted(y_pred)
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    eps = backend.epsilon()
    return np.log(np.clip(y_pred, eps, 1 - eps))

