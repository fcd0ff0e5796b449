"""Scoring a model's batches with its compiled metrics: the metric half of compile, and what fit,
evaluate, train_on_batch and test_on_batch add up (the Trainer's _prepare, _scores and _logs).

Each compiled metric becomes a scorer (kind, fn, k), k being the output's index (several outputs)
or None:

    "argmax_label", "argmax_onehot"   accuracy after a softmax, counted on the logits the fused loss
                                      has anyway (no probabilities needed)
    "outputs"                         a function of (y, outputs): the sum of its per-sample scores
    "head_loss"                       one output's own loss (several outputs)
    "metric"                          a Metric object (Precision(), AUC(), "auc", ...): update_state
                                      on every batch, result() for the logs
    "weighted"                        one of compile's weighted_metrics: a Metric (a function is
                                      wrapped in MeanMetricWrapper) updated with the batch's weights

Running totals.  fit and evaluate add each batch's scores to totals that start at 0
(`total += score`) and `logs` turns the totals into values.  A function's score is a number and its
value total / samples.  A Metric's score is a `MetricBatch`: added to 0 (the first batch of an
epoch, or of an evaluation) it resets the metric's state and then updates it; added to the running
`MetricTotal` it updates the state again.  A metric is thus reset exactly where a new total
starts, as Keras resets its metrics at each epoch and evaluation, with no hook in the loops.
"""
from __future__ import annotations

import numpy as np

from .. import metrics as metrics_module


# ----------------------------------------------------------------------
# compile
# ----------------------------------------------------------------------

def as_list(metrics):
    """compile's metrics as a list (one name, function or Metric alone becomes a list of one)."""
    if metrics is None:
        return []
    if isinstance(metrics, (str, bytes, metrics_module.Metric)) or callable(metrics):
        return [metrics]
    if isinstance(metrics, dict):
        raise TypeError("metrics must be a list such as ['accuracy'], got a dict")
    return list(metrics)


def compile_metrics(metrics, weighted_metrics, loss):
    """(specs, weighted specs, names) for a model with one output: every name checked now, its variant
    resolved later (prepare, once the output width is known).  A weighted metric whose name a plain
    metric has already taken is named weighted_<name>, as Keras names it."""
    specs, weighted = as_list(metrics), as_list(weighted_metrics)
    for m in specs + weighted:
        metrics_module.get(m, loss, None)
    names = unique([metrics_module.name_of(m) for m in specs])
    taken = set(names)
    weighted_names = [f"weighted_{name}" if name in taken else name
                      for name in (metrics_module.name_of(m) for m in weighted)]
    return specs, weighted, names + unique(weighted_names, taken=names)


def check_execution_settings(steps_per_execution):
    """Keras's execution settings change nothing here; steps_per_execution must still be one Keras takes."""
    if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, (int, np.integer)) \
            or steps_per_execution < 1:
        raise ValueError(f"steps_per_execution must be a positive integer, got {steps_per_execution!r}")


def unique(names, taken=()):
    """Keras's History keys: a name met again gets _1, _2, ... (in order)."""
    seen, out = {name: 1 for name in taken}, []
    for name in names:
        if name in seen:
            new = f"{name}_{seen[name]}"
            seen[name] += 1
            while new in seen:
                new = f"{name}_{seen[name]}"
                seen[name] += 1
            name = new
        seen[name] = 1
        out.append(name)
    return out


def resolve(spec, loss, units, used, weighted=False):
    """The function or Metric a compiled spec stands for.  A name of a metric class ("precision") gives
    a new Metric named as written (Keras does so); a Metric met before in this model (one object
    given for several outputs) is copied, so that each keeps its own state.  weighted: a function
    becomes a MeanMetricWrapper, whose mean the sample weights weigh."""
    fn = metrics_module.get(spec, loss, units)
    if weighted and not isinstance(fn, metrics_module.Metric):
        fn = metrics_module.MeanMetricWrapper(fn, name=metrics_module.name_of(spec))
    if isinstance(fn, metrics_module.Metric):
        if isinstance(spec, str):
            fn.name = spec
        elif any(fn is other for other in used):
            fn = type(fn).from_config(fn.get_config())
        used.append(fn)
    return fn


def prepare(model):
    """A one-output model's scorers: model._metrics [(name, fn)], model._scorers, model._needs_outputs."""
    units = model.output_layer.output_shape[-1]
    used, weighted = [], getattr(model, "_weighted_specs", [])
    specs = [(spec, False) for spec in model._metric_specs] + [(spec, True) for spec in weighted]
    model._metrics = [(name, resolve(spec, model.loss, units, used, is_weighted))
                      for name, (spec, is_weighted) in zip(model.metrics_names[1:], specs)]
    # Accuracy after a softmax is argmax(p) == label, and argmax(p) is argmax of the logits z, which
    # the fused loss has anyway: fit and evaluate count those matches, without the probabilities.
    softmax_logits = model._logits_loss and model.loss.fuses_with == "softmax"
    model._scorers = []
    for (name, fn), (_, is_weighted) in zip(model._metrics, specs):
        if isinstance(fn, metrics_module.Metric):
            check_one_value(name, fn, units)
            kind = "weighted" if is_weighted else "metric"
        elif softmax_logits and fn is metrics_module.sparse_categorical_accuracy:
            kind = "argmax_label"
        elif softmax_logits and fn is metrics_module.categorical_accuracy:
            kind = "argmax_onehot"
        else:
            kind = "outputs"
        model._scorers.append((kind, fn, None))
    model._needs_outputs = any(kind in ("outputs", "metric", "weighted") for kind, _, _ in model._scorers)


