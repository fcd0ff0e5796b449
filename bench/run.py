"""Speed benchmark of issues 5 and 12: glassnet against its peers on the notes' networks and a convnet, in one run.

    python -m bench                       # from the repository root; or: python bench/run.py
    python -m bench --configs C1,C3 --peers glassnet,torch --epochs 3 --repeats 5
    python -m bench --configs C5,C6 --peers glassnet,torch,limit --images 6000
    python -m bench --quick               # 1,000 images (C5/C6: 384), 1 epoch, 1 repeat: the smoke test
    python -m bench --markdown            # the report as Markdown (docs/benchmarks.md)

Configurations (bench/configs.py), float32, sparse categorical cross-entropy:
  C1  784-50 sigmoid-10 softmax, Adam 1e-3, batch 32     (the notes' Keras network)
  C2  the same network, SGD lr 0.1, batch 100            (the notes' hand-written loop)
  C3  784-512 relu-256 relu-10 softmax, Adam 1e-3, batch 128
  C4  inference of the C3 network on 10,000 test images in batches of 1,000 (images/s)
  C5  the Keras-style convnet (Conv2D 32 3x3 relu, MaxPooling2D 2, Conv2D 64 3x3 relu,
      MaxPooling2D 2, Flatten, Dropout 0.5, Dense 10 softmax), Adam 1e-3, batch 128;
      1 epoch per run unless --epochs is given
  C6  inference of the C5 network on 10,000 test images in batches of 1,000 (images/s);
      3 passes per repeat unless --passes is given

Peers (bench/peers.py says exactly what each runs): glassnet through its public
API (fit / evaluate / predict, verbose=0); PyTorch CPU in a plain training loop
(and, on C3, with its fused Adam); scikit-learn's MLPClassifier (one epoch per
partial_fit; no convnet); Keras 3 on the torch backend; the textbook NumPy loop
(bench/textbook.py; the Dense networks only); the matmul-only limit
(bench/limit.py; on C5/C6 the floor: the products at the im2col shapes).  Peers
whose library is not installed are skipped, and the table says so.

Method: the data is Fashion-MNIST when installed (else glassnet's bundled MNIST
sample), the same float32 arrays for every peer.  Per configuration every peer
first does an untimed warm-up run on 512 images; then the repeats run with the
peers alternating (A B C ..., then B C ... A, so no peer is always first).
A cell is the median over every epoch of every repeat (C4, C6: every pass over the
images) and the min-max range of those samples; the ratio is the peer's median
time over glassnet's (above 1: glassnet is faster); the accuracy is the test
accuracy after the same number of epochs, median over the repeats.  Speed is
only measured here, never asserted in tests.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import os
import platform
import sys
import time

if __package__ in (None, ""):        # python bench/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from bench import configs as C  # noqa: E402
from bench import data as data_module  # noqa: E402
from bench import machine  # noqa: E402
from bench import peers as peers_module  # noqa: E402
from bench.goals import accuracy_lines, convnet_goal_lines, goal_lines  # noqa: E402
from bench.measure import (WARMUP_CONVNET, WARMUP_TRAIN, Quiet, log, measure_convnet_memory,  # noqa: E402
                           measure_memory, run_all)
from bench.report import convnet_memory_lines, legend, memory_lines, report, table_rows  # noqa: E402

DEFAULT_EPOCHS = 3
DEFAULT_REPEATS = 3
DEFAULT_PASSES = 5          # C4: passes over the images per repeat (a configuration may set its own: C6)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def _load(avg):
    return "unknown" if avg is None else " ".join(f"{a:.2f}" for a in avg)


def _names(text, known, what):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown {what} {unknown or text!r}; known: {', '.join(known)}")
    return names


def parse_args(argv):
    peer_keys = [cls.key for cls in peers_module.ALL]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--configs", default=",".join(C.CONFIGS),
                        type=lambda s: _names(s.upper(), list(C.CONFIGS), "configs"),
                        help=f"comma-separated, from {','.join(C.CONFIGS)} (default: all)")
    parser.add_argument("--peers", default=",".join(peers_module.DEFAULT),
                        type=lambda s: _names(s.lower(), peer_keys, "peers"),
                        help=f"comma-separated, from {','.join(peer_keys)} (default: "
                             f"{','.join(peers_module.DEFAULT)})")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs per run (default {DEFAULT_EPOCHS}; C5: "
                             f"{C.CONFIGS['C5'].epochs})")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"runs of each peer, alternating (default {DEFAULT_REPEATS})")
    parser.add_argument("--passes", type=int, default=None,
                        help=f"C4, C6: passes over the images per repeat (default {DEFAULT_PASSES}; C6: "
                             f"{C.CONFIGS['C6'].passes})")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {data_module.QUICK_TRAIN:,} training images (C5, C6: "
                             f"{data_module.QUICK_CONVNET_TRAIN:,}, and {data_module.QUICK_CONVNET_TEST:,} test "
                             f"images), 1 epoch, 1 repeat, 1 pass, a warm-up for glassnet's rows only")
    parser.add_argument("--images", type=int, default=None, metavar="N",
                        help="train on the first N training images only (every configuration; seconds per epoch "
                             "are then for N images): a shorter run, e.g. of C5")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit NumPy's BLAS (via threadpoolctl) and PyTorch to this many threads for the "
                             "whole run (default: leave every library's own default)")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each repeat, wait while other processes keep the cores busy, and redo "
                             "a run they disturbed, spending up to SECONDS waiting in all (default 0: only "
                             "measure and report how busy they were)")
    parser.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument("--json", metavar="PATH", help="also write every sample to this JSON file")
    args = parser.parse_args(argv)
    quick = args.quick
    args.repeats = args.repeats if args.repeats is not None else (1 if quick else DEFAULT_REPEATS)
    if min(n for n in (args.epochs, args.repeats, args.passes) if n is not None) < 1:
        parser.error("--epochs, --repeats and --passes must be at least 1")
    if args.images is not None and args.images < 1:
        parser.error("--images must be at least 1")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        if importlib.util.find_spec("threadpoolctl") is None:
            parser.error("--threads needs threadpoolctl (pip install threadpoolctl)")
    return args


def counts(args, configs):
    """({config: epochs}, {config: passes}): --epochs/--passes when given, else 1 with --quick, else each
    configuration's own default (C5: 1 epoch, C6: 3 passes), else the bench's."""
    def count(given, own, default):
        return given if given is not None else 1 if args.quick else own or default
    epochs = {c.name: count(args.epochs, c.epochs, DEFAULT_EPOCHS) for c in configs if not c.inference}
    passes = {c.name: count(args.passes, c.passes, DEFAULT_PASSES) for c in configs if c.inference}
    return epochs, passes


def config_data(data, config, quick):
    """The data a configuration runs on: --quick gives C5/C6 fewer images (a few batches)."""
    if quick and config.convnet:
        return data.head(data_module.QUICK_CONVNET_TRAIN, data_module.QUICK_CONVNET_TEST)
    return data


def _runs_line(epochs, repeats):
    """'3 epoch(s) x 3 repeat(s)', or '3 epoch(s) (C5: 1) x 3 repeat(s)' when the configurations differ."""
    values = list(epochs.values())
    if not values:
        return f"{repeats} repeat(s)"
    common = max(set(values), key=values.count)
    others = ", ".join(f"{name}: {n}" for name, n in epochs.items() if n != common)
    return f"{common} epoch(s)" + (f" ({others})" if others else "") + f" x {repeats} repeat(s)"


def main(argv=None):
    args = parse_args(argv)
    t0 = time.perf_counter()
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_start = machine.load_average()
    env = machine.env_vars()             # before the Keras peer sets KERAS_BACKEND for itself
    configs = [C.CONFIGS[name] for name in args.configs]
    epochs, passes = counts(args, configs)

    glassnet = peers_module.Glassnet()
    gn_version = glassnet.check()
    gn = glassnet.gn
    log(f"loading data ({'quick subset' if args.quick else 'full'}) ...")
    data = data_module.load(gn, quick=args.quick, images=args.images)
    datas = {c.name: config_data(data, c, args.quick) for c in configs}

    blas_text, blas_threads = machine.numpy_blas()
    threads = args.threads or blas_threads or machine.usable_cores()
    peer_list, skipped, versions = [], {}, {}
    for cls in peers_module.ALL:
        if cls.key not in args.peers:
            continue
        peer = glassnet if cls is peers_module.Glassnet else (
            cls(threads) if issubclass(cls, peers_module.Torch) else cls())
        try:
            versions[peer.key] = peer.check()
        except peers_module.Skip as why:
            skipped[peer.key] = str(why)
        peer_list.append(peer)
    active = [p for p in peer_list if p.key not in skipped]

    with contextlib.ExitStack() as stack:
        if args.threads:                  # after the peers' imports, so that every BLAS is loaded
            from threadpoolctl import threadpool_limits
            stack.enter_context(threadpool_limits(args.threads, user_api="blas"))
        pools = machine.thread_pools()
        blas_text, blas_threads = machine.numpy_blas()
        contention = [machine.blas_contention()]
        log(f"running {', '.join(c.name for c in configs)} on {', '.join(p.label for p in active)}: "
            f"{_runs_line(epochs, args.repeats)}")
        quiet = Quiet(args.wait_idle)
        results = run_all(active, configs, datas, epochs, args.repeats, passes,
                          warmup="glassnet" if args.quick else True, quiet=quiet)
        contention.append(machine.blas_contention())

    memory, convnet_memory = None, None
    if "glassnet" in args.peers and not args.no_memory:
        if any(not c.convnet for c in configs):
            log("measuring glassnet's peak memory on C1 in a fresh process ...")
            memory = measure_memory(args.quick)
        if "C5" in args.configs:
            log("measuring glassnet's peak memory on C5 at two dataset sizes and two batch sizes ...")
            convnet_memory = measure_convnet_memory(args.quick, len(data.x_train))
    load_end = machine.load_average()

    cores = machine.usable_cores()
    ram = machine.memory_total()
    lines = [
        ("machine", f"{machine.cpu_model()}, {os.cpu_count()} cores ({cores} usable), "
                    f"{platform.system()} {platform.machine()}" + (f", {ram / 2**30:.1f} GiB RAM" if ram else "")),
        ("load", f"1/5/15-min load average {_load(load_start)} at the start, {_load(load_end)} at the end "
                 f"(above {cores}, other work competes for the cores and the numbers are noisier)"),
        ("python", f"{platform.python_version()}, NumPy {np.__version__}"),
        ("BLAS", f"NumPy: {blas_text}"),
    ]
    if pools:
        lines += [("threads", text) for text, *_ in pools]
    if args.threads:
        lines.append(("threads", f"--threads {args.threads}: NumPy's BLAS limited with threadpoolctl, "
                                 f"PyTorch with torch.set_num_threads"))
    if None not in contention:
        lines.append(("BLAS use", "a 32x784x50 float32 matmul takes " + " / ".join(
            f"{cur:.0f} us ({blas_threads} threads) vs {one:.0f} us (1 thread)" for cur, one in contention)
            + " at the start / end"))
        if any(cur > 3 * one for cur, one in contention):
            lines.append(("WARNING", "NumPy's BLAS threads compete with other work for the cores "
                                     "(oversubscription): small matmuls cost many times more than on an idle "
                                     "machine, which inflates every NumPy-based row (glassnet, scikit-learn, "
                                     "textbook, limit). Rerun on an idle machine, or with --threads 1."))
    if quiet.line():
        lines.append(("others", quiet.line()))
    lines.append(("env", ", ".join(f"{k}={v}" for k, v in env.items()) if env else
                  "no OPENBLAS_* / OMP_NUM_THREADS / MKL_NUM_THREADS set"))
    lines.append(("glassnet", f"{gn_version} from {os.path.dirname(gn.__file__)} "
                              f"({machine.source_identity(os.path.dirname(gn.__file__))}); "
                              f"kernels: {gn.backend.kernels()}" + (
                                  f" (numba {sys.modules['numba'].__version__})" if "numba" in sys.modules else "")))
    for peer in peer_list:
        if peer.key in versions and peer.key not in ("glassnet", "glassnet-numpy", "glassnet-nodoctor", "numpy",
                                                     "limit", "limit-1t", "torch-fused"):
            extra = (f", {threads} threads" + (" (--threads)" if args.threads else " (as many as NumPy's BLAS)")
                     if peer.key == "torch" else "")
            lines.append((peer.key, f"{versions[peer.key]}{extra}"))
    convnets = [c for c in configs if c.convnet]
    lines.append(("data", f"{data.name}: {len(data.x_train):,} train / {len(data.x_test):,} test images, "
                          f"float32 rows in [0, 1]" + (
                              f" ({', '.join(c.name for c in convnets)}: the same rows viewed as 28x28x1 images"
                              + (f"; --quick: the first {data_module.QUICK_CONVNET_TRAIN:,} train / "
                                 f"{data_module.QUICK_CONVNET_TEST:,} test images" if args.quick else "") + ")"
                              if convnets else "")))
    warm = f", after a warm-up on {WARMUP_TRAIN} images" + (
        f" ({', '.join(c.name for c in convnets)}: {WARMUP_CONVNET})" if convnets else "")
    lines.append(("runs", f"{_runs_line(epochs, args.repeats)} per peer and configuration, "
                          f"peers alternating" + (", glassnet's rows after a warm-up (numba's runtime)" if args.quick
                                                  else warm)))
    for c in configs:
        lines.append((c.name, c.describe() + (f", {min(C.INFERENCE_IMAGES, len(datas[c.name].x_test)):,} images"
                                              if c.inference else "")))
    info = {"when": when, "lines": lines, "legend": legend(configs, epochs, args.repeats, passes)}

    header, rows = table_rows(peer_list, skipped, configs, results)
    skipped_lines = [f"{next(p.label for p in peer_list if p.key == k)}: {why}" for k, why in skipped.items()]
    errors = [f"{p.label} on {c}: {cell.error}" for c, cells in results.items()
              for p in peer_list if (cell := cells.get(p.key)) is not None and cell.error]
    trained = [epochs[c.name] for c in configs if not c.inference and not c.convnet] or list(epochs.values()) or [1]
    shown = max(set(trained), key=trained.count)     # the epochs the title names; other counts are on their lines
    sections = [
        (f"Accuracy after {shown} epoch(s), glassnet against PyTorch (test set; median, each repeat)",
         accuracy_lines(configs, results, epochs, shown)),
        ("Peak memory", memory_lines(memory) + convnet_memory_lines(convnet_memory, args.quick)),
        ("Issue 5's goals in this run", goal_lines(configs, results, memory)),
        ("Issue 12's goals in this run", convnet_goal_lines(configs, results, convnet_memory, args.quick)),
        ("Errors", errors),
        ("What each peer runs", [f"{p.label}: {p.how}" for p in peer_list if p.key not in skipped]),
    ]
    print(report(info, header, rows, skipped_lines, sections, args.markdown))
    elapsed = time.perf_counter() - t0
    print(("\n" if not args.markdown else "\n- ") + f"total bench time {elapsed:.0f} s")

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"when": when, "info": dict(lines), "epochs": epochs, "repeats": args.repeats,
                       "passes": passes, "skipped": skipped, "memory": memory,
                       "convnet_memory": convnet_memory, "seconds": elapsed,
                       "results": {c: {k: cell.as_dict() for k, cell in cells.items()}
                                   for c, cells in results.items()}}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
