"""Speed benchmark of issue 5: glassnet against its peers on the notes' networks, in one run.

    python -m bench                       # from the repository root; or: python bench/run.py
    python -m bench --configs C1,C3 --peers glassnet,torch --epochs 3 --repeats 5
    python -m bench --quick               # 1,000 images, 1 epoch, 1 repeat: the smoke test
    python -m bench --markdown            # the report as Markdown (docs/benchmarks.md)

Configurations (bench/configs.py), float32, sparse categorical cross-entropy:
  C1  784-50 sigmoid-10 softmax, Adam 1e-3, batch 32     (the notes' Keras network)
  C2  the same network, SGD lr 0.1, batch 100            (the notes' hand-written loop)
  C3  784-512 relu-256 relu-10 softmax, Adam 1e-3, batch 128
  C4  inference of the C3 network on 10,000 test images in batches of 1,000 (images/s)

Peers (bench/peers.py says exactly what each runs): glassnet through its public
API (fit / evaluate / predict, verbose=0); PyTorch CPU in a plain training loop
(and, on C3, with its fused Adam); scikit-learn's MLPClassifier (one epoch per
partial_fit); Keras 3 on the torch backend; the textbook NumPy loop
(bench/textbook.py); the matmul-only limit (bench/limit.py).  Peers whose
library is not installed are skipped, and the table says so.

Method: the data is Fashion-MNIST when installed (else glassnet's bundled MNIST
sample), the same float32 arrays for every peer.  Per configuration every peer
first does an untimed warm-up run on 512 images; then the repeats run with the
peers alternating (A B C ..., then B C ... A, so no peer is always first).
A cell is the median over every epoch of every repeat (C4: every pass over the
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
import statistics
import subprocess
import sys
import time
import traceback

if __package__ in (None, ""):        # python bench/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from bench import configs as C  # noqa: E402
from bench import data as data_module  # noqa: E402
from bench import machine  # noqa: E402
from bench import peers as peers_module  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_EPOCHS = 3
DEFAULT_REPEATS = 3
DEFAULT_PASSES = 5          # C4: passes over the images per repeat
WARMUP_TRAIN, WARMUP_TEST = 512, 256
MiB = 1024 * 1024

# Issue 5's goals, as glassnet / PyTorch in the same run.
TIME_GOALS = {"C1": 0.25, "C2": 0.3, "C3": 0.65}     # glassnet's epoch <= this x PyTorch's
THROUGHPUT_GOAL = 1.1                                 # C4: glassnet's images/s >= this x PyTorch's
ACCURACY_GOAL = 0.5                                   # points of test accuracy
MEMORY_GOAL = 60 * MiB                                # added on top of the data while training C1


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

class Cell:
    """The samples of one peer on one configuration: seconds (per epoch, or per C4 pass), accuracies."""

    def __init__(self, images=None):
        self.seconds, self.accuracies, self.error = [], [], None
        self.per_repeat = []             # the median of each repeat's samples, in repeat order
        self.images = images             # C4: images per pass

    @property
    def ok(self):
        return bool(self.seconds) and self.error is None

    @property
    def median(self):
        return statistics.median(self.seconds)

    @property
    def accuracy(self):
        return statistics.median(self.accuracies) if self.accuracies else None

    def as_dict(self):
        return {"seconds": self.seconds, "accuracies": self.accuracies, "error": self.error, "images": self.images}


class Quiet:
    """How much other processes use the cores: before each repeat, and during every timed run.

    With wait > 0 (--wait-idle), it waits, up to `wait` seconds in all, for them to fall below
    IDLE_CORES before each repeat, and a run during which they kept more than IDLE_CORES busy is
    done again (at most RETRIES times per run) once they are quiet.
    """

    IDLE_CORES = 0.3
    RETRIES = 3

    def __init__(self, wait=0.0):
        self.wait, self.waited, self.busy, self.during, self.redone = wait, 0.0, [], [], 0

    def check(self, label):
        busy = machine.other_cpu_use()
        if busy is None:
            return
        if busy > self.IDLE_CORES and self.waited < self.wait:
            log(f"[{label}] other processes keep {busy:.1f} cores busy: waiting for them "
                f"({self.wait - self.waited:.0f} s of waiting left)")
            while busy is not None and busy > self.IDLE_CORES and self.waited < self.wait:
                time.sleep(2.0)
                self.waited += 2.0 + 0.25
                busy = machine.other_cpu_use()
        self.busy.append(busy)

    def run(self, label, fn):
        """fn() under watch; again (after waiting) when other processes were busy during it."""
        for attempt in range(self.RETRIES + 1):
            with machine.OthersDuring() as others:
                result = fn()
            busy = others.cores
            if busy is None or busy <= self.IDLE_CORES or not self.wait or attempt == self.RETRIES \
                    or self.waited >= self.wait:
                if busy is not None:
                    self.during.append(busy)
                return result
            self.redone += 1
            log(f"[{label}] other processes kept {busy:.1f} cores busy during the run: doing it again")
            self.check(label)

    def line(self):
        if not self.busy:
            return None
        text = (f"other processes kept {statistics.median(self.busy):.1f} cores busy before the median repeat "
                f"({max(self.busy):.1f} at most)")
        if self.during:
            text += (f", {statistics.median(self.during):.2f} during the median timed run "
                     f"({max(self.during):.2f} at most)")
        if self.wait:
            text += (f"; waited {self.waited:.0f} s for them and redid {self.redone} run(s) "
                     f"(--wait-idle {self.wait:g})")
        return text


def run_all(active, configs, data, epochs, repeats, passes, warmup=True, quiet=None):
    """{config name: {peer key: Cell}}, the peers alternating within each repeat."""
    results = {}
    for config in configs:
        runners = [p for p in active if p.supports(config)]
        images = min(C.INFERENCE_IMAGES, len(data.x_test)) if config.inference else None
        cells = results[config.name] = {p.key: Cell(images) for p in runners}

        def once(peer, d, n, seed):
            if config.inference:
                return peer.infer(config, d, n, seed)
            return peer.train(config, d, n, seed)

        if warmup:
            small = data.head(WARMUP_TRAIN, WARMUP_TEST)
            # warmup="glassnet" (--quick): only glassnet's rows, whose first fit would otherwise time
            # loading numba's runtime and kernels (about 0.6 s, once per process)
            for peer in [p for p in runners if warmup is True or p.key.startswith("glassnet")]:
                try:
                    once(peer, small, 1, 0)
                except Exception as err:          # report it in the table, keep the other peers going
                    cells[peer.key].error = f"{type(err).__name__}: {err}"
                    log(f"[{config.name}] {peer.label} failed its warm-up:\n{traceback.format_exc()}")
        for r in range(repeats):
            if quiet is not None:
                quiet.check(f"{config.name} {r + 1}/{repeats}")
            shift = r % len(runners) if runners else 0
            for peer in runners[shift:] + runners[:shift]:
                cell = cells[peer.key]
                if cell.error:
                    continue
                try:
                    count = passes if config.inference else epochs
                    if quiet is not None:
                        seconds, accuracy = quiet.run(f"{config.name} {r + 1}/{repeats} {peer.label}",
                                                      lambda: once(peer, data, count, r))
                    else:
                        seconds, accuracy = once(peer, data, count, r)
                except Exception as err:
                    cell.error = f"{type(err).__name__}: {err}"
                    log(f"[{config.name}] {peer.label} failed:\n{traceback.format_exc()}")
                    continue
                cell.seconds.extend(seconds)
                cell.per_repeat.append(statistics.median(seconds))
                if accuracy is not None:
                    cell.accuracies.append(accuracy)
                if config.inference:
                    shown = f"{images / statistics.median(seconds):,.0f} images/s"
                else:
                    shown = f"{statistics.median(seconds):.3f} s/epoch" + (
                        f", test accuracy {accuracy:.4f}" if accuracy is not None else "")
                log(f"[{config.name} {r + 1}/{repeats}] {peer.label:<26} {shown}")
    return results


def measure_memory(quick):
    """bench/memory.py in a fresh process: {...} or {"error": ...}."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-m", "bench.memory"] + (["--quick"] if quick else [])
    try:
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------

