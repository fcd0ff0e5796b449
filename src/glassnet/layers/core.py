"""Core layers: Dense (fully connected), Activation, Flatten, Identity, and the Input marker.

Dense computes z = x W + b and a = f(z), with W of shape (in, out) and b of
shape (out,) -- Keras's layout, so weights move between the two unchanged.
Its backward pass, given dL/da:

    dL/dz = dL/da * f'(z)        (for softmax: the vector-Jacobian product)
    dL/dW = x^T dL/dz
    dL/db = sum of dL/dz over the batch
    dL/dx = dL/dz W^T            (skipped for a model's first layer: nobody needs it)
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .. import activations as _activations
from .. import backend
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .._registry import register
from .base import KerasTensor, Layer, _feature_shape


@register("layer")
class Dense(Layer):
    """Fully connected layer: a = activation(x W + b).

    Dense(50, activation="sigmoid", input_shape=(784,)) has 784 * 50 + 50 = 39,250 parameters.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 input_shape=None, input_dim=None, **kwargs):
        if input_dim is not None:
            input_shape = (input_dim,)
        super().__init__(input_shape=input_shape, **kwargs)
        self.units = _checks.positive_int(units, "Dense units")
        self.activation = _activations.canonical_name(activation)
        self._act = _activations.ACTIVATIONS[self.activation]
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self._x = self._z = self._y = None
        self._lead = None            # leading axes of an N-D input, restored on the way out

    kernel = property(lambda self: self._variable("params", "W", "kernel"), doc="W, as Keras names it (a Variable)")
    bias = property(lambda self: self._variable("params", "b", "bias"), doc="b, as Keras names it (None without a bias)")

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        n_in = input_shape[-1]
        if n_in is None:
            raise ValueError("Dense needs to know its input width; pass input_shape=(n,)")
        _checks.array_size((n_in, self.units), f"Dense({self.units})'s kernel for inputs of width {n_in}")
        self.params = {"W": self.kernel_initializer((n_in, self.units), self.dtype)}
        if self.use_bias:
            self.params["b"] = self.bias_initializer((self.units,), self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _feature_dims(self):
        return ("features",)

    def _input_mismatch(self, x):
        """Dense acts on the last axis: only its width must match (any leading axes are batch axes)."""
        n_in = self.input_shape[-1]
        if x.shape[-1] != n_in:
            return f"{n_in} features per sample, got {x.shape[-1]}"
        return None

    # -- forward ------------------------------------------------------------
    def forward(self, x, training=False):
        # inside a model, a compiled kernel may add the bias and activate in one pass (glassnet/_kernels.py)
        fused = self._kernel("dense_forward_" + self.activation) if self.activation != "linear" else None
        z = self._forward_logits(x, training, add_bias=fused is None)
        if self.activation == "linear":
            self._y = self._z
            return z
        # activate the 2-D z that backward sees, so y and z keep the same shape there
        z2 = self._z
        y = self._buffer("y", z2.shape, z2.dtype)
        if fused is not None:
            fused(z2, self.params["b"] if self.use_bias else None, y)        # z += b; y = f(z)
        else:
            y = self._act.forward_into(z2, y)
        self._y = y
        return y if self._lead is None else y.reshape(self._lead + (self.units,))

    def forward_logits(self, x, training=False):
        """z = x W + b, before the activation (a model fuses softmax/sigmoid into its loss)."""
        return self._forward_logits(x, training, add_bias=True)

    def _forward_logits(self, x, training, add_bias):
        """z = x W, plus b if add_bias (forward's compiled kernels add it themselves)."""
        x = self._check_input(x)
        if x.ndim > 2:                                   # (batch, ..., in): act on the last axis
            lead = x.shape[:-1]
            z = self._forward_logits(x.reshape(-1, x.shape[-1]), training, add_bias)
            self._lead = lead
            return z.reshape(lead + (self.units,))
        self._lead = None
        self._x = x
        z = np.matmul(x, self.params["W"], out=self._buffer("z", (x.shape[0], self.units)))
        if self.use_bias and add_bias:
            bias_add = self._kernel("bias_add")
            if bias_add is not None:
                bias_add(z, self.params["b"])            # z += b, compiled: a third of NumPy's time
            else:
                z += self.params["b"]
        self._z = z
        return z

    def _kernel(self, name, *arrays):
        """The compiled kernel `name` (glassnet/_kernels.py) that backend.kernel hands out for this
        layer's dtype, used only inside a model (self._reuse) and only if `arrays` (those not from the
        layer's own buffers) are 2-D, C-contiguous, of that dtype and of one shape (kernels do not check
        bounds); else None: run the NumPy code."""
        if not self._reuse:
            return None
        dtype = np.dtype(self.dtype)
        kernel = backend.kernel(name, dtype)
        for a in arrays:
            if a is None or a.ndim != 2 or a.shape != arrays[0].shape or a.dtype != dtype \
                    or not a.flags.c_contiguous:
                return None
        return kernel

    # -- backward -----------------------------------------------------------
    def backward(self, dy):
        """dL/da -> dL/dx, filling grads["W"] and grads["b"]."""
        dy = self._incoming(dy, "dy", "backward")
        dz = self._buffer("dz", dy.shape, dy.dtype)
        fused = self._kernel("dense_backward_" + self.activation, dy, self._y)
        if fused is None:
            return self._backward_linear(self._act.backward(self._z, self._y, dy, out=dz))
        # dz = dy f'(z) and, with a bias, grads["b"] = its column sums, in one compiled pass
        fused(self._y, dy, dz, self.grads["b"] if self.use_bias else None)
        return self._backward_linear(dz, bias_summed=True)

    def backward_logits(self, dz):
        """dL/dz -> dL/dx, skipping the activation (its derivative is already in dz)."""
        return self._backward_linear(self._incoming(dz, "dz", "backward_logits"))

    def _incoming(self, d, what, method):
        """The gradient `d` arriving at `method` as a 2-D array of z's shape, checked."""
        if self._x is None:
            raise RuntimeError(f"Dense.{method} called before forward")
        d = np.asarray(d)
        if self._lead is not None:
            d = d.reshape(-1, self.units)
        if d.shape != self._z.shape:
            raise ValueError(f"{self._label()} backward expects {what} of shape {self._z.shape}, got {d.shape}")
        return d

    def _backward_linear(self, dz, bias_summed=False):
        """dL/dz -> dL/dx and the weight gradients; bias_summed: grads["b"] holds dz's column sums already."""
        W = self.params["W"]
        np.matmul(self._x.T, dz, out=self.grads["W"])
        if self.kernel_regularizer is not None:
            self.grads["W"] += self.kernel_regularizer.gradient(W)
        if self.use_bias:
            if not bias_summed:
                column_sum = self._kernel("column_sum", dz)
                if column_sum is not None:
                    column_sum(dz, self.grads["b"])                     # the same sums, compiled
                else:
                    np.add.reduce(dz, axis=0, out=self.grads["b"])      # np.sum without its wrapper
            if self.bias_regularizer is not None:
                self.grads["b"] += self.bias_regularizer.gradient(self.params["b"])
        if not self.need_input_grad:
            return None
        dx = np.matmul(dz, W.T, out=self._buffer("dx", self._x.shape, dz.dtype))
        return dx.reshape(self._lead + (W.shape[0],)) if self._lead is not None else dx

    def regularization_loss(self) -> float:
        total = 0.0
        if self.kernel_regularizer is not None:
            total += self.kernel_regularizer.penalty(self.params["W"])
        if self.use_bias and self.bias_regularizer is not None:
            total += self.bias_regularizer.penalty(self.params["b"])
        return total

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias,
                "kernel_initializer": _initializers.serialize(self.kernel_initializer),
                "bias_initializer": _initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer)}


