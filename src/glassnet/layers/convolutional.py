"""Convolution layers (Keras's names, arguments and defaults): Conv2D and Conv1D, channels-last.

Conv2D(filters, kernel_size) slides `filters` small filters over an image; each output pixel of a
filter is the sum of the filter's weights times the patch under it, plus the filter's bias:

    x (batch, height, width, channels) -> y (batch, out_h, out_w, filters)
    W (kh, kw, channels, filters), b (filters,)         Keras's layout: weights move over unchanged

forward is glassnet.convolution's three steps, so it reads as the textbook says:

    cols = im2col(x)                    unfold: one row per output pixel, its patch in the row
    z = cols @ W.reshape(-1, filters)   multiply (+ b): one column per filter
    y = f(z).reshape(batch, out_h, out_w, filters)      fold back (the rows are the pixels, in order)

and backward runs them in reverse, given dL/dy:

    dz = dL/dy * f'(z)                  (reshaped to one row per output pixel)
    dW = cols.T @ dz,  db = dz summed over the rows
    dx = col2im(dz @ W.T)               each row's gradient added back onto its patch's pixels

Conv1D is the same on sequences (batch, steps, channels), with W (k, channels, filters); its
padding may also be "causal" (zeros only before the sequence, so step t sees steps <= t).
"""
from __future__ import annotations

import math

import numpy as np

from .. import activations as _activations
from .. import backend
from .. import convolution as _conv
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .. import _checks
from .._registry import register
from .base import Layer

# the compiled unfold and fold back copy runs of kw x channels numbers; below 8 channels NumPy's strided
# copies are as fast (measured on 28 x 28 images of 1 and 3 channels)
_KERNEL_CHANNELS = 8
# below this many channels, cols are kept column by column (see _Conv._unfold)
_BY_ROW_CHANNELS = 4


