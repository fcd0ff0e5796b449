"""Models (Keras's keras.models): a model's structure, its training and its description.

    model.py       Model: layers, building, weights (one flat buffer), get/set_weights
    sequential.py  Sequential(Model): an ordered list of layers with add() and pop()
    functional.py  Functional(Model): a graph of layers, Model(inputs, outputs) (Keras's functional API)
    trainer.py     Trainer (mixed into Model): compile, fit, evaluate, predict, train_on_batch, ...
    fit.py         fit's loop: epochs of batches, steps_per_epoch, validation (its steps, batch size, freq)
    evaluate.py    evaluate's and predict's loops (and fit's validation), with their callback hooks
    weighting.py   sample_weight and class_weight, checked and turned into per-sample weights
    step.py        step(): the one function that runs forward, loss, backward and update; Recorder
    summary.py     model.summary()'s tables
    config.py      get_config()/from_config(), save/save_weights/load_weights, load_model
    batches.py     running over batches: x streamed in the model's float type, kept buffers
    outputs.py     several outputs: a Head per output with its loss, weight and metrics
    scoring.py     the compiled metrics: what fit and evaluate add up per batch, and the logs
"""
from __future__ import annotations

from .config import load_model
from .model import Model
from .functional import Functional
from .sequential import Sequential
from .step import Recorder, Snapshot, restored, step

__all__ = ["Model", "Functional", "Sequential", "load_model", "Recorder", "Snapshot", "restored", "step"]
