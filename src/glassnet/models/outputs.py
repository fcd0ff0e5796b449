"""Models with several outputs (Keras's functional API): a loss per output, loss_weights, metrics
per output, and History keys named as Keras names them.

    inputs = gn.Input(shape=(8,))
    h = gn.layers.Dense(16, activation="relu")(inputs)
    kind = gn.layers.Dense(3, activation="softmax", name="kind")(h)
    size = gn.layers.Dense(1, name="size")(h)
    model = gn.Model(inputs, [kind, size])
    model.compile("adam", loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                  metrics=[["accuracy"], ["mae"]])
    model.fit(x, [labels, sizes])       # History keys: loss, kind_loss, size_loss, kind_accuracy, size_mae

The training loss is sum_k w_k L_k (plus the regularization penalty); "kind_loss" and "size_loss"
are the unweighted L_k.  Each output is a `Head`: its name, loss, weight and metrics.  The step
(models/step.py) calls forward_loss and backward below instead of its one-output path; an
output whose layer the step runs (Functional.output_nodes) keeps the fused path (softmax or
sigmoid with its cross-entropy computed from the logits), any other output's loss reads the
output itself.  y is a list in output order or a dict keyed by output name, held as a Several.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .. import losses as losses_module
from .. import metrics as metrics_module
from . import scoring
from .batches import Several


class Head:
    """One output of a model: name, loss (None: no loss), weight, metric specs; and, once the
    model is prepared, its layer, whether the step runs that layer, and whether its loss is fused."""

    def __init__(self, name, loss, weight, metric_specs):
        self.name, self.loss, self.weight, self.metric_specs = name, loss, weight, metric_specs
        self.layer, self.run_by_step, self.fused, self.logits = None, False, False, False
        self.loss_rank = 0      # where "<name>_loss" comes among the outputs' losses (Keras: a loss dict's order)

    def __repr__(self):
        return f"<Head {self.name!r} loss={getattr(self.loss, 'name', None)} weight={self.weight}>"


def _per_output(value, names, what, allow_none=True):
    """One value per output from a single value (the same for every output), a list in output
    order, or a dict keyed by output name."""
    k = len(names)
    if isinstance(value, dict):
        unknown = sorted(set(map(str, value)) - set(names))
        if unknown:
            raise ValueError(f"{what} is keyed by output name; the outputs are {names}, got unknown keys {unknown}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != k:
            raise ValueError(f"the model has {k} outputs ({', '.join(names)}): {what} must be a list of {k} "
                             f"(one per output) or a dict keyed by output name, got a list of {len(value)}")
        return list(value)
    return [value] * k


def compile_heads(model, loss, loss_weights, metrics):
    """The Heads of a model with several outputs, from compile's arguments (checked; nothing assigned)."""
    names = model.output_names
    losses = _per_output(loss, names, "loss")
    if all(spec is None for spec in losses):
        raise ValueError(f"compile needs a loss for at least one of the outputs {names}; known losses: "
                         f"{', '.join(losses_module.names())}")
    losses = [None if spec is None else losses_module.get(spec) for spec in losses]
    weights = [1.0] * len(names) if loss_weights is None else _per_output(loss_weights, names, "loss_weights")
    weights = [1.0 if w is None else _checks.finite_number(w, f"loss_weights for output {name!r}")
               for w, name in zip(weights, names)]
    if any(w < 0 for w in weights):
        raise ValueError(f"loss_weights must be >= 0, got {weights}")
    if metrics is None:
        metrics = []
    if isinstance(metrics, (str, bytes)) or callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, dict) or (isinstance(metrics, (list, tuple)) and metrics
                                     and all(isinstance(m, (list, tuple)) or m is None for m in metrics)):
        specs = _per_output(metrics, names, "metrics")
    else:
        specs = [list(metrics)] * len(names)       # a flat list: every output (tf.keras 2 did so)
    heads = []
    for name, loss_obj, w, spec in zip(names, losses, weights, specs):
        spec = [] if spec is None else [spec] if isinstance(spec, str) or callable(spec) else list(spec)
        for m in spec:
            metrics_module.get(m, loss_obj, None)
        heads.append(Head(name, loss_obj, w, spec))
    if isinstance(loss, dict):                   # Keras lists the per-output losses in the dict's order
        given = [str(k) for k in loss]
        for head in heads:
            head.loss_rank = given.index(head.name)
    return heads


