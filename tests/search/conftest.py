"""A 200-sample dataset file and a way to run `glassnet search` in-process for the search tests."""
from __future__ import annotations

import csv
import io
import pathlib

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_npz(tmp_path_factory):
    """200 training and 100 test images of the bundled MNIST sample, as a `glassnet train` .npz."""
    from glassnet.datasets import mnist_mini
    (x_train, y_train), (x_test, y_test) = mnist_mini.load_data()
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, x_train=x_train[:200], y_train=y_train[:200], x_test=x_test[:100], y_test=y_test[:100])
    return str(path)


@pytest.fixture
def search(capsys):
    """search(*argv) -> (exit status, stdout, stderr) of `glassnet search ARGV` run in-process."""
    from glassnet.cli import main

    def run(*argv):
        capsys.readouterr()
        code = main(["search", *map(str, argv)])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def read_results(folder):
    """results.csv of a search's run folder, as a list of dicts (strings), by trial index."""
    text = (pathlib.Path(folder) / "results.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    return sorted(rows, key=lambda r: int(r["trial"]))


@pytest.fixture(scope="session")
def results_of():
    return read_results


#: the score columns a rerun must reproduce bit for bit (written with repr)
SCORES = ("val_accuracy", "val_loss", "test_accuracy", "test_loss")


@pytest.fixture(scope="session")
def scores():
    """scores(rows) -> {trial: (val_accuracy, val_loss, test_accuracy, test_loss) as written}."""
    return lambda rows: {r["trial"]: tuple(r[c] for c in SCORES) for r in rows}


@pytest.fixture(scope="session")
def serial_search(tiny_npz, tmp_path_factory):
    """The reference: a 4-trial grid run serially (output folder, rows of results.csv)."""
    from glassnet.cli import main
    out = tmp_path_factory.mktemp("serial") / "run"
    code = main(["search", *GRID, "--dataset", tiny_npz, "--serial", "--quiet", "--output", str(out)])
    assert code == 0
    return out, read_results(out)


#: the grid every test of the runners searches: 4 tiny trials, in float64 (NumPy's kernels: the Dask
#: workers need not load numba, which saves seconds per worker; float32 is tested in test_search_serial).
#: The 128-unit trials multiply 128x784 by 784x128 per batch (25.7 MFLOP: big enough for two BLAS threads)
GRID = ["--units", "8,128", "--lr", "0.01,0.003", "--epochs", "2", "--batch-size", "128", "--seed", "7",
        "--dtype", "float64"]


@pytest.fixture(scope="session")
def grid():
    return list(GRID)
