"""Recording one training step: trace(model, x, y) runs the model's own step with a Recorder.

The step is glassnet.models.step.step(), the code train_on_batch runs; the recorder here only
copies what the step hands it (glassnet.models.Recorder documents what that is).  With
update=False the real step runs inside a snapshot of the model (weights, moving statistics,
optimizer state, random generators), which is put back afterwards.
"""
from __future__ import annotations

import numpy as np

from ..models import Recorder, Snapshot
from . import pixels
from .records import LayerTrace, Trace
from .words import _words


def _copy(a):
    """A copy of an array, or of each array of a list (a merge layer's inputs, its dL/dx)."""
    if isinstance(a, (list, tuple)):
        return [_copy(part) for part in a]
    return None if a is None else np.array(a, copy=True)


class _TraceRecorder(Recorder):
    """Fills a Trace from the hooks of one step."""

    def __init__(self, tr, update, pixel=None, sample=0):
        self.tr, self.update_applies, self.snapshot = tr, update, None
        self.pixel, self.sample = pixel, sample
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
            rec.conv, rec.pool = pixels.conv_shape(layer), pixels.pool_shape(layer)
            if rec.conv is not None:
                rec.regularizer = getattr(layer, "kernel_regularizer", None)
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
        if any(r.conv or r.pool for r in self.records):
            tr.architecture = _conv_architecture(shapes, self.records)
        self._choose_pixels(len(x.arrays[0]) if several_in else len(x))
        tr.dtype = str(model.dtype)
        tr.loss_name = ", ".join(l.name for l in model.loss if l is not None) if several_out else model.loss.name
        opt = model.optimizer
        tr.optimizer_name = type(opt).__name__
        tr.optimizer_config = opt.get_config() if hasattr(opt, "get_config") else {}
        tr.learning_rate = float(opt.learning_rate)
        tr.plain_sgd = type(opt).__name__ == "SGD" and not getattr(opt, "momentum", 0) and \
            opt.clipnorm is None and opt.clipvalue is None and opt.global_clipnorm is None

    def _choose_pixels(self, batch):
        """Each convolution and pooling record's pixel (see explain.pixels): checked before the step runs."""
        if not 0 <= self.sample < batch:
            raise ValueError(f"sample must be the index of a sample of the batch (0-{batch - 1}), got {self.sample}")
        shaped = [r for r in self.records if r.conv or r.pool]
        chosen = {}
        if isinstance(self.pixel, dict):
            names = {r.name: r for r in shaped}
            for name, value in self.pixel.items():
                if name not in names:
                    raise ValueError(f"pixel names layer {name!r}, which is not a convolution or pooling layer of "
                                     f"the model; those are: {', '.join(names) or 'none'}")
                chosen[name] = value
        elif self.pixel is not None:
            first = next((r for r in shaped if r.conv), None)
            if first is None:
                raise ValueError("pixel= picks an output pixel of a convolution layer (Conv1D, Conv2D), and this "
                                 "model has none")
            chosen[first.name] = self.pixel
        previous = None
        for rec in self.records:
            shape = rec.conv or rec.pool
            if shape is None:
                previous = None
                continue
            depth = rec.conv["filters"] if rec.conv else None
            if rec.name in chosen:
                depth = depth or self._channels(rec)
                pixel = pixels.check_pixel(chosen[rec.name], rec.name, shape["out"], depth,
                                           "filter" if rec.conv else "channel")
            elif rec.pool and previous is not None:
                pixel = _follow(previous, rec.pool)
            else:
                pixel = pixels.default_pixel(shape)
            rec.pixel_index = (self.sample,) + pixel
            previous = rec

    def _channels(self, rec):
        layer = self.layers[self.records.index(rec)]
        return int(layer.input_shape[-1])

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