def metrics_names(heads):
    """["loss", per-output losses (when two or more outputs have one), then per-output metrics]:
    the History keys and the order of evaluate()'s list, as Keras 3 gives them."""
    names = ["loss"]
    with_loss = sorted((h for h in heads if h.loss is not None), key=lambda h: h.loss_rank)
    if len(with_loss) > 1:
        names += [f"{h.name}_loss" for h in with_loss]
    return names + scoring.unique([f"{h.name}_{metrics_module.name_of(m)}" for h in heads for m in h.metric_specs],
                                  taken=names)


def prepare(model):
    """Resolve each output's layer, fused path and metrics: model._metrics, model._scorers (kinds in
    models/scoring.py; a Metric object given for several outputs is copied, one per output)."""
    heads = model._heads
    for head, (layer, run_by_step) in zip(heads, model.output_nodes):
        head.layer, head.run_by_step = layer, run_by_step
        loss = head.loss
        head.fused = bool(loss is not None and run_by_step and loss.fuses_with is not None and not loss.from_logits
                          and getattr(layer, "activation", None) == loss.fuses_with and hasattr(layer, "forward_logits"))
        head.logits = bool(loss is not None and (head.fused or loss.from_logits))
    model._fused = model._logits_loss = False
    names = iter(model.metrics_names[1:])
    model._metrics, model._scorers = [], []
    with_loss = sorted((k for k, h in enumerate(heads) if h.loss is not None), key=lambda k: heads[k].loss_rank)
    if len(with_loss) > 1:
        for k in with_loss:
            model._metrics.append((next(names), None))
            model._scorers.append(("head_loss", None, k))
    used = []                                   # Metric objects: one per output, each with its own state
    for k, head in enumerate(heads):
        units = model.outputs[k].shape[-1]
        for spec in head.metric_specs:
            fn, name = scoring.resolve(spec, head.loss, units, used), next(names)
            if isinstance(fn, metrics_module.Metric):
                scoring.check_one_value(name, fn, units)
            model._metrics.append((name, fn))
            model._scorers.append(("metric" if isinstance(fn, metrics_module.Metric) else "outputs", fn, k))
    model._needs_outputs = True


def check_y(model, y, what="y"):
    """y for the outputs: a list in output order or a dict keyed by output name; each array is
    checked against its output and loss.  An output with neither loss nor metrics may be left out
    (None).  Returns a Several."""
    heads, names = model._heads, [h.name for h in model._heads]
    if isinstance(y, Several):
        return y
    if isinstance(y, dict):
        unknown = sorted(set(map(str, y)) - set(names))
        if unknown:
            raise ValueError(f"{what} is a dict keyed by output name; the outputs are {names}, got unknown keys "
                             f"{unknown}")
        parts = [y.get(name) for name in names]
    elif isinstance(y, (list, tuple)) and len(y) == len(heads):
        parts = list(y)
    else:
        got = f"a list of {len(y)}" if isinstance(y, (list, tuple)) else type(y).__name__
        raise ValueError(f"the model has {len(heads)} outputs ({', '.join(names)}): {what} must be a list of "
                         f"{len(heads)} arrays (one per output) or a dict keyed by output name, got {got}")
    arrays = []
    for k, (head, part) in enumerate(zip(heads, parts)):
        label = f"{what}[{head.name!r}]"
        if part is None:
            if head.loss is not None or head.metric_specs:
                raise ValueError(f"{label} is required: output {head.name!r} has a loss or metrics, got None")
            arrays.append(None)
            continue
        shape = tuple(model.outputs[k].shape[1:])
        loss = head.loss
        if loss is not None and loss.sparse_labels:
            _checks.sparse_output(shape, part, loss.name, label)
            arrays.append(_checks.class_labels(part, shape[-1], label))
        else:
            unit = loss is not None and loss.name == "binary_crossentropy"
            arrays.append(_checks.targets(part, shape, model.dtype, label, unit_interval=unit))
    present = [(a, h.name) for a, h in zip(arrays, heads) if a is not None]
    if not present:
        raise ValueError(f"{what} holds no targets: give one for each output that has a loss")
    for a, name in present[1:]:
        _checks.same_length(present[0][0], a, f"{what}[{present[0][1]!r}]", f"{what}[{name!r}]")
    return Several(arrays)


