"""Recording one training step: trace(model, x, y) runs the model's own step with a Recorder.

The step is glassnet.models.step.step(), the code train_on_batch runs; the recorder here only
copies what the step hands it (glassnet.models.Recorder documents what that is).  With
update=False the real step runs inside a snapshot of the model (weights, moving statistics,
optimizer state, random generators), which is put back afterwards.
"""
from __future__ import annotations

import numpy as np

from ..models import Recorder, Snapshot
from .records import LayerTrace, Trace
from .words import _words


def _copy(a):
    """A copy of an array, or of each array of a list (a merge layer's inputs, its dL/dx)."""
    if isinstance(a, (list, tuple)):
        return [_copy(part) for part in a]
    return None if a is None else np.array(a, copy=True)


class _TraceRecorder(Recorder):
    """Fills a Trace from the hooks of one step."""

    def __init__(self, tr, update):
        self.tr, self.update_applies, self.snapshot = tr, update, None
        self.records: list[LayerTrace] = []

    def begin(self, model, x, y):
        if not self.update_applies:
            self.snapshot = Snapshot(model)
        tr, calls = self.tr, model.calls               # one record per call (a shared layer: per call)
        self.layers = calls
        outputs = model.output_calls
        if len(outputs) == 1:                          # one output: the last layer with weights
            weighted = [i for i, l in enumerate(calls) if l.params]
            outputs = weighted[-1:]
        hidden = [i for i, l in enumerate(calls) if l.params and i not in outputs]
        hidden_number = {i: k + 1 for k, i in enumerate(hidden)}
        count = {}
        for i, layer in enumerate(calls):
            role = "output" if i in outputs else f"hidden {hidden_number[i]}" if i in hidden_number else "other"
            activation = getattr(layer, "activation", None)
            count[id(layer)] = count.get(id(layer), 0) + 1
            name = layer.name if count[id(layer)] == 1 else f"{layer.name} (call {count[id(layer)]})"
            rec = LayerTrace(name, type(layer).__name__, role,
                             activation if isinstance(activation, str) else None, getattr(layer, "units", None))
            rec.weights = {k: v.copy() for k, v in layer.params.items()}
            rec.trainable = layer.trainable
            self.records.append(rec)
        several_in = len(getattr(model, "inputs", ())) > 1
        several_out = len(getattr(model, "outputs", ())) > 1
        tr.x = [a.copy() for a in x.arrays] if several_in else x.copy()
        tr.y = [None if a is None else a.copy() for a in y.arrays] if several_out else np.array(y, copy=True)
        tr.input_names = [t.name for t in model.inputs] if several_in else None
        tr.output_names = model.output_names if several_out else None
        tr.output_indices = list(model.output_calls) if several_out else None
        tr.model_name = model.name
        shapes = model.input_shape if several_in else [model.input_shape]
        widths = ["+".join(str(int(np.prod(s[1:]))) for s in shapes)] + \
                 [str(l.units) for l in calls if getattr(l, "units", None) is not None]
        tr.architecture = "-".join(widths)
        tr.dtype = str(model.dtype)
        tr.loss_name = ", ".join(l.name for l in model.loss if l is not None) if several_out else model.loss.name
        opt = model.optimizer
        tr.optimizer_name = type(opt).__name__
        tr.optimizer_config = opt.get_config() if hasattr(opt, "get_config") else {}
        tr.learning_rate = float(opt.learning_rate)
        tr.plain_sgd = type(opt).__name__ == "SGD" and not getattr(opt, "momentum", 0) and \
            opt.clipnorm is None and opt.clipvalue is None and opt.global_clipnorm is None

    def layer_forward(self, index, layer, inputs, outputs, logits=None):
        rec = self.records[index]
        rec.input, rec.output = _copy(inputs), _copy(outputs)
        if logits is not None:
            rec.z = _copy(logits)

    def loss_per_output(self, losses):
        self.tr.output_losses = {name: (float(v), float(w)) for name, (v, w) in losses.items()}

    def loss(self, data_loss, regularization, fused=False):
        tr = self.tr
        tr.data_loss, tr.regularization = float(data_loss), float(regularization)
        tr.loss = tr.data_loss + tr.regularization

    def layer_backward(self, index, layer, grad_output, grad_input, grads, grad_logits=None):
        rec = self.records[index]
        rec.fused = grad_output is None and grad_logits is not None      # dL/dz came straight from the loss
        rec.grad_output, rec.grad_z, rec.grad_input = _copy(grad_output), _copy(grad_logits), _copy(grad_input)
        rec.grads = {k: grads[k].copy() for k in layer.params}
        rec.backward_ran = True

    def update(self, changes):
        after = {(id(layer), key): new for layer, key, _, new in changes}
        for layer, rec in zip(self.layers, self.records):
            rec.weights_after = {k: after.get((id(layer), k), layer.params[k].copy()) for k in layer.params}


def trace(model, x, y, update=True, lang="en", precision=4, max_items=40) -> Trace:
    """Run one training step of a compiled model on (x, y) and record every number.

    The step is the model's own (model.train_on_batch(x, y, recorder=...)): its layers' forward
    and backward passes, its loss and its optimizer, on its own weights.  With update=True
    (default) the weights change exactly as `model.train_on_batch(x, y)` would change them; with
    update=False they (and the optimizer's state, BatchNormalization's moving statistics and
    Dropout's random generator) are put back as they were, and the trace shows the update the
    optimizer made before that.
    `lang` ("en" or "ko"), `precision` (significant digits, None for all) and `max_items` set how
    `str(trace)` prints.
    """
    _words(lang)                                   # an unknown language fails before any computation
    tr = Trace()
    tr.lang, tr.max_items = lang, max_items
    tr.precision = tr._precision(precision)
    if not getattr(model, "compiled", False):
        raise ValueError("trace needs a compiled model: call model.compile(optimizer=..., loss=...) first")
    recorder = _TraceRecorder(tr, update)
    try:
        model.train_on_batch(x, y, recorder=recorder)
    finally:
        if recorder.snapshot is not None:
            recorder.snapshot.restore()
    tr.applied = bool(update)
    tr.layers = recorder.records
    return tr
