"""One trial of a search: build, train and score one network, as `glassnet train` does.

`prepare(spec, dtype)` loads a `glassnet train` dataset once (by name or .npz path, with train's checks
and scaling: glassnet.runs); `run_trial(data, config)` then trains the network `config` describes with
the very calls of `glassnet train` (glassnet.cli.networks.build, optimizers.get, compile, fit with the
validation split, evaluate), seeded with the trial's own seed, so that `glassnet train` with the same
options and `--seed` gives the same numbers bit for bit.  The score is the last epoch's validation
accuracy (the test split is reported, never used to choose).

A trial runs on any process: the serial loop, or a Dask worker.  glassnet's random generator is one per
process, so trials in one process run one at a time (a lock), even on a worker with several threads.
Every trial runs on one BLAS thread (backend.limit_blas_threads, with threadpoolctl): a product summed
by two BLAS threads differs in its last bits from one summed by one, and Dask's worker processes run
one thread each; so a trial gives the same numbers wherever it runs.  `glassnet train` does the same
for networks whose products are small (backend.SMALL_MATMUL_FLOPS), so the two agree bit for bit there;
for bigger networks they agree to rounding (report.save_best retrains under the same limit).
"""
from __future__ import annotations

import os
import socket
import threading
import time

from .. import optimizers
from ..backend import limit_blas_threads, set_random_seed
from ..runs import CommandError, load_dataset, to_features

#: the Dask event topic a trial logs its start under on a worker, with the search's id, the trial's
#: index, the worker's address and process id: the runner counts attempts with it
EVENT_TOPIC = "glassnet-search-start"
_ONE_AT_A_TIME = threading.Lock()


class TrialData:
    """A dataset as every trial reads it: flat float features in [0, 1], integer labels."""

    def __init__(self, name, x_train, y_train, x_test, y_test, classes):
        self.name = name
        self.x_train, self.y_train, self.x_test, self.y_test = x_train, y_train, x_test, y_test
        self.classes = classes


def prepare(spec, dtype="float32", validation_split=0.1):
    """Load the dataset `spec` (mnist-mini, mnist, fashion-mnist or an .npz path) as train does."""
    data = load_dataset(spec)
    x_train = to_features(data.x_train, dtype, "x_train")
    x_test = to_features(data.x_test, dtype, "x_test")
    if data.classes < 2:
        raise CommandError(f"{data.name}: the labels name only one class (0); a classifier needs at least two")
    n_val = len(x_train) - int(len(x_train) * (1.0 - validation_split))
    if validation_split <= 0 or n_val == 0 or n_val >= len(x_train):
        raise CommandError(f"validation split {validation_split} leaves no samples for "
                           f"{'training' if n_val else 'validation'} with {len(x_train)} training samples "
                           f"(a search scores trials on the validation split)")
    return TrialData(data.name, x_train, data.y_train, x_test, data.y_test, data.classes)


def train_options(config, options):
    """`glassnet train`'s options for a trial (what its best model is retrained with)."""
    return {"dataset": options["dataset"], "model": "mlp", "hidden": (config["units"],) * config["layers"],
            "activation": config["activation"], "optimizer": config["optimizer"], "lr": config["lr"],
            "batch_size": config["batch_size"], "epochs": config["epochs"],
            "validation_split": options["validation_split"], "seed": config["seed"], "dtype": options["dtype"]}


def _where():
    """The Dask worker's address when on one; else host:pid."""
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def run_trial(data, config, validation_split=0.1):
    """Train and score one network; returns the trial's results (a dict of numbers and names)."""
    from ..cli import networks            # lazy: glassnet.cli imports this package
    with _ONE_AT_A_TIME, limit_blas_threads(1):
        started = time.perf_counter()
        set_random_seed(config["seed"])
        hidden = (config["units"],) * config["layers"]
        model = networks.build("mlp", data.x_train.shape[1:], data.classes, hidden, config["activation"],
                               data.x_train.dtype.name)
        optimizer = optimizers.get(config["optimizer"])
        if config["lr"] is not None:
            optimizer.learning_rate = config["lr"]
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(data.x_train, data.y_train, epochs=config["epochs"], batch_size=config["batch_size"],
                            validation_split=validation_split, verbose=0)
        test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
        seconds = time.perf_counter() - started
    final = {k: float(v[-1]) for k, v in history.history.items() if v}
    return {**config, "lr_given": config["lr"], "lr": float(optimizer.learning_rate),
            "val_accuracy": final.get("val_accuracy", float("nan")), "val_loss": final.get("val_loss", float("nan")),
            "test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
            "params": int(model.count_params()), "seconds": round(seconds, 3),
            "worker": _where()}