def forward_loss(model, x, y, training, want_dz=True, recording=None, sample_weight=None):
    """The forward pass and the weighted sum of the outputs' losses: (loss, outputs, per-output
    dL/d(logits) or None).  model._head_losses gets each output's own loss (not multiplied by its
    loss weight).  recording: the step's _Recording when a recorder watches (models/step.py).
    sample_weight: None or a Several of per-output sample weights (None for an unweighted output):
    each output's loss is then Keras's sum(w_i * l_i) / n, and so is its reported loss."""
    hs = model.run_forward(x, training, None if recording is None else recording.forward)
    total, outs, dzs, own, raw = 0.0, [], [], [], []
    for k, (head, h, index) in enumerate(zip(model._heads, hs, model.output_calls)):
        loss, yk, dz = head.loss, y.arrays[k], None
        wk = None if sample_weight is None else sample_weight.arrays[k]
        if head.fused:
            z = head.layer.forward_logits(h, training)
        elif head.run_by_step:
            z = head.layer.forward(h, training=training) if recording is None else recording.forward(index, head.layer, h)
        else:
            z = h
        if loss is None:
            value, out = 0.0, z
        elif head.logits:
            if wk is None:
                value, dz, out = loss._fused(yk, z, model._kept(f"dz{k}", z), True, want_dz)
            else:
                value, dz, out = loss._fused_weighted(yk, z, wk, model._kept(f"dz{k}", z), True, want_dz)
        else:
            out = z
            value = float(np.mean(loss.per_sample(yk, out))) if wk is None else \
                loss.weighted(loss.per_sample(yk, out), wk)
        if recording is not None and head.fused:
            recording.recorder.layer_forward(index, head.layer, h, out, logits=z)
        own.append(value)
        outs.append(out)
        raw.append(z if head.logits and not head.fused else out)      # the output as predict gives it
        dzs.append(dz)
        total += head.weight * value
    model._head_losses, model._head_outputs = own, raw
    return total, outs, dzs


def backward(model, y, outs, dzs, recording=None, sample_weight=None):
    """Each output's loss gradient, times its weight, through the output layers the step runs,
    then model.run_backward over the rest of the graph.  dzs are weighted by the sample weights
    already (forward_loss); a gradient computed here is weighted by sample_weight."""
    ds = []
    if any(h.loss is None for h in model._heads):
        model._flat_grads[...] = 0               # layers that reach no loss get no gradient
    for k, (head, index) in enumerate(zip(model._heads, model.output_calls)):
        if head.loss is None:
            ds.append(None)
            continue
        if dzs[k] is not None:
            grad = dzs[k]
            if head.weight != 1.0:
                grad *= head.weight
            if head.fused:
                ds.append(head.layer.backward_logits(grad))
                if recording is not None:
                    recording.recorder.layer_backward(index, head.layer, None, ds[-1], head.layer.grads,
                                                      grad_logits=grad)
                continue
        else:
            wk = None if sample_weight is None else sample_weight.arrays[k]
            grad = head.loss.gradient(y.arrays[k], outs[k]) if wk is None else \
                head.loss.weighted_gradient(y.arrays[k], outs[k], wk)
            if head.weight != 1.0:
                grad = grad * head.weight
        if not head.run_by_step:
            ds.append(grad)
        else:
            ds.append(head.layer.backward(grad) if recording is None else recording.backward(index, head.layer, grad))
    model.run_backward(ds, None if recording is None else recording.backward)


def predict_outputs(model, x, training, recording=None):
    """Forward only: the list of the outputs' arrays."""
    if recording is not None:
        hs = model.run_forward(x, training, recording.forward)
        return [recording.forward(i, layer, h) if ran else h
                for (layer, ran), h, i in zip(model.output_nodes, hs, model.output_calls)]
    hs = model.run_forward(x, training)
    return [layer.forward(h, training=training) if run_by_step else h
            for (layer, run_by_step), h in zip(model.output_nodes, hs)]


def structured(model, arrays):
    """The outputs as the model was given them: a dict keyed by output name, or a list."""
    if model._output_keys:
        return dict(zip(model._output_keys, arrays))
    return list(arrays)
