"""Callbacks (Keras names and hooks): objects whose hooks fit, evaluate and predict call.

    base.py                      Callback (the hooks), CallbackList (their dispatch), History,
                                 ProgbarLogger (the progress display), LambdaCallback
    early_stopping.py            EarlyStopping
    model_checkpoint.py          ModelCheckpoint
    learning_rate_scheduler.py   LearningRateScheduler
    terminate_on_nan.py          TerminateOnNaN
    csv_logger.py                CSVLogger
    reduce_lr_on_plateau.py      ReduceLROnPlateau
    backup_and_restore.py        BackupAndRestore (its files: glassnet/saving/backup.py)
    tensorboard.py               TensorBoard (event files through tensorboardX, an optional extra)
    monitor.py                   what the monitoring callbacks share: a monitored value's direction (mode)

A callback overrides any of the hooks (base.py lists them); `fit` calls per-batch hooks only
for callbacks that define them, so the others cost nothing per batch.
"""
from .backup_and_restore import BackupAndRestore
from .base import Callback, CallbackList, History, LambdaCallback, ProgbarLogger, format_logs, overrides
from .base import _fmt, _fmt_time, _per_step  # noqa: F401  (evaluate prints the progress line's format too)
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .learning_rate_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .reduce_lr_on_plateau import ReduceLROnPlateau
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "LambdaCallback", "EarlyStopping",
           "ModelCheckpoint", "LearningRateScheduler", "TerminateOnNaN",
           "CSVLogger", "ReduceLROnPlateau", "BackupAndRestore", "TensorBoard", "format_logs", "overrides"]
