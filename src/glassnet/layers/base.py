"""The Layer contract every glassnet layer follows.

    params : dict[str, ndarray]   trainable weights, e.g. {"W": ..., "b": ...}; optimizers update them in place
    grads  : dict[str, ndarray]   same keys and shapes, filled by backward()
    state  : dict[str, ndarray]   non-trainable weights (BatchNormalization's moving statistics)
    build(input_shape)            create the weights once the input width is known; input_shape includes
                                  the batch axis as None, as in Keras: (None, 784)
    forward(x, training=False)    returns y; caches only what backward needs
    backward(dy)                  returns dL/dx; fills self.grads
    get_config() / from_config()  a JSON-serialisable description that rebuilds the layer

A layer can be used by hand, one step at a time:

    layer = gn.layers.Dense(3, activation="sigmoid")
    y = layer.forward(x)            # builds itself from x's width on first use
    dx = layer.backward(dy)         # then layer.grads["W"], layer.grads["b"]
"""
from __future__ import annotations

import re

import numpy as np

from .. import activations as _activations
from .. import backend


class EagerTensor(np.ndarray):
    """What calling a layer on an array returns (layer(x)): the output array itself, with Keras's tensor
    method numpy() (a plain copy), so `normalizer(x).numpy()` runs as it does in Keras. Arithmetic on it
    gives plain NumPy arrays."""

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if return_scalar:
            return array[()]
        return array.view(np.ndarray)

    def numpy(self):
        return np.array(self.view(np.ndarray), copy=True)


class Variable(np.ndarray):
    """A layer's weight as Keras shows it (dense.kernel, dense.bias, bn.moving_mean): the weight
    array itself, not a copy, so what you change shows in the layer; with Keras's variable methods.

        w = dense.kernel              # shape (inputs, units); w.path == "dense/kernel"
        w.numpy()                     # a plain copy
        w.assign(np.zeros(w.shape))   # write in place (shape and finiteness checked)

    Arithmetic on it gives plain NumPy arrays."""

    path = ""

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if return_scalar:
            return array[()]
        return array.view(np.ndarray)

    @property
    def value(self):
        """The weight as a plain ndarray (a view)."""
        return self.view(np.ndarray)

    @property
    def name(self):
        return self.path.rsplit("/", 1)[-1]

    def numpy(self):
        return np.array(self.view(np.ndarray), copy=True)

    def assign(self, value):
        """Write value into the weight in place (Keras's variable.assign)."""
        value = np.asarray(value)
        if value.shape != self.shape:
            raise ValueError(f"{self.path} has shape {self.shape}; assign got shape {value.shape}")
        if value.dtype.kind not in "biuf" or not np.isfinite(value).all():
            raise ValueError(f"{self.path} takes finite numbers; assign got {value.dtype} values"
                             + ("" if value.dtype.kind not in "biuf" else " that are not all finite"))
        self.view(np.ndarray)[...] = value
        return self

    def assign_add(self, delta):
        return self.assign(self.view(np.ndarray) + np.asarray(delta))

    def assign_sub(self, delta):
        return self.assign(self.view(np.ndarray) - np.asarray(delta))


