"""fit's loop: epochs of batches through the one step, callbacks, validation (Keras's fit).

Per epoch: one permutation of the samples, the labels (and sample weights) put in its order at once
(small arrays); per batch: x's rows gathered (and converted) into one kept buffer, one step
(models/step.py), and the scores added up as plain numbers.  Layers reuse their buffers meanwhile.

Keras's arguments, as Keras 3 runs them on arrays:

- steps_per_epoch: an epoch is that many batches, taken in order from one pass over the data (one
  permutation); the next epoch goes on where the last stopped, and a new pass (a new permutation)
  starts when one runs out.  When a pass runs out in the middle of an epoch, the epoch ends there,
  with Keras's warning "Your input ran out of data".  Without batch_size, a batch is
  ceil(n / steps_per_epoch) samples.
- validation_steps: validation runs over the first that many batches of the validation data, every
  time; validation_batch_size (default: batch_size) sets their size.
- validation_freq: validate after every N-th epoch (an int), or after the epochs listed (1-based).
- sample_weight / class_weight (models/weighting.py): weight each sample's loss; validation_split
  splits sample_weight with x and y, class_weight weighs the training data only, and
  validation_data may be (x_val, y_val, val_sample_weight).

Without these arguments the loop runs exactly as before they existed: same batches, same numbers.

The shuffling generator is the model's own (shuffle_rng): made on the first fit, kept by every later
fit, saved in .glassnet files and by BackupAndRestore.  So fit(2) + fit(2) equals fit(4), and so does
fit(2), save, load_model, fit(4, initial_epoch=2), bit for bit.  An unfinished pass (steps_per_epoch)
is kept as the generator's state before its permutation plus the batches done (_pass_to_continue).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _checks
from .. import backend
from .. import callbacks as callbacks_module
from . import weighting
from .batches import Several, batches as _batches
from .evaluate import batch_size_for, checked_callbacks, evaluate_arrays, steps_argument, verbosity
from .step import step


def _epoch_count(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be an integer >= 0, got {value!r}")
    return int(value)


def _validation_freq(value):
    """Keras's validation_freq: a positive int (every N epochs) or a list of 1-based epochs."""
    if isinstance(value, (list, tuple, set, range)):
        return {_checks.positive_int(e, "each epoch in validation_freq") for e in value}
    return _checks.positive_int(value, "validation_freq (an int, or a list of epochs)")


def _validates(epoch, freq):
    return (epoch + 1) % freq == 0 if isinstance(freq, int) else epoch + 1 in freq


