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
    return None if a is None else np.array(a, copy=True)


class _TraceRecorder(Recorder):
    """Fills a Trace from the hooks of one step."""

    def __init__(self, tr, update):
        self.tr, self.update_applies, self.snapshot = tr, update, None
        self.records: list[LayerTrace] = []

    def begin(self, model, x, y):
        if not self.update_applies:
            self.snapshot = Snapshot(model)
        tr, layers = self.tr, model.layers
        self.layers = list(layers)
        weighted = [i for i, l in enumerate(layers) if l.params]
        hidden_number = {i: k + 1 for k, i in enumerate(weighted[:-1])} if weighted else {}
        for i, layer in enumerate(layers):
            role = "output" if weighted and i == weighted[-1] else \
                f"hidden {hidden_number[i]}" if i in hidden_number else "other"
            activation = getattr(layer, "activation", None)
            rec = LayerTrace(layer.name, type(layer).__name__, role,
                             activation if isinstance(activation, str) else None, getattr(layer, "units", None))
            rec.weights = {k: v.copy() for k, v in layer.params.items()}
            rec.trainable = layer.trainable
            self.records.append(rec)
        tr.x, tr.y = x.copy(), np.array(y, copy=True)
        tr.model_name = model.name
        widths = [str(int(np.prod(model.input_shape[1:])))] + \
                 [str(l.units) for l in layers if getattr(l, "units", None) is not None]
        tr.architecture = "-".join(widths)
        tr.dtype = str(model.dtype)
        tr.loss_name = model.loss.name
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

    def loss(self, data_loss, regularization, fused=False):
        tr = self.tr
        tr.data_loss, tr.regularization = float(data_loss), float(regularization)
        tr.loss = tr.data_loss + tr.regularization
        self.records[-1].fused = bool(fused)

    def layer_backward(self, index, layer, grad_output, grad_input, grads, grad_logits=None):
        rec = self.records[index]
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
