"""fit, evaluate and predict on batches you make yourself, as Keras takes them: a Python generator
(or any iterator) that yields batches, or a PyDataset (a class with __len__ and __getitem__).

    def batches():
        while True:                               # endless: fit needs steps_per_epoch
            rows = rng.choice(len(x), 256)
            yield x[rows], y[rows]                 # or (x, y, sample_weight)

    model.fit(batches(), steps_per_epoch=50, epochs=10, validation_data=(x_val, y_val))

Each batch is checked as fit checks arrays (models/trainer.py), weighted (a third element, or fit's
class_weight) as in models/weighting.py, and run through the one step (models/step.py); the hooks,
the logs, the History, validation and the doctor are fit's.  As in Keras:

- y, sample_weight and validation_split are refused (the batches bring their own targets and
  weights); shuffle and batch_size are ignored (the batches are what they are).
- steps_per_epoch: an epoch is that many batches, the next one continuing the same iterator.
  Without it, an epoch of a generator runs until it is exhausted, and the next epochs find it empty:
  training stops with Keras's warning "Your input ran out of data".  A PyDataset's epoch is its
  len() batches in order (fewer with steps_per_epoch), followed by its on_epoch_end().
- validation_data may be arrays (x_val, y_val[, w_val]) or a generator / PyDataset too, then read
  for validation_steps batches (or until exhausted) each time.
- evaluate(generator, steps=...) and predict(generator, steps=...) read batches the same way;
  predict takes x alone, or the x of (x, y) batches.
"""
from __future__ import annotations

import itertools
import time
import warnings

import numpy as np

from .. import callbacks as callbacks_module
from ..datasets.py_dataset import PyDataset
from . import outputs as outputs_module
from . import weighting
from .evaluate import checked_callbacks, evaluate_arrays, steps_argument, verbosity
from .fit import end_batch
from .step import step


def is_source(x) -> bool:
    """Is x batches made by the user (an iterator, a generator, a PyDataset) rather than data?"""
    return isinstance(x, PyDataset) or (hasattr(x, "__next__") and hasattr(x, "__iter__")
                                        and not isinstance(x, (np.ndarray, str, bytes)))


class _Reader:
    """The batches of a source, epoch after epoch."""

    def __init__(self, source, what):
        self.source, self.what = source, what
        self.dataset = isinstance(source, PyDataset)
        self.iterator = None if self.dataset else iter(source)

    def steps(self):
        return len(self.source) if self.dataset else None

    def epoch(self, steps):
        """This epoch's raw batches: up to `steps` of them (None: until the source runs out)."""
        if self.dataset:
            count = len(self.source) if steps is None else min(steps, len(self.source))
            return (self.source[i] for i in range(count))
        return itertools.islice(self.iterator, steps)

    def end_epoch(self):
        if self.dataset:
            self.source.on_epoch_end()