def _validation(model, validation_data, validation_split, x, y, weights):
    """(x, y, weights, x_val, y_val, val_weights) with validation data checked or split off."""
    if validation_data is not None:
        if validation_split:
            raise ValueError("pass either validation_data or validation_split, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(f"validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight), "
                             f"got {type(validation_data).__name__}"
                             + (f" of {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else ""))
        x_val, y_val = model._check_xy(*validation_data[:2], "x_val", "y_val", convert=False)
        w_val = validation_data[2] if len(validation_data) == 3 else None
        w_val = weighting.sample_weights(model, w_val, None, y_val, len(x_val), "val_sample_weight")
        return x, y, weights, x_val, y_val, w_val
    if validation_split:
        split_at = int(len(x) * (1.0 - validation_split))
        if split_at < 1 or split_at >= len(x):
            raise ValueError(f"validation_split={validation_split} leaves no samples for training or validation "
                             f"with {len(x)} samples")
        w, w_val = (None, None) if weights is None else (weights[:split_at], weights[split_at:])
        return x[:split_at], y[:split_at], w, x[split_at:], y[split_at:], w_val
    return x, y, weights, None, None, None


def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
        class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps, validation_batch_size,
        validation_freq, doctor):
    """Model.fit (models/trainer.py documents it)."""
    model._require_compiled()
    if batch_size is not None:
        batch_size = _checks.batch_size(batch_size)
    epochs = _epoch_count(epochs, "epochs")
    initial_epoch = _epoch_count(initial_epoch, "initial_epoch")
    steps_per_epoch = steps_argument(steps_per_epoch, "steps_per_epoch")
    validation_steps = steps_argument(validation_steps, "validation_steps")
    if validation_batch_size is not None:
        validation_batch_size = _checks.positive_int(validation_batch_size, "validation_batch_size")
    validation_freq = _validation_freq(validation_freq)
    validation_split = _checks.fraction(validation_split, "validation_split")
    verbose = verbosity(verbose)
    x, y = model._check_xy(x, y, convert=False)
    weighting.one_of(sample_weight, class_weight)
    weights = weighting.sample_weights(model, sample_weight, None, y, len(x))
    x, y, weights, x_val, y_val, w_val = _validation(model, validation_data, validation_split, x, y, weights)
    if class_weight is not None:                    # the training data's labels only, as Keras
        weights = weighting.sample_weights(model, None, class_weight, y, len(x))
    val_batch_size = None if x_val is None else \
        batch_size_for(validation_batch_size or batch_size, len(x_val), validation_steps)

    n = len(x)
    batch_size = batch_size_for(batch_size, n, steps_per_epoch)
    per_pass = math.ceil(n / batch_size)            # batches in one pass over the data
    steps = steps_per_epoch or per_pass
    history = callbacks_module.History()
    cbs = checked_callbacks(callbacks)
    from .. import doctor as doctor_module          # above the models: imported when fit runs
    doc = doctor_module.for_fit(doctor, cbs, history, verbose)   # history.findings; printed if verbose
    if verbose:
        cbs.append(callbacks_module.ProgbarLogger(verbose))
    cbs.append(history)
    if doc is not None:
        cbs.append(doc)                    # last: its findings print after the epoch's progress line
    cblist = callbacks_module.CallbackList(cbs, model, {"epochs": epochs, "steps": steps, "verbose": verbose})
    model._validation_scheduled = x_val is not None   # callbacks: an epoch without val_* logs was skipped

    rng = shuffle_rng(model)                   # the model's own: kept across fits, saved in its file
    batches = _batches(x, batch_size, model.dtype)
    labels = isinstance(y, Several) or y.ndim == 1   # labels (or several outputs' targets): reorder once per pass
    ybuf = np.empty((min(batch_size, n),) + y.shape[1:], dtype=y.dtype) if shuffle and not labels else None
    want_outputs = model._needs_outputs
    model.stop_training = False
    logs = {}
    with model._running(min(batch_size, n)):
        cblist.call("on_train_begin", {})
        initial_epoch = getattr(model, "_initial_epoch", None) or initial_epoch    # set by a restoring callback
        model._initial_epoch = None                # once: a later fit without the callback starts as asked
        # the pass: the generator's state before its permutation, the permutation, its next batch
        before, order, position = _pass_to_continue(model, rng, n, batch_size, steps_per_epoch, shuffle)
        y_epoch, w_epoch = _in_order(y, weights, order, labels)
        for epoch in range(initial_epoch, epochs):
            cblist.call("on_epoch_begin", epoch, {})
            if position == 0:                       # a new pass over the data
                before = rng.bit_generator.state if shuffle else None
                order = rng.permutation(n) if shuffle else None
                y_epoch, w_epoch = _in_order(y, weights, order, labels)
            loss_sum, seen, done = 0.0, 0, 0
            metric_sums = [0.0] * len(model._metrics)
            for batch in range(steps):
                if position == per_pass:            # steps_per_epoch only: the pass ran out
                    warnings.warn(f"Your input ran out of data; the epoch ends after {batch} of "
                                  f"steps_per_epoch={steps_per_epoch} batches, and the next starts a new pass over "
                                  f"the data ({per_pass} batches of {batch_size}); as in Keras", UserWarning,
                                  stacklevel=3)
                    break
                start, stop = position * batch_size, min((position + 1) * batch_size, n)
                position += 1
                if order is None:
                    xb = batches.rows(start, stop)
                else:
                    xb = batches.gather(order[start:stop])
                if ybuf is None:
                    yb = y_epoch[start:stop]
                else:
                    yb = np.take(y, order[start:stop], axis=0, out=ybuf[: stop - start])
                for cb in cblist.batch_begin:
                    cb.on_train_batch_begin(batch, {})
                wb = None if w_epoch is None else w_epoch[start:stop]
                if wb is None:
                    loss, out = step(model, xb, yb, want_outputs=want_outputs)
                else:
                    loss, out = step(model, xb, yb, want_outputs=want_outputs, sample_weight=wb)
                m = stop - start
                loss_sum += loss * m
                seen += m
                done = batch + 1
                end_batch(model, cblist, batch, loss, yb, out, wb, metric_sums, loss_sum, seen)
                if model.stop_training:
                    break
            if steps_per_epoch is None or position == per_pass:
                position = 0
            model._shuffle_pass = None if position == 0 else \
                {"rng": before, "position": position, "samples": n, "batch_size": batch_size}
            model._steps_done = done
            logs = model._logs(loss_sum, metric_sums, seen)
            if x_val is not None and _validates(epoch, validation_freq):
                val = evaluate_arrays(model, x_val, y_val, val_batch_size, w_val, validation_steps, cblist)
                logs.update({f"val_{k}": v for k, v in val.items()})
            cblist.call("on_epoch_end", epoch, logs)
            if model.stop_training:
                break
        cblist.call("on_train_end", logs)
    model.history = history
    return history


