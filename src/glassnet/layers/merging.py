"""Merge layers (Keras names): they take a list of tensors and give one.

    Concatenate(axis=-1)   y = [x1, x2, ...] joined along `axis`;   dL/dxi = the slice of dL/dy for xi
    Add                    y = x1 + x2 + ...;                          dL/dxi = dL/dy
    Subtract               y = x1 - x2 (two inputs);                   dL/dx1 = dL/dy, dL/dx2 = -dL/dy
    Multiply               y = x1 * x2 * ...;                          dL/dxi = dL/dy * (product of the others)
    Average                y = (x1 + ... + xn) / n;                    dL/dxi = dL/dy / n
    Maximum / Minimum      y = the largest / smallest entry;           dL/dy goes to the input that gave
                                                                       it (the first one on a tie)

Used in graph models: y = gn.layers.Add()([a, b]), or with Keras's lowercase helpers
y = gn.layers.add([a, b]), gn.layers.concatenate([a, b], axis=-1), ...  By hand:
layer.forward([x1, x2]) and layer.backward(dy) -> [dx1, dx2].  The element-wise layers need inputs of one shape (no
broadcasting); Concatenate needs equal shapes except along `axis`.
"""
from __future__ import annotations

import numpy as np

from .._registry import register
from .base import Layer


class _Merge(Layer):
    """What the merge layers share: the checks of the input list, the cache, the config."""

    min_inputs, max_inputs = 2, None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._xs = None

    def _check_shapes(self, shapes):
        """Raise ValueError unless `shapes` (batch axis included) can be merged."""
        self._check_count(len(shapes))
        first = tuple(shapes[0])
        for s in shapes[1:]:
            if tuple(s)[1:] != first[1:]:
                raise ValueError(f"{self._label()} needs inputs of one shape, got "
                                 f"{', '.join(str(tuple(t)) for t in shapes)}")

    def _check_count(self, n):
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            wanted = (f"exactly {self.min_inputs}" if self.max_inputs == self.min_inputs
                      else f"at least {self.min_inputs}")
            raise ValueError(f"{self._label()} needs a list of {wanted} inputs, got {n}")

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"{self._label()} needs a list of input shapes, got {input_shape!r}")
        shapes = [tuple(s) for s in input_shape]
        self._check_shapes(shapes)
        self.input_shape = shapes
        self.output_shape = self.compute_output_shape(shapes)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def forward(self, inputs, training=False):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"{self._label()} expects a list of arrays, got {type(inputs).__name__}")
        xs = [np.asarray(x) for x in inputs]
        self._check_count(len(xs))
        if any(x.ndim < 2 for x in xs):
            raise ValueError(f"{self._label()} expects batches of shape (batch, ...), got shapes "
                             f"{', '.join(str(x.shape) for x in xs)}")
        shapes = [x.shape for x in xs]
        self._check_shapes(shapes)
        if not self.built:
            self.build([(None,) + x.shape[1:] for x in xs])
        if any(s[0] != shapes[0][0] for s in shapes):
            raise ValueError(f"{self._label()} needs inputs with one batch size, got shapes "
                             f"{', '.join(map(str, shapes))}")
        if [s[1:] for s in shapes] != [tuple(s[1:]) for s in self.input_shape]:
            raise ValueError(f"{self._label()} was built for inputs {self.input_shape}, got shapes "
                             f"{', '.join(map(str, shapes))}")
        self._xs = xs
        return self._merge(xs)

    def backward(self, dy):
        if self._xs is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dy = np.asarray(dy)
        if dy.shape != self._out_shape:
            raise ValueError(f"{self._label()} backward expects dy of shape {self._out_shape}, got {dy.shape}")
        return self._split(dy)

    @property
    def _out_shape(self):
        return self._xs[0].shape


