"""`glassnet train --resume RUN`: the backup a run folder keeps while it trains, and the run it continues.

While `glassnet train` trains, the run folder holds a backup:

    RUN/backup/options.json         the run's options, written before training starts
    RUN/backup/history.json         the logs of the epochs finished so far, written before each backup
    RUN/backup/training_state.json  BackupAndRestore's state (glassnet/saving/backup.py): the epoch to
    RUN/backup/backup-N.glassnet    resume at, the model with its optimizer and random generators

A run that finishes writes metrics.json, then removes the backup.  `--resume RUN` takes a run folder
with a backup and no metrics.json (killed, interrupted, out of disk), reads its options, builds the
same model from the same seed, and fits on: BackupAndRestore puts back the weights, the optimizer and
every generator, so the final model equals the uninterrupted run's bit for bit (the epoch that was
running when the run died runs again from its start).  Options given with --resume must agree with
the recorded ones (--quiet may change); anything else is refused.
"""
from __future__ import annotations

import argparse
import json
import math
import os

from .. import callbacks, runs
from ..saving import backup

BACKUP_DIR = "backup"
OPTIONS_FILE = "options.json"
HISTORY_FILE = "history.json"
FORMAT = "glassnet-train-options"
VERSION = 1
LIMIT = 1 << 20                      # bytes: an options file is a few hundred
#: options that may differ from the recorded ones on --resume
FREE = ("quiet",)


def backup_dir(run_dir):
    return os.path.join(run_dir, BACKUP_DIR)


# ----------------------------------------------------------------------------
# While training: the options, the history, the backup
# ----------------------------------------------------------------------------

def recorded(options):
    """The options as options.json holds them: an .npz dataset as an absolute path (a resumed run may
    start elsewhere), hidden widths as a list."""
    kept = dict(options)
    kept["hidden"] = list(kept["hidden"])
    if runs.dataset_name(kept["dataset"]) is None:
        kept["dataset"] = os.path.abspath(kept["dataset"])
    return kept


def write_options(run_dir, options):
    folder = backup_dir(run_dir)
    os.makedirs(folder, exist_ok=True)
    doc = {"format": FORMAT, "version": VERSION, "options": recorded(options)}
    runs.write_text(os.path.join(folder, OPTIONS_FILE), runs.json_text(doc))


class HistoryFile(callbacks.Callback):
    """Writes the logs of every finished epoch (those before a resumed fit included) to history.json in
    the backup, before BackupAndRestore (next in the list) backs the epoch up."""

    def __init__(self, path, history=None):
        super().__init__()
        self.path = path
        self.history = {k: list(v) for k, v in (history or {}).items()}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        runs.write_text(self.path, runs.json_text(self.history))


def fit_callbacks(run_dir, history=None):
    """The callbacks train's fit runs with: the history, then the backup (kept when fit ends)."""
    folder = backup_dir(run_dir)
    return [HistoryFile(os.path.join(folder, HISTORY_FILE), history),
            callbacks.BackupAndRestore(folder, delete_checkpoint=False)]


def remove_backup(run_dir):
    """After a run has finished (metrics.json written): its backup goes."""
    folder = backup_dir(run_dir)
    names = [OPTIONS_FILE, HISTORY_FILE]
    if os.path.isdir(folder):                # temporary files a killed write left (atomic writes)
        names += [n for n in os.listdir(folder) if ".tmp" in n and (n.startswith(".") or ".tmp-" in n)]
    for name in names:
        try:
            os.unlink(os.path.join(folder, name))
        except (FileNotFoundError, IsADirectoryError):
            pass
    backup.delete_backup(folder)


def discard_unresumable(run_dir):
    """After a failure before the first backup (nothing to resume): the options go, and the backup
    folder if nothing else is in it."""
    folder = backup_dir(run_dir)
    if os.path.exists(os.path.join(folder, backup.STATE)):
        return
    remove_backup(run_dir)


# ----------------------------------------------------------------------------
# --resume RUN
# ----------------------------------------------------------------------------

class Resumed:
    """A run to resume: its folder, its options, the epoch it goes on at, the history before it."""

    def __init__(self, run_dir, options, epoch, history):
        self.run_dir, self.options, self.epoch, self.history = run_dir, options, epoch, history


def prepare(run, given, parser, types, text_of):
    """The run folder `run` checked and its recorded options compared with the `given` ones.

    A folder that is missing, finished or without a backup, and a damaged backup, raise
    CommandError naming the folder or file (exit 1); an option that disagrees with the recorded one
    is a usage error (parser.error, exit 2)."""
    run_dir = os.path.normpath(run)
    if not os.path.isdir(run_dir):
        raise runs.CommandError(f"cannot resume {run_dir}: no such run folder")
    if os.path.exists(os.path.join(run_dir, runs.METRICS_FILE)):
        raise runs.CommandError(f"cannot resume {run_dir}: the run has finished ({runs.METRICS_FILE} is "
                                f"written); start a new run instead")
    folder = backup_dir(run_dir)
    options_path = os.path.join(folder, OPTIONS_FILE)
    if not os.path.isfile(options_path) or not os.path.isfile(os.path.join(folder, backup.STATE)):
        raise runs.CommandError(f"cannot resume {run_dir}: it holds no backup ({folder}/{OPTIONS_FILE} and "
                                f"{backup.STATE}); only a run glassnet train started and did not finish resumes")
    options = _read_options(options_path, types, text_of)
    state = backup.read_state(folder)                       # ModelFileError (a ValueError) naming the file
    for key, value in given.items():
        if key in FREE:
            options[key] = value
            continue
        mine = options.get(key)
        if key == "output":
            value, mine = os.path.abspath(value), os.path.abspath(run_dir)
        elif key == "dataset" and runs.dataset_name(value) is None:
            value = os.path.abspath(value)
        if value != mine:
            parser.error(f"--{key.replace('_', '-')} {_shown(value)} disagrees with the run being resumed, "
                         f"which has {key.replace('_', '-')} = {_shown(mine)} ({options_path}); a resumed run "
                         f"keeps its options: drop --{key.replace('_', '-')}")
    options["output"] = run_dir
    history = {}
    history_path = os.path.join(folder, HISTORY_FILE)
    if os.path.isfile(history_path):
        history = {k: [math.nan if v is None else float(v) for v in values[:state["epoch"]]]
                   for k, values in runs.read_history(history_path).items()}
    return Resumed(run_dir, options, state["epoch"], history)


def _shown(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "the optimizer's default" if value is None else str(value)


def _read_options(path, types, text_of):
    """options.json, checked as a --config file is: every option known and valid, none missing."""
    with open(path, "rb") as fh:
        data = fh.read(LIMIT + 1)
    if len(data) > LIMIT:
        raise runs.CommandError(f"{path}: more than {LIMIT} bytes: not the options of a run")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise runs.CommandError(f"{path}: not JSON ({type(err).__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION \
            or not isinstance(doc.get("options"), dict):
        raise runs.CommandError(f"{path}: not the options of a glassnet train run "
                                f"(format {FORMAT!r}, version {VERSION} expected)")
    raw = doc["options"]
    if set(raw) != set(types):
        raise runs.CommandError(f"{path}: the options must be exactly {', '.join(sorted(types))}; "
                                f"got {', '.join(sorted(map(str, raw)))}")
    options = {}
    for key, value in raw.items():
        if value is None and key in ("lr", "output"):
            options[key] = None
            continue
        try:
            options[key] = types[key](text_of(key, value))
        except argparse.ArgumentTypeError as err:
            raise runs.CommandError(f"{path}: {key}: {err}") from None
    return options
