"""CSVLogger: one row of epoch logs per epoch, in a CSV file, as Keras writes it."""
from __future__ import annotations

import collections.abc
import contextlib
import csv
import os

import numpy as np

from .base import Callback


class CSVLogger(Callback):
    """Stream the epoch logs to a CSV file: CSVLogger("run/log.csv"), then fit(..., callbacks=[...]).

    The file is Keras's: a header `epoch,<log names in sorted order>` and one row per epoch, with the
    epoch counted from 0, numbers as Python prints them (repr, so they read back exactly), and rows
    ending in "\\r\\n" (Excel's CSV dialect). The columns are fixed by the first epoch's logs; as in
    Keras, when those hold no validation values the val_ columns are added anyway and read "NA"
    until validation values arrive. separator: the one-character field separator. append=True adds
    to an existing file (without a second header), for continuing training; False overwrites it.
    The file is opened, written and closed at each epoch, so an interrupted fit leaves every
    finished epoch on disk. Missing directories are created.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        try:
            filename = os.fspath(filename)
        except TypeError:
            raise TypeError(f"CSVLogger filename must be a str or os.PathLike, got {type(filename).__name__}") from None
        if not isinstance(filename, str) or not filename:
            raise TypeError(f"CSVLogger filename must be a non-empty str or os.PathLike, got {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1 or separator in "\r\n\"":
            raise ValueError(f"CSVLogger separator must be one character (not a quote or a line break), "
                             f"got {separator!r}")
        self.filename = filename
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self._header = True

    def on_train_begin(self, logs=None):
        self.keys = None
        directory = os.path.dirname(self.filename)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.append and os.path.exists(self.filename):
            with _naming(self.filename, "read"), open(self.filename, encoding="utf-8", newline="") as f:
                self._header = not f.readline(1 << 16)          # an empty file still gets its header
        else:
            self._header = True
            with _naming(self.filename), open(self.filename, "w", encoding="utf-8", newline=""):
                pass                                           # overwrite now, as Keras does

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        row = [epoch] + [_cell(logs.get(key, "NA")) for key in self.keys]
        with _naming(self.filename), open(self.filename, "a", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=self.sep)
            if self._header:
                writer.writerow(["epoch"] + self.keys)
                self._header = False
            writer.writerow(row)


@contextlib.contextmanager
def _naming(filename, doing="write"):
    """An OSError that does not name the file (a full disk: ENOSPC from write or close) is raised again,
    of the same class and errno, as "cannot write 'log.csv': No space left on device"."""
    try:
        yield
    except OSError as err:
        if err.filename is not None:
            raise
        error = type(err)(f"cannot {doing} {filename!r}: {err.strerror or err}")
        error.errno, error.path = err.errno, filename
        raise error from err


def _cell(value):
    """A log value as Keras writes it: a string or a number as is, a list or array as "[a, b, ...]"."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, collections.abc.Iterable):
        return f'"[{", ".join(map(str, value))}]"'
    return value
