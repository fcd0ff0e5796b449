"""Peak memory while glassnet trains C1, measured in a fresh process: `python -m bench.memory [--quick]`.

Prints one JSON object.  The process imports glassnet, loads the benchmark data
(float32 rows, as the speed runs use) and builds the C1 model; then:

- RSS: the kernel's high-water mark (VmHWM) is reset by writing 5 to
  /proc/self/clear_refs, and one epoch of model.fit(verbose=0) runs; the peak
  RSS minus the RSS just before fit is what training added on top of the data.
  (Where the reset is not possible, ru_maxrss after minus before is used, which
  can only under-report.)  Measured twice: for the process's first fit, which
  with numba installed also loads numba's JIT runtime (once per process, the
  same for any data size), and for a second fit of a fresh model, which is what
  training itself adds.
- tracemalloc: a second, fresh model trains one epoch under tracemalloc; its
  peak counts the bytes of every Python and NumPy allocation made during fit
  (NumPy reports its array buffers to tracemalloc).

The issue's goal: peak memory while training C1 no higher than the data plus
60 MiB, i.e. training adds at most 60 MiB to a process that holds the data.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
import tracemalloc

if __package__ in (None, ""):        # python bench/memory.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import configs, data as data_module, peers  # noqa: E402

MiB = 1024 * 1024


def _status(field):
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _maxrss():
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _fit_peak(model, data, config):
    """(RSS before, peak RSS during, seconds, method) of one epoch of model.fit."""
    gc.collect()
    before = _status("VmRSS")
    if before is not None and _reset_peak() and _status("VmHWM") is not None:
        method = "VmHWM after a reset (/proc/self/clear_refs) minus VmRSS before fit"
        start = time.perf_counter()
        model.fit(data.x_train, data.y_train, batch_size=config.batch, epochs=1, verbose=0)
        return before, _status("VmHWM"), time.perf_counter() - start, method
    method = "ru_maxrss after fit minus before fit (the loading peak can hide training's)"
    before = _maxrss()
    start = time.perf_counter()
    model.fit(data.x_train, data.y_train, batch_size=config.batch, epochs=1, verbose=0)
    return before, _maxrss(), time.perf_counter() - start, method


def measure(quick=False, config_name="C1"):
    glassnet = peers.Glassnet()
    glassnet.check()
    gn = glassnet.gn
    data = data_module.load(gn, quick=quick)
    config = configs.CONFIGS[config_name]
    # The first fit of the process: with numba installed it also loads numba's JIT runtime (and the
    # kernels from numba's cache), once per process and whatever the data's size.
    first_before, first_peak, seconds, method = _fit_peak(glassnet._model(config, seed=0), data, config)
    # A second fit, from a fresh model: what training itself adds.
    before, peak, _, _ = _fit_peak(glassnet._model(config, seed=1), data, config)

    model = glassnet._model(config, seed=2)
    gc.collect()
    tracemalloc.start()
    model.fit(data.x_train, data.y_train, batch_size=config.batch, epochs=1, verbose=0)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    added = lambda hi, lo: None if hi is None or lo is None else hi - lo   # noqa: E731
    return {
        "config": config_name, "data": data.name, "n_train": int(len(data.x_train)),
        "train_bytes": int(data.x_train.nbytes + data.y_train.nbytes), "data_bytes": int(data.nbytes),
        "kernels": gn.backend.kernels(),
        "rss_before_first_fit": first_before, "rss_peak_first_fit": first_peak,
        "rss_added_first_fit": added(first_peak, first_before),
        "rss_before_fit": before, "rss_peak": peak, "rss_added": added(peak, before),
        "rss_method": method, "tracemalloc_peak": traced_peak, "fit_seconds": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the --quick data subset")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
