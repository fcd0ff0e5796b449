"""ModelCheckpoint: save the model (or its weights) during training."""
from __future__ import annotations

import math
import os

from .. import _checks
from .base import Callback
from .monitor import check_monitor, metric_mode, resolve_mode, skipped_validation


class ModelCheckpoint(Callback):
    """Save the model (or its weights) at the end of every epoch, or only when `monitor` improves.

    As Keras: filepath may hold `{epoch:02d}` (counted from 1) and any log value such as
    `{val_loss:.4f}`; it must end in `.glassnet` or `.keras` (model.save), or in `.npz` or
    `.weights.h5` with save_weights_only=True (model.save_weights). Missing directories are created.
    mode "auto" maximises accuracies, AUC, precision, recall and F1 and minimises the others
    (monitor.py); `best` starts at initial_value_threshold (else +-inf) and carries over between fits.

    save_freq="epoch" saves at the end of every epoch; an integer N saves after every N training
    batches, counted across epochs (and across fits, as in Keras), judged on the batch's logs (the
    running means of the epoch so far); then filepath may also hold `{batch}` (counted from 1).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        filepath = os.fspath(filepath)
        if not isinstance(filepath, str) or not filepath:
            raise TypeError(f"ModelCheckpoint filepath must be a non-empty str or os.PathLike, got {filepath!r}")
        lower = filepath.lower()
        if save_weights_only and not lower.endswith((".npz", ".weights.h5")):
            raise ValueError(f"with save_weights_only=True, ModelCheckpoint filepath must end in .npz or, for "
                             f"Keras 3's layout, .weights.h5 (such as 'ckpt/{{epoch:02d}}.weights.npz'), "
                             f"got {filepath!r}")
        if not save_weights_only and not lower.endswith((".glassnet", ".keras")):
            raise ValueError(f"ModelCheckpoint filepath must end in .glassnet (the model file) or .keras "
                             f"(a Keras 3 file), such as 'ckpt/model-{{epoch:02d}}.glassnet', got {filepath!r}; "
                             f"for weights alone pass save_weights_only=True and a path ending in .npz "
                             f"or .weights.h5")
        if save_freq != "epoch":
            if isinstance(save_freq, str):
                raise ValueError(f"ModelCheckpoint save_freq must be 'epoch' or a number of batches, "
                                 f"got {save_freq!r}")
            save_freq = _checks.positive_int(save_freq, "ModelCheckpoint save_freq (a number of batches)")
        check_monitor(monitor, "ModelCheckpoint")
        mode_arg, mode = mode, resolve_mode(monitor, mode, "ModelCheckpoint")
        self.filepath = filepath
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = mode
        self._auto = mode_arg == "auto" and initial_value_threshold is None
        self.save_freq = save_freq
        self._batches_since_save = 0
        self._epoch = 0
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = math.inf if mode == "min" else -math.inf

    def _improved(self, value):
        return value < self.best if self.mode == "min" else value > self.best

    def _file_path(self, epoch, batch, logs):
        fields = {"epoch": epoch + 1} if batch is None else {"epoch": epoch + 1, "batch": batch + 1}
        fields.update(logs)
        try:
            return self.filepath.format(**fields)
        except KeyError as err:
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} uses {{{err.args[0]}}}, which is not "
                             f"among the {'batch' if batch is not None else 'epoch'}'s logs "
                             f"({', '.join(fields)})") from None
        except (IndexError, ValueError) as err:
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} cannot be formatted: {err}") from None

    def _save(self, path, epoch):
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")     # as Keras 3 says it

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._checkpoint(self._epoch, batch, logs)

    def on_train_begin(self, logs=None):
        if self._auto:                      # the compiled metric's direction, once, before a best exists
            self._auto = False
            mode = metric_mode(self.monitor, self.model) or self.mode
            if mode != self.mode and self.best in (math.inf, -math.inf):
                self.mode, self.best = mode, (math.inf if mode == "min" else -math.inf)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._checkpoint(epoch, None, logs)

    def _checkpoint(self, epoch, batch, logs):
        logs = dict(logs or {})
        path = self._file_path(epoch, batch, logs)
        if not self.save_best_only:
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            self._save(path, epoch)
            return
        if self.monitor not in logs and batch is None and skipped_validation(self.monitor, logs, self.model):
            return                              # validation_freq: this epoch was not validated
        if self.monitor not in logs:
            where = "the epoch's logs" if batch is None else "the batch's logs (a batch has no 'val_*' values)"
            raise ValueError(f"ModelCheckpoint monitors {self.monitor!r}, which is not among {where} "
                             f"({', '.join(logs)}); pass validation data to monitor 'val_*' values")
        value = float(logs[self.monitor])
        if self._improved(value):
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {value:.5f}, "
                      f"saving model to {path}")
            self.best = value
            self._save(path, epoch)
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
