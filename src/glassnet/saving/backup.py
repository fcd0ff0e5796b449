"""BackupAndRestore's folder: the state of a fit, written atomically and read back as untrusted.

    <backup_dir>/training_state.json       the commit point: the model file that holds the state, the
                                           epoch to resume at, the random generators' states
    <backup_dir>/training_state.json.bkp   the state before it (double_checkpoint=True)
    <backup_dir>/backup-<0|1|2>.glassnet   the model: weights, optimizer state, Dropout's generators

A save writes a new model file under a name no state refers to, then replaces training_state.json
(a temporary file renamed over it), then removes the model file no state refers to any more. A crash
at any moment leaves a state and the model file it names, both whole. Reading checks the JSON's size
and every field, and the model file is read as load_model reads one (bounded, checksummed, no pickle);
the weights must match the model's own names, shapes and dtypes before anything is changed.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .. import _files
from ..models import fit
from ..models.step import Snapshot
from . import archive, arrays, compile_settings
from .format import CONFIG, WEIGHTS, ModelFileError, as_path
from .model_file import _check_weights_listed, _restore_rng_states, check_rng_state, check_shuffle_state
from .weights import is_built

STATE = "training_state.json"
PREVIOUS = STATE + ".bkp"
MODEL_FILES = ("backup-0.glassnet", "backup-1.glassnet", "backup-2.glassnet")
FORMAT = "glassnet-backup"
VERSION = 1
STATE_LIMIT = 1 << 20              # bytes: a state is a few hundred; anything larger is not one of ours
_EPOCH_LIMIT = 1 << 40


# ======================================================================
# Writing
# ======================================================================

def write_backup(model, directory, state: dict, keep_previous=False) -> Path:
    """Save `model` and `state` (JSON-serialisable: "epoch", "batch", random states) in `directory`."""
    directory = as_path(directory, "backup_dir")
    directory.mkdir(parents=True, exist_ok=True)
    in_use = {_model_file_of(directory / STATE)}
    if keep_previous:
        in_use.add(_model_file_of(directory / PREVIOUS))
    name = next(n for n in MODEL_FILES if n not in in_use)
    model.save(directory / name, overwrite=True)                      # atomic: a temporary name, then a rename
    doc = {"format": FORMAT, "version": VERSION, "model_file": name, **state}
    data = archive.json_bytes(doc, "the training state")
    current = directory / STATE
    if keep_previous and current.is_file():
        old = _read_limited(current)
        archive.atomic_write(directory / PREVIOUS, lambda f: f.write(old))
    archive.atomic_write(current, lambda f: f.write(data))
    keep = {name} | ({_model_file_of(directory / PREVIOUS)} if keep_previous else set())
    for other in MODEL_FILES:
        if other not in keep:
            _remove(directory / other)
    return directory / name


def delete_backup(directory) -> None:
    """Remove the files write_backup makes, then the folder if nothing else is left in it."""
    directory = as_path(directory, "backup_dir")
    for name in (STATE, PREVIOUS) + MODEL_FILES:
        _remove(directory / name)
    try:
        directory.rmdir()
    except OSError:
        pass                         # missing, or it holds files of the user's: left as it is


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _model_file_of(state_path):
    """The model file a state names, or None when there is no readable state (for choosing a free name)."""
    try:
        return _parse(state_path, _read_limited(state_path))["model_file"]
    except (OSError, ValueError):
        return None


# ======================================================================
# Reading
# ======================================================================

def read_backup(model, directory, previous=False):
    """Restore `model` from `directory` and return the saved state (the dict given to write_backup,
    with "model_file"), or None when the folder holds no state. previous=True reads the state before
    the last one (double_checkpoint). Raises ModelFileError (a ValueError) naming the file for
    anything wrong, before the model is changed."""
    directory = as_path(directory, "backup_dir")
    state_path = directory / (PREVIOUS if previous else STATE)
    if not state_path.is_file():
        return None
    state = _parse(state_path, _read_limited(state_path))
    model_path = directory / state["model_file"]
    if not model_path.exists():
        raise ModelFileError(state_path, f"it names the model file {state['model_file']}, which is missing "
                                         f"from {str(directory)!r}")
    problem = _files.not_regular(model_path)        # a FIFO would block the read for ever
    if problem is not None:
        raise ModelFileError(model_path, problem)
    restore_model(model, model_path)
    return state


def read_state(directory, previous=False):
    """The checked training state of `directory` (epoch, batch, random states, model_file) without
    touching any model, or None when there is none (for tools: `glassnet train --resume`)."""
    state_path = as_path(directory, "backup_dir") / (PREVIOUS if previous else STATE)
    if not state_path.is_file():
        return None
    return _parse(state_path, _read_limited(state_path))


def _read_limited(path) -> bytes:
    with open(path, "rb") as f:
        data = f.read(STATE_LIMIT + 1)
    if len(data) > STATE_LIMIT:
        raise ModelFileError(path, f"it holds more than {STATE_LIMIT} bytes: it is no training state")
    return data


def _parse(path, data) -> dict:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ModelFileError(path, f"it is not JSON ({type(err).__name__}: {err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(path, f"it is not a glassnet training state (format {FORMAT!r} expected)")
    if doc.get("version") != VERSION:
        raise ModelFileError(path, f"training state version {doc.get('version')!r}, this glassnet reads {VERSION}")
    if doc.get("model_file") not in MODEL_FILES:
        raise ModelFileError(path, f"it names the model file {doc.get('model_file')!r}; expected one of "
                                   f"{', '.join(MODEL_FILES)}")
    for key in ("epoch", "batch"):
        value = doc.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value < _EPOCH_LIMIT):
            raise ModelFileError(path, f"{key} must be an integer >= 0, got {value!r}")
    if not isinstance(doc.get("epoch"), int):
        raise ModelFileError(path, "it names no epoch")
    for key in ("shuffle_rng", "global_rng"):
        if doc.get(key) is not None:
            check_rng_state(path, key, doc[key])
    if doc.get("shuffle_pass") is not None:
        if doc.get("shuffle_rng") is None:
            raise ModelFileError(path, "it holds a shuffle_pass without a shuffle_rng")
        check_shuffle_state(path, {"rng": doc["shuffle_rng"], "pass": doc["shuffle_pass"]}, "shuffle")
    return doc


def restore_model(model, path):
    """Give `model` (built and compiled, as fit has it) the weights, optimizer state, learning rate and
    Dropout generator states of the `.glassnet` file at `path`."""
    path = Path(path)
    config, members = archive.read_archive(path)
    shuffle = check_shuffle_state(path, config.get("shuffle"))
    if not is_built(model):
        raise ValueError("BackupAndRestore restores a built model; fit builds it first")
    expected = arrays.expected_weights(path, config)
    _check_weights_listed(path, model, expected)
    weights = arrays.read_arrays(path, WEIGHTS, members[WEIGHTS], expected)
    settings = config.get("compile")
    lr = None
    if settings is not None and getattr(model, "optimizer", None) is not None:
        try:
            opt_spec = settings["optimizer"]
            saved_class, lr = opt_spec["class_name"], opt_spec["config"].get("learning_rate")
        except (KeyError, TypeError, AttributeError) as err:
            raise ModelFileError(path, f"{CONFIG} has malformed compile settings ({err})") from None
        if saved_class != type(model.optimizer).__name__:
            raise ModelFileError(path, f"the backup was made with the optimizer {saved_class}, this model "
                                       f"trains with {type(model.optimizer).__name__}")
        if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float))
                               or not np.isfinite(lr) or lr <= 0):
            lr = None                    # a schedule: it follows the restored iterations by itself
    snapshot = Snapshot(model)             # a file that proves bad half-way leaves the model as it was
    shuffle_before = fit.shuffle_state(model)
    try:
        for mine, saved in zip(model.weights, weights):
            mine[...] = saved
        _restore_rng_states(path, model, config.get("rng_states", {}))
        if shuffle is not None:                 # a backup written before the first fit keeps fit's own
            fit.set_shuffle_state(model, shuffle)
        if settings is not None and getattr(model, "optimizer", None) is not None:
            if config.get("optimizer_state") is None:          # saved before the first step: a fresh state
                model.optimizer.build(model._optimizer_variables())
                model.optimizer.iterations = 0
            else:
                compile_settings._restore_state(path, model, config["optimizer_state"], members)
            if lr is not None and isinstance(model.optimizer._learning_rate, (int, float)):
                model.optimizer.learning_rate = float(lr)
    except BaseException:
        snapshot.restore()
        if shuffle_before is not None:
            fit.set_shuffle_state(model, shuffle_before)
        raise
