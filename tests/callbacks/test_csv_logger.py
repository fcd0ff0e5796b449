"""CSVLogger: the file Keras 3 writes for the same logs, byte for byte; the values read back exactly.

References: Keras 3's own CSVLogger driven with the same epoch logs, and the History of the same fit.
"""
import csv

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import CSVLogger
from callbacks.callback_helpers import make_model

RUNS = {
    "train and validation": [{"loss": 1.25, "accuracy": 0.5, "val_loss": 1.5, "val_accuracy": 0.4375},
                             {"loss": 0.9876543210123, "accuracy": 0.625, "val_loss": 1.1, "val_accuracy": 0.5}],
    "train only (val columns read NA)": [{"loss": 0.6931471824645996, "accuracy": 1 / 3},
                                         {"loss": 0.5, "accuracy": 2 / 3}],
    "a value missing later, a list, a string": [{"loss": 2.0, "lr": 0.1, "val_loss": 3.0},
                                                {"loss": 1.0, "val_loss": 2.5, "lr": np.array([0.1, 0.2])},
                                                {"loss": 0.5, "val_loss": 2.0, "lr": "constant"}],
    "no logs": [{}, {}],
}


def _drive(callback, runs):
    """Call the hooks as fit does, once per run (each run a list of epoch logs)."""
    for logs_per_epoch in runs:
        callback.on_train_begin({})
        for epoch, logs in enumerate(logs_per_epoch):
            callback.on_epoch_end(epoch, dict(logs))
        callback.on_train_end({})


@pytest.mark.parametrize("name", list(RUNS))
@pytest.mark.parametrize("separator, append", [(",", False), (";", False), ("\t", True), (",", True)])
def test_the_file_is_the_one_keras_writes(keras, tmp_path, name, separator, append):
    runs = [RUNS[name], RUNS[name][:1]]              # a second fit: overwritten, or appended to
    ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
    _drive(CSVLogger(ours, separator=separator, append=append), runs)
    _drive(keras.callbacks.CSVLogger(str(theirs), separator=separator, append=append), runs)
    assert ours.read_bytes() == theirs.read_bytes()
    assert ours.read_bytes().count(b"epoch") == 1                 # appending adds no second header
    rows = len(RUNS[name]) + 1 if append else 1                    # the second fit's one epoch
    assert ours.read_bytes().count(b"\r\n") == 1 + rows


def test_append_to_a_file_from_an_earlier_run_adds_no_header(keras, tmp_path):
    for path, cls in ((tmp_path / "ours.csv", CSVLogger), (tmp_path / "theirs.csv", keras.callbacks.CSVLogger)):
        path.write_text("")                            # an empty file still gets the header
        _drive(cls(str(path), append=True), [RUNS["train and validation"]] * 2)
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "theirs.csv").read_bytes()
    rows = list(csv.reader((tmp_path / "ours.csv").open(newline="")))
    assert [r[0] for r in rows] == ["epoch", "0", "1", "0", "1"]


def test_a_fit_logs_what_history_records_exactly(data, tmp_path):
    x, y = data
    model = make_model()
    path = tmp_path / "deep" / "er" / "log.csv"                       # missing folders are made
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[CSVLogger(path)])
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    for key, values in history.history.items():
        assert [float(r[key]) for r in rows] == values                  # repr reads back to the same float
    assert path.read_bytes().endswith(b"\r\n")


def test_an_interrupted_fit_keeps_its_finished_epochs(data, tmp_path):
    x, y = data
    path = tmp_path / "log.csv"

    def stop(epoch, logs):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_model().fit(x, y, epochs=5, batch_size=16, verbose=0,
                         callbacks=[CSVLogger(path), gn.callbacks.LambdaCallback(on_epoch_begin=stop)])
    assert [line.split(",")[0] for line in path.read_text().splitlines()] == ["epoch", "0", "1"]


def test_learning_rate_logged_by_reduce_lr_on_plateau_before_it(data, tmp_path):
    x, y = data
    path = tmp_path / "log.csv"
    make_model().fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                     callbacks=[gn.callbacks.ReduceLROnPlateau(), CSVLogger(path)])
    assert path.read_text().splitlines()[0] == "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"filename": 3}, TypeError, "filename"),
    ({"filename": ""}, TypeError, "filename"),
    ({"filename": "a.csv", "separator": ";;"}, ValueError, "one character"),
    ({"filename": "a.csv", "separator": "\n"}, ValueError, "separator"),
])
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        CSVLogger(**kwargs)
