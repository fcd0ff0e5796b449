"""The Sequential model: an ordered list of layers, a loss and an optimizer (Keras API).

    model = gn.Sequential([
        gn.layers.Dense(50, activation="sigmoid", input_shape=(784,)),
        gn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=32, validation_split=0.1)

One training step (`train_on_batch`, or each batch of `fit`):
  forward through every layer -> loss -> backward in reverse -> optimizer update.
When the last layer's activation is softmax (sigmoid) and the loss is
categorical (binary) cross-entropy, the two are fused: the loss is computed
from the logits and the backward pass starts from dL/dz = (p - t) / n.

All trainable weights live in one flat buffer (each layer's params are views
into it), so the optimizer updates every weight with a few NumPy calls.
"""
from __future__ import annotations

import contextlib
import math
import sys
import time

import numpy as np

from . import _checks
from . import backend
from . import callbacks as callbacks_module
from . import doctor as doctor_module
from . import layers as layers_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .layers.base import Layer
from .layers.core import InputLayer
from ._registry import register


@register("model")
class Sequential:
    """A linear stack of layers."""

    def __init__(self, layers=None, name=None):
        self.name = name or "sequential"
        self.layers: list[Layer] = []
        self.built = False
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.metrics_names: list[str] = []
        self.stop_training = False
        self.history = None
        self._input_feature_shape = None
        self._reusing = False            # True while fit/evaluate/predict run: see _running()
        self._scratch: dict[str, np.ndarray] = {}
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------
    # Building
    # ------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (an Input(shape=...) only declares the input shape)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a glassnet layer, got {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("Input(shape=...) must come before the other layers")
            self._input_feature_shape = layer._declared_input_shape
            return
        if any(layer is other for other in self.layers):
            raise ValueError(f"layer {layer.name!r} is already in this model")
        if not self.layers and layer._declared_input_shape is not None:
            self._input_feature_shape = layer._declared_input_shape
        taken = {other.name for other in self.layers}
        if layer.name is None:
            base = layers_module.base._snake(type(layer).__name__)
            name, i = base, 0
            while name in taken:
                i += 1
                name = f"{base}_{i}"
            layer.name = name
        elif layer.name in taken:
            raise ValueError(f"a layer named {layer.name!r} is already in this model; layer names must be unique")
        self.layers.append(layer)
        self.built = False
        if self._input_feature_shape is not None:
            self.build()

    def pop(self):
        """Remove and return the last layer."""
        if not self.layers:
            raise ValueError("pop() on a model with no layers")
        layer = self.layers.pop()
        self.built = False
        if self.layers and self._input_feature_shape is not None:
            self.build()
        return layer

    def build(self, input_shape=None):
        """Create every layer's weights for inputs of `input_shape` ((None, 784) or (784,))."""
        if not self.layers:
            raise ValueError("the model has no layers; add some with model.add(...)")
        if input_shape is not None:
            shape = tuple(input_shape)
            if shape and shape[0] is None:
                shape = shape[1:]
            shape = layers_module.base._feature_shape(shape)
            if self._input_feature_shape is not None and shape != self._input_feature_shape:
                raise ValueError(f"the model was declared for inputs of shape {self._input_feature_shape}, "
                                 f"got {shape}")
            self._input_feature_shape = shape
        if self._input_feature_shape is None:
            raise ValueError("the model does not know its input shape yet: pass input_shape=(n,) to the first "
                             "layer, call build((None, n)), or fit it on data")
        dtypes = {layer.dtype for layer in self.layers}
        if len(dtypes) > 1:
            raise ValueError(f"all layers of a model must share one dtype, got {sorted(dtypes)}")
        self.dtype = dtypes.pop()
        shape = (None,) + self._input_feature_shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            elif tuple(layer.input_shape[1:]) != tuple(shape[1:]):
                raise ValueError(f"layer {layer.name!r} was built for inputs {layer.input_shape}, "
                                 f"but receives {shape}")
            shape = layer.output_shape
        # The data needs no gradient: layers up to the first one with weights skip dL/dx.
        first = next((i for i, l in enumerate(self.layers) if l.params), len(self.layers) - 1)
        for i, layer in enumerate(self.layers):
            layer.need_input_grad = i > first
        self._first_trainable = first
        self._pack_weights()
        self.built = True
        opt = self.optimizer
        if opt is not None and opt._variables is not None and \
                [v.shape for v in opt._variables] != [v.shape for v in self._optimizer_variables()]:
            opt._variables, opt.slots, opt.iterations = None, [], 0   # the weights changed shape: start afresh
        self._prepared = False

    def _pack_weights(self):
        """Move every trainable weight and its gradient into one flat buffer each (views per layer)."""
        entries = [(layer, key) for layer in self.layers if layer.trainable for key in layer.params]
        total = sum(layer.params[key].size for layer, key in entries)
        flat_w = np.empty(total, dtype=self.dtype)
        flat_g = np.zeros(total, dtype=self.dtype)
        offset = 0
        for layer, key in entries:
            w = layer.params[key]
            view = flat_w[offset:offset + w.size].reshape(w.shape)
            view[...] = w
            layer.params[key] = view
            layer.grads[key] = flat_g[offset:offset + w.size].reshape(w.shape)
            offset += w.size
        self._flat_weights, self._flat_grads = flat_w, flat_g
        self._flat_lists = ([flat_g], [flat_w])          # what _apply_gradients hands the optimizer
        self._trainable_entries = entries

    @property
    def input_shape(self):
        return None if self._input_feature_shape is None else (None,) + self._input_feature_shape

    @property
    def output_shape(self):
        self._require_built()
        return self.layers[-1].output_shape

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight arrays themselves (not copies), in get_weights() order."""
        self._require_built()
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        self._require_built()
        return [layer.params[key] for layer, key in self._trainable_entries]

    def _require_built(self):
        if not self.built:
            if self.layers and self._input_feature_shape is not None:
                self.build()
            else:
                raise ValueError("this model has not been built yet: give the first layer input_shape=(n,), "
                                 "call build((None, n)), or fit it on data")

    # ------------------------------------------------------------------
    # Compiling
    # ------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics (names or objects, as in Keras).

        Everything is resolved before anything is assigned: a bad name leaves the model as it was.
        """
        if loss is None:
            raise ValueError(f"compile needs a loss; known losses: {', '.join(losses_module.names())}")
        optimizer = optimizers_module.get(optimizer)
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
        out_shape = self.layers[-1].output_shape
        units = out_shape[-1]
        self._metrics = [(name, metrics_module.get(spec, self.loss, units))
                         for name, spec in zip(self.metrics_names[1:], self._metric_specs)]
        last = self.layers[-1]
        self._fused = (self.loss.fuses_with is not None and not self.loss.from_logits
                       and getattr(last, "activation", None) == self.loss.fuses_with
                       and hasattr(last, "forward_logits"))
        self._logits_loss = self._fused or self.loss.from_logits
        self._regularized = [l for l in self.layers if hasattr(l, "regularization_loss")
                             and (getattr(l, "kernel_regularizer", None) or getattr(l, "bias_regularizer", None))]
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
            self._scorers.append((kind, fn))
        self._needs_outputs = any(kind == "outputs" for kind, _ in self._scorers)
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
        out = self.layers[-1].output_shape[1:]
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
            _checks.check_castable(x, self.dtype, xname)
            return x, y
        return self._as_dtype(x, xname), y

    def _as_dtype(self, x, what="x"):
        return _checks.cast(x, self.dtype, what)

    # ------------------------------------------------------------------
    # One step
    # ------------------------------------------------------------------
    def _forward_loss(self, x, y, training, want_outputs=True, want_dz=True):
        """Forward pass and loss: (loss, output probabilities, dL/d(last layer's output or logits)).

        y must have passed `_check_y`.  With a fused (or from_logits) loss the logits are kept in
        self._logits; want_outputs=False / want_dz=False let the loss skip what nobody will read
        (then None is returned in its place).
        """
        h = x
        for layer in self.layers[:-1]:
            h = layer.forward(h, training=training)
        last = self.layers[-1]
        if self._logits_loss:
            z = last.forward_logits(h, training) if self._fused else last.forward(h, training)
            self._logits = z
            loss, dz, out = self.loss._fused(y, z, self._kept("dz", z), want_outputs, want_dz)
            return loss, out, dz
        out = last.forward(h, training=training)
        loss = float(np.mean(self.loss.per_sample(y, out)))
        return loss, out, None

    def _backward(self, y, out, dz):
        last = self.layers[-1]
        if dz is not None:
            d = last.backward_logits(dz) if self._fused else last.backward(dz)
        else:
            d = last.backward(self.loss.gradient(y, out))
        for layer in reversed(self.layers[self._first_trainable:-1]):
            d = layer.backward(d)

    def _regularization_loss(self):
        return sum(layer.regularization_loss() for layer in self._regularized) if self._regularized else 0.0

    def _train_step(self, x, y, want_outputs=True):
        """Forward, loss, backward, update: (loss before the update, outputs or None)."""
        loss, out, dz = self._forward_loss(x, y, True, want_outputs)
        self._backward(y, out, dz)
        if self._regularized:
            loss += self._regularization_loss()
        self._apply_gradients()
        return loss, out

    def _apply_gradients(self):
        opt = self.optimizer
        if opt.clipnorm is not None:              # per-variable clipping needs the per-variable views
            opt.apply([l.grads[k] for l, k in self._trainable_entries], self.trainable_weights)
        elif opt._variables is not None and len(opt._variables) == 1 and opt._variables[0] is self._flat_weights:
            opt._apply(*self._flat_lists)         # bound to our flat buffer already: skip apply()'s checks
        else:
            opt.apply(*self._flat_lists)

    def _scores(self, y, out):
        """The batch's metric sums (matches for accuracies), in compile order."""
        sums = []
        for kind, fn in self._scorers:
            if kind == "argmax_label":
                sums.append(int(np.count_nonzero(self._logits.argmax(axis=-1) == y)))
            elif kind == "argmax_onehot":
                sums.append(int(np.count_nonzero(self._logits.argmax(axis=-1) == y.argmax(axis=-1))))
            else:
                sums.append(float(np.sum(fn(y, out))))
        return sums

    def _kept(self, key, like):
        """A scratch array shaped like `like`, kept while the model runs (fit, evaluate), else None
        (as Layer._buffer: the largest batch so far, and a view of its first rows for a smaller one)."""
        if not self._reusing:
            return None
        buf = self._scratch.get(key)
        if buf is not None and buf.shape == like.shape and buf.dtype == like.dtype:
            return buf
        if buf is None or len(buf) < len(like) or buf.shape[1:] != like.shape[1:] or buf.dtype != like.dtype:
            buf = self._scratch[key] = np.empty(like.shape, like.dtype)
        return buf[:len(like)]

    @contextlib.contextmanager
    def _running(self, rows):
        """While fit, evaluate or predict runs on batches of `rows` samples, layers write into kept
        buffers instead of new arrays (nested calls, such as predict from a callback, leave the outer
        setting as it was), and small matrix products run on one BLAS thread (backend.limit_blas_threads)."""
        before = [layer._reuse for layer in self.layers], self._reusing
        for layer in self.layers:
            layer._reuse = True
        self._reusing = True
        try:
            with backend.limit_blas_threads(1 if self._largest_matmul(rows) < backend.SMALL_MATMUL_FLOPS else None):
                yield
        finally:
            for layer, flag in zip(self.layers, before[0]):
                layer._reuse = flag
            self._reusing = before[1]

    def _largest_matmul(self, rows):
        """Floating-point operations of the largest matrix product a batch of `rows` samples needs."""
        sizes = [2 * rows * w.shape[0] * w.shape[1] for layer in self.layers
                 for w in (layer.params.get("W"),) if w is not None and w.ndim == 2]
        return max(sizes, default=0)

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
        doc = doctor_module.for_fit(doctor, cbs)
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
        batches = _Batches(x, batch_size, self.dtype)
        labels = y.ndim == 1                       # class labels: reorder them all once per epoch
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
                for step in range(steps):
                    start, stop = step * batch_size, min((step + 1) * batch_size, n)
                    if order is None:
                        xb = batches.rows(start, stop)
                    else:
                        xb = batches.gather(order[start:stop])
                    if ybuf is None:
                        yb = y_epoch[start:stop]
                    else:
                        yb = np.take(y, order[start:stop], axis=0, out=ybuf[: stop - start])
                    for cb in cblist.batch_begin:
                        cb.on_train_batch_begin(step, {})
                    loss, out = self._train_step(xb, yb, want_outputs)
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
                            cb.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                self._steps_done = step + 1 if steps else 0
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
        batches = _Batches(x, batch_size, self.dtype)
        for step, start in enumerate(range(0, n, batch_size)):
            stop = min(start + batch_size, n)
            xb, yb = batches.rows(start, stop), y[start:stop]
            loss, out, _ = self._forward_loss(xb, yb, False, self._needs_outputs, want_dz=False)
            loss_sum += loss * len(xb)
            seen += len(xb)
            if metric_sums:
                for i, score in enumerate(self._scores(yb, out)):
                    metric_sums[i] += score
            for cb in batch_end:
                cb.on_test_batch_end(step, self._logs(loss_sum, metric_sums, seen))
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
        _checks.check_castable(x, self.dtype, "x")
        n = len(x)
        out = np.empty((n,) + tuple(self.layers[-1].output_shape[1:]), dtype=self.dtype)
        batches = _Batches(x, batch_size, self.dtype)
        with self._running(min(batch_size, n)):
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                h = batches.rows(start, stop)
                for layer in self.layers:
                    h = layer.forward(h, training=False)
                out[start:stop] = h
        if verbose:
            steps = math.ceil(n / batch_size)
            print(f"{steps}/{steps}", flush=True)
        return out

    def __call__(self, x, training=False):
        """Forward pass on one batch (no batching, no copies): model(x)."""
        x = self._as_dtype(self._check_x(x))
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on this batch; returns its loss (and metrics) before the update."""
        x, y = self._check_xy(x, y)
        loss, out = self._train_step(x, y)
        return self._batch_result(loss, out, y, return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        """Loss (and metrics) on this batch, without training."""
        x, y = self._check_xy(x, y)
        loss, out, _ = self._forward_loss(x, y, training=False)
        loss += self._regularization_loss()
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
        from . import explain
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
        saved = [{k: v.copy() for k, v in layer.state.items()} for layer in self.layers]
        loss, out, dz = self._forward_loss(x, y, training=True)
        self._backward(y, out, dz)
        loss += self._regularization_loss()
        for layer, state in zip(self.layers, saved):
            for k, v in state.items():
                layer.state[k][...] = v
        grads = []
        for i, layer in enumerate(self.layers):
            for key in layer.params:
                grads.append(layer.grads[key].copy() if i >= self._first_trainable
                             else np.zeros_like(layer.params[key]))
            for w in layer.state.values():
                grads.append(np.zeros_like(w))
        return float(loss), grads

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every weight array, layer by layer: Dense gives [W (in, out), b (out,)] as Keras does."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Set every weight from a list in get_weights() order; all shapes are checked before anything changes."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"set_weights expects a list of {len(own)} arrays "
                             f"(shapes {[w.shape for w in own]}), got {len(weights)}")
        names = [f"{layer.name}/{key}" for layer in self.layers for key in layer.weight_names]
        checked = []
        for name, mine, new in zip(names, own, weights):
            new = np.asarray(new)
            if new.shape != mine.shape:
                raise ValueError(f"set_weights: {name} expects shape {mine.shape}, got {new.shape}")
            if new.dtype.kind not in "fiu" or not np.isfinite(new).all():
                raise ValueError(f"set_weights: {name} must hold finite numbers")
            checked.append(new)
        for mine, new in zip(own, checked):
            mine[...] = new

    def count_params(self) -> int:
        self._require_built()
        return int(sum(layer.count_params() for layer in self.layers))

    # ------------------------------------------------------------------
    # Files (the format is in glassnet.saving and docs/model-format.md)
    # ------------------------------------------------------------------
    def save(self, filepath, overwrite=True):
        """Write the whole model to one `.glassnet` file: architecture, weights, compile settings
        and optimizer state (added as the suffix when `filepath` has none). Written atomically."""
        from . import saving
        return saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Write only the weights, to a NumPy `.npz` file ("dense/W", ... in get_weights() order)."""
        from . import saving
        return saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Set the weights from save_weights()' `.npz` (or a `.glassnet` file); shapes are checked first."""
        from . import saving
        saving.load_weights(self, filepath)

    def _optimizer_variables(self):
        """The variables `_train_step` hands the optimizer: the flat buffer, or per-variable views with clipnorm."""
        self._require_built()
        if self.optimizer is not None and self.optimizer.clipnorm is not None:
            return self.trainable_weights
        return [self._flat_weights]

    # ------------------------------------------------------------------
    # Description
    # ------------------------------------------------------------------
    def summary(self, line_length=None, print_fn=None, details=True):
        """Print Keras's summary table (layer (type), output shape, parameter count, totals), then,
        unless details=False, how the numbers add up: per layer the parameter arithmetic
        (784 x 50 + 50 = 39,250), activation and initializer, memory and FLOPs per sample.

        print_fn (default print) is called once per table, with the table's text.
        """
        self._require_built()
        out = print_fn or _print_safely
        out(_summary_table(self))
        if details:
            out(_summary_details(self))

    def get_config(self) -> dict:
        return {"name": self.name,
                "input_shape": None if self._input_feature_shape is None else list(self._input_feature_shape),
                "layers": [layers_module.serialize(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config, dtype=None):
        model = cls(name=config.get("name"))
        if config.get("input_shape") is not None:
            model._input_feature_shape = tuple(config["input_shape"])
        for spec in config["layers"]:
            spec = {"class_name": spec["class_name"], "config": dict(spec["config"])}
            if dtype is not None:
                spec["config"]["dtype"] = backend.standardize_dtype(dtype)
            model.add(layers_module.deserialize(spec))
        return model

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={len(self.layers)} built={self.built}>"


def load_model(filepath, compile=True, custom_objects=None):
    """Keras's keras.models.load_model: the model saved in a `.glassnet` file (see glassnet.saving)."""
    from . import saving
    return saving.load_model(filepath, compile=compile, custom_objects=custom_objects)


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return verbose


# ----------------------------------------------------------------------
# summary()
# ----------------------------------------------------------------------
def _readable_size(n_bytes):
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024


def _summary_table(model) -> str:
    longest = max(len(f"{layer.name} ({type(layer).__name__})") for layer in model.layers)
    widths = (max(33, longest + 2), 24, 15)          # Keras's widths, wider for long layer names
    head = ("Layer (type)", "Output Shape", "Param #")

    def row(cells, edge, sep):
        parts = []
        for i, (cell, w) in enumerate(zip(cells, widths)):
            text = f" {cell:>{w - 2}} " if i == 2 else f" {cell:<{w - 2}} "
            parts.append(text)
        return edge + sep.join(parts) + edge

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), row(head, "┃", "┃"), rule("┡", "╇", "┩", "━")]
    for i, layer in enumerate(model.layers):
        shape = "(" + ", ".join("None" if d is None else str(d) for d in layer.output_shape) + ")"
        if len(layer.output_shape) == 1:
            shape = shape[:-1] + ",)"
        lines.append(row((f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}"), "│", "│"))
        if i < len(model.layers) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    itemsize = np.dtype(model.dtype).itemsize
    trainable = sum(w.size for l in model.layers if l.trainable for w in l.params.values())
    total = model.count_params()
    non_trainable = total - trainable
    for label, count in (("Total", total), ("Trainable", trainable), ("Non-trainable", non_trainable)):
        lines.append(f" {label} params: {count:,} ({_readable_size(count * itemsize)})")
    return "\n".join(lines)


def _initializer_name(init) -> str:
    """'glorot_uniform', 'random_normal(stddev=0.01)', 'constant(-10)': the name and its numbers."""
    from . import initializers
    spec = initializers.serialize(init)
    numbers = {k: v for k, v in spec["config"].items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seed"
               and not (k == "mean" and v == 0)}
    if list(numbers) == ["value"]:
        return f"{spec['class_name']}({numbers['value']:g})"
    args = ", ".join(f"{k}={v:g}" for k, v in numbers.items())
    return f"{spec['class_name']}({args})" if args else spec["class_name"]


def _layer_details(layer, itemsize):
    """(parameter arithmetic, activation and initializer, memory, FLOPs arithmetic, FLOPs) for one layer."""
    count = layer.count_params()
    memory = _readable_size(count * itemsize)
    out_shape = tuple(layer.output_shape[1:])
    w = layer.params.get("W")
    kind = getattr(layer, "activation", None)
    if hasattr(layer, "units") and w is not None and w.ndim == 2:          # Dense
        n_in, n_out = w.shape
        bias = "b" in layer.params
        params = f"{n_in:,} x {n_out:,}" + (f" + {n_out:,}" if bias else "") + f" = {count:,}"
        what = f"{kind}, {_initializer_name(layer.kernel_initializer)}"
        if bias and _initializer_name(layer.bias_initializer) != "zeros":
            what += f", bias {_initializer_name(layer.bias_initializer)}"
        rows = int(np.prod(out_shape[:-1])) if len(out_shape) > 1 else 1     # Dense on (batch, ..., in)
        per_row = 2 * n_in * n_out + (n_out if bias else 0)
        flops = rows * per_row
        formula = f"2 x {n_in:,} x {n_out:,}" + (f" + {n_out:,}" if bias else "")
        if rows > 1:
            formula = f"{rows:,} x ({formula})"
        return params, what, memory, f"{formula} = {flops:,}", flops
    if type(layer).__name__ == "BatchNormalization":
        c = out_shape[-1]
        per_feature = len(layer.params) + len(layer.state)
        params = f"{per_feature} x {c:,} = {count:,}"
        if layer.state:
            params += f" ({len(layer.params) * c:,} trainable)"
        inits = [f"{key} {_initializer_name(getattr(layer, key + '_initializer'))}" for key in layer.params]
        elements = int(np.prod(out_shape))
        return params, ", ".join(inits) or "-", memory, f"4 x {elements:,} = {4 * elements:,}", 4 * elements
    if type(layer).__name__ == "Dropout":
        what = f"dropout {layer.rate:g} (training only)"
    elif type(layer).__name__ == "Flatten":
        what = "reshape"
    elif type(layer).__name__ == "Rescaling":
        what = f"x * {layer.scale:g}" + (f" + {layer.offset:g}" if layer.offset else "")
    elif kind is not None:                                                  # Activation
        what = kind
    else:
        what = "-"
    if count:
        sizes = [w.size for w in layer.weights]
        params = " + ".join(f"{s:,}" for s in sizes) + (f" = {count:,}" if len(sizes) > 1 else "")
    else:
        params = "0"
    return params, what, memory, "0", 0


def _summary_details(model) -> str:
    """The second summary table: how each layer's parameters, memory and FLOPs add up."""
    itemsize = np.dtype(model.dtype).itemsize
    dtype = np.dtype(model.dtype).name
    head = ("Layer", "Parameters", "Activation, initializer", "Memory", "FLOPs per sample")
    rows = []
    total_flops = 0
    for layer in model.layers:
        params, what, memory, formula, flops = _layer_details(layer, itemsize)
        rows.append((layer.name, params, what, memory, formula))
        total_flops += flops
    widths = [max(len(r[i]) for r in rows + [head]) + 2 for i in range(len(head))]

    def row(cells, edge):
        parts = [f" {c:>{w - 2}} " if i == 3 else f" {c:<{w - 2}} " for i, (c, w) in enumerate(zip(cells, widths))]
        return edge + edge.join(parts) + edge

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    total = model.count_params()
    lines = ["", f"How the numbers add up ({dtype}: {itemsize} bytes a number; FLOPs: a multiply-add counts 2):",
             rule("┏", "┳", "┓", "━"), row(head, "┃"), rule("┡", "╇", "┩", "━")]
    for i, cells in enumerate(rows):
        lines.append(row(cells, "│"))
        if i < len(rows) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    lines.append(f" Memory: {total:,} parameters x {itemsize} bytes ({dtype}) = {total * itemsize:,} bytes "
                 f"= {_readable_size(total * itemsize)}")
    lines.append(f" FLOPs per sample: {total_flops:,} to predict (activations not counted); "
                 f"a training step costs about 3x that")
    return "\n".join(lines)


def _print_safely(text):
    try:
        print(text)
    except UnicodeEncodeError:          # a console without box-drawing characters
        table = {ord(c): r for c, r in zip("┏┳┓┃┡╇┩│├┼┤└┴┘━─", "+++|+++|+++++++=-")}
        print(text.translate(table))
        sys.stdout.flush()


class _Batches:
    """Batches of x in the model's float type, read one at a time into one kept buffer.

    x stays as the caller gave it -- float32, uint8 pixels, a np.memmap, float64 -- and only the
    rows of the current batch are read and converted, so no copy of the whole data set is ever
    made.  Unshuffled batches of an x that already has the model's dtype are plain slices.
    """

    def __init__(self, x, batch_size, dtype):
        self.x = x
        shape = (min(batch_size, len(x)),) + tuple(x.shape[1:])
        self.same = x.dtype == dtype
        self.buf = np.empty(shape, dtype)                          # what the model computes on
        self.raw = None if self.same else np.empty(shape, x.dtype)  # gathered rows, before converting

    @staticmethod
    def _head(buf, m):
        return buf if m == len(buf) else buf[:m]

    def gather(self, idx):
        """The rows x[idx] for valid indices idx (a slice of a permutation of range(len(x)))."""
        m = len(idx)
        if self.same:
            # mode="clip" takes straight into `out` (the default mode="raise" goes through a temporary)
            return self.x.take(idx, axis=0, out=self._head(self.buf, m), mode="clip")
        raw = self.x.take(idx, axis=0, out=self._head(self.raw, m), mode="clip")
        buf = self._head(self.buf, m)
        np.copyto(buf, raw, casting="unsafe")                     # checked castable in advance
        return buf

    def rows(self, start, stop):
        """The rows x[start:stop]: a view when no conversion is needed."""
        part = self.x[start:stop]
        if self.same:
            return part
        buf = self._head(self.buf, stop - start)
        np.copyto(buf, part, casting="unsafe")
        return buf

