"""One step of a model: the only code that runs a forward pass, the loss, backward and the update.

    loss, outputs = step(model, x, y)                  # a training step (train_on_batch, each batch of fit)
    loss, outputs = step(model, x, y, training=False, backward=False, update=False)   # test_on_batch
    _, outputs = step(model, x, None, training=False, backward=False, update=False)   # predict

fit, evaluate, predict, train_on_batch, test_on_batch, compute_gradients and
glassnet.explain.trace all run this function; x and y must have passed the model's checks
(train_on_batch does them).  The model is reached through the small interface that
models/model.py documents (run_forward, output_layer, run_backward, trainable_entries).

The fused path: when the output layer's activation is the one the loss fuses with (softmax and
categorical cross-entropy, sigmoid and binary cross-entropy), the loss is computed from the
output layer's logits z and the backward pass starts from dL/dz = (p - t) / n.

Sample weights (fit's sample_weight and class_weight, models/weighting.py): `sample_weight=w`, one
weight per sample of the batch, makes the loss Keras's sum(w_i * l_i) / n, and the backward pass
starts from its exact gradient: the fused dL/dz = w_i (p_i - t_i) / n, or dL/dy with row i times
w_i.  Without weights (None) the step runs exactly the unweighted code.

A `Recorder` watches a step: pass one as `recorder=` (`model.train_on_batch(x, y, recorder=r)`)
and its methods are called as the step runs.  With a recorder, a Dense-like layer (one with
`forward_logits`, `backward_logits`, weights "W" and an activation name) runs as its two halves,
z = layer.forward_logits(x), a = f(z) and dL/dz = f'(z) dL/da, dL/dx = layer.backward_logits(dL/dz)
-- the layer's own NumPy computation, split so the recorder sees z and dL/dz; the numbers (and the
weights after the update) are bit for bit those of a step without a recorder outside fit.
"""
from __future__ import annotations

import contextlib
import copy

import numpy as np

from .. import activations
from . import outputs
from .nested import leaves


class Recorder:
    """What a step shows to whoever watches it; every method does nothing here (subclass it).

    Arrays handed over are the step's own (they change in the next step): copy what you keep.
    `index` is the call's position in model.calls: the layer's position in model.layers, unless
    a graph calls a layer several times (then each call has its own index).
    """

    def begin(self, model, x, y):
        """The step starts on (x, y), both already checked and converted."""

    def layer_forward(self, index, layer, inputs, outputs, logits=None):
        """A layer ran forward: its input and output, and for a Dense-like layer (or the output layer
        of a fused or from_logits loss) its weighted sum z = logits.  For the output layer of a fused
        loss, `outputs` are the probabilities the loss computed from z."""

    def loss(self, data_loss, regularization, fused=False):
        """The loss on the batch and the regularization penalty (0.0 without regularizers); fused:
        the loss took the output layer's logits (dL/dz comes straight from it).  With several
        outputs, data_loss is the weighted sum of their losses."""

    def loss_per_output(self, losses):
        """A model with several outputs: {output name: (its loss, its weight)}, before loss()."""

    def layer_backward(self, index, layer, grad_output, grad_input, grads, grad_logits=None):
        """A layer ran backward: dL/d(its output) (None when the loss is fused with its activation),
        dL/d(its input) (None for the first layer with weights) and `grads`, its dict of weight
        gradients (layer.grads); for a Dense-like layer grad_logits is dL/dz."""

    def update(self, changes):
        """The optimizer stepped: changes is [(layer, key, before, after)], one per trainable weight
        (copies, in the model's trainable_entries order)."""