def trace(model, x, y, update=True, lang="en", precision=4, max_items=40, pixel=None, sample=0) -> Trace:
    """Run one training step of a compiled model on (x, y) and record every number.

    The step is the model's own (model.train_on_batch(x, y, recorder=...)): its layers' forward
    and backward passes, its loss and its optimizer, on its own weights.  With update=True
    (default) the weights change exactly as `model.train_on_batch(x, y)` would change them; with
    update=False they (and the optimizer's state, BatchNormalization's moving statistics and
    Dropout's random generator) are put back as they were, and the trace shows the update the
    optimizer made before that.
    `lang` ("en" or "ko"), `precision` (significant digits, None for all) and `max_items` set how
    `str(trace)` prints.

    Convolutional networks: for each Conv1D/Conv2D layer the trace writes one output pixel out as its
    sum, tap by tap (and one entry of dL/dW), and for each pooling layer one output pixel's window
    (glassnet.explain.pixels).  `pixel=(row, column, filter)` picks the pixel of the first
    convolution layer ((step, filter) for Conv1D), `pixel={"conv2d_1": (0, 0, 3)}` picks pixels by
    layer name; other layers show the middle pixel of filter 0, and a pooling layer after a
    convolution follows its pixel.  `sample` picks the sample of the batch (default 0).
    """
    _words(lang)                                   # an unknown language fails before any computation
    tr = Trace()
    tr.lang, tr.max_items = lang, max_items
    tr.precision = tr._precision(precision)
    if not getattr(model, "compiled", False):
        raise ValueError("trace needs a compiled model: call model.compile(optimizer=..., loss=...) first")
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
        raise TypeError(f"sample must be an int (a sample's index in the batch), got {sample!r}")
    if pixel is not None and not isinstance(pixel, dict) and isinstance(pixel, (str, bytes)):
        raise TypeError(f"pixel must be a tuple (row, column, filter) or a dict of them by layer name, got {pixel!r}")
    recorder = _TraceRecorder(tr, update, pixel, int(sample))
    try:
        model.train_on_batch(x, y, recorder=recorder)
    finally:
        if recorder.snapshot is not None:
            recorder.snapshot.restore()
    tr.applied = bool(update)
    tr.layers = recorder.records
    for rec in tr.layers:
        _write_out(rec)
    return tr


def _write_out(rec):
    """A convolution's cols, its chosen pixel and one dL/dW entry as sums; a pooling layer's pixel."""
    if rec.conv is not None and rec.input is not None and rec.z is not None:
        rec.cols = pixels.unfold(rec)
        rec.pixel = pixels.pixel_sum(rec, rec.cols, rec.pixel_index)
        if rec.backward_ran and rec.grad_z is not None and "W" in rec.grads:
            rec.weight_sum = pixels.weight_gradient_sum(rec, rec.cols, rec.pixel_index[-1])
    elif rec.pool is not None and rec.input is not None:
        rec.pool_pixel = pixels.pool_pick(rec, rec.pixel_index)


def _follow(previous, pool):
    """The pooling output pixel whose window holds the previous layer's chosen pixel (else the middle one)."""
    spot, channel = previous.pixel_index[1:-1], previous.pixel_index[-1]
    out = []
    for p, s, (before, _), k, n in zip(spot, pool["strides"], pool["pads"], pool["kernel"], pool["out"]):
        q = min((p + before) // s, n - 1)
        if not q * s - before <= p < q * s - before + k:
            return pixels.default_pixel(pool)[:-1] + (channel,)
        out.append(q)
    return tuple(out) + (channel,)


def _conv_architecture(shapes, records):
    """'8x8x1-conv 2@3x3-maxpool 2x2-flatten-10': the input's shape, then each layer that changes it."""
    parts = ["+".join("x".join(str(d) for d in s[1:]) for s in shapes)]
    for rec in records:
        size = lambda k: "x".join(map(str, k))          # noqa: E731
        if rec.conv:
            parts.append(f"conv {rec.conv['filters']}@{size(rec.conv['kernel'])}")
        elif rec.pool:
            parts.append(f"{'max' if rec.pool['kind'] == 'max' else 'avg'}pool {size(rec.pool['kernel'])}")
        elif rec.units is not None:
            parts.append(str(rec.units))
        elif rec.kind == "Flatten":
            parts.append("flatten")
    return "-".join(parts)