def _ratio(cell, base):
    if base is None or not base.ok or not cell.ok:
        return "n/a"
    return f"{cell.median / base.median:.2f}x"


def format_cell(config, cell, base):
    """'0.412s 2.02x [0.400-0.431] 85.5%' (C4: '182.3k/s 1.10x [175.0k-190.2k]'); '-' when not run."""
    if cell is None:
        return "-"
    if cell.error:
        return "error"
    if not cell.ok:
        return "-"
    if config.inference:
        n = cell.images
        return (f"{n / cell.median / 1e3:.1f}k/s {_ratio(cell, base)} "
                f"[{n / max(cell.seconds) / 1e3:.1f}k-{n / min(cell.seconds) / 1e3:.1f}k]")
    text = f"{cell.median:.3f}s {_ratio(cell, base)} [{min(cell.seconds):.3f}-{max(cell.seconds):.3f}]"
    if cell.accuracy is not None:
        text += f" {100 * cell.accuracy:.1f}%"
    return text


def table_rows(peer_list, skipped, configs, results):
    """Header and rows of the main table: one row per peer, one column per configuration."""
    header = ["peer"] + [f"{c.name} {c.unit}" for c in configs]
    rows = []
    for peer in peer_list:
        if peer.key in skipped:
            rows.append([peer.label] + ["skipped"] * len(configs))
            continue
        row = [peer.label]
        for c in configs:
            cells = results.get(c.name, {})
            row.append(format_cell(c, cells.get(peer.key), cells.get("glassnet")))
        rows.append(row)
    return header, rows