def step(model, x, y, *, training=True, backward=True, update=True, penalty=True, recorder=None,
         want_outputs=True, sample_weight=None):
    """Run one step on checked (x, y): (loss, outputs).

    training: layers run in training mode (Dropout drops, BatchNormalization uses the batch).
    backward: fill every layer's grads; update: then let the optimizer step (needs backward).
    penalty: add the regularization penalty to the loss.  y=None: a forward pass only (predict),
    the loss is None.  want_outputs=False: the outputs may come back None when the loss did not
    need them (fit without metrics that read them).  recorder: a Recorder that sees the step.
    sample_weight: None, or checked weights (models/weighting.py): an array (n,), or with several
    outputs a Several of them (None for an unweighted output).
    """
    recording = None
    if recorder is not None:
        recorder.begin(model, x, y)
        recording, want_outputs = _Recording(recorder, training), True
    if len(getattr(model, "outputs", ())) > 1:
        return _step_outputs(model, x, y, training, backward, update, penalty, recording, sample_weight)
    if y is None:
        call = None if recording is None else recording.forward
        h = model.run_forward(x, training, call)
        last = model.output_layer
        if recording is None:
            return None, last.forward(h, training=training)
        return None, call(len(model.layers) - 1, last, h)
    if not model._prepared:
        model._prepare()
    loss, out, dz = model._forward_loss(x, y, training, want_outputs, backward, recording, sample_weight)
    extra = model._regularization_loss() if penalty and model._regularized else 0.0
    if recorder is not None:
        recorder.loss(loss, extra, fused=model._fused)
    if backward:
        backward_pass(model, y, out, dz, recording, sample_weight)
    if penalty and model._regularized:
        loss += extra
    if update:
        apply_gradients(model, recorder)
    return loss, out


def _step_outputs(model, x, y, training, backward, update, penalty, recording, sample_weight=None):
    """step() for a model with several outputs (models/outputs.py): the same phases, per output."""
    if y is None:
        return None, outputs.predict_outputs(model, x, training, recording)
    if not model._prepared:
        model._prepare()
    loss, outs, dzs = forward_loss(model, x, y, training, want_dz=backward, recording=recording,
                                   sample_weight=sample_weight)
    extra = model._regularization_loss() if penalty and model._regularized else 0.0
    if recording is not None:
        recording.recorder.loss_per_output({h.name: (v, h.weight) for h, v in zip(model._heads, model._head_losses)})
        recording.recorder.loss(loss, extra)
    if backward:
        outputs.backward(model, y, outs, dzs, recording, sample_weight)
    loss += extra
    if update:
        apply_gradients(model, None if recording is None else recording.recorder)
    return loss, outs


def forward_loss(model, x, y, training, want_outputs=True, want_dz=True, recording=None, sample_weight=None):
    """The forward pass and the loss: (loss, outputs, dL/d(the output layer's logits) or None).

    With a fused (or from_logits) loss the logits are kept in model._logits (accuracy counts
    argmax matches on them); want_outputs / want_dz = False let the loss skip what nobody reads.
    recording: the step's _Recording when a recorder watches.  A model with several outputs:
    (the weighted sum of their losses, the list of outputs, the list of dL/d(logits) or None).
    sample_weight: None or the batch's checked weights: the loss becomes sum(w_i * l_i) / n.
    """
    if model._heads is not None:
        return outputs.forward_loss(model, x, y, training, want_dz, recording, sample_weight)
    last = model._last                           # model.output_layer, as _prepare() found it
    if recording is None:
        h = model.run_forward(x, training)
    else:
        h = model.run_forward(x, training, recording.forward)
        index = len(model.layers) - 1
    if model._logits_loss:
        if model._fused:
            z = last.forward_logits(h, training)
        elif recording is None:
            z = last.forward(h, training)
        else:
            z = recording.forward(index, last, h)
        model._logits = z
        if sample_weight is None:
            loss, dz, out = model.loss._fused(y, z, model._kept("dz", z), want_outputs, want_dz)
        else:
            loss, dz, out = model.loss._fused_weighted(y, z, sample_weight, model._kept("dz", z), want_outputs,
                                                       want_dz)
        if recording is not None and model._fused:
            recording.recorder.layer_forward(index, last, h, out, logits=z)
        return loss, out, dz
    if recording is None:
        out = last.forward(h, training=training)
    else:
        out = recording.forward(index, last, h)
    if sample_weight is None:
        loss = float(np.mean(model.loss.per_sample(y, out)))
    else:
        loss = model.loss.weighted(model.loss.per_sample(y, out), sample_weight)
    return loss, out, None


