"""Peak memory while glassnet trains C1 (or C5), measured in a fresh process: `python -m bench.memory [--quick]`.

    python -m bench.memory                                       # C1, one epoch
    python -m bench.memory --config C5 --points 15000:128:10             # images:batch:steps
    python -m bench.memory --config C5 --points 60000:128:10,15000:128:10  # several, one after the other

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

C5 (issue 12: training memory grows with the batch size, not the dataset): at
each point images:batch:steps, a first fit (RSS, as above: a fresh process's
first fit, numba's runtime included) and a tracemalloc fit of a fresh model, on
the first `images` training images at `batch`, each fit `steps` batches long
(fit's steps_per_epoch: the peak is reached in the first batches, once every
layer holds its buffers, and whatever fit allocates for the whole dataset -- the
shuffled order, a copy of x -- is allocated before the first batch).
bench/measure.py runs it at two dataset sizes and two batch sizes, each point in
a fresh process (--quick: all in one), and compares what training added.
tracemalloc's peak is exact whatever ran before; an RSS after the first point of
a process also depends on what the allocator kept from it.
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


def _fit_peak(fit):
    """(RSS before, peak RSS during, seconds, method) of fit()."""
    gc.collect()
    before = _status("VmRSS")
    if before is not None and _reset_peak() and _status("VmHWM") is not None:
        method = "VmHWM after a reset (/proc/self/clear_refs) minus VmRSS before fit"
        start = time.perf_counter()
        fit()
        return before, _status("VmHWM"), time.perf_counter() - start, method
    method = "ru_maxrss after fit minus before fit (the loading peak can hide training's)"
    before = _maxrss()
    start = time.perf_counter()
    fit()
    return before, _maxrss(), time.perf_counter() - start, method


def measure(quick=False, config_name="C1", images=None, batch=None, steps=None, second_fit=True, data=None,
            glassnet=None):
    """The three fits (see the module doc; two without `second_fit`) on the first `images` training images
    (default: all), at `batch` (default: the configuration's), each `steps` batches long (default: one epoch)."""
    if glassnet is None:
        glassnet = peers.Glassnet()
        glassnet.check()
    gn = glassnet.gn
    data = data or data_module.load(gn, quick=quick)
    config = configs.CONFIGS[config_name]
    batch = batch or config.batch
    x_rows, y = data.x_train[:images], data.y_train[:images]          # views: the process holds all the data
    x = config.inputs(x_rows)

    def fitting(seed):
        model = glassnet._model(config, seed=seed)
        return lambda: model.fit(x, y, batch_size=batch, epochs=1, steps_per_epoch=steps, verbose=0)

    # The first fit of the process: with numba installed it also loads numba's JIT runtime (and the
    # kernels from numba's cache), once per process and whatever the data's size.
    first_before, first_peak, seconds, method = _fit_peak(fitting(0))
    # A second fit, from a fresh model: what training itself adds.
    before, peak, _, _ = _fit_peak(fitting(1)) if second_fit else (None, None, None, None)

    fit = fitting(2)
    gc.collect()
    tracemalloc.start()
    fit()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    added = lambda hi, lo: None if hi is None or lo is None else hi - lo   # noqa: E731
    return {
        "config": config_name, "data": data.name, "n_train": int(len(x_rows)), "batch": batch, "steps": steps,
        "train_bytes": int(x_rows.nbytes + y.nbytes), "data_bytes": int(data.nbytes),
        "kernels": gn.backend.kernels(),
        "rss_before_first_fit": first_before, "rss_peak_first_fit": first_peak,
        "rss_added_first_fit": added(first_peak, first_before),
        "rss_before_fit": before, "rss_peak": peak, "rss_added": added(peak, before),
        "rss_method": method, "tracemalloc_peak": traced_peak, "fit_seconds": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the --quick data subset")
    parser.add_argument("--config", default="C1", choices=[k for k, c in configs.CONFIGS.items() if not c.inference])
    parser.add_argument("--images", type=int, default=None, help="train on the first N images (default: all)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: the configuration's)")
    parser.add_argument("--steps", type=int, default=None, help="batches per fit (default: one epoch)")
    parser.add_argument("--points", default=None, metavar="IMAGES:BATCH:STEPS,...",
                        help="measure these points one after the other (first fit and tracemalloc, no second fit) "
                             "and print a JSON list")
    args = parser.parse_args(argv)
    if args.points is None:
        print(json.dumps(measure(args.quick, args.config, args.images, args.batch, args.steps)))
        return 0
    try:
        points = [tuple(int(v) for v in p.split(":")) for p in args.points.split(",")]
        if any(len(p) != 3 or min(p) < 1 for p in points):
            raise ValueError
    except ValueError:
        parser.error(f"--points takes images:batch:steps,... of positive integers, got {args.points!r}")
    glassnet = peers.Glassnet()
    glassnet.check()
    data = data_module.load(glassnet.gn, quick=args.quick)
    print(json.dumps([measure(args.quick, args.config, images, batch, steps, second_fit=False, data=data,
                              glassnet=glassnet) for images, batch, steps in points]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
