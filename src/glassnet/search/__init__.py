"""Hyper-parameter search for `glassnet search`: grid or random trials, on this machine or on Dask.

    space.py    the hyper-parameters a search varies (one table, SPACE), grid and random trials, seeds
    trials.py   one trial: build, train and score a network exactly as `glassnet train` does
    runner.py   where the trials run: serially, on a Dask LocalCluster, or on an existing cluster
    report.py   the ranked table, results.csv, scores.png, search.json and the best model (best/)

Level 6 (with the command line, whose argument checks and train command it uses).  Dask is an
optional extra (`pip install "glassnet[distributed]"`), imported only when a search runs on it.
The Python API of a search is scikit-learn's: GridSearchCV over glassnet.wrappers' estimators,
under `joblib.parallel_config(backend="dask")` (docs/hyperparameter-search.md).
"""
from .runner import DISTRIBUTED_HINT, MissingDaskError, run
from .space import MAX_TRIALS, OPTIONS, SPACE, configurations, trial_seed
from .trials import prepare, run_trial

__all__ = ["SPACE", "OPTIONS", "MAX_TRIALS", "configurations", "trial_seed", "prepare", "run_trial", "run",
           "DISTRIBUTED_HINT", "MissingDaskError"]
