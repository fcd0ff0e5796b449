"""evaluate and predict: a model run over batches without training (Keras's test and predict loops).

Both stream x batch by batch (models/batches.py) through the one step (models/step.py), with
training=False and no backward pass, and call Keras's hooks on their callbacks:

    evaluate:  on_test_begin, then per batch on_test_batch_begin(batch, {}) and
               on_test_batch_end(batch, running logs), then on_test_end(logs)
    predict:   on_predict_begin, then per batch on_predict_batch_begin(batch, {}) and
               on_predict_batch_end(batch, {"outputs": the batch's outputs}), then on_predict_end

fit's validation runs `evaluate_arrays` with fit's own callbacks, so they get the test hooks too, as
in Keras.  `steps` (Keras's argument) stops after that many batches; without batch_size, a batch is
then ceil(n / steps) samples, as Keras computes it.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .. import _checks
from .. import callbacks as callbacks_module
from . import outputs as outputs_module
from . import weighting
from .batches import batches as _batches
from .step import step


def verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return verbose


def steps_argument(value, what="steps"):
    """None or a positive integer (Keras's steps, steps_per_epoch, validation_steps)."""
    return None if value is None else _checks.positive_int(value, what)


def batch_size_for(batch_size, n, steps):
    """Keras's batch size: the one given; else ceil(n / steps) when steps are given; else 32."""
    if batch_size is not None:
        return _checks.batch_size(batch_size)
    return math.ceil(n / steps) if steps else 32


def ran_out(steps, what="steps", stacklevel=4):
    """Keras's warning when `steps` asks for more batches than one pass over the data holds."""
    warnings.warn(f"Your input ran out of data: {what}={steps} asks for more batches than one pass over the "
                  f"data holds, so the pass stopped at its last batch (with arrays, Keras's {what} counts "
                  f"batches of batch_size samples)", UserWarning, stacklevel=stacklevel)


def checked_callbacks(callbacks):
    """The user's callbacks as a list, each a glassnet Callback."""
    cbs = list(callbacks or [])
    for cb in cbs:
        if not isinstance(cb, callbacks_module.Callback):
            raise TypeError(f"callbacks must be glassnet Callback objects, got {type(cb).__name__}")
    return cbs


def evaluate_arrays(model, x, y, batch_size, sample_weight=None, steps=None, cblist=None):
    """Loss and metrics over (x, y), batch by batch (x streamed as in fit); call inside _running().

    sample_weight: checked weights (models/weighting.py) or None; steps: stop after that many batches;
    cblist: a CallbackList whose test hooks are called (evaluate's, or fit's for its validation)."""
    begin = end = ()
    if cblist is not None:
        cblist.call("on_test_begin", {})
        begin, end = cblist.batch["on_test_batch_begin"], cblist.batch["on_test_batch_end"]
    loss_sum, metric_sums, seen = 0.0, [0.0] * len(model._metrics), 0
    n = len(x)
    if steps is not None and steps > math.ceil(n / batch_size):
        ran_out(steps, stacklevel=5)                     # the caller of model.evaluate
    rows = n if steps is None else min(n, steps * batch_size)
    penalty = model._regularization_loss() if model._regularized else 0.0    # the weights stay as they are
    batches = _batches(x, batch_size, model.dtype)
    for batch, start in enumerate(range(0, rows, batch_size)):
        stop = min(start + batch_size, rows)
        for cb in begin:
            cb.on_test_batch_begin(batch, {})
        xb, yb = batches.rows(start, stop), y[start:stop]
        wb = None if sample_weight is None else sample_weight[start:stop]
        loss, out = step(model, xb, yb, training=False, backward=False, update=False, penalty=False,
                         want_outputs=model._needs_outputs, sample_weight=wb)
        loss_sum += loss * (stop - start)
        seen += stop - start
        if metric_sums:
            for i, score in enumerate(model._scores(yb, out, wb)):
                metric_sums[i] += score
        if end:
            logs = model._logs(loss_sum, metric_sums, seen)
            if model._regularized:
                logs["loss"] += penalty
            for cb in end:
                cb.on_test_batch_end(batch, logs)
    logs = model._logs(loss_sum, metric_sums, seen)
    if model._regularized:
        logs["loss"] += penalty
    if cblist is not None:
        cblist.call("on_test_end", dict(logs))
    return logs


def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict):
    """Model.evaluate (models/trainer.py documents it)."""
    model._require_compiled()
    steps = steps_argument(steps)
    verbose = verbosity(verbose)
    cbs = checked_callbacks(callbacks)
    x, y = model._check_xy(x, y, convert=False)
    weights = weighting.sample_weights(model, sample_weight, None, y, len(x))
    batch_size = batch_size_for(batch_size, len(x), steps)
    n_steps = math.ceil(len(x) / batch_size) if steps is None else steps
    cblist = None
    if cbs:
        cblist = callbacks_module.CallbackList(cbs, model, {"epochs": 1, "steps": n_steps, "verbose": verbose})
    start = time.perf_counter()
    with model._running(min(batch_size, len(x))):
        logs = evaluate_arrays(model, x, y, batch_size, weights, steps, cblist)
    if verbose:
        done = min(n_steps, math.ceil(len(x) / batch_size))
        elapsed = time.perf_counter() - start
        print(f"{done}/{done} - {callbacks_module._fmt_time(elapsed)} - "
              f"{callbacks_module._per_step(elapsed, done)}{callbacks_module.format_logs(logs)}", flush=True)
    if return_dict:
        return logs
    values = [logs[name] for name in model.metrics_names]
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size, verbose, steps, callbacks):
    """Model.predict (models/trainer.py documents it)."""
    steps = steps_argument(steps)
    cbs = checked_callbacks(callbacks)
    x = model._check_x(x)
    model._check_castable(x, "x")
    n = len(x)
    batch_size = batch_size_for(batch_size, n, steps)
    if steps is not None and steps > math.ceil(n / batch_size):
        ran_out(steps)
    rows = n if steps is None else min(n, steps * batch_size)
    several = model._several_outputs
    shapes = [tuple(t.shape[1:]) for t in model.outputs] if several else [tuple(model.output_layer.output_shape[1:])]
    outs = [np.empty((rows,) + shape, dtype=model.dtype) for shape in shapes]
    batches = _batches(x, batch_size, model.dtype)
    begin = end = ()
    if cbs:
        cblist = callbacks_module.CallbackList(cbs, model, {"epochs": 1, "steps": math.ceil(rows / batch_size),
                                                            "verbose": verbose})
        begin, end = cblist.batch["on_predict_batch_begin"], cblist.batch["on_predict_batch_end"]
        cblist.call("on_predict_begin", {})
    with model._running(min(batch_size, n)):
        for batch, start in enumerate(range(0, rows, batch_size)):
            stop = min(start + batch_size, rows)
            for cb in begin:
                cb.on_predict_batch_begin(batch, {})
            got = step(model, batches.rows(start, stop), None, training=False, backward=False, update=False)[1]
            for out, part in zip(outs, got if several else [got]):
                out[start:stop] = part
            if end:
                parts = [out[start:stop] for out in outs]
                logs = {"outputs": outputs_module.structured(model, parts) if several else parts[0]}
                for cb in end:
                    cb.on_predict_batch_end(batch, logs)
    if cbs:
        cblist.call("on_predict_end", {})
    out = outputs_module.structured(model, outs) if several else outs[0]
    if verbose:
        n_steps = math.ceil(rows / batch_size)
        print(f"{n_steps}/{n_steps}", flush=True)
    return out