def text_table(header, rows):
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(header, widths))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(f"{v:<{w}}" for v, w in zip(r, widths)).rstrip())
    return "\n".join(out)


def markdown_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def accuracy_lines(configs, results, epochs):
    lines = []
    for c in configs:
        if c.inference:
            continue
        cells = results.get(c.name, {})
        g, t = cells.get("glassnet"), cells.get("torch")
        if not (g and g.accuracies and t and t.accuracies):
            lines.append(f"{c.name}: needs both glassnet and PyTorch")
            continue
        diff = 100 * (g.accuracy - t.accuracy)
        each = lambda cell: ", ".join(f"{100 * a:.1f}" for a in cell.accuracies)  # noqa: E731
        verdict = ("met" if abs(diff) <= ACCURACY_GOAL else
                   "NOT met" if diff < 0 else "above PyTorch by more than that: no loss of accuracy")
        lines.append(f"{c.name}: glassnet {100 * g.accuracy:.2f}% ({each(g)}), PyTorch {100 * t.accuracy:.2f}% "
                     f"({each(t)}): {diff:+.2f} points (goal within {ACCURACY_GOAL}: {verdict})")
    return lines


def goal_lines(configs, results, memory):
    lines = []
    for c in configs:
        cells = results.get(c.name, {})
        g, t = cells.get("glassnet"), cells.get("torch")
        if not (g and g.ok and t and t.ok):
            continue
        # the same ratio repeat by repeat: both peers ran in that repeat, so drift between repeats cancels
        paired = [(tr / gr if c.inference else gr / tr) for gr, tr in zip(g.per_repeat, t.per_repeat)]
        by_repeat = (f"; by repeat {', '.join(f'{r:.2f}' for r in paired)} (median "
                     f"{statistics.median(paired):.2f})" if len(paired) > 1 else "")
        if c.inference:
            ratio = t.median / g.median
            verdict = "met" if ratio >= THROUGHPUT_GOAL else "NOT met"
            lines.append(f"{c.name} throughput glassnet / PyTorch = {ratio:.2f}{by_repeat} "
                         f"(goal >= {THROUGHPUT_GOAL}): {verdict}")
        elif c.name in TIME_GOALS:
            ratio = g.median / t.median
            verdict = "met" if ratio <= TIME_GOALS[c.name] else "NOT met"
            lines.append(f"{c.name} epoch glassnet / PyTorch = {ratio:.2f}{by_repeat} "
                         f"(goal <= {TIME_GOALS[c.name]}): {verdict}")
    if memory and memory.get("rss_added") is not None:
        verdict = "met" if memory["rss_added"] <= MEMORY_GOAL else "NOT met"
        line = (f"C1 training adds {memory['rss_added'] / MiB:.1f} MiB to the data's process "
                f"(goal <= {MEMORY_GOAL // MiB} MiB): {verdict}")
        first = memory.get("rss_added_first_fit")
        if first is not None and first > MEMORY_GOAL:
            line += (f"; the process's first fit added {first / MiB:.1f} MiB, most of it "
                     + ("numba's JIT runtime, loaded once per process whatever the data's size "
                        "(GLASSNET_KERNELS=numpy: no numba)" if memory.get("kernels") == "numba" else
                        "not training's own") + ": NOT met for a first fit")
        lines.append(line)
    return lines


