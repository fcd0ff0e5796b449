"""`glassnet search` on Dask: a LocalCluster, then a scheduler and two workers started here on 127.0.0.1
(one of which is killed mid-trial). Every run must give the serial search's scores bit for bit; so must
scikit-learn's GridSearchCV of glassnet's estimators run through joblib's Dask backend."""
from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")

import glassnet  # noqa: E402
from glassnet.search.trials import EVENT_TOPIC  # noqa: E402

SRC = str(pathlib.Path(glassnet.__file__).resolve().parents[1])


def test_a_local_cluster_gives_the_serial_scores(search, serial_search, grid, tiny_npz, tmp_path, results_of, scores):
    code, out, err = search(*grid, "--dataset", tiny_npz, "--workers", "2", "--no-best", "--output", tmp_path / "lc")
    assert code == 0, err
    assert "on a Dask LocalCluster (2)" in out
    rows = results_of(tmp_path / "lc")
    assert scores(rows) == scores(serial_search[1])
    assert [r["rank"] for r in rows] == [r["rank"] for r in serial_search[1]]
    assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in rows)
    assert {r["attempts"] for r in rows} == {"1"}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A `dask scheduler` and two `dask worker` processes (no nanny: killing one kills the worker) on
    127.0.0.1; yields (address, {pid: process}); stops the processes it started."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    logs = tmp_path_factory.mktemp("dask")
    dask_cli = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen(dask_cli + ["--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(logs / "scheduler.log", "w"))]
    try:
        for i in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}"],
                env=env, cwd=logs, stdout=subprocess.DEVNULL, stderr=open(logs / f"worker{i}.log", "w")))
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address, {p.pid: p for p in procs[1:]}
    finally:                                  # the processes this fixture started, nothing to save in them
        for p in procs:
            if p.poll() is None:
                p.kill()
        for p in procs:
            p.wait(timeout=30)


def test_a_scheduler_and_two_workers_on_the_loopback_address(cluster, search, serial_search, grid, tiny_npz,
                                                            tmp_path, results_of, scores):
    address, _ = cluster
    code, out, err = search(*grid, "--dataset", tiny_npz, "--scheduler", address, "--no-best", "--quiet",
                            "--output", tmp_path / "tcp")
    assert code == 0, err
    assert f"on {address}" in out
    rows = results_of(tmp_path / "tcp")
    assert scores(rows) == scores(serial_search[1])
    with distributed.Client(address) as client:
        assert {r["worker"] for r in rows} <= set(client.scheduler_info()["workers"])


def test_gridsearchcv_of_the_estimators_on_the_cluster_through_joblib(cluster):
    """The Python API: scikit-learn's GridSearchCV over SKLearnClassifier under
    joblib.parallel_config(backend="dask") runs its fits on the cluster's workers and finds what the
    same search finds in this process, score for score."""
    pytest.importorskip("sklearn")
    import joblib
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    from glassnet.wrappers import SKLearnClassifier, mlp_classifier
    address, workers = cluster
    x, y = load_digits(return_X_y=True)
    x, y = x[:240] / 16.0, y[:240]
    grid = {"model__units": [8, 16]}

    def search():
        return GridSearchCV(SKLearnClassifier(mlp_classifier, fit__epochs=2, fit__batch_size=32, random_state=0),
                            grid, cv=2)

    here = search().fit(x, y)
    with distributed.Client(address) as client, distributed.get_task_stream(client) as stream:
        with joblib.parallel_config(backend="dask"):
            there = search().fit(x, y)
    ran_on = {task["worker"] for task in stream.data}
    assert ran_on and ran_on <= {w for w in client_workers(address)}
    assert np.array_equal(here.cv_results_["mean_test_score"], there.cv_results_["mean_test_score"])
    assert here.cv_results_["params"] == there.cv_results_["params"]
    assert here.best_params_ == there.best_params_
    assert np.array_equal(here.predict(x[:50]), there.predict(x[:50]))
    assert len(set(here.cv_results_["mean_test_score"])) > 1         # the grid's points differ


def client_workers(address):
    with distributed.Client(address) as client:
        return set(client.scheduler_info()["workers"])


def test_a_worker_killed_mid_trial_loses_only_that_trial(cluster, search, tiny_npz, tmp_path, results_of):
    """Trial 1 is slow (400 epochs); its worker is killed once the trial has started: the search finishes,
    trial 1 ran again on the other worker, and results.csv says so (attempts 2, retried yes)."""
    address, workers = cluster
    argv = ["--units", "8", "--epochs", "1,400", "--batch-size", "16", "--seed", "3", "--dataset", tiny_npz,
            "--no-best", "--quiet"]
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(
        result=search(*argv, "--scheduler", address, "--output", tmp_path / "killed")))
    killed = None
    with distributed.Client(address) as client:
        started = time.time()                           # events of earlier searches are older
        thread.start()
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline:
            for when, event in client.get_events(EVENT_TOPIC):
                if when >= started and event["trial"] == 1 and event["pid"] in workers:
                    killed = event
                    break
            else:
                time.sleep(0.05)
        assert killed is not None, "trial 1 never started"
        os.kill(killed["pid"], signal.SIGKILL)          # a process this test started
        workers[killed["pid"]].wait(timeout=10)
        thread.join(timeout=180)
    assert not thread.is_alive()
    code, out, err = outcome["result"]
    assert code == 0, err
    assert "retried (a worker was lost): trial 1" in out
    rows = results_of(tmp_path / "killed")
    assert [(r["trial"], r["attempts"], r["retried"]) for r in rows] == [("0", "1", "no"), ("1", "2", "yes")]
    assert rows[1]["lost_on"] == killed["worker"] and rows[1]["worker"] != killed["worker"]