@register("layer")
class Activation(Layer):
    """Apply an activation function on its own: Activation("relu")."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activations.canonical_name(activation)
        self._act = _activations.ACTIVATIONS[self.activation]
        self._x = self._y = None

    def forward(self, x, training=False):
        x = np.asarray(x)
        self._ensure_built(x)
        self._x = x
        self._y = self._act.function(x)
        return self._y

    def forward_logits(self, x, training=False):
        x = np.asarray(x)
        self._ensure_built(x)
        self._x = x
        return x

    def backward(self, dy):
        if self._x is None:
            raise RuntimeError("Activation.backward called before forward")
        return self._act.backward(self._x, self._y, np.asarray(dy))

    def backward_logits(self, dz):
        return dz

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


@register("layer")
class Flatten(Layer):
    """Flatten each sample: (batch, 28, 28) -> (batch, 784)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._shape = None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def forward(self, x, training=False):
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"Flatten expects a batch of shape (batch, ...), got shape {x.shape}")
        self._ensure_built(x)
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        if self._shape is None:
            raise RuntimeError("Flatten.backward called before forward")
        return None if not self.need_input_grad else np.asarray(dy).reshape(self._shape)


@register("layer")
class Identity(Layer):
    """Identity(): passes its input through unchanged (a placeholder, as in Keras)."""

    def forward(self, x, training=False):
        return self._check_input(np.asarray(x, dtype=self.dtype))

    def backward(self, dy):
        return None if not self.need_input_grad else np.asarray(dy)


@register("layer")
class InputLayer(Layer):
    """Marks the input shape of a Sequential model: gn.layers.Input(shape=(784,)). Holds no weights."""

    def __init__(self, shape=None, input_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("Input needs shape=, for example Input(shape=(784,))")
        super().__init__(input_shape=_feature_shape(shape), **kwargs)
        self.build((None,) + self._declared_input_shape)

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy

    def get_config(self):
        config = super().get_config()
        config["shape"] = config.pop("input_shape")
        return config


def Input(shape=None, name=None, dtype=None):
    """Keras's Input(shape=...): a symbolic tensor of shape (None, *shape), the start of a graph model
    (gn.Model(inputs, outputs)); put first in a Sequential list, it declares the input shape.

    dtype: the model's float type ("float32", "float64"; None: gn.backend.floatx()). An integer dtype
    ("int32", "int64"), as Keras scripts declare the ids an Embedding reads, is accepted: a model carries
    its inputs in its float type, which holds every id below 2**24 exactly (float32), and Embedding
    checks each id."""
    if dtype is not None and _integer_dtype(dtype):
        dtype = None
    layer = InputLayer(shape=shape, name=name, dtype=dtype)
    tensor = KerasTensor(layer.output_shape, layer.dtype, layer)
    layer._nodes = [(tensor, tensor)]             # layer.input and layer.output, as in Keras
    return tensor


def _integer_dtype(dtype) -> bool:
    try:
        return np.dtype(dtype).kind in "iu"
    except TypeError:
        return False