def memory_lines(memory):
    if memory is None:
        return []
    if "error" in memory:
        return [f"not measured: {memory['error']}"]
    lines = [f"glassnet training {memory['config']} for one epoch on {memory['n_train']:,} images, in a fresh "
             f"process holding the data ({memory['train_bytes'] / MiB:.1f} MiB of training arrays, "
             f"{memory['data_bytes'] / MiB:.1f} MiB with the test set):"]
    if memory.get("rss_added_first_fit") is not None:
        lines.append(f"the process's first fit (kernels: {memory.get('kernels', '?')}"
                     + ("; it also loads numba's JIT runtime and the compiled kernels"
                        if memory.get("kernels") == "numba" else "") +
                     f"): peak RSS {memory['rss_peak_first_fit'] / MiB:.1f} MiB = "
                     f"{memory['rss_before_first_fit'] / MiB:.1f} MiB before fit + "
                     f"{memory['rss_added_first_fit'] / MiB:.1f} MiB")
    if memory.get("rss_added") is not None:
        lines.append(f"a second fit, of a fresh model: peak RSS {memory['rss_peak'] / MiB:.1f} MiB = "
                     f"{memory['rss_before_fit'] / MiB:.1f} MiB before fit + {memory['rss_added'] / MiB:.1f} MiB "
                     f"added by training ({memory['rss_method']})")
    lines.append(f"tracemalloc peak of the Python and NumPy allocations made during fit: "
                 f"{memory['tracemalloc_peak'] / MiB:.2f} MiB")
    return lines


def legend(configs, epochs, repeats, passes):
    train = [c.name for c in configs if not c.inference]
    infer = [c.name for c in configs if c.inference]
    parts = []
    if train:
        parts.append(f"{', '.join(train)}: median seconds per epoch over {epochs} epoch(s) x {repeats} repeat(s), "
                     f"the peer's time / glassnet's (above 1x: glassnet is faster), [min-max of the epochs], "
                     f"test accuracy after {epochs} epoch(s) (median of the repeats)")
    if infer:
        parts.append(f"{', '.join(infer)}: median images per second over {passes} pass(es) x {repeats} repeat(s), "
                     f"glassnet's throughput / the peer's (above 1x: glassnet is faster), [min-max]")
    return parts


def report(info, header, rows, skipped_lines, sections, markdown):
    """The whole report as text, or as Markdown."""
    out = []
    if markdown:
        out.append("Measured " + info["when"] + ":")
        out.append("")
        out += [f"- **{k}**: {v}" for k, v in info["lines"]]
        out += ["", markdown_table(header, rows), ""]
        out += [f"- {line}" for line in info["legend"]]
        out += [f"- skipped: {line}" for line in skipped_lines]
        for title, lines in sections:
            if lines:
                out += ["", f"**{title}**", ""] + [f"- {line}" for line in lines]
    else:
        out.append(f"glassnet bench ({info['when']})")
        out += [f"{k:<9} {v}" for k, v in info["lines"]]
        out += ["", text_table(header, rows)]
        out += [f"  {line}" for line in info["legend"]]
        out += [f"  skipped: {line}" for line in skipped_lines]
        for title, lines in sections:
            if lines:
                out += ["", title] + [f"  {line}" for line in lines]
    return "\n".join(out)


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
    parser.add_argument("--epochs", type=int, default=None, help=f"epochs per run (default {DEFAULT_EPOCHS})")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"runs of each peer, alternating (default {DEFAULT_REPEATS})")
    parser.add_argument("--passes", type=int, default=None,
                        help=f"C4: passes over the images per repeat (default {DEFAULT_PASSES})")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {data_module.QUICK_TRAIN:,} training images, 1 epoch, 1 repeat, "
                             f"1 pass, a warm-up for glassnet's rows only")
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
    args.epochs = args.epochs if args.epochs is not None else (1 if quick else DEFAULT_EPOCHS)
    args.repeats = args.repeats if args.repeats is not None else (1 if quick else DEFAULT_REPEATS)
    args.passes = args.passes if args.passes is not None else (1 if quick else DEFAULT_PASSES)
    if min(args.epochs, args.repeats, args.passes) < 1:
        parser.error("--epochs, --repeats and --passes must be at least 1")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        if importlib.util.find_spec("threadpoolctl") is None:
            parser.error("--threads needs threadpoolctl (pip install threadpoolctl)")
    return args


