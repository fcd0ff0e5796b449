"""Where the trials run: one after another, on a Dask LocalCluster, or on an existing Dask cluster.

`run(data, configs, scheduler=None, workers=None, serial=False, progress=None)` returns the trials'
results in trial order, each with `attempts` (how many times the trial started) and `retried`.

- serial: the trials one after another in this process (also what happens without Dask installed:
  the `notice` callback gets one line saying how to install the extra);
- default: a Dask LocalCluster on this machine, one single-threaded worker process per core
  (`workers` to choose), started for the search and closed after it;
- `scheduler="tcp://HOST:8786"`: an existing cluster, whose workers need only glassnet installed.

The dataset is sent to the workers once (scattered); every trial is one task.  A worker that dies
mid-trial loses only that task: the scheduler runs it again on another worker (Dask's
`distributed.scheduler.allowed-failures`, 3 by default), and a trial that raises is retried
(`retries=`).  Each trial logs its start as a Dask event, so the results count the attempts.
"""
from __future__ import annotations

import os
import uuid

from .trials import EVENT_TOPIC, run_trial

DISTRIBUTED_HINT = 'pip install "glassnet[distributed]"'
#: how many times a trial that raises is run again on Dask
RETRIES = 2


class TrialError(RuntimeError):
    """A trial failed for good (it raised on every retry, or too many workers died running it)."""


class MissingDaskError(ImportError):
    """Dask's distributed package is not installed (needed for --scheduler)."""


def _distributed():
    """The distributed module, or None when it is not installed."""
    try:
        import distributed
    except ImportError:
        return None
    return distributed


def run(data, configs, scheduler=None, workers=None, serial=False, validation_split=0.1,
        progress=None, notice=None):
    """The results of every trial in `configs` (see the module's doc); `progress(result)` after each."""
    distributed = None if serial else _distributed()
    if distributed is None:
        if scheduler is not None:
            raise MissingDaskError(f"a search on the cluster {scheduler} needs Dask's distributed package, "
                                   f"which is not installed: {DISTRIBUTED_HINT}")
        if not serial and notice is not None:
            notice(f"Dask is not installed: running the {len(configs)} trials one after another "
                   f"(for a Dask cluster: {DISTRIBUTED_HINT})")
        return _serial(data, configs, validation_split, progress)
    return _on_dask(distributed, data, configs, scheduler, workers, validation_split, progress)


def _serial(data, configs, validation_split, progress):
    results = []
    for config in configs:
        result = run_trial(data, config, validation_split)
        result.update(attempts=1, retried=False)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def _on_dask(distributed, data, configs, scheduler, workers, validation_split, progress):
    cluster = None
    if scheduler is None:
        cluster = distributed.LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                           processes=True, dashboard_address=None, silence_logs=40)
        address = cluster
    else:
        address = scheduler
    try:
        with distributed.Client(address, timeout="20s") as client:
            return _submit(client, distributed, data, configs, validation_split, progress)
    finally:
        if cluster is not None:
            cluster.close()


def _submit(client, distributed, data, configs, validation_split, progress):
    search = uuid.uuid4().hex[:12]
    remote = client.scatter(data, broadcast=True)
    futures = {}
    for config in configs:
        future = client.submit(_dask_trial, remote, config, validation_split, search,
                               key=f"glassnet-trial-{config['index']}-{search}", pure=False, retries=RETRIES)
        futures[future.key] = (config["index"], future)
    results = {}
    for future in distributed.as_completed([f for _, f in futures.values()]):
        try:
            result = future.result()
        except Exception as err:                 # KilledWorker (lost too often), or the trial's own error
            index = futures[future.key][0]
            raise TrialError(f"trial {index} failed on Dask after its retries: {type(err).__name__}: "
                             f"{' '.join(str(err).split())[:300]}") from None
        results[result["index"]] = result
        if progress is not None:
            progress(result)
    starts = {}
    for _, event in client.get_events(EVENT_TOPIC):
        if isinstance(event, dict) and event.get("search") == search:
            starts.setdefault(event["trial"], []).append(event["worker"])
    lost = _lost_counts(client, {key: index for key, (index, _) in futures.items()})
    ordered = []
    for config in configs:
        result = results[config["index"]]
        workers = starts.get(config["index"], [result["worker"]])
        attempts = max(len(workers), 1 + lost.get(config["index"], 0))
        result.update(attempts=attempts, retried=attempts > 1)
        if len(workers) > 1:
            result["lost_on"] = " ".join(workers[:-1])
        ordered.append(result)
    return ordered


def _lost_counts(client, keys):
    """{trial index: how many workers died running it}, from the scheduler's count of each task's lost
    workers (TaskState.suspicious); a second source besides the start events, which a worker killed at
    once may not have sent.  {} when this Dask does not keep the count."""
    def suspicious(dask_scheduler, keys=tuple(keys)):
        return {k: getattr(dask_scheduler.tasks.get(k), "suspicious", 0) for k in keys}
    try:
        counts = client.run_on_scheduler(suspicious)
    except Exception:                            # an older or newer scheduler: the events alone
        return {}
    return {keys[k]: int(n or 0) for k, n in counts.items() if k in keys}


def _dask_trial(data, config, validation_split, search):
    """A trial on a Dask worker: log its start (with the search's id), then run it."""
    from distributed import get_worker
    worker = get_worker()
    worker.log_event(EVENT_TOPIC, {"search": search, "trial": config["index"], "worker": worker.address,
                                   "pid": os.getpid()})
    return run_trial(data, config, validation_split)
