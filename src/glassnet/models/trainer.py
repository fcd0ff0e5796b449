"""Training a model (mixed into Model, as Keras's Trainer): compile, the input checks, fit,
evaluate, predict, train_on_batch, test_on_batch and compute_gradients.

Every one of them runs its batches through models.step.step(), the one function that runs a
forward pass, the loss, backward and the optimizer's update.  fit, evaluate and predict stream x
batch by batch (models.batches), with layers writing into kept buffers and small matrix products
on one BLAS thread while they run (`_running`).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import _checks
from .. import backend
from .. import callbacks as callbacks_module
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from . import batches as batches_module
from . import outputs as outputs_module
from . import step as step_module
from .batches import Several, batches as _batches
from .nested import leaves
from .step import step


class Trainer:
    """compile, fit, evaluate, predict and the one-batch methods of a Model."""

    # ------------------------------------------------------------------
    # Compiling
    # ------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None):
        """Choose the optimizer, the loss and the metrics (names or objects, as in Keras).

        A model with several outputs takes a loss per output, loss_weights and metrics per output,
        each as one value for every output, a list in output order or a dict keyed by output name
        (models/outputs.py).  Everything is resolved before anything is assigned: a bad name leaves
        the model as it was.
        """
        if len(getattr(self, "outputs", ())) > 1:
            optimizer = optimizers_module.get(optimizer)
            heads = outputs_module.compile_heads(self, loss, loss_weights, metrics)
            self.optimizer, self._heads = optimizer, heads
            self.loss = [h.loss for h in heads]
            self._metric_specs = [list(h.metric_specs) for h in heads]
            self._loss_weights = [h.weight for h in heads]
            self.metrics_names = outputs_module.metrics_names(heads)
            self.compiled, self._prepared = True, False
            return
        if loss is None:
            raise ValueError(f"compile needs a loss; known losses: {', '.join(losses_module.names())}")
        if loss_weights is not None:
            weights = list(loss_weights.values()) if isinstance(loss_weights, dict) else \
                list(loss_weights) if isinstance(loss_weights, (list, tuple)) else [loss_weights]
            if len(weights) != 1 or _checks.finite_number(weights[0], "loss_weights") != 1.0:
                raise ValueError(f"loss_weights weigh the losses of a model with several outputs; this model has one "
                                 f"output, whose loss weight can only be 1, got {loss_weights!r}")
        optimizer = optimizers_module.get(optimizer)
        if isinstance(loss, (list, tuple)) and len(loss) == 1:
            loss = loss[0]
        loss = losses_module.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, bytes)) or callable(metrics):
            metrics = [metrics]
        if isinstance(metrics, dict):
            raise TypeError("metrics must be a list such as ['accuracy'], got a dict")
        metrics = list(metrics)
        for m in metrics:                          # check names now, resolve variants later
            metrics_module.get(m, loss, None)
        self.optimizer = optimizer
        self.loss = loss
        self._metric_specs = metrics
        self._loss_weights = None
        self.metrics_names = ["loss"] + [m if isinstance(m, str) else metrics_module.name_of(m) for m in metrics]
        self.compiled = True
        self._prepared = False

    def _require_compiled(self):
        if not self.compiled:
            raise ValueError("the model must be compiled before training or evaluating: "
                             "call model.compile(optimizer=..., loss=...) first")

    def _prepare(self):
        """Once built and compiled: resolve metric variants and choose the fused loss path."""
        self._require_compiled()
        self._require_built()
        if self._prepared:
            return
        self._regularized = [l for l, _ in leaves(self.layers) if hasattr(l, "regularization_loss")
                             and (getattr(l, "kernel_regularizer", None) or getattr(l, "bias_regularizer", None))]
        if self._heads is not None:
            outputs_module.prepare(self)
            self._prepared = True
            return
        units = self.output_layer.output_shape[-1]
        self._metrics = [(name, metrics_module.get(spec, self.loss, units))
                         for name, spec in zip(self.metrics_names[1:], self._metric_specs)]
        last = self._last = self.output_layer       # the step reads it once per batch
        self._fused = (self.loss.fuses_with is not None and not self.loss.from_logits
                       and getattr(last, "activation", None) == self.loss.fuses_with
                       and hasattr(last, "forward_logits"))
        self._logits_loss = self._fused or self.loss.from_logits
        # Accuracy after a softmax is argmax(p) == label, and argmax(p) is argmax of the logits z, which
        # the fused loss has anyway: fit and evaluate count those matches, without the probabilities.
        softmax_logits = self._logits_loss and self.loss.fuses_with == "softmax"
        self._scorers = []
        for _, fn in self._metrics:
            if softmax_logits and fn is metrics_module.sparse_categorical_accuracy:
                kind = "argmax_label"
            elif softmax_logits and fn is metrics_module.categorical_accuracy:
                kind = "argmax_onehot"
            else:
                kind = "outputs"
            self._scorers.append((kind, fn, None))
        self._needs_outputs = any(kind == "outputs" for kind, _, _ in self._scorers)
        self._prepared = True

    # ------------------------------------------------------------------
    # Input checks
    # ------------------------------------------------------------------
    def _check_x(self, x, what="x"):
        x = _checks.as_features(x, what)
        if self._input_feature_shape is None and self.layers:
            if x.ndim < 2:
                raise ValueError(f"{what} must be a batch of shape (n, features), got shape {x.shape}; "
                                 f"for a single sample pass {what}.reshape(1, -1)")
            self.build((None,) + tuple(x.shape[1:]))
        self._require_built()
        _checks.check_width(x, self._input_feature_shape, self.layers[0], what)
        return x

    def _check_y(self, y, what="y"):
        if self._heads is not None:
            return outputs_module.check_y(self, y, what)
        out = self.output_layer.output_shape[1:]
        if self.loss.sparse_labels:
            if y is None:
                raise ValueError(f"{what} is required, got None")
            return _checks.class_labels(y, out[-1], what)
        return _checks.targets(y, out, self.dtype, what, unit_interval=self.loss.name == "binary_crossentropy")

    def _check_xy(self, x, y, xname="x", yname="y", convert=True):
        """Check (x, y) once, at the public boundary.  convert=False (fit, evaluate): x is left as
        given (uint8, a np.memmap, float64, ...) and converted batch by batch, by `_Batches`."""
        self._require_compiled()
        x = self._check_x(x, xname)            # a model without an input shape is built from x here
        self._prepare()
        y = self._check_y(y, yname)
        _checks.same_length(x, y, xname, yname)
        if not convert:
            self._check_castable(x, xname)
            return x, y
        return self._as_dtype(x, xname), y

    def _as_dtype(self, x, what="x"):
        if isinstance(x, Several):
            return Several([_checks.cast(a, self.dtype, f"{what}[{i}]") for i, a in enumerate(x.arrays)])
        return _checks.cast(x, self.dtype, what)

    def _check_castable(self, x, what="x"):
        for i, a in enumerate(x.arrays if isinstance(x, Several) else [x]):
            _checks.check_castable(a, self.dtype, f"{what}[{i}]" if isinstance(x, Several) else what)

    # ------------------------------------------------------------------
    # The step's phases (models/step.py), as methods
    # ------------------------------------------------------------------
    #: (loss, outputs, dL/d(logits) or None) on checked (x, y): the step's forward phase
    _forward_loss = step_module.forward_loss
    _regularization_loss = step_module.regularization_loss

    def _train_step(self, x, y, want_outputs=True):
        """Forward, loss, backward, update: (loss before the update, outputs or None)."""
        return step(self, x, y, want_outputs=want_outputs)

    def _scores(self, y, out):
        """The batch's metric sums (matches for accuracies), in compile order."""
        sums = []
        for kind, fn, k in self._scorers:
            if k is not None:                        # one output of several
                sums.append(self._head_losses[k] * len(y) if kind == "head_loss"
                            else float(np.sum(fn(y.arrays[k], out[k]))))
            elif kind == "argmax_label":
                sums.append(int(np.count_nonzero(self._logits.argmax(axis=-1) == y)))
            elif kind == "argmax_onehot":
                sums.append(int(np.count_nonzero(self._logits.argmax(axis=-1) == y.argmax(axis=-1))))
            else:
                sums.append(float(np.sum(fn(y, out))))
        return sums

    # fit, evaluate and predict run inside _running(): kept buffers, BLAS threads (models/batches.py)
    _kept = batches_module.kept
    _running = batches_module.running
    _largest_matmul = batches_module.largest_matmul

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0, doctor=True):
        """Train for `epochs` passes over (x, y); returns a History whose .history holds per-epoch logs.

        doctor: the training doctor (glassnet.doctor) watches the run and warns, once per cause, about
        NaN/exploding/rising loss, vanishing/exploding gradients, dead ReLUs, saturated units and
        overfitting.  True (default; off everywhere after gn.doctor.disable()), False, or a Doctor(...).
        """
        self._require_compiled()
        batch_size = _checks.batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
            raise ValueError(f"initial_epoch must be an integer >= 0, got {initial_epoch!r}")
        validation_split = _checks.fraction(validation_split, "validation_split")
        verbose = _verbosity(verbose)
        x, y = self._check_xy(x, y, convert=False)
        if validation_data is not None:
            if validation_split:
                raise ValueError("pass either validation_data or validation_split, not both")
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            x_val, y_val = self._check_xy(*validation_data, "x_val", "y_val", convert=False)
        elif validation_split:
            split_at = int(len(x) * (1.0 - validation_split))
            if split_at < 1 or split_at >= len(x):
                raise ValueError(f"validation_split={validation_split} leaves no samples for training or validation "
                                 f"with {len(x)} samples")
            x, x_val = x[:split_at], x[split_at:]
            y, y_val = y[:split_at], y[split_at:]
        else:
            x_val = y_val = None

        n = len(x)
        steps = math.ceil(n / batch_size)
        history = callbacks_module.History()
        cbs = list(callbacks or [])
        for cb in cbs:
            if not isinstance(cb, callbacks_module.Callback):
                raise TypeError(f"callbacks must be glassnet Callback objects, got {type(cb).__name__}")
        from .. import doctor as doctor_module          # above the models: imported when fit runs
        doc = doctor_module.for_fit(doctor, cbs, history, verbose)   # history.findings; printed if verbose
        if verbose:
            cbs.append(callbacks_module.ProgbarLogger(verbose))
        cbs.append(history)
        if doc is not None:
            cbs.append(doc)                    # last: its findings print after the epoch's progress line
        cblist = callbacks_module.CallbackList(cbs, self, {"epochs": epochs, "steps": steps, "verbose": verbose})
        per_batch_logs = bool(cblist.batch_end or cblist.batch_begin)

        # The batch loop.  Per epoch: one permutation, and the labels put in its order at once (a
        # small array); per batch: x's rows gathered (and converted) into one kept buffer, one step,
        # and the scores added up as plain numbers.  Layers reuse their buffers meanwhile.
        rng = backend.make_rng()
        batches = _batches(x, batch_size, self.dtype)
        labels = isinstance(y, Several) or y.ndim == 1   # labels (or several outputs' targets): reorder once per epoch
        ybuf = np.empty((min(batch_size, n),) + y.shape[1:], dtype=y.dtype) if shuffle and not labels else None
        want_outputs = self._needs_outputs
        self.stop_training = False
        with self._running(min(batch_size, n)):
            cblist.call("on_train_begin", {})
            for epoch in range(initial_epoch, epochs):
                cblist.call("on_epoch_begin", epoch, {})
                order = rng.permutation(n) if shuffle else None
                y_epoch = y.take(order) if order is not None and labels else y
                loss_sum, seen = 0.0, 0
                metric_sums = [0.0] * len(self._metrics)
                for batch in range(steps):
                    start, stop = batch * batch_size, min((batch + 1) * batch_size, n)
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
                    loss, out = step(self, xb, yb, want_outputs=want_outputs)
                    m = stop - start
                    loss_sum += loss * m
                    seen += m
                    if metric_sums:
                        for i, score in enumerate(self._scores(yb, out)):
                            metric_sums[i] += score
                    if per_batch_logs:
                        logs = self._logs(loss_sum, metric_sums, seen)
                        if not math.isfinite(loss):
                            logs["loss"] = loss
                        for cb in cblist.batch_end:
                            cb.on_train_batch_end(batch, logs)
                    if self.stop_training:
                        break
                self._steps_done = batch + 1 if steps else 0
                logs = self._logs(loss_sum, metric_sums, seen)
                if x_val is not None:
                    val = self._evaluate_arrays(x_val, y_val, batch_size)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                cblist.call("on_epoch_end", epoch, logs)
                if self.stop_training:
                    break
            cblist.call("on_train_end", {})
        self.history = history
        return history

    def _logs(self, loss_sum, metric_sums, seen):
        logs = {"loss": loss_sum / seen}
        for (name, _), total in zip(self._metrics, metric_sums):
            logs[name] = total / seen
        return logs

    # ------------------------------------------------------------------
    # Evaluation and prediction
    # ------------------------------------------------------------------
    def _evaluate_arrays(self, x, y, batch_size, batch_end=()):
        """Loss and metrics over (x, y), batch by batch (x streamed as in fit); call inside _running()."""
        loss_sum, metric_sums, seen = 0.0, [0.0] * len(self._metrics), 0
        n = len(x)
        batches = _batches(x, batch_size, self.dtype)
        for batch, start in enumerate(range(0, n, batch_size)):
            stop = min(start + batch_size, n)
            xb, yb = batches.rows(start, stop), y[start:stop]
            loss, out = step(self, xb, yb, training=False, backward=False, update=False, penalty=False,
                             want_outputs=self._needs_outputs)
            loss_sum += loss * len(xb)
            seen += len(xb)
            if metric_sums:
                for i, score in enumerate(self._scores(yb, out)):
                    metric_sums[i] += score
            for cb in batch_end:
                cb.on_test_batch_end(batch, self._logs(loss_sum, metric_sums, seen))
        logs = self._logs(loss_sum, metric_sums, n)
        if self._regularized:
            logs["loss"] += self._regularization_loss()
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", callbacks=None, return_dict=False):
        """Loss (and metrics) on (x, y): a float without metrics, else [loss, metric, ...] (Keras).

        Callbacks get on_test_begin, on_test_batch_end (if they define it) and on_test_end.
        """
        self._require_compiled()
        batch_size = _checks.batch_size(batch_size)
        verbose = _verbosity(verbose)
        cbs = list(callbacks or [])
        for cb in cbs:
            if not isinstance(cb, callbacks_module.Callback):
                raise TypeError(f"callbacks must be glassnet Callback objects, got {type(cb).__name__}")
        x, y = self._check_xy(x, y, convert=False)
        for cb in cbs:
            cb.set_model(self)
            cb.on_test_begin({})
        batch_end = [cb for cb in cbs if callbacks_module.overrides(cb, "on_test_batch_end")]
        start = time.perf_counter()
        with self._running(min(batch_size, len(x))):
            logs = self._evaluate_arrays(x, y, batch_size, batch_end)
        for cb in cbs:
            cb.on_test_end(dict(logs))
        if verbose:
            steps = math.ceil(len(x) / batch_size)
            elapsed = time.perf_counter() - start
            print(f"{steps}/{steps} - {callbacks_module._fmt_time(elapsed)} - "
                  f"{callbacks_module._per_step(elapsed, steps)}{callbacks_module.format_logs(logs)}", flush=True)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0):
        """The model's outputs for x (probabilities for softmax/sigmoid outputs), batch by batch.

        x may be uint8, a np.memmap, ...: each batch is read and converted on its own, and the
        layers compute into kept buffers; only the outputs are new memory.
        """
        batch_size = _checks.batch_size(batch_size)
        x = self._check_x(x)
        self._check_castable(x, "x")
        n = len(x)
        shapes = [tuple(t.shape[1:]) for t in self.outputs] if self._several_outputs else \
            [tuple(self.output_layer.output_shape[1:])]
        outs = [np.empty((n,) + shape, dtype=self.dtype) for shape in shapes]
        batches = _batches(x, batch_size, self.dtype)
        with self._running(min(batch_size, n)):
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                got = step(self, batches.rows(start, stop), None, training=False, backward=False, update=False)[1]
                for out, part in zip(outs, got if self._several_outputs else [got]):
                    out[start:stop] = part
        out = outputs_module.structured(self, outs) if self._several_outputs else outs[0]
        if verbose:
            steps = math.ceil(n / batch_size)
            print(f"{steps}/{steps}", flush=True)
        return out

    def __call__(self, x, training=False):
        """Forward pass on one batch (no batching, no copies): model(x)."""
        out = step(self, self._as_dtype(self._check_x(x)), None, training=training, backward=False,
                   update=False)[1]
        return outputs_module.structured(self, out) if self._several_outputs else out

    @property
    def _several_outputs(self):
        return len(getattr(self, "outputs", ())) > 1

    def train_on_batch(self, x, y, return_dict=False, recorder=None):
        """One optimizer step on this batch; returns its loss (and metrics) before the update.

        recorder: a glassnet.models.Recorder that sees the step (glassnet.explain.trace uses one).
        """
        x, y = self._check_xy(x, y)
        loss, out = step(self, x, y, recorder=recorder)
        return self._batch_result(loss, out, y, return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        """Loss (and metrics) on this batch, without training."""
        x, y = self._check_xy(x, y)
        loss, out = step(self, x, y, training=False, backward=False, update=False)
        return self._batch_result(loss, out, y, return_dict)

    def _batch_result(self, loss, out, y, return_dict):
        logs = {"loss": float(loss)}
        for (name, _), total in zip(self._metrics, self._scores(y, out)):
            logs[name] = float(total) / len(y)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def trace(self, x, y, update=True, lang="en", **options):
        """Run one training step on (x, y) and record it: a `glassnet.explain.Trace`.

        Per layer: input, W, b, z = xW + b, a = f(z); the loss; dL/da, dL/dz, dL/dW, dL/db;
        the weights after the update.  print(trace) shows a table (lang="ko" for Korean).
        The weights end as after train_on_batch(x, y); update=False leaves them unchanged.
        """
        from .. import explain
        return explain.trace(self, x, y, update=update, lang=lang, **options)

    # ------------------------------------------------------------------
    # Gradients and weights
    # ------------------------------------------------------------------
    def compute_gradients(self, x, y):
        """(loss, grads): the training loss on (x, y) and its gradient for every array of get_weights().

        Nothing is updated: moving statistics are restored afterwards.  Arrays that are
        not trainable (BatchNormalization's moving mean and variance) get zero gradients.
        """
        x, y = self._check_xy(x, y)
        saved = [{k: v.copy() for k, v in layer.state.items()} for layer, _ in leaves(self.layers)]
        loss, _ = step(self, x, y, update=False)
        for (layer, _), state in zip(leaves(self.layers), saved):
            for k, v in state.items():
                layer.state[k][...] = v
        grads = []
        for layer, _ in leaves(self.layers):          # inner models' layers in place, as get_weights()
            for key in layer.params:
                grads.append(layer.grads[key].copy())
            for w in layer.state.values():
                grads.append(np.zeros_like(w))
        return float(loss), grads


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return verbose

