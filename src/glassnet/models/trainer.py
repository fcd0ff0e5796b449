"""Training a model (mixed into Model, as Keras's Trainer): compile, the input checks, fit,
evaluate, predict, train_on_batch, test_on_batch and compute_gradients.

Every one of them runs its batches through models.step.step(), the one function that runs a
forward pass, the loss, backward and the optimizer's update.  fit, evaluate and predict stream x
batch by batch (models.batches), with layers writing into kept buffers and small matrix products
on one BLAS thread while they run (`_running`).  Their loops live in models/fit.py (fit) and
models/evaluate.py (evaluate, predict); sample and class weights in models/weighting.py.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .. import losses as losses_module
from .. import optimizers as optimizers_module
from ..layers.base import EagerTensor
from . import batches as batches_module
from . import evaluate as evaluate_module
from . import fit as fit_module
from . import generators
from . import outputs as outputs_module
from . import scoring
from . import step as step_module
from . import weighting
from .batches import Several
from .nested import leaves
from .step import step


class Trainer:
    """compile, fit, evaluate, predict and the one-batch methods of a Model."""

    # ------------------------------------------------------------------
    # Compiling
    # ------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss and the metrics (names or objects, as in Keras).

        A model with several outputs takes a loss per output, loss_weights and metrics per output,
        each as one value for every output, a list in output order or a dict keyed by output name
        (models/outputs.py).  weighted_metrics: metrics that fit's sample weights weigh (one output).
        run_eagerly, steps_per_execution, jit_compile, auto_scale_loss: Keras's execution settings,
        accepted without effect (glassnet runs every step as it comes, in NumPy).  Everything is
        resolved before anything is assigned: a bad name leaves the model as it was.
        """
        scoring.check_execution_settings(steps_per_execution)
        if len(getattr(self, "outputs", ())) > 1:
            if scoring.as_list(weighted_metrics):
                raise ValueError("weighted_metrics are for a model with one output; this one has "
                                 f"{len(self.outputs)}: give its metrics per output with metrics=...")
            optimizer = optimizers_module.get(optimizer)
            heads = outputs_module.compile_heads(self, loss, loss_weights, metrics)
            self.optimizer, self._heads = optimizer, heads
            self.loss = [h.loss for h in heads]
            self._metric_specs, self._weighted_specs = [list(h.metric_specs) for h in heads], []
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
        metrics, weighted, names = scoring.compile_metrics(metrics, weighted_metrics, loss)   # checked; resolved later
        self.optimizer = optimizer
        self.loss = loss
        self._metric_specs, self._weighted_specs = metrics, weighted
        self._loss_weights = None
        self.metrics_names = ["loss"] + names
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
        self._regularized = [l for l, trainable in leaves(self.layers)     # frozen layers add no penalty (Keras)
                             if trainable and hasattr(l, "regularization_loss")
                             and (getattr(l, "kernel_regularizer", None) or getattr(l, "bias_regularizer", None))]
        if self._heads is not None:
            outputs_module.prepare(self)
            self._prepared = True
            return
        last = self._last = self.output_layer       # the step reads it once per batch
        self._fused = (self.loss.fuses_with is not None and not self.loss.from_logits
                       and getattr(last, "activation", None) == self.loss.fuses_with
                       and hasattr(last, "forward_logits"))
        self._logits_loss = self._fused or self.loss.from_logits
        scoring.prepare(self)                       # the metrics: functions, fast paths, Metric objects
        self._prepared = True

    # ------------------------------------------------------------------
    # Input checks
    # ------------------------------------------------------------------
    def _check_x(self, x, what="x"):
        x = _checks.one_feature(_checks.as_features(x, what), self._input_feature_shape)
        if self._input_feature_shape is None and self.layers:
            if x.ndim < 2:
                raise ValueError(f"{what} must be a batch of shape (n, features), got shape {x.shape}; "
                                 f"for a single sample pass {what}.reshape(1, -1)")
            self.build((None,) + tuple(x.shape[1:]))
        self._require_built()
        _checks.check_width(x, self._input_feature_shape, self.layers[0], what)
        check_values = getattr(self.layers[0], "check_input_values", None)     # Embedding: ids in range
        if check_values is not None:
            check_values(x, what)
        return x

    def _check_y(self, y, what="y"):
        if self._heads is not None:
            return outputs_module.check_y(self, y, what)
        out = self.output_layer.output_shape[1:]
        if self.loss.sparse_labels:
            if y is None:
                raise ValueError(f"{what} is required, got None")
            _checks.sparse_output(out, y, self.loss.name, what)   # the fused kernel takes (n, k) only
            self._labels_as_column = np.ndim(y) == 2       # Metric objects get them back as a column (Keras)
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

    #: the batch's metric scores, in compile order, and the logs from their running totals (models/scoring.py)
    _scores = scoring.scores
    _logs = scoring.logs

    # fit, evaluate and predict run inside _running(): kept buffers, BLAS threads (models/batches.py)
    _kept = batches_module.kept
    _running = batches_module.running
    _largest_matmul = batches_module.largest_matmul

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
            validation_freq=1, doctor=True):
        """Train for `epochs` passes over (x, y); returns a History whose .history holds per-epoch logs.

        Keras's arguments (models/fit.py says how each runs): sample_weight (one weight per sample:
        the loss becomes sum(w_i * l_i) / n) or class_weight ({class: weight}); steps_per_epoch
        (batches per epoch, continuing through the shuffled data across epochs); validation_data
        ((x_val, y_val) or (x_val, y_val, val_sample_weight)) or validation_split; validation_steps,
        validation_batch_size and validation_freq (validate every N epochs, or the epochs listed).
        x and y may be NumPy arrays, lists or pandas DataFrames/Series (a dict of them for several
        inputs); a 1-D x feeds a model whose samples are one number.  x may also be a generator or a
        PyDataset of (x, y[, sample_weight]) batches, with y None (models/generators.py).

        doctor: the training doctor (glassnet.doctor) watches the run and warns, once per cause, about
        NaN/exploding/rising loss, vanishing/exploding gradients, dead ReLUs, saturated units and
        overfitting.  True (default; off everywhere after gn.doctor.disable()), False, or a Doctor(...).
        """
        if generators.is_source(x):
            return generators.fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
                                  validation_data, class_weight, sample_weight, initial_epoch, steps_per_epoch,
                                  validation_steps, validation_batch_size, validation_freq, doctor)
        return fit_module.fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
                              shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch,
                              validation_steps, validation_batch_size, validation_freq, doctor)

    # ------------------------------------------------------------------
    # Evaluation and prediction (models/evaluate.py)
    # ------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss (and metrics) on (x, y): a float without metrics, else [loss, metric, ...] (Keras).

        sample_weight: one weight per sample; the loss is then sum(w_i * l_i) / n (metrics stay
        unweighted, as Keras's `metrics`).  steps: stop after that many batches.  Callbacks get
        on_test_begin, on_test_batch_begin, on_test_batch_end (running logs) and on_test_end.
        """
        module = generators if generators.is_source(x) else evaluate_module
        return module.evaluate(self, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict)

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None):
        """The model's outputs for x (probabilities for softmax/sigmoid outputs), batch by batch.

        x may be uint8, a np.memmap, a pandas DataFrame, ...: each batch is read and converted on its
        own, and the layers compute into kept buffers; only the outputs are new memory.  steps: stop
        after that many batches.  Callbacks get on_predict_begin, on_predict_batch_begin,
        on_predict_batch_end ({"outputs": the batch's outputs}) and on_predict_end.
        """
        module = generators if generators.is_source(x) else evaluate_module
        return module.predict(self, x, batch_size, verbose, steps, callbacks)

    def __call__(self, x, training=False):
        """Forward pass on one batch (no batching, no copies): model(x), an array with Keras's
        tensor method numpy() (as a layer's call gives), or a list/dict of them for several outputs."""
        out = step(self, self._as_dtype(self._check_x(x)), None, training=training, backward=False,
                   update=False)[1]
        if self._several_outputs:
            return outputs_module.structured(self, [_eager(o) for o in out])
        return _eager(out)

    @property
    def _several_outputs(self):
        return len(getattr(self, "outputs", ())) > 1

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False, recorder=None):
        """One optimizer step on this batch; returns its loss (and metrics) before the update.

        sample_weight / class_weight weigh the samples' losses as in fit (models/weighting.py).
        recorder: a glassnet.models.Recorder that sees the step (glassnet.explain.trace uses one).
        """
        x, y = self._check_xy(x, y)
        weights = weighting.sample_weights(self, sample_weight, class_weight, y, len(x))
        loss, out = step(self, x, y, recorder=recorder, sample_weight=weights)
        return self._batch_result(loss, out, y, return_dict, weights)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """Loss (and metrics) on this batch, without training; sample_weight weighs the loss as in fit."""
        x, y = self._check_xy(x, y)
        weights = weighting.sample_weights(self, sample_weight, None, y, len(x))
        loss, out = step(self, x, y, training=False, backward=False, update=False, sample_weight=weights)
        return self._batch_result(loss, out, y, return_dict, weights)

    def _batch_result(self, loss, out, y, return_dict, sample_weight=None):
        logs = scoring.batch_logs(self, loss, y, out, sample_weight)
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
    def compute_gradients(self, x, y, sample_weight=None):
        """(loss, grads): the training loss on (x, y) and its gradient for every array of get_weights().

        Nothing is updated: moving statistics are restored afterwards.  Arrays that are
        not trainable (BatchNormalization's moving mean and variance) get zero gradients.
        sample_weight weighs the samples' losses as in fit.
        """
        x, y = self._check_xy(x, y)
        weights = weighting.sample_weights(self, sample_weight, None, y, len(x))
        saved = [{k: v.copy() for k, v in layer.state.items()} for layer, _ in leaves(self.layers)]
        loss, _ = step(self, x, y, update=False, sample_weight=weights)
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


def _eager(array):
    """model(x)'s output array as a layer call returns it: with numpy(), as Keras's tensors have."""
    return array.view(EagerTensor) if type(array) is np.ndarray else array
