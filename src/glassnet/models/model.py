"""The structure of a model: its layers, their weights, and the flat buffer the weights live in.

`Model` is the general base class: it owns layers in execution order, builds them, packs every
trainable weight into one flat buffer (each layer's params are views into it, so an optimizer
updates every weight with a few NumPy calls) and reads and writes weights.  Its training methods
(compile, fit, evaluate, predict, ...) come from the `Trainer` mixin (models/trainer.py), its
files from the `Files` mixin (models/config.py).  `Sequential` (models/sequential.py) is the
simple case: an ordered list of layers with add() and pop().

The training step (models/step.py) talks to a model only through this small interface, so a
model with another layout (a graph of layers) only has to provide it:

    layers                        every layer, in the order forward runs them
    calls, output_calls           the layer of each call (a graph may call a layer twice), and
                                  which calls make the outputs: a recorder's `index` is a call's
    output_layer                  the layer whose output the loss reads
    run_forward(x, training, call=None)
                                  run every layer but the output layer; returns the output
                                  layer's input.  call(index, layer, h) -> output runs one layer
                                  (None: layer.forward(h, training))
    run_backward(d, call=None)    from dL/d(the output layer's input) back to the first layer
                                  with weights; call(index, layer, d) -> dL/dx runs one layer
                                  (None: layer.backward(d))
    trainable_entries             [(layer, key)] of every trainable weight, in flat-buffer order
"""
from __future__ import annotations

import numpy as np

from .. import layers as layers_module
from ..layers.base import Layer
from . import summary as summary_module
from .config import Files
from .nested import AsLayer, adopt_nested, check_owners, leaves
from .trainer import Trainer