def _in_order(y, weights, order, labels):
    """The pass's labels (reordered at once when they are small) and sample weights."""
    if order is None:
        return y, weights
    return (y.take(order) if labels else y), (None if weights is None else weights.take(order))


# ======================================================================
# The shuffling state: the model's own, kept across fits and saved in its file
# ======================================================================

def shuffle_rng(model) -> np.random.Generator:
    """The generator fit shuffles `model`'s data with: made on the first fit (a child of glassnet's
    global generator, so set_random_seed makes runs repeat), then kept by the model for every later
    fit, and saved in its .glassnet file."""
    rng = getattr(model, "_shuffle_rng", None)
    if rng is None:
        rng = model._shuffle_rng = backend.make_rng()
    return rng


def _pass_to_continue(model, rng, n, batch_size, steps_per_epoch, shuffle):
    """(state before the permutation, permutation, position) of the pass a fit goes on with.

    Only a fit with steps_per_epoch leaves a pass unfinished (an epoch, or a stop, in mid-pass); the
    model keeps the generator's state before that pass's permutation and the position reached.  A later fit with
    steps_per_epoch on as many samples, in batches of the same size and shuffled alike, goes on
    with that pass (the permutation drawn again from the same state, so the generator ends where
    it was); any other fit starts a new pass, as Keras's fit always does."""
    kept = getattr(model, "_shuffle_pass", None)
    if (kept is None or steps_per_epoch is None or kept["samples"] != n or kept["batch_size"] != batch_size
            or (kept["rng"] is not None) != bool(shuffle)
            or not 0 < kept["position"] < math.ceil(n / batch_size)):
        return None, None, 0
    if kept["rng"] is None:
        return None, None, kept["position"]
    rng.bit_generator.state = kept["rng"]
    return kept["rng"], rng.permutation(n), kept["position"]


def shuffle_state(model):
    """The model's shuffling state as JSON-ready data ({"rng": ..., "pass": ...}), None before its first fit."""
    rng = getattr(model, "_shuffle_rng", None)
    if rng is None:
        return None
    kept = getattr(model, "_shuffle_pass", None)
    return {"rng": backend.plain_state(rng.bit_generator.state),
            "pass": None if kept is None else backend.plain_state(kept)}


def set_shuffle_state(model, state):
    """Give `model` a shuffling state shuffle_state gave (checked by the caller); None forgets it."""
    if state is None:
        model._shuffle_rng, model._shuffle_pass = None, None
        return
    rng = getattr(model, "_shuffle_rng", None)
    if rng is None:
        rng = model._shuffle_rng = np.random.default_rng()
    rng.bit_generator.state = state["rng"]               # in place: a fit running now shuffles with it
    model._shuffle_pass = None if state["pass"] is None else dict(state["pass"])


def end_batch(model, cblist, batch, loss, yb, out, wb, metric_sums, loss_sum, seen):
    """After a training batch (fit's loop and the generator loop): its scores join metric_sums, and
    the callbacks with on_train_batch_end get the epoch's running logs (the batch's own loss if it
    is not finite)."""
    if metric_sums:
        for i, score in enumerate(model._scores(yb, out, wb)):
            metric_sums[i] += score
    if cblist.batch_end:
        logs = model._logs(loss_sum, metric_sums, seen)
        if not math.isfinite(loss):
            logs["loss"] = loss
        for cb in cblist.batch_end:
            cb.on_train_batch_end(batch, logs)
