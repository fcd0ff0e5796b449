"""TensorBoard: the logs of a fit as event files that TensorBoard reads (written by tensorboardX)."""
from __future__ import annotations

import json
import os
import time

import numpy as np

from .. import _checks
from .base import Callback

_MISSING = ('TensorBoard needs the tensorboardX package, which writes the event files: '
            'pip install "glassnet[tensorboard]" (or pip install tensorboardX)')


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ImportError(_MISSING) from err
    return SummaryWriter


class TensorBoard(Callback):
    """Write the logs of a fit where TensorBoard finds them: `tensorboard --logdir logs`.

    As Keras does: at each epoch end the training logs (and the learning rate) go to
    `log_dir/train` as "epoch_loss", "epoch_accuracy", "epoch_learning_rate", ... and the validation
    logs to `log_dir/validation` under the same names without "val_", all at step = epoch (from 0).
    update_freq="epoch" writes those only; "batch" or an integer N also writes the running logs of
    every N-th training batch as "batch_loss", ... at step = the number of batches run in this fit.
    histogram_freq=N writes a histogram of every weight every N epochs ("dense/W/histogram", in
    glassnet's weight names); write_images=True draws 1-D and 2-D weights as grey images (scaled to
    their own range); write_steps_per_second=True adds "epoch_steps_per_second"; write_graph=True
    writes the model's config as a text summary named "keras" (glassnet has no TensorFlow graph to
    draw). After an evaluation (model.evaluate with this callback, or validation that calls the test
    hooks) its logs go to `log_dir/validation` as "evaluation_loss_vs_iterations", ... at step =
    the optimizer's iterations.

    Needs tensorboardX (pip install "glassnet[tensorboard]"); TensorBoard itself only to view the
    files. profile_batch and embeddings_freq must stay 0 (there is no profiler and no embedding
    projector here; Keras on the torch backend refuses profiling too).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        try:
            log_dir = os.fspath(log_dir)
        except TypeError:
            raise TypeError(f"TensorBoard log_dir must be a str or os.PathLike, got {type(log_dir).__name__}") from None
        if not isinstance(log_dir, str) or not log_dir:
            raise ValueError(f"TensorBoard log_dir must name a folder, got {log_dir!r}")
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch":
            if isinstance(update_freq, str):
                raise ValueError(f"TensorBoard update_freq must be 'epoch', 'batch' or a number of batches, "
                                 f"got {update_freq!r}")
            update_freq = _checks.positive_int(update_freq, "TensorBoard update_freq (a number of batches)")
        if profile_batch not in (0, None, (0, 0)):
            raise ValueError(f"TensorBoard profile_batch must be 0: glassnet has no profiler to trace batches "
                             f"with, got {profile_batch!r}")
        if embeddings_freq:
            raise ValueError(f"TensorBoard embeddings_freq must be 0: glassnet writes no embedding projector "
                             f"data, got {embeddings_freq!r}")
        self.log_dir = log_dir
        self.histogram_freq = _checks.non_negative_int(histogram_freq, "TensorBoard histogram_freq")
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = update_freq
        self.embeddings_freq = 0
        self.embeddings_metadata = embeddings_metadata
        self._writer_class = _summary_writer()             # a missing tensorboardX is said now, not mid-fit
        self._writers = {}
        self._training = False
        self._global_train_batch = 0
        self._epoch_batches = 0
        self._epoch_start = 0.0

    # -- writers --------------------------------------------------------------
    def _writer(self, which):
        if which not in self._writers:
            self._writers[which] = self._writer_class(logdir=os.path.join(self.log_dir, which))
        return self._writers[which]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- training -------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._training = True
        self._global_train_batch = 0
        if self.write_graph:
            config = json.dumps({"class_name": type(self.model).__name__, "config": self.model.get_config()},
                                indent=2, default=str)
            self._writer("train").add_text("keras", f"```\n{config}\n```", global_step=0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_batches = 0
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch += 1
        self._epoch_batches += 1
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in (logs or {}).items():
            if _is_scalar(value):
                writer.add_scalar(f"batch_{name}", float(value), global_step=self._global_train_batch)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            train["steps_per_second"] = self._epoch_batches / max(time.perf_counter() - self._epoch_start, 1e-9)
        for which, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    if _is_scalar(value):
                        writer.add_scalar(f"epoch_{name}", float(value), global_step=epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        self._training = False
        self._close_writers()

    # -- evaluation -----------------------------------------------------------
    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if logs and optimizer is not None:
            writer = self._writer("validation")
            for name, value in logs.items():
                if _is_scalar(value):
                    writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value),
                                      global_step=int(optimizer.iterations))
            writer.flush()
        if not self._training:
            self._close_writers()

    # -- weights --------------------------------------------------------------
    def _log_weights(self, epoch):
        writer = self._writer("train")
        for name, weight in _named_weights(self.model.layers):
            values = np.asarray(weight, dtype=np.float64)
            if values.size and np.isfinite(values).all():
                writer.add_histogram(f"{name}/histogram", values, global_step=epoch)
            if self.write_images:
                image = _as_image(values)
                if image is not None:
                    writer.add_image(f"{name}/image", image, global_step=epoch, dataformats="HW")


def _is_scalar(value):
    return np.ndim(value) == 0 and isinstance(np.asarray(value).item(), (int, float)) \
        and not isinstance(value, (bool, np.bool_))


def _named_weights(layers, prefix=""):
    """[(name, array)] of every weight, "dense/W", those of a model used as a layer included."""
    out = []
    for layer in layers:
        inner = getattr(layer, "layers", None)
        if inner is not None:
            out.extend(_named_weights(inner, f"{prefix}{layer.name}/"))
            continue
        for key, weight in zip(layer.weight_names, layer.weights):
            out.append((f"{prefix}{layer.name}/{key}", weight))
    return out


def _as_image(values):
    """A 1-D or 2-D weight as a grey image in [0, 1] (longer side across), or None."""
    values = np.squeeze(values)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2 or not values.size or not np.isfinite(values).all():
        return None
    if values.shape[0] > values.shape[1]:
        values = values.T
    low, high = values.min(), values.max()
    return np.zeros_like(values) if high == low else (values - low) / (high - low)