@register("layer")
class Concatenate(_Merge):
    """Join the inputs along `axis` (default the last): shapes (n, 3) and (n, 5) give (n, 8)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Concatenate axis must be an int, got {axis!r}")
        self.axis = int(axis)

    def _axis(self, ndim):
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 1 <= axis < ndim:
            raise ValueError(f"{self._label()} axis={self.axis} is not a feature axis of inputs with {ndim} axes "
                             f"(the batch axis 0 cannot be joined)")
        return axis

    def _check_shapes(self, shapes):
        self._check_count(len(shapes))
        ndims = {len(s) for s in shapes}
        if len(ndims) > 1:
            raise ValueError(f"{self._label()} needs inputs with one number of axes, got "
                             f"{', '.join(str(tuple(s)) for s in shapes)}")
        axis = self._axis(ndims.pop())
        rest = {tuple(d for i, d in enumerate(s) if i not in (0, axis)) for s in shapes}
        if len(rest) > 1:
            raise ValueError(f"{self._label()} needs inputs of one shape except along axis {self.axis}, got "
                             f"{', '.join(str(tuple(s)) for s in shapes)}")

    def compute_output_shape(self, input_shape):
        axis = self._axis(len(input_shape[0]))
        out = list(input_shape[0])
        out[axis] = sum(s[axis] for s in input_shape)
        return tuple(out)

    def _merge(self, xs):
        return np.concatenate(xs, axis=self.axis)

    @property
    def _out_shape(self):
        axis = self._axis(self._xs[0].ndim)
        shape = list(self._xs[0].shape)
        shape[axis] = sum(x.shape[axis] for x in self._xs)
        return tuple(shape)

    def _split(self, dy):
        axis = self._axis(dy.ndim)
        cuts = np.cumsum([x.shape[axis] for x in self._xs])[:-1]
        return [np.ascontiguousarray(part) for part in np.split(dy, cuts, axis=axis)]

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register("layer")
class Add(_Merge):
    """The element-wise sum of the inputs."""

    def _merge(self, xs):
        y = xs[0] + xs[1]
        for x in xs[2:]:
            y += x
        return y

    def _split(self, dy):
        return [dy] + [dy.copy() for _ in self._xs[1:]]


@register("layer")
class Subtract(_Merge):
    """x1 - x2, for exactly two inputs."""

    min_inputs = max_inputs = 2

    def _merge(self, xs):
        return xs[0] - xs[1]

    def _split(self, dy):
        return [dy, -dy]


@register("layer")
class Multiply(_Merge):
    """The element-wise product of the inputs."""

    def _merge(self, xs):
        y = xs[0] * xs[1]
        for x in xs[2:]:
            y *= x
        return y

    def _split(self, dy):
        grads = []
        for i in range(len(self._xs)):
            g = dy.copy()
            for j, x in enumerate(self._xs):
                if j != i:
                    g *= x
            grads.append(g)
        return grads


@register("layer")
class Average(_Merge):
    """The element-wise mean of the inputs."""

    def _merge(self, xs):
        return Add._merge(self, xs) / len(xs)

    def _split(self, dy):
        share = dy / len(self._xs)
        return [share] + [share.copy() for _ in self._xs[1:]]


class _Extreme(_Merge):
    """Maximum and Minimum: dL/dy goes to the input that gave each entry (the first on a tie)."""

    pick = None

    def _merge(self, xs):
        self._which = type(self).pick(np.stack(xs), axis=0)
        return np.take_along_axis(np.stack(xs), self._which[None], axis=0)[0]

    def _split(self, dy):
        return [np.where(self._which == i, dy, 0).astype(dy.dtype, copy=False) for i in range(len(self._xs))]


@register("layer")
class Maximum(_Extreme):
    """The element-wise largest of the inputs."""

    pick = staticmethod(np.argmax)


@register("layer")
class Minimum(_Extreme):
    """The element-wise smallest of the inputs."""

    pick = staticmethod(np.argmin)


# ---------------------------------------------------------------------------------------------------
# Keras's functional helpers: layers.concatenate([a, b]) is Concatenate()([a, b]), and so on.  They take
# the layer's own arguments (axis, name, ...) and work on symbolic tensors and on arrays alike.
# ---------------------------------------------------------------------------------------------------
def concatenate(inputs, axis=-1, **kwargs):
    """Concatenate(axis=axis, **kwargs)(inputs): the inputs joined along `axis`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Add(**kwargs)(inputs): the element-wise sum."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Subtract(**kwargs)(inputs): x1 - x2."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Multiply(**kwargs)(inputs): the element-wise product."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Average(**kwargs)(inputs): the element-wise mean."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Maximum(**kwargs)(inputs): the element-wise largest."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Minimum(**kwargs)(inputs): the element-wise smallest."""
    return Minimum(**kwargs)(inputs)
