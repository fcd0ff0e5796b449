"""A model used as a layer (Keras: a model is a layer): Sequential([inner, Dense(3)]), or inner(t)
on a symbolic tensor inside a graph model.

    inner = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(4,))])
    outer = gn.Sequential([inner, gn.layers.Dense(3, activation="softmax")])

`AsLayer` (mixed into Model) gives a built model the part of the layer interface a model uses:
forward (run_forward, then the output layer), backward (the output layer, then run_backward down to
the input when need_input_grad), params / grads / state (every inner weight, "layer/key"),
weights and weight_names (in get_weights() order), and the symbolic call.  The outer model packs
the inner layers' weights into its own flat buffer (`leaves`: the layers that hold weights,
inner models opened up), so one optimizer step updates them and the numbers are those of the
same layers written out flat; the inner model keeps working on the same arrays (`_adopt`).
Only a model with one input and one output can be used as a layer.
"""
from __future__ import annotations

from ..layers.base import KerasTensor, _call_symbolic


def leaves(layers, trainable=True):
    """[(layer, trainable)] of the layers in `layers`, models opened up recursively, in order."""
    out = []
    for layer in layers:
        if isinstance(layer, AsLayer):
            out.extend(leaves(layer.layers, trainable and layer.trainable))
        else:
            out.append((layer, trainable and layer.trainable))
    return out


class AsLayer:
    """The layer side of a Model (see the module doc)."""

    trainable = True
    _reuse = False
    _need_input_grad = False

    def __call__(self, x, training=False):
        if isinstance(x, KerasTensor) or (isinstance(x, (list, tuple)) and x
                                           and all(isinstance(t, KerasTensor) for t in x)):
            self._require_one_in_one_out()
            self._require_built()
            return _call_symbolic(self, x)
        return super().__call__(x, training=training)

    def _require_one_in_one_out(self):
        for what in ("inputs", "outputs"):
            if len(getattr(self, what, [None])) != 1:
                raise ValueError(f"model {self.name!r} has {len(getattr(self, what))} {what}; only a model with one "
                                 f"input and one output can be used as a layer so far")

    @property
    def _declared_input_shape(self):
        return self._input_feature_shape

    def _label(self):
        return f"{type(self).__name__} {self.name!r}"

    # -- forward and backward ---------------------------------------------
    def forward(self, x, training=False):
        return self.output_layer.forward(self.run_forward(x, training), training=training)

    def backward(self, dy):
        return self.run_backward(self.output_layer.backward(dy))

    @property
    def need_input_grad(self):
        return self._need_input_grad

    @need_input_grad.setter
    def need_input_grad(self, value):
        self._need_input_grad = bool(value)
        if self.built:
            self._set_input_grads()

    def _set_input_grads(self):
        """Which inner layers compute dL/dx: all of them when the outer model needs dL/d(our input)."""
        first = next((i for i, l in enumerate(self.layers) if l.params), len(self.layers) - 1)
        if self._need_input_grad:
            first = 0
        for i, layer in enumerate(self.layers):
            layer.need_input_grad = i > first or (i == 0 and self._need_input_grad)
        self._first_trainable = first

    # -- weights, as a layer shows them ------------------------------------
    @property
    def params(self):
        return {f"{l.name}/{k}": v for l in self.layers for k, v in l.params.items()}

    @property
    def grads(self):
        return {f"{l.name}/{k}": v for l in self.layers for k, v in l.grads.items()}

    @property
    def state(self):
        return {f"{l.name}/{k}": v for l in self.layers for k, v in l.state.items()}

    @property
    def weight_names(self):
        return [f"{l.name}/{k}" for l in self.layers for k in l.weight_names]

    def regularization_loss(self):
        return sum(l.regularization_loss() for l, _ in leaves(self.layers) if hasattr(l, "regularization_loss"))

    def _adopt(self, flat_w, flat_g, entries):
        """Our trainable weights now live in an outer model's buffer: flat_w / flat_g are our part of it."""
        self._flat_weights, self._flat_grads = flat_w, flat_g
        self._flat_lists = ([flat_g], [flat_w])
        self._trainable_entries = entries
        self._packed = [layer.params[key] for layer, key in entries]
        self._packed_trainable = [trainable for _, trainable in leaves(self.layers)]


def check_owners(model):
    """A model is a layer of one other model at most: their weights live in that model's buffer."""
    for layer in model.layers:
        owner = getattr(layer, "_owner", None) if isinstance(layer, AsLayer) else None
        if owner is not None and owner is not model:
            raise ValueError(f"model {layer.name!r} is a layer of model {owner.name!r} already; glassnet does not "
                             f"share a model between several models yet (its weights live in the first one)")


def adopt_nested(layers, entries, offsets, flat_w, flat_g, parent=None):
    """Hand every model among `layers` (recursively) its part of the outer buffer: its entries are
    consecutive there, since `leaves` opens each model up in place."""
    for layer in layers:
        if not isinstance(layer, AsLayer):
            continue
        if parent is not None:
            layer._owner = parent
        mine = {id(l) for l, _ in leaves(layer.layers)}
        picked = [i for i, (l, _) in enumerate(entries) if id(l) in mine]
        start = offsets[picked[0]] if picked else 0
        stop = offsets[picked[-1]] + entries[picked[-1]][0].params[entries[picked[-1]][1]].size if picked else 0
        layer._adopt(flat_w[start:stop], flat_g[start:stop], [entries[i] for i in picked])
        adopt_nested(layer.layers, entries, offsets, flat_w, flat_g, layer)
