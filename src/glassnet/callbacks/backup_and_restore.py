"""BackupAndRestore: a fit that was interrupted resumes, on the next fit call, where it stopped."""
from __future__ import annotations

import os

import numpy as np

from .. import _checks, backend
from .base import Callback


class BackupAndRestore(Callback):
    """Back up the training state when fit starts and at the end of every epoch; a later fit restores
    it and goes on.

        backup = gn.callbacks.BackupAndRestore("run/backup")
        model.fit(x, y, epochs=10, callbacks=[backup])   # interrupted in epoch 4 (an exception, Ctrl-C)
        model.fit(x, y, epochs=10, callbacks=[backup])   # runs epochs 4 to 9 only

    The state is the model (weights, moving statistics, the optimizer's state and learning rate, the
    random generators of Dropout layers, the model's shuffling generator) in a `.glassnet` file, plus
    the epoch to resume at and the states, as that epoch began, of the shuffling generator (with the
    pass steps_per_epoch left unfinished) and of glassnet's global generator. So with
    save_freq="epoch" the finished run equals an uninterrupted one bit for bit: the same weights,
    shuffles and dropout masks. The model must be the same one (the same architecture, compiled with
    the same optimizer), as in Keras; the states of other callbacks (EarlyStopping's patience, ...)
    are not kept.

    save_freq: "epoch", or an integer N to back up every N training batches (counted across epochs);
    as in Keras, a fit resumed from a mid-epoch backup runs that epoch again from its first batch (with
    the same shuffle, from the weights of the backup), so it is close to, not equal to, an
    uninterrupted run. double_checkpoint=True keeps the state before the last one too, and falls back
    to it when the last one cannot be read. delete_checkpoint=True removes the backup when fit
    finishes (its own files, and the folder when it is left empty).

    Every write is atomic (a temporary file renamed into place; training_state.json, renamed last,
    says which model file is current), the files are never pickled, and they are read as untrusted
    (glassnet/saving/backup.py): a damaged backup raises a ValueError naming the file.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        try:
            backup_dir = os.fspath(backup_dir)
        except TypeError:
            raise TypeError(f"BackupAndRestore backup_dir must be a str or os.PathLike, "
                            f"got {type(backup_dir).__name__}") from None
        if not isinstance(backup_dir, str) or not backup_dir:
            raise ValueError(f"BackupAndRestore backup_dir must name a folder, got {backup_dir!r}")
        if save_freq != "epoch":
            if isinstance(save_freq, str):
                raise ValueError(f"BackupAndRestore save_freq must be 'epoch' or a number of batches, "
                                 f"got {save_freq!r}")
            save_freq = _checks.positive_int(save_freq, "BackupAndRestore save_freq (a number of batches)")
        self.backup_dir = backup_dir
        self.save_freq = save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._epoch = 0
        self._batches_since_save = 0
        self._epoch_start = None

    # -- restoring ------------------------------------------------------------
    def on_train_begin(self, logs=None):
        from ..saving import backup             # the file format sits above the models: loaded when fit runs
        try:
            state = backup.read_backup(self.model, self.backup_dir)
        except (OSError, ValueError):
            if not self.double_checkpoint:
                raise
            state = backup.read_backup(self.model, self.backup_dir, previous=True)
        self._epoch = 0
        self._batches_since_save = 0
        if state is None:                       # the state before the first step: an interruption
            self._save(0, None, self._rng_states())     # in the first epoch resumes exactly too
            return
        self._epoch = state["epoch"]
        self.model._initial_epoch = state["epoch"]          # fit starts there
        if state.get("shuffle_rng") is not None:          # the shuffling as the epoch to run began
            rng = getattr(self.model, "_shuffle_rng", None)
            if rng is None:
                rng = self.model._shuffle_rng = np.random.default_rng()
            rng.bit_generator.state = state["shuffle_rng"]      # in place: the running fit holds it
            self.model._shuffle_pass = state.get("shuffle_pass")
        _set_state(backend.global_rng(), state.get("global_rng"))

    # -- backing up -----------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self.save_freq != "epoch":           # a mid-epoch backup resumes at this epoch's start
            self._epoch_start = self._rng_states()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch + 1, self._epoch_start or self._rng_states())

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch + 1, None, self._rng_states())

    def on_train_end(self, logs=None):
        if self.delete_checkpoint:
            from ..saving import backup
            backup.delete_backup(self.backup_dir)

    def _rng_states(self):
        shuffle = getattr(self.model, "_shuffle_rng", None)       # the model's own (models/fit.py)
        return {"shuffle_rng": None if shuffle is None else shuffle.bit_generator.state,
                "shuffle_pass": getattr(self.model, "_shuffle_pass", None),
                "global_rng": backend.global_rng().bit_generator.state}

    def _save(self, epoch, batch, rng_states):
        from ..saving import backup
        backup.write_backup(self.model, self.backup_dir, {"epoch": epoch, "batch": batch, **rng_states},
                                   keep_previous=self.double_checkpoint)


def _set_state(rng, state):
    if rng is not None and state is not None:
        rng.bit_generator.state = state