class _Conv(Layer):
    """The convolution of `rank` spatial axes (Conv1D: 1, Conv2D: 2); see the module doc."""

    rank = 2
    paddings = _conv.PADDINGS

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.filters = _checks.positive_int(filters, f"{name} filters")
        self.kernel_size = _conv.normalize_tuple(kernel_size, self.rank, f"{name} kernel_size")
        self.strides = _conv.normalize_tuple(strides, self.rank, f"{name} strides")
        self.dilation_rate = _conv.normalize_tuple(dilation_rate, self.rank, f"{name} dilation_rate")
        self.padding = _conv.check_padding(padding, self.paddings, f"{name} padding")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{name} takes strides > 1 or dilation_rate > 1, not both (as Keras), got strides "
                             f"{self.strides} and dilation_rate {self.dilation_rate}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{name} reads channels-last images (data_format='channels_last'), got "
                             f"data_format={data_format!r}; move the channels last with np.moveaxis(x, 1, -1)")
        if groups != 1:
            raise ValueError(f"{name} groups must be 1 (grouped convolutions are not in glassnet), got {groups!r}")
        for what, value in (("activity_regularizer", activity_regularizer), ("kernel_constraint", kernel_constraint),
                            ("bias_constraint", bias_constraint)):
            if value is not None:
                raise ValueError(f"{name} {what} is not supported in glassnet; got {value!r}")
        self.activation = _activations.canonical_name(activation)
        self._act = _activations.ACTIVATIONS[self.activation]
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self.geometry = None
        self._cols = self._z = self._y = self._x_shape = None

    kernel = property(lambda self: self._variable("params", "W", "kernel"), doc="W, as Keras names it (a Variable)")
    bias = property(lambda self: self._variable("params", "b", "bias"),
                    doc="b, as Keras names it (None without a bias)")

    def _feature_dims(self):
        return (("height", "width") if self.rank == 2 else ("steps",)) + ("channels",)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2 or any(d is None for d in input_shape[1:]):
            want = "(batch, height, width, channels)" if self.rank == 2 else "(batch, steps, channels)"
            raise ValueError(f"{type(self).__name__} expects inputs of shape {want}, got inputs of shape "
                             f"{input_shape}")
        self.geometry = _conv.Geometry(input_shape[1:-1], self.kernel_size, self.strides, self.padding,
                                       self.dilation_rate)
        self.params = {"W": self.kernel_initializer(self.kernel_size + (input_shape[-1], self.filters), self.dtype)}
        if self.use_bias:
            self.params["b"] = self.bias_initializer((self.filters,), self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        g = self.geometry or _conv.Geometry(input_shape[1:-1], self.kernel_size, self.strides, self.padding,
                                            self.dilation_rate)
        return (input_shape[0],) + g.out + (self.filters,)

    def matmul_shape(self, batch):
        """(m, k, n) of the forward product on a batch: (batch * output pixels, taps * channels, filters)."""
        return batch * math.prod(self.geometry.out), math.prod(self.params["W"].shape[:-1]), self.filters

    @property
    def _W2(self):
        """The kernel as a matrix: one row per (tap, channel), one column per filter."""
        return self.params["W"].reshape(-1, self.filters)

    # -- forward: unfold, multiply, fold back -------------------------------
    def forward(self, x, training=False):
        # inside a model, a compiled kernel may add the bias and activate in one pass (Dense's kernels)
        fused = self._kernel("dense_forward_" + self.activation) if self.activation != "linear" else None
        z = self._forward_rows(x, add_bias=fused is None)
        y = self._buffer("y", z.shape, z.dtype)
        if fused is not None:
            fused(z, self.params["b"] if self.use_bias else None, y)                # z += b; y = f(z)
        else:
            y = self._act.forward_into(z, y)
        self._y = y
        return self._fold(y)

    def forward_logits(self, x, training=False):
        """z = conv(x, W) + b before the activation, folded back to (batch, *out, filters)."""
        return self._fold(self._forward_rows(x, add_bias=True))

    def _forward_rows(self, x, add_bias):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._x_shape = x.shape
        cols = self._unfold(x)                                                                     # unfold
        rows = cols.shape[0]
        z = self._product(cols, self._W2, self._buffer("z", (rows, self.filters)))                # multiply
        if self.use_bias and add_bias:
            bias_add = self._kernel("bias_add")
            if bias_add is not None:
                bias_add(z, self.params["b"])
            else:
                z += self.params["b"]
        self._cols, self._z = cols, z
        return z

    def _fold(self, rows):
        return rows.reshape((self._x_shape[0],) + self.geometry.out + (self.filters,))        # fold back

    # -- the unfold and the fold back: convolution.im2col / col2im, or their compiled twins -------
    def _unfold(self, x):
        """cols = im2col(x), into a kept buffer.  With few channels the buffer is filled column by column
        (cols is the transpose of a C-contiguous array): each column is then a shifted copy of the
        image, 7x faster to gather for one channel than rows of 9 numbers, and the products take either
        layout at the same speed."""
        g = self.geometry
        rows, width = x.shape[0] * math.prod(g.out), g.taps * x.shape[-1]
        if x.shape[-1] < _BY_ROW_CHANNELS:
            cols = self._by_column("cols_by_column", rows, width)
        else:
            cols = self._buffer("cols", (rows, width))
        unfold = self._kernel("im2col", x) if x.shape[-1] >= _KERNEL_CHANNELS else None
        if unfold is None:
            return _conv.im2col(x, g.kernel, g.strides, g.padding, g.dilation, out=cols)
        unfold(self._as_2d(x), cols, *self._kernel_geometry())
        return cols

    def _by_column(self, key, rows, width):
        """A (rows, width) matrix stored column by column: the transpose of a C-contiguous (width, rows)
        buffer, kept flat so that a smaller last batch uses the start of it as _buffer does."""
        return self._buffer(key, (width * rows,)).reshape(width, rows).T

    def _fold_back(self, dcols):
        fold = self._kernel("col2im", dcols) if self._x_shape[-1] >= _KERNEL_CHANNELS else None
        if fold is None:
            g = self.geometry
            return _conv.col2im(dcols, self._x_shape, g.kernel, g.strides, g.padding, g.dilation)
        dx = self._buffer("dx", self._x_shape, dcols.dtype)
        fold(dcols, self._as_2d(dx), *self._kernel_geometry())
        return dx

    def _as_2d(self, x):
        """The kernels see 2-D images: a sequence (batch, steps, channels) as (batch, 1, steps, channels)."""
        return x if self.rank == 2 else x.reshape(x.shape[0], 1, x.shape[1], x.shape[2])

    def _kernel_geometry(self):
        """The geometry as the kernels take it: out (oh, ow), window, strides, dilation, zeros before."""
        g = self.geometry
        two = (lambda t: tuple(t)) if self.rank == 2 else (lambda t: (1,) + tuple(t))
        (oh, ow), (kh, kw), (sh, sw), (dh, dw) = two(g.out), two(g.kernel), two(g.strides), two(g.dilation)
        pt, pl = (g.pads[0][0], g.pads[1][0]) if self.rank == 2 else (0, g.pads[0][0])
        return oh, ow, kh, kw, sh, sw, dh, dw, pt, pl

    def _kernel(self, name, *arrays):
        """The compiled kernel `name` (glassnet/_kernels.py, _conv_kernels.py) for this layer's dtype, used
        only inside a model (self._reuse) and only if `arrays` (those not from the layer's own buffers)
        are C-contiguous and of that dtype; else None: run the NumPy code."""
        if not self._reuse:
            return None
        dtype = np.dtype(self.dtype)
        for a in arrays:
            if a.dtype != dtype or not a.flags.c_contiguous:
                return None
        return backend.kernel(name, dtype)

    # -- backward -------------------------------------------------------------
    def backward(self, dy):
        dy = self._incoming(dy, "backward")
        dz = self._buffer("dz", dy.shape, dy.dtype)
        fused = self._kernel("dense_backward_" + self.activation, dy)
        if fused is None:
            return self._backward_rows(self._act.backward(self._z, self._y, dy, out=dz))
        # dz = dy f'(z) and, with a bias, grads["b"] = its column sums, in one compiled pass
        fused(self._y, dy, dz, self.grads["b"] if self.use_bias else None)
        return self._backward_rows(dz, bias_summed=True)

    def backward_logits(self, dz):
        """dL/dz (the activation's derivative already in it) -> dL/dx."""
        return self._backward_rows(self._incoming(dz, "backward_logits"))

    def _incoming(self, d, method):
        if self._cols is None:
            raise RuntimeError(f"{type(self).__name__}.{method} called before forward")
        d = np.asarray(d, dtype=self.dtype)
        expected = (self._x_shape[0],) + self.geometry.out + (self.filters,)
        if d.shape != expected:
            raise ValueError(f"{self._label()} {method} expects a gradient of shape {expected}, got {d.shape}")
        return d.reshape(self._z.shape)

    def _backward_rows(self, dz, bias_summed=False):
        self._weight_product(self._cols, dz, self.grads["W"].reshape(-1, self.filters))      # dW = cols.T dz
        if self.kernel_regularizer is not None:
            self.grads["W"] += self.kernel_regularizer.gradient(self.params["W"])
        if self.use_bias:
            if not bias_summed:
                column_sum = self._kernel("column_sum", dz)
                if column_sum is not None:
                    column_sum(dz, self.grads["b"])
                else:
                    np.add.reduce(dz, axis=0, out=self.grads["b"])
            if self.bias_regularizer is not None:
                self.grads["b"] += self.bias_regularizer.gradient(self.params["b"])
        if not self.need_input_grad:
            return None
        if self._cols.flags.c_contiguous:
            dcols = self._product(dz, self._W2.T, self._buffer("dcols", self._cols.shape, dz.dtype))
        else:                                 # stored column by column, as cols: (W dz.T).T = dz W.T
            dcols = np.matmul(self._W2, dz.T, out=self._by_column("dcols_by_column", *self._cols.shape).T).T
        return self._fold_back(dcols)                                                       # fold onto x

    # -- the products: inside fit/evaluate/predict a big one runs in row blocks over threads ----------
    def _product(self, a, b, out):
        """out = a @ b, in row blocks over threads when it is big (backend.split_rows): each row of out
        is the same sum either way."""
        blocks = backend.split_rows(a.shape[0], 2 * a.shape[0] * a.shape[1] * b.shape[1]) if self._reuse \
            else [(0, a.shape[0])]
        backend.run_blocks(lambda i, j: np.matmul(a[i:j], b, out=out[i:j]), blocks)
        return out

    def _weight_product(self, cols, dz, out):
        """out = cols.T @ dz (dL/dW): a sum over every row, so in blocks each thread sums its rows and
        the partial sums are added (the same total, rounded in another order)."""
        rows = cols.shape[0]
        blocks = backend.split_rows(rows, 2 * rows * cols.shape[1] * dz.shape[1]) if self._reuse else [(0, rows)]
        if len(blocks) == 1:
            return np.matmul(cols.T, dz, out=out)
        parts = [out] + [self._buffer(f"dW_part{k}", out.shape, out.dtype) for k in range(1, len(blocks))]
        backend.run_blocks(lambda i, j: np.matmul(cols[i:j].T, dz[i:j], out=parts[blocks.index((i, j))]), blocks)
        for part in parts[1:]:
            out += part
        return out

    def regularization_loss(self) -> float:
        total = 0.0
        if self.kernel_regularizer is not None:
            total += self.kernel_regularizer.penalty(self.params["W"])
        if self.use_bias and self.bias_regularizer is not None:
            total += self.bias_regularizer.penalty(self.params["b"])
        return total

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": "channels_last",
                "dilation_rate": list(self.dilation_rate), "activation": self.activation,
                "use_bias": self.use_bias,
                "kernel_initializer": _initializers.serialize(self.kernel_initializer),
                "bias_initializer": _initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer)}


@register("layer")
class Conv2D(_Conv):
    """Conv2D(filters, kernel_size, strides=1, padding="valid", dilation_rate=1, activation=None, ...):
    a 2-D convolution of channels-last images. Conv2D(32, 3) on 28x28x1 images: 3*3*1*32 + 32 = 320
    parameters, output (26, 26, 32)."""

    rank = 2


@register("layer")
class Conv1D(_Conv):
    """Conv1D(filters, kernel_size, strides=1, padding="valid", dilation_rate=1, ...): a 1-D convolution of
    sequences (batch, steps, channels); padding may be "valid", "same" or "causal"."""

    rank = 1
    paddings = _conv.PADDINGS + ("causal",)