def main(argv=None):
    args = parse_args(argv)
    t0 = time.perf_counter()
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_start = machine.load_average()
    env = machine.env_vars()             # before the Keras peer sets KERAS_BACKEND for itself
    configs = [C.CONFIGS[name] for name in args.configs]

    glassnet = peers_module.Glassnet()
    gn_version = glassnet.check()
    gn = glassnet.gn
    log(f"loading data ({'quick subset' if args.quick else 'full'}) ...")
    data = data_module.load(gn, quick=args.quick)

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
            f"{args.epochs} epoch(s) x {args.repeats} repeat(s)")
        quiet = Quiet(args.wait_idle)
        results = run_all(active, configs, data, args.epochs, args.repeats, args.passes,
                          warmup="glassnet" if args.quick else True, quiet=quiet)
        contention.append(machine.blas_contention())

    memory = None
    if "glassnet" in args.peers and not args.no_memory:
        log("measuring glassnet's peak memory on C1 in a fresh process ...")
        memory = measure_memory(args.quick)
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
        if peer.key in versions and peer.key not in ("glassnet", "glassnet-numpy", "glassnet-nodoctor", "numpy", "limit", "limit-1t",
                                                            "torch-fused"):
            extra = (f", {threads} threads" + (" (--threads)" if args.threads else " (as many as NumPy's BLAS)")
                     if peer.key == "torch" else "")
            lines.append((peer.key, f"{versions[peer.key]}{extra}"))
    lines.append(("data", f"{data.name}: {len(data.x_train):,} train / {len(data.x_test):,} test images, "
                          f"float32 rows in [0, 1]"))
    lines.append(("runs", f"{args.epochs} epoch(s) x {args.repeats} repeat(s) per peer and configuration, "
                          f"peers alternating" + (", glassnet's rows after a warm-up (numba's runtime)" if args.quick
                                                  else f", after a warm-up on {WARMUP_TRAIN} images")))
    for c in configs:
        lines.append((c.name, c.describe() + (f", {min(C.INFERENCE_IMAGES, len(data.x_test)):,} images"
                                              if c.inference else "")))
    info = {"when": when, "lines": lines, "legend": legend(configs, args.epochs, args.repeats, args.passes)}

    header, rows = table_rows(peer_list, skipped, configs, results)
    skipped_lines = [f"{next(p.label for p in peer_list if p.key == k)}: {why}" for k, why in skipped.items()]
    errors = [f"{p.label} on {c}: {cell.error}" for c, cells in results.items()
              for p in peer_list if (cell := cells.get(p.key)) is not None and cell.error]
    sections = [
        (f"Accuracy after {args.epochs} epoch(s), glassnet against PyTorch (test set; median, each repeat)",
         accuracy_lines(configs, results, args.epochs)),
        ("Peak memory", memory_lines(memory)),
        ("Issue 5's goals in this run", goal_lines(configs, results, memory)),
        ("Errors", errors),
        ("What each peer runs", [f"{p.label}: {p.how}" for p in peer_list if p.key not in skipped]),
    ]
    print(report(info, header, rows, skipped_lines, sections, args.markdown))
    elapsed = time.perf_counter() - t0
    print(("\n" if not args.markdown else "\n- ") + f"total bench time {elapsed:.0f} s")

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"when": when, "info": dict(lines), "epochs": args.epochs, "repeats": args.repeats,
                       "passes": args.passes, "skipped": skipped, "memory": memory, "seconds": elapsed,
                       "results": {c: {k: cell.as_dict() for k, cell in cells.items()}
                                   for c, cells in results.items()}}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
