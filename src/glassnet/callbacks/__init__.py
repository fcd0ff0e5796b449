"""Callbacks (Keras names and hooks): objects whose hooks fit, evaluate and predict call.

    base.py                      Callback (the hooks), CallbackList (their dispatch), History,
                                 ProgbarLogger (the progress display), LambdaCallback
    early_stopping.py            EarlyStopping
    model_checkpoint.py          ModelCheckpoint
    learning_rate_scheduler.py   LearningRateScheduler
    terminate_on_nan.py          TerminateOnNaN

A callback overrides any of the hooks (base.py lists them); `fit` calls per-batch hooks only
for callbacks that define them, so the others cost nothing per batch.
"""
from .base import Callback, CallbackList, History, LambdaCallback, ProgbarLogger, format_logs, overrides
from .base import _fmt, _fmt_time, _per_step  # noqa: F401  (evaluate prints the progress line's format too)
from .early_stopping import EarlyStopping
from .learning_rate_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .terminate_on_nan import TerminateOnNaN

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "LambdaCallback", "EarlyStopping",
           "ModelCheckpoint", "LearningRateScheduler", "TerminateOnNaN", "format_logs", "overrides"]