def _parts(item, what):
    """(x, y, sample_weight) of one batch: x alone, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(item, tuple):
        if not 1 <= len(item) <= 3:
            raise ValueError(f"each batch of {what} must be x, (x, y) or (x, y, sample_weight), "
                             f"got a tuple of {len(item)}")
        return tuple(item) + (None,) * (3 - len(item))
    return item, None, None


def _checked(model, item, what, class_weight=None):
    x, y, w = _parts(item, what)
    if y is None:
        raise ValueError(f"the batches of {what} must bring their targets: yield (x, y) or (x, y, sample_weight)")
    x, y = model._check_xy(x, y, f"{what}'s x", f"{what}'s y")
    return x, y, weighting.sample_weights(model, w, class_weight, y, len(x), f"{what}'s sample_weight")


def _refuse(**given):
    for name, value in given.items():
        if value is not None and not (isinstance(value, (int, float)) and value == 0):
            raise ValueError(f"{name} is not taken when x is a generator or a PyDataset: each batch brings its "
                             f"own targets and weights, as (x, y) or (x, y, sample_weight)")


def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, class_weight,
        sample_weight, initial_epoch, steps_per_epoch, validation_steps, validation_batch_size, validation_freq,
        doctor):
    """Model.fit on a generator or a PyDataset (the module doc says how)."""
    from . import fit as fit_module
    model._require_compiled()
    _refuse(y=y, sample_weight=sample_weight, validation_split=validation_split)
    epochs = fit_module._epoch_count(epochs, "epochs")
    initial_epoch = fit_module._epoch_count(initial_epoch, "initial_epoch")
    steps_per_epoch = steps_argument(steps_per_epoch, "steps_per_epoch")
    validation_steps = steps_argument(validation_steps, "validation_steps")
    validation_freq = fit_module._validation_freq(validation_freq)
    verbose = verbosity(verbose)
    reader = _Reader(x, "x")
    validation, x_val = None, None
    if validation_data is not None and is_source(validation_data):
        validation = _Reader(validation_data, "validation_data")
    elif validation_data is not None:
        _, _, _, x_val, y_val, w_val = fit_module._validation(model, validation_data, 0.0, None, None, None)
    steps = steps_per_epoch or reader.steps()
    history = callbacks_module.History()
    cbs = checked_callbacks(callbacks)
    from .. import doctor as doctor_module          # above the models: imported when fit runs
    doc = doctor_module.for_fit(doctor, cbs, history, verbose)
    if verbose:
        cbs.append(callbacks_module.ProgbarLogger(verbose))
    cbs.append(history)
    if doc is not None:
        cbs.append(doc)
    cblist = callbacks_module.CallbackList(cbs, model, {"epochs": epochs, "steps": steps, "verbose": verbose})
    model.stop_training = False
    logs = {}
    with model._running(batch_size or 32):
        cblist.call("on_train_begin", {})
        for epoch in range(initial_epoch, epochs):
            cblist.call("on_epoch_begin", epoch, {})
            loss_sum, seen, done, metric_sums = 0.0, 0, 0, None
            for batch, item in enumerate(reader.epoch(steps_per_epoch)):
                xb, yb, wb = _checked(model, item, "x", class_weight)    # (builds the model on the first)
                if metric_sums is None:
                    metric_sums = [0.0] * len(model._metrics)
                for cb in cblist.batch_begin:
                    cb.on_train_batch_begin(batch, {})
                loss, out = step(model, xb, yb, want_outputs=model._needs_outputs, sample_weight=wb)
                loss_sum += loss * len(xb)
                seen += len(xb)
                done = batch + 1
                end_batch(model, cblist, batch, loss, yb, out, wb, metric_sums, loss_sum, seen)
                if model.stop_training:
                    break
            reader.end_epoch()
            if seen == 0:                           # an exhausted generator: Keras stops here
                warnings.warn("Your input ran out of data; interrupting training. Make sure that your generator "
                              "can generate at least `steps_per_epoch * epochs` batches", UserWarning, stacklevel=4)
                break
            model._steps_done = done
            logs = model._logs(loss_sum, metric_sums, seen)
            if validation_data is not None and fit_module._validates(epoch, validation_freq):
                if validation is None:
                    val = evaluate_arrays(model, x_val, y_val, validation_batch_size or batch_size or 32, w_val,
                                          validation_steps, cblist)
                else:
                    val = evaluate_batches(model, validation, validation_steps, cblist)
                logs.update({f"val_{k}": v for k, v in val.items()})
            cblist.call("on_epoch_end", epoch, logs)
            if model.stop_training:
                break
        cblist.call("on_train_end", logs)
    model.history = history
    return history


def evaluate_batches(model, reader, steps, cblist=None):
    """Loss and metrics over a source's batches (up to `steps`), with the test hooks."""
    begin = end = ()
    if cblist is not None:
        cblist.call("on_test_begin", {})
        begin, end = cblist.batch["on_test_batch_begin"], cblist.batch["on_test_batch_end"]
    loss_sum, metric_sums, seen = 0.0, None, 0
    penalty = None
    for batch, item in enumerate(reader.epoch(steps)):
        xb, yb, wb = _checked(model, item, reader.what)
        if metric_sums is None:
            metric_sums = [0.0] * len(model._metrics)
            penalty = model._regularization_loss() if model._regularized else 0.0
        for cb in begin:
            cb.on_test_batch_begin(batch, {})
        loss, out = step(model, xb, yb, training=False, backward=False, update=False, penalty=False,
                         want_outputs=model._needs_outputs, sample_weight=wb)
        loss_sum += loss * len(xb)
        seen += len(xb)
        for i, score in enumerate(model._scores(yb, out, wb)):
            metric_sums[i] += score
        if end:
            logs = model._logs(loss_sum, metric_sums, seen)
            logs["loss"] += penalty
            for cb in end:
                cb.on_test_batch_end(batch, logs)
    reader.end_epoch()
    if seen == 0:
        raise ValueError(f"{reader.what} gave no batches to evaluate on")
    logs = model._logs(loss_sum, metric_sums, seen)
    logs["loss"] += penalty
    if cblist is not None:
        cblist.call("on_test_end", dict(logs))
    return logs


def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict):
    """Model.evaluate on a generator or a PyDataset."""
    model._require_compiled()
    _refuse(y=y, sample_weight=sample_weight)
    steps = steps_argument(steps)
    verbose = verbosity(verbose)
    cbs = checked_callbacks(callbacks)
    reader = _Reader(x, "x")
    cblist = None
    if cbs:
        cblist = callbacks_module.CallbackList(cbs, model, {"epochs": 1, "steps": steps or reader.steps(),
                                                            "verbose": verbose})
    start = time.perf_counter()
    with model._running(batch_size or 32):
        logs = evaluate_batches(model, reader, steps, cblist)
    if verbose:
        elapsed = time.perf_counter() - start
        print(f"{callbacks_module._fmt_time(elapsed)}{callbacks_module.format_logs(logs)}", flush=True)
    if return_dict:
        return logs
    values = [logs[name] for name in model.metrics_names]
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size, verbose, steps, callbacks):
    """Model.predict on a generator or a PyDataset: the outputs of every batch, joined."""
    steps = steps_argument(steps)
    cbs = checked_callbacks(callbacks)
    reader = _Reader(x, "x")
    begin = end = ()
    if cbs:
        cblist = callbacks_module.CallbackList(cbs, model, {"epochs": 1, "steps": steps or reader.steps(),
                                                            "verbose": verbose})
        begin, end = cblist.batch["on_predict_batch_begin"], cblist.batch["on_predict_batch_end"]
        cblist.call("on_predict_begin", {})
    several = model._several_outputs
    parts = []
    with model._running(batch_size or 32):
        for batch, item in enumerate(reader.epoch(steps)):
            xb = model._as_dtype(model._check_x(_parts(item, "x")[0]))
            for cb in begin:
                cb.on_predict_batch_begin(batch, {})
            got = step(model, xb, None, training=False, backward=False, update=False)[1]
            got = [np.array(a, copy=True) for a in (got if several else [got])]   # kept buffers are reused
            parts.append(got)
            if end:
                logs = {"outputs": outputs_module.structured(model, got) if several else got[0]}
                for cb in end:
                    cb.on_predict_batch_end(batch, logs)
    reader.end_epoch()
    if cbs:
        cblist.call("on_predict_end", {})
    if not parts:
        raise ValueError("x gave no batches to predict on")
    outs = [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]
    if verbose:
        print(f"{len(parts)}/{len(parts)}", flush=True)
    return outputs_module.structured(model, outs) if several else outs[0]