class Model(AsLayer, Trainer, Files):
    """Base class of glassnet models: layers, weights and (from Trainer) training."""

    def __new__(cls, *args, **kwargs):
        """Model(inputs, outputs) makes a graph model (models/functional.py), as in Keras."""
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional
            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, name=None):
        self.name = name or "model"
        self.layers: list[Layer] = []
        self.built = False
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.metrics_names: list[str] = []
        self.stop_training = False
        self.history = None
        self._input_feature_shape = None
        self._reusing = False            # True while fit/evaluate/predict run: see Trainer._running()
        self._scratch: dict[str, np.ndarray] = {}
        self._prepared = False
        self._heads = None               # a model with several outputs: one models.outputs.Head each
        self._shuffle_rng = None         # fit's shuffling generator and unfinished pass (models/fit.py)
        self._shuffle_pass = None

    # ------------------------------------------------------------------
    # Layers
    # ------------------------------------------------------------------
    def _track(self, layer):
        """Check that `layer` may join this model and give it a unique name if it has none."""
        if any(layer is other for other in self.layers):
            raise ValueError(f"layer {layer.name!r} is already in this model")
        taken = {other.name for other in self.layers}
        if layer.name is None or (getattr(layer, "_auto_named", False) and layer.name in taken):
            # a model named by default ("functional") is renamed like a layer: Keras numbers its
            # models too (an ensemble of three gets functional, functional_1, functional_2)
            base = layer.name or layers_module.base._snake(type(layer).__name__)
            name, i = base, 0
            while name in taken:
                i += 1
                name = f"{base}_{i}"
            layer.name = name
        elif layer.name in taken:
            raise ValueError(f"a layer named {layer.name!r} is already in this model; layer names must be unique")

    @property
    def output_layer(self):
        return self.layers[-1]

    @property
    def calls(self):
        """The layer of each call forward makes, in order (a recorder's `index` points here); for
        a Sequential, model.layers."""
        return list(self.layers)

    @property
    def output_calls(self):
        """The position in `calls` of each output's call."""
        return [len(self.layers) - 1]

    def run_forward(self, x, training, call=None):
        """Every layer but the output layer, in order: the output layer's input."""
        h = x
        if call is None:
            for layer in self.layers[:-1]:
                h = layer.forward(h, training=training)
        else:
            for i, layer in enumerate(self.layers[:-1]):
                h = call(i, layer, h)
        return h

    def run_backward(self, d, call=None):
        """From dL/d(the output layer's input) back through the layers that need a gradient."""
        first = self._first_trainable
        if call is None:
            for layer in reversed(self.layers[first:-1]):
                d = layer.backward(d)
        else:
            for i in range(len(self.layers) - 2, first - 1, -1):
                d = call(i, self.layers[i], d)
        return d

    # ------------------------------------------------------------------
    # Building
    # ------------------------------------------------------------------
    def build(self, input_shape=None):
        """Create every layer's weights for inputs of `input_shape` ((None, 784) or (784,))."""
        if not self.layers:
            raise ValueError("the model has no layers; add some with model.add(...)")
        if input_shape is not None:
            shape = tuple(input_shape)
            if shape and shape[0] is None:
                shape = shape[1:]
            shape = layers_module.base._feature_shape(shape)
            if self._input_feature_shape is not None and shape != self._input_feature_shape:
                raise ValueError(f"the model was declared for inputs of shape {self._input_feature_shape}, "
                                 f"got {shape}")
            self._input_feature_shape = shape
        if self._input_feature_shape is None:
            raise ValueError("the model does not know its input shape yet: pass input_shape=(n,) to the first "
                             "layer, call build((None, n)), or fit it on data")
        dtypes = {layer.dtype for layer in self.layers}
        if len(dtypes) > 1:
            raise ValueError(f"all layers of a model must share one dtype, got {sorted(dtypes)}")
        self.dtype = dtypes.pop()
        shape = (None,) + self._input_feature_shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            elif tuple(layer.input_shape[1:]) != tuple(shape[1:]):
                raise ValueError(f"layer {layer.name!r} was built for inputs {layer.input_shape}, "
                                 f"but receives {shape}")
            shape = layer.output_shape
        # The data needs no gradient: layers up to the first one with weights skip dL/dx (unless this
        # model is a layer of another that needs dL/d(our input): models/nested.py).
        self._set_input_grads()
        self._pack_weights()
        self.built = True
        self._fit_optimizer()                      # the weights changed shape: the optimizer starts afresh
        self._prepared = False

    def _check_not_nested(self, what):
        """A model that is a layer of another keeps its weights in that model's buffer: changing its
        layers or rebuilding it would silently move them out, so it is refused."""
        owner = getattr(self, "_owner", None)
        if owner is not None:
            raise ValueError(f"model {self.name!r} is a layer of model {owner.name!r}: {what} it would take its "
                             f"weights out of {owner.name!r}; build a new model instead")

    def _pack_weights(self):
        """Move every trainable weight and its gradient into one flat buffer each (views per layer)."""
        self._check_not_nested("rebuilding")
        check_owners(self)
        entries = [(layer, key) for layer, trainable in leaves(self.layers) if trainable for key in layer.params]
        total = sum(layer.params[key].size for layer, key in entries)
        flat_w = np.empty(total, dtype=self.dtype)
        flat_g = np.zeros(total, dtype=self.dtype)
        offset, offsets = 0, []
        for layer, key in entries:
            offsets.append(offset)
            w = layer.params[key]
            view = flat_w[offset:offset + w.size].reshape(w.shape)
            view[...] = w
            layer.params[key] = view
            layer.grads[key] = flat_g[offset:offset + w.size].reshape(w.shape)
            offset += w.size
        self._flat_weights, self._flat_grads = flat_w, flat_g
        self._flat_lists = ([flat_g], [flat_w])          # what the step hands the optimizer
        self._trainable_entries = entries
        self._packed = [layer.params[key] for layer, key in entries]
        self._packed_trainable = [trainable for _, trainable in leaves(self.layers)]
        adopt_nested(self.layers, entries, offsets, flat_w, flat_g, self)

    def _weights_moved(self) -> bool:
        """Is the flat buffer out of date: a layer frozen or unfrozen (layer.trainable = False) since
        it was packed, or our layers' weights packed into another model's buffer?

        Layers can belong to several models (Keras: an encoder inside an autoencoder, a feature
        extractor over a trained model's layers); each model that packs them takes them into its
        buffer, and the one that packed them before would then train a buffer nobody reads."""
        if self.built and getattr(self, "_flat_weights", 1) is None:
            return True                              # unpickled: the flat buffer is rebuilt
        packed = getattr(self, "_packed", None)
        if packed is None:
            return False
        return (any(layer.params.get(key) is not view for (layer, key), view in zip(self._trainable_entries, packed))
                or [trainable for _, trainable in leaves(self.layers)] != self._packed_trainable)

    def _reclaim_weights(self):
        """Pack the weights again (their current values) with the layers' trainable flags as they
        are now, so that our optimizer updates what the layers use and nothing frozen; a model that
        is a layer of another asks that one."""
        owner = getattr(self, "_owner", None)
        if owner is not None:
            owner._require_built()
            return
        self._pack_weights()
        self._fit_optimizer()
        self._prepared = False

    def _fit_optimizer(self):
        """An optimizer that holds state for weights of other shapes starts afresh."""
        opt = self.optimizer
        if opt is not None and opt._variables is not None and \
                [v.shape for v in opt._variables] != [v.shape for v in self._optimizer_variables()]:
            opt._variables, opt.slots, opt.iterations = None, [], 0

    def _require_built(self):
        if self.built:
            if self._weights_moved():
                self._reclaim_weights()
            return
        if self.layers and self._input_feature_shape is not None:
            self.build()
        else:
            raise ValueError("this model has not been built yet: give the first layer input_shape=(n,), "
                             "call build((None, n)), or fit it on data")

    # ------------------------------------------------------------------
    # Shapes and weights
    # ------------------------------------------------------------------
    @property
    def input_shape(self):
        return None if self._input_feature_shape is None else (None,) + self._input_feature_shape

    @property
    def output_shape(self):
        self._require_built()
        return self.output_layer.output_shape

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight arrays themselves (not copies), in get_weights() order; [] while the model
        cannot be built yet (no input shape known), as in Keras."""
        if not self.built and (not self.layers or self._input_feature_shape is None):
            return []
        self._require_built()
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_entries(self) -> list[tuple]:
        """[(layer, key)] of every trainable weight, in the order of the flat buffer."""
        self._require_built()
        return list(self._trainable_entries)

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """The weights training changes (frozen layers left out), in the flat buffer's order."""
        if not self.built and (not self.layers or self._input_feature_shape is None):
            return []
        self._require_built()
        return [layer.params[key] for layer, key in self._trainable_entries]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """The weights training leaves alone, layer by layer: every weight of a frozen layer
        (layer.trainable = False) and the moving statistics of the others, as Keras lists them."""
        if not self.built and (not self.layers or self._input_feature_shape is None):
            return []
        self._require_built()
        return [w for layer, trainable in leaves(self.layers)
                for w in ([] if trainable else list(layer.params.values())) + list(layer.state.values())]

    @property
    def losses(self) -> list[float]:
        """The weight penalties (Keras's model.losses): one float per trainable weight that has a
        regularizer, in trainable_weights order, e.g. [0.01 * sum(W**2)] for a Dense with
        kernel_regularizer=l2(0.01).  Training adds their sum to the loss; [] before the model is built."""
        if not self.built:
            return []
        out = []
        for layer, key in self._trainable_entries:
            name = {"W": "kernel", "b": "bias"}.get(key, key)
            regularizer = getattr(layer, f"{name}_regularizer", None)
            if regularizer is not None:
                out.append(float(regularizer.penalty(layer.params[key])))
        return out

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every weight array, layer by layer: Dense gives [W (in, out), b (out,)] as Keras does."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Set every weight from a list in get_weights() order; all shapes are checked before anything changes."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"set_weights expects a list of {len(own)} arrays "
                             f"(shapes {[w.shape for w in own]}), got {len(weights)}")
        names = [f"{layer.name}/{key}" for layer in self.layers for key in layer.weight_names]
        checked = []
        for name, mine, new in zip(names, own, weights):
            new = np.asarray(new)
            if new.shape != mine.shape:
                raise ValueError(f"set_weights: {name} expects shape {mine.shape}, got {new.shape}")
            if new.dtype.kind not in "fiu" or not np.isfinite(new).all():
                raise ValueError(f"set_weights: {name} must hold finite numbers")
            checked.append(new)
        for mine, new in zip(own, checked):
            mine[...] = new

    def get_layer(self, name=None, index=None):
        """The layer called `name`, or at position `index` of model.layers (Keras's get_layer)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer needs exactly one of name= or index=")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"get_layer index must be an int, got {index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer index {index} is out of range: the model has {len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the layers are {', '.join(l.name for l in self.layers)}")

    def count_params(self) -> int:
        self._require_built()
        return int(sum(layer.count_params() for layer in self.layers))

    def _optimizer_variables(self):
        """The variables the step hands the optimizer: the flat buffer, or per-variable views with clipnorm."""
        self._require_built()
        if self.optimizer is not None and self.optimizer.clipnorm is not None:
            return self.trainable_weights
        return [self._flat_weights]

    # ------------------------------------------------------------------
    # Description
    # ------------------------------------------------------------------
    def summary(self, line_length=None, print_fn=None, details=True):
        """Print Keras's summary table (layer (type), output shape, parameter count, totals), then,
        unless details=False, how the numbers add up: per layer the parameter arithmetic
        (784 x 50 + 50 = 39,250), activation and initializer, memory and FLOPs per sample.

        print_fn (default print) is called once per table, with the table's text.  A model that
        cannot be built yet (no input shape before its first fit) prints Keras 3's table of an
        unbuilt model: "?" shapes and "0 (unbuilt)" counts.
        """
        if self.built or (self.layers and self._input_feature_shape is not None):
            self._require_built()                # builds it (or takes back weights another model moved)
        summary_module.print_summary(self, print_fn, details)

    # ------------------------------------------------------------------
    # Pickling
    # ------------------------------------------------------------------
    _FLAT = ("_flat_weights", "_flat_grads", "_flat_lists", "_packed")

    def __getstate__(self):
        """The model without its scratch: the flat weight and gradient buffers (the layers' params
        hold the weights; the buffers are rebuilt on first use), kept batch buffers and a graph's
        forward caches are left out.  The optimizer keeps its state (slots, iterations) but not
        its bound variables (the flat buffer again): only their shapes."""
        state = dict(self.__dict__)
        state["_scratch"] = {}
        state["_reusing"] = False
        state["_prepared"] = False
        for key in self._FLAT:
            state.pop(key, None)
        if "_logits" in state:
            state["_logits"] = None                   # the last batch's logits (models/step.py)
        if isinstance(state.get("_caches"), list):
            state["_caches"] = [None] * len(state["_caches"])
        opt = state.get("optimizer")
        if opt is not None and getattr(opt, "_variables", None) is not None:
            state["optimizer"] = opt._without_variables()
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for key in self._FLAT:
            self.__dict__[key] = None
        # the flat buffers are rebuilt from the layers' params by _require_built (_weights_moved)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} layers={len(self.layers)} built={self.built}>"
