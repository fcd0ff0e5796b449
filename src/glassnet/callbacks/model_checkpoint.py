"""ModelCheckpoint: save the model (or its weights) during training."""
from __future__ import annotations

import math
import os

from .base import Callback


class ModelCheckpoint(Callback):
    """Save the model (or its weights) at the end of every epoch, or only when `monitor` improves.

    As Keras: filepath may hold `{epoch:02d}` (counted from 1) and any log value such as
    `{val_loss:.4f}`; it must end in `.glassnet` or `.keras` (model.save), or in `.npz` or
    `.weights.h5` with save_weights_only=True (model.save_weights). Missing directories are created.
    mode "auto" maximises monitors with "acc" in their name (or ending in "auc") and minimises the
    others; `best` starts at initial_value_threshold (else +-inf) and carries over between fits.
    Only save_freq="epoch" is supported.
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
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"ModelCheckpoint mode must be 'auto', 'min' or 'max', got {mode!r}")
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint supports save_freq='epoch' only, got {save_freq!r}")
        if not isinstance(monitor, str):
            raise TypeError(f"ModelCheckpoint monitor must be a str such as 'val_loss', got {monitor!r}")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
        self.filepath = filepath
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = mode
        self.save_freq = save_freq
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = math.inf if mode == "min" else -math.inf

    def _improved(self, value):
        return value < self.best if self.mode == "min" else value > self.best

    def _file_path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as err:
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} uses {{{err.args[0]}}}, which is not "
                             f"among this epoch's logs ({', '.join(['epoch', *logs])})") from None
        except (IndexError, ValueError) as err:
            raise ValueError(f"ModelCheckpoint filepath {self.filepath!r} cannot be formatted: {err}") from None

    def _save(self, path):
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        path = self._file_path(epoch, logs)
        if not self.save_best_only:
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            self._save(path)
            return
        if self.monitor not in logs:
            raise ValueError(f"ModelCheckpoint monitors {self.monitor!r}, which is not among the logs "
                             f"({', '.join(logs)}); pass validation data to monitor 'val_*' values")
        value = float(logs[self.monitor])
        if self._improved(value):
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {value:.5f}, "
                      f"saving model to {path}")
            self.best = value
            self._save(path)
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