def _snake(name: str) -> str:
    """A class name as Keras names its layers: Dense -> dense, BatchNormalization -> batch_normalization,
    ReLU -> re_lu, PReLU -> p_re_lu, GlobalAveragePooling1D -> global_average_pooling1d."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)).lower()


_OWN_LAYERS = ("a layer of your own computes forward(x, training) and backward(dy) in glassnet, with its weights "
               "in self.params and their gradients in self.grads (the contract in glassnet.layers.base); Keras's "
               "call() and add_weight() rely on automatic differentiation, which glassnet does not have")


class Layer:
    """Base class of all layers."""

    def __init__(self, name=None, dtype=None, input_shape=None, trainable=True, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {sorted(kwargs)}")
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        self.name = name
        self.dtype = backend.standardize_dtype(dtype)
        self.trainable = bool(trainable)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.built = False
        self.input_shape = None
        self.output_shape = None
        self._declared_input_shape = _feature_shape(input_shape) if input_shape is not None else None
        self._reuse = False          # set by a model while it trains: write outputs into kept buffers
        self._buffers: dict[str, np.ndarray] = {}
        #: the model clears this for its first layer: dL/dx of the data is never needed
        self.need_input_grad = True

    def _variable(self, store, key, keras_name):
        """One weight as a Variable (Keras's layer.kernel, ...): None when the layer has no such weight."""
        if not self.built:
            raise AttributeError(f"layer {self.name!r} has no {keras_name} yet: it is created when the layer "
                                 f"is built (by its model, or by its first forward)")
        array = getattr(self, store).get(key)
        if array is None:
            return None
        variable = array.view(Variable)
        variable.path = f"{self.name}/{keras_name}"
        return variable

    # -- the contract -----------------------------------------------------
    def build(self, input_shape):
        """Create weights for inputs of `input_shape` (batch axis included, as None)."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x, training=False):
        raise NotImplementedError(f"{type(self).__name__} defines no forward(x, training): {_OWN_LAYERS}")

    def backward(self, dy):
        raise NotImplementedError(f"{type(self).__name__} defines no backward(dy): {_OWN_LAYERS}")

    def add_weight(self, *args, **kwargs):
        """Keras's way to give a layer of your own weights: not glassnet's (see the error)."""
        raise NotImplementedError(f"{type(self).__name__} calls add_weight: {_OWN_LAYERS}")

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._declared_input_shape is not None:
            config["input_shape"] = list(self._declared_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # -- conveniences -----------------------------------------------------
    def __call__(self, x, training=False):
        """On arrays: forward(x).  On symbolic tensors (gn.Input(...) and what layers made of them):
        build for their shape and return the symbolic output, a step of a graph model."""
        if isinstance(x, KerasTensor) or (isinstance(x, (list, tuple)) and x
                                           and all(isinstance(t, KerasTensor) for t in x)):
            return _call_symbolic(self, x)
        y = self.forward(x, training=training)
        return y.view(EagerTensor) if type(y) is np.ndarray else y

    @property
    def input(self):
        """The symbolic tensor(s) this layer was called on (graph models)."""
        return self._only_node()[0]

    @property
    def output(self):
        """The symbolic tensor this layer produced (graph models)."""
        return self._only_node()[1]

    def _only_node(self):
        nodes = getattr(self, "_nodes", [])
        if not nodes:
            raise AttributeError(f"{self._label()} has not been called on a symbolic tensor (gn.Input(...)), "
                                 f"so it has no input or output")
        if len(nodes) > 1:
            raise AttributeError(f"{self._label()} was called {len(nodes)} times; it has no single input or output")
        return nodes[0]

    @property
    def weights(self) -> list[np.ndarray]:
        """All weights in Keras order: trainable ones, then non-trainable ones."""
        return list(self.params.values()) + list(self.state.values())

    @property
    def weight_names(self) -> list[str]:
        return list(self.params) + list(self.state)

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Copy `weights` (a list in `get_weights()` order) into the layer, checking every shape first."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"Layer {self.name!r} expects {len(own)} weight arrays "
                             f"({', '.join(self.weight_names) or 'none'}), got {len(weights)}")
        arrays = []
        for key, mine, new in zip(self.weight_names, own, weights):
            new = np.asarray(new)
            if new.shape != mine.shape:
                raise ValueError(f"Layer {self.name!r} weight {key!r} expects shape {mine.shape}, got {new.shape}")
            if new.dtype.kind not in "fiu" or not np.all(np.isfinite(new)):
                raise ValueError(f"Layer {self.name!r} weight {key!r} must hold finite numbers")
            arrays.append(new)
        for mine, new in zip(own, arrays):
            mine[...] = new      # in place: optimizers and models keep references to these arrays

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def _ensure_built(self, x):
        """Build on first use: from the declared input_shape if there is one (so a wrong x is caught), else from x."""
        if not self.built:
            features = self._declared_input_shape or tuple(x.shape[1:])
            self.build((None,) + tuple(features))

    def _check_input(self, x):
        """Validate the width of x against the built input shape; return x as an array."""
        if not isinstance(x, np.ndarray):
            x = np.asarray(x, dtype=self.dtype)
        if x.ndim < 2:
            raise ValueError(f"{self._label()} expects a batch of shape "
                             f"(batch, {', '.join(map(str, self._feature_dims()))}), got shape {x.shape}")
        self._ensure_built(x)
        problem = self._input_mismatch(x)
        if problem:
            raise ValueError(f"{self._label()} expects {problem}")
        return x

    def _input_mismatch(self, x):
        """What is wrong with a batch x (ndim >= 2) for the built layer, or None; subclasses that
        accept more shapes (Dense: any leading axes) override it."""
        if x.shape[1:] != self.input_shape[1:]:
            return f"input of shape (batch, {', '.join(map(str, self.input_shape[1:]))}), got {x.shape}"
        return None

    def _label(self) -> str:
        """How error messages name the layer: "Dense", or "Dense 'hidden'" when it has a name."""
        return type(self).__name__ + (f" {self.name!r}" if self.name else "")

    def _feature_dims(self):
        if self.input_shape is not None:
            return self.input_shape[1:]
        if self._declared_input_shape is not None:
            return self._declared_input_shape
        return ("...",)

    def _buffer(self, key, shape, dtype=None):
        """A scratch array of `shape`: fresh by default, kept and reused while a model runs.

        A kept buffer has the largest batch seen so far; a smaller (last) batch gets a view of its
        first rows.
        """
        dtype = dtype or self.dtype
        if not self._reuse:
            return np.empty(shape, dtype=dtype)
        buf = self._buffers.get(key)
        if buf is not None and buf.shape == shape and buf.dtype == dtype:      # every full batch
            return buf
        if buf is None or buf.shape[0] < shape[0] or buf.shape[1:] != tuple(shape[1:]) or buf.dtype != dtype:
            buf = np.empty(shape, dtype=dtype)
            self._buffers[key] = buf
        return buf[: shape[0]]

    # -- pickling ---------------------------------------------------------
    #: what forward keeps for backward (and pooling's indices): dropped when a layer is pickled
    _FORWARD_CACHES = ("_x", "_z", "_y", "_xs", "_cols", "_mask", "_cache", "_index", "_wins", "_argmax",
                       "_ids", "_counts", "_lead")

    def __getstate__(self):
        """The layer without its scratch: kept buffers, forward caches and gradients (recreated as
        zeros) are left out, so a pickle holds the weights, the state, the config and the rng."""
        state = dict(self.__dict__)
        state["_buffers"] = {}
        state["_reuse"] = False
        for key in self._FORWARD_CACHES:
            if key in state:
                state[key] = None
        act = state.get("activation")
        if "_act" in state and isinstance(act, str) and _activations.ACTIVATIONS.get(act) is state["_act"]:
            state["_act"] = act             # some are closures, which pickle cannot take: looked up again
            state["_act_by_name"] = True
        if isinstance(state.get("grads"), dict):
            state["grads"] = {}
            state["_grad_shapes"] = {k: (v.shape, v.dtype) for k, v in self.__dict__["grads"].items()}
        return state

    def __setstate__(self, state):
        shapes = state.pop("_grad_shapes", None)
        if state.pop("_act_by_name", False):
            state["_act"] = _activations.ACTIVATIONS[state["_act"]]
        self.__dict__.update(state)
        # joblib's mmap_mode="r" gives read-only arrays: take writable copies of the weights and state
        for store in ("params", "state"):
            arrays = self.__dict__.get(store)
            if isinstance(arrays, dict):
                for k, v in arrays.items():
                    if isinstance(v, np.ndarray) and not v.flags.writeable:
                        arrays[k] = np.array(v, copy=True, subok=False)
        if shapes is not None:
            self.__dict__["grads"] = {k: np.zeros(shape, dtype) for k, (shape, dtype) in shapes.items()}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


class KerasTensor:
    """A symbolic tensor: the shape (None, ...) and dtype of the data at one point of a graph model,
    and the layer that produces it from which tensors (`_layer`, `_inbound`)."""

    def __init__(self, shape, dtype, layer, inbound=()):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._layer = layer
        self._inbound = tuple(inbound)

    @property
    def name(self):
        return self._layer.name

    def __repr__(self):
        return f"<KerasTensor shape={self.shape} dtype={self.dtype} made by {self._layer._label()}>"


def _call_symbolic(layer, x):
    """layer(x) on symbolic tensors: check or build the layer for their shapes, record the call."""
    many = isinstance(x, (list, tuple))
    inbound = list(x) if many else [x]
    shapes = [t.shape for t in inbound]
    shape = shapes if many else shapes[0]
    if not many and layer._declared_input_shape is not None and tuple(shape[1:]) != layer._declared_input_shape:
        raise ValueError(f"{layer._label()} was declared for inputs of shape {layer._declared_input_shape}, "
                         f"but is called on a tensor of shape {tuple(shape)}")
    if not layer.built:
        try:
            layer.build(shape)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{layer._label()} cannot take inputs of shape "
                             f"{_shapes_text(shapes, many)}: {err}") from None
    else:
        built = [tuple(s) for s in layer.input_shape] if many else tuple(layer.input_shape)
        wanted = [tuple(s) for s in shapes] if many else tuple(shape)
        if built != wanted:
            raise ValueError(f"{layer._label()} was built for inputs of shape {layer.input_shape}, but is called "
                             f"on {_shapes_text(shapes, many)}")
    out = KerasTensor(layer.output_shape, layer.dtype, layer, inbound)
    if not hasattr(layer, "_nodes"):
        layer._nodes = []
    layer._nodes.append((x, out))
    return out


def _shapes_text(shapes, many):
    return "[" + ", ".join(map(str, shapes)) + "]" if many else str(tuple(shapes[0]))


def _feature_shape(shape):
    """Check an input_shape argument such as (784,) and return it as a tuple of ints."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"input_shape must be a tuple of positive ints such as (784,), got {shape!r}") from None
    if not shape or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in shape):
        hint = ("; glassnet needs every size of a sample, so sequences of any length (None) are not taken yet: "
                "pad them to one length") if None in shape else ""
        raise ValueError(f"input_shape must be a tuple of positive ints such as (784,), got {shape!r}{hint}")
    return tuple(int(d) for d in shape)


def _axes(axis, ndim, what="axis"):
    """An axis argument (an int, or a tuple/list of ints; negative ones count from the end) for inputs
    of `ndim` dimensions (the batch axis included) as a sorted tuple of non-negative axes; the batch
    axis (0) and axes outside the input are refused."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = set()
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{what}={axis!r} does not fit inputs of {ndim} dimensions (the batch axis included)")
        a = int(a) % ndim
        if a == 0:
            raise ValueError(f"{what}={axis!r} names the batch axis (0); give axes of a sample, such as -1")
        out.add(a)
    return tuple(sorted(out))


def _axis_argument(axis, what):
    """An axis argument (an int or a list of ints) as an int or a tuple, checked for type only."""
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                                                        for a in axis):
        return tuple(int(a) for a in axis)
    raise TypeError(f"{what} must be an int or a list of ints, got {axis!r}")
