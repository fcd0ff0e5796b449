"""Wall time of a 16-trial `glassnet search`: serially against a 2-worker Dask LocalCluster.

    python bench/search.py               # mnist-mini, a 2x2x2x2 grid, 10 epochs, 2 repeats (about 3 min on 2 cores)
    python bench/search.py --repeats 1 --epochs 1 --workers 2,3 --markdown

Each repeat runs the same search both ways, alternating which goes first; the LocalCluster's time
includes starting and closing it (what `glassnet search` costs), and its trials' seconds are summed
too.  The two must give the same scores (checked).  The machine, its load before and after, and the
glassnet source are printed with the numbers (docs/benchmarks.md, "Hyper-parameter search on Dask").
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
if os.path.isdir(os.path.join(ROOT, "src", "glassnet")):
    sys.path.insert(0, os.path.join(ROOT, "src"))
    os.environ["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "src"), os.environ.get("PYTHONPATH", "")])

from bench import machine  # noqa: E402
from glassnet.search import configurations, prepare, run  # noqa: E402
from glassnet.search.space import full_space  # noqa: E402

SPACE = {"units": [64, 256], "activation": ["relu", "sigmoid"], "lr": [0.001, 0.003], "batch_size": [32, 64]}


def once(data, configs, mode, workers):
    started = time.perf_counter()
    results = run(data, configs, serial=(mode == "serial"), workers=workers)
    return time.perf_counter() - started, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-mini")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", default="2", help="comma-separated LocalCluster sizes (default: 2)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(w) for w in args.workers.split(",")]
    configs = configurations(full_space({**SPACE, "epochs": [args.epochs]}), "grid", None, seed=0)
    data = prepare(args.dataset)
    load_before = machine.load_average()
    times = {"serial": []} | {f"LocalCluster, {w} workers": [] for w in sizes}
    trial_seconds = {k: [] for k in times}
    reference = None
    for repeat in range(args.repeats):
        modes = [("serial", None)] + [(f"LocalCluster, {w} workers", w) for w in sizes]
        if repeat % 2:
            modes.reverse()
        for label, workers in modes:
            seconds, results = once(data, configs, "serial" if workers is None else "dask", workers)
            scores = [(r["val_accuracy"], r["val_loss"], r["test_loss"]) for r in results]
            if reference is None:
                reference = scores
            elif scores != reference:
                raise SystemExit(f"{label}: the scores differ from the first run's")
            times[label].append(seconds)
            trial_seconds[label].append(sum(r["seconds"] for r in results))
            print(f"# repeat {repeat + 1}, {label}: {seconds:.2f} s", file=sys.stderr, flush=True)
    overhead = {}
    for w in sizes:                               # what a LocalCluster costs without any trial
        import distributed
        started = time.perf_counter()
        with distributed.LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=40) as cluster, distributed.Client(cluster) as client:
            client.run(lambda: __import__("glassnet.search"))      # the workers import glassnet
        overhead[w] = time.perf_counter() - started
    load_after = machine.load_average()
    serial = statistics.median(times["serial"])
    head = f"{len(configs)} trials ({args.dataset}, {args.epochs} epochs each), median of {args.repeats}"
    rows = [(label, statistics.median(t), min(t), max(t), statistics.median(trial_seconds[label]))
            for label, t in times.items()]
    if args.markdown:
        print(f"{head}\n\n| run | wall time (median) | range | trials' own seconds (sum) | speed-up |\n"
              "| --- | --- | --- | --- | --- |")
        for label, med, lo, hi, own in rows:
            print(f"| {label} | {med:.1f} s | {lo:.1f}-{hi:.1f} s | {own:.1f} s | {serial / med:.2f}x |")
    else:
        print(head)
        for label, med, lo, hi, own in rows:
            print(f"{label:28} {med:7.1f} s  [{lo:.1f}-{hi:.1f}]  trials {own:6.1f} s  {serial / med:.2f}x")
    print("\n" + "; ".join(f"a LocalCluster of {w} workers started, importing glassnet, and closed, without "
                            f"trials: {t:.1f} s" for w, t in overhead.items()))

    def load(avg):
        return "/".join(f"{v:.1f}" for v in avg) if avg else "unknown"
    print(f"\nmachine: {machine.cpu_model()}, {machine.usable_cores()} cores; load average (1/5/15 min) "
          f"{load(load_before)} before, {load(load_after)} after; same scores in every run: yes")


if __name__ == "__main__":
    main()