# ----------------------------------------------------------------------
# fit, evaluate, *_on_batch
# ----------------------------------------------------------------------

def scores(model, y, out, sample_weight=None):
    """The batch's scores, in compile order: sums of per-sample scores (matches for accuracies),
    MetricBatch for Metric objects (see the module's doc).  sample_weight: the batch's weights (fit's
    sample_weight and class_weight), which only the weighted metrics read, as in Keras."""
    sums = []
    for kind, fn, k in model._scorers:
        if kind in ("metric", "weighted"):
            if k is None:             # a from_logits loss: the model's output is the logits, not out
                pred = model._logits if model._logits_loss and not model._fused else out
                labels = y[:, None] if y.ndim == 1 and getattr(model, "_labels_as_column", False) else y
                sums.append(MetricBatch(fn, labels, pred, sample_weight if kind == "weighted" else None))
            else:
                sums.append(MetricBatch(fn, y.arrays[k], model._head_outputs[k]))
        elif k is not None:                        # one output of several
            sums.append(model._head_losses[k] * len(y) if kind == "head_loss"
                        else float(np.sum(fn(y.arrays[k], out[k]))))
        elif kind == "argmax_label":
            sums.append(int(np.count_nonzero(model._logits.argmax(axis=-1) == y)))
        elif kind == "argmax_onehot":
            sums.append(int(np.count_nonzero(model._logits.argmax(axis=-1) == y.argmax(axis=-1))))
        else:
            sums.append(float(np.sum(fn(y, out))))
    return sums


def logs(model, loss_sum, metric_sums, seen):
    """{"loss": ..., name: value, ...} from the running totals over `seen` samples."""
    out = {"loss": loss_sum / seen}
    for (name, fn), total in zip(model._metrics, metric_sums):
        if isinstance(total, MetricTotal):
            out[name] = total.result()
        elif isinstance(fn, metrics_module.Metric):  # no batch was added: an empty state
            fn.reset_state()
            out[name] = float(fn.result())
        else:
            out[name] = total / seen
    return out


def batch_logs(model, loss, y, out, sample_weight=None):
    """train_on_batch's and test_on_batch's logs: the batch alone (Keras resets its metrics first)."""
    n = len(y)
    values = logs(model, float(loss) * n, [0 + score for score in scores(model, y, out, sample_weight)], n)
    values["loss"] = float(loss)
    return values


class MetricBatch:
    """One batch for a Metric object, waiting to be added to a running total (module doc)."""

    __slots__ = ("metric", "y_true", "y_pred", "sample_weight")

    def __init__(self, metric, y_true, y_pred, sample_weight=None):
        self.metric, self.y_true, self.y_pred, self.sample_weight = metric, y_true, y_pred, sample_weight

    def __radd__(self, start):
        if not (isinstance(start, (int, float)) and start == 0):
            raise TypeError(f"a metric's batch starts a running total at 0, got {start!r}")
        self.metric.reset_state()
        return MetricTotal(self.metric) + self


class MetricTotal:
    """A Metric's running total: its state, updated by every MetricBatch added to it."""

    __slots__ = ("metric",)

    def __init__(self, metric):
        self.metric = metric

    def __add__(self, batch):
        if not isinstance(batch, MetricBatch) or batch.metric is not self.metric:
            return NotImplemented
        if batch.sample_weight is None:
            self.metric.update_state(batch.y_true, batch.y_pred)
        else:
            self.metric.update_state(batch.y_true, batch.y_pred, sample_weight=batch.sample_weight)
        return self

    __iadd__ = __add__

    def result(self) -> float:
        value = np.asarray(self.metric.result(), dtype=np.float64)
        if value.size != 1:
            raise ValueError(f"the metric {self.metric.name!r} gives {value.size} values; a model's logs hold one "
                             f"number per metric")
        return float(value.reshape(-1)[0])


def values_per_result(metric, units):
    """How many numbers a glassnet metric's result() holds on outputs of `units` columns (1 if unknown)."""
    if len(getattr(metric, "thresholds", ())) > 1 and not isinstance(metric, metrics_module.AUC):
        return len(metric.thresholds)
    if isinstance(metric, metrics_module.FBetaScore) and metric.average is None:
        return units
    return 1


def check_one_value(name, metric, units):
    """A model's logs hold one number per metric: refuse, at compile's first use, a metric set up to give
    several (several thresholds; F1Score(average=None) on several classes)."""
    count = values_per_result(metric, units)
    if count > 1:
        hint = ("give it one threshold" if len(getattr(metric, "thresholds", ())) > 1 else
                "give it average='macro', 'micro' or 'weighted'")
        raise ValueError(f"the metric {name!r} ({type(metric).__name__}) gives {count} values, one per "
                         f"{'threshold' if 'threshold' in hint else 'class'}; a model's logs hold one number per "
                         f"metric: {hint}, or use it by hand (update_state, result)")