def backward_pass(model, y, out, dz, recording=None, sample_weight=None):
    """Every layer's backward, from the loss down to the first layer with weights (dz: the loss's
    dL/d(logits), weighted already; else dL/dy is computed here, weighted by sample_weight)."""
    last = model._last
    if dz is not None and model._fused:
        d = last.backward_logits(dz)
        if recording is not None:
            recording.recorder.layer_backward(len(model.layers) - 1, last, None, d, last.grads, grad_logits=dz)
    else:
        if dz is not None:
            grad = dz
        elif sample_weight is None:
            grad = model.loss.gradient(y, out)
        else:
            grad = model.loss.weighted_gradient(y, out, sample_weight)
        d = last.backward(grad) if recording is None else recording.backward(len(model.layers) - 1, last, grad)
    if recording is None:
        model.run_backward(d)
    else:
        model.run_backward(d, recording.backward)


def apply_gradients(model, recorder=None):
    """The optimizer's step on the model's gradients."""
    if recorder is not None:
        entries = model._trainable_entries
        before = [layer.params[key].copy() for layer, key in entries]
    opt = model.optimizer
    if opt.clipnorm is not None:              # per-variable clipping needs the per-variable views
        opt.apply([l.grads[k] for l, k in model._trainable_entries], model.trainable_weights)
    elif opt._variables is not None and len(opt._variables) == 1 and opt._variables[0] is model._flat_weights:
        opt._apply(*model._flat_lists)        # bound to our flat buffer already: skip apply()'s checks
    else:
        opt.apply(*model._flat_lists)
    if recorder is not None:
        recorder.update([(layer, key, b, layer.params[key].copy()) for (layer, key), b in zip(entries, before)])


def regularization_loss(model):
    return sum(layer.regularization_loss() for layer in model._regularized) if model._regularized else 0.0


def dense_like(layer):
    """Does `layer` compute a = f(z) with z = layer.forward_logits(x) (Dense)?"""
    return (isinstance(getattr(layer, "activation", None), str) and hasattr(layer, "forward_logits")
            and hasattr(layer, "backward_logits") and "W" in layer.params)


class _Recording:
    """Runs layers one at a time for a recorder, splitting Dense-like layers at z (see the module doc)."""

    def __init__(self, recorder, training):
        self.recorder, self.training = recorder, training
        self.halves = {}                         # index -> (z, a, activation row): for backward

    def forward(self, index, layer, h):
        z = None
        if dense_like(layer):
            z = layer.forward_logits(h, self.training)
            act = activations.lookup(layer.activation)
            a = z if layer.activation == "linear" else act.forward_into(z, np.empty_like(z))
            self.halves[index] = (z, a, act)
        else:
            a = layer.forward(h, training=self.training)
        self.recorder.layer_forward(index, layer, h, a, logits=z)
        return a

    def backward(self, index, layer, d):
        halves = self.halves.get(index)
        if halves is not None:
            z, a, act = halves
            dz = act.backward(z, a, np.asarray(d))
            dx = layer.backward_logits(dz)
        else:
            dz, dx = None, layer.backward(d)
        self.recorder.layer_backward(index, layer, d, dx, layer.grads, grad_logits=dz)
        return dx


class Snapshot:
    """The model's weights (and moving statistics), its optimizer's state and its layers' random
    generators, taken now; restore() puts them back.  trace(update=False) runs the real step
    between the two, so it can report the update without keeping it."""

    def __init__(self, model):
        model._require_built()
        self.model = model
        self.weights = model.get_weights()
        opt = self.optimizer = model.optimizer
        keep = {id(v): v for v in (getattr(opt, "_variables", None) or [])}     # bound, not copied
        self.optimizer_state = None if opt is None else copy.deepcopy(opt.__dict__, keep)
        self.rngs = [(layer.rng, layer.rng.bit_generator.state) for layer, _ in leaves(model.layers)
                     if isinstance(getattr(layer, "rng", None), np.random.Generator)]

    def restore(self):
        for mine, saved in zip(self.model.weights, self.weights):
            mine[...] = saved
        if self.optimizer is not None:
            self.optimizer.__dict__.clear()
            self.optimizer.__dict__.update(self.optimizer_state)
        for rng, state in self.rngs:
            rng.bit_generator.state = state


@contextlib.contextmanager
def restored(model):
    """`with restored(model): ...`: whatever runs inside, the model ends as a Snapshot took it."""
    snapshot = Snapshot(model)
    try:
        yield model
    finally:
        snapshot.restore()
