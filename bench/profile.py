"""Where glassnet's training step spends its time: `python -m bench.profile [--py-spy]`.

    python -m bench.profile                     # C1, one epoch of Fashion-MNIST, cProfile
    python -m bench.profile --py-spy            # also sample it with py-spy --native (pip install py-spy)
    python -m bench.profile --config C3 --images 20000 --markdown
    python -m bench.profile --config C5 --images 2560 --py-spy --epochs 2     # the convnet

It trains the configuration's glassnet model through the public `fit` (after a
warm-up on 512 images) and reports:

1. the step: the epoch's seconds / steps, against the matmul-only limit for the
   same shapes (bench/limit.py), timed in the same process;
2. cProfile of one epoch: own time by glassnet function, grouped into parts of
   the step.  cProfile does not see NumPy's ufuncs (np.matmul, +=, np.exp are not
   Python calls), so their time counts as the Python function that called them,
   and its per-call overhead inflates small functions: read it as shares;
3. with --py-spy, native sampling of one epoch (`py-spy record --native`), each
   sample put in a part by its innermost native frame (OpenBLAS -> matmul; the
   Python interpreter or garbage collector -> Python overhead) and otherwise by
   the innermost glassnet function (optimizers/ -> optimizer, activations.py ->
   activation, np.take in fit -> batch gather, ...).  Shares x the step's time
   give microseconds per step.
"""
from __future__ import annotations

import argparse
import collections
import json
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time

if __package__ in (None, ""):        # python bench/profile.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import configs as C  # noqa: E402
from bench import data as data_module  # noqa: E402
from bench import limit, machine, peers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PARTS = [  # (part, test on (file, function, native leaf)); the first that matches wins
    ("matmul (BLAS)", lambda f, fn, leaf: leaf == "blas"),
    ("Python overhead: garbage collector", lambda f, fn, leaf: leaf == "gc"),
    ("Python overhead: interpreter, calls, checks", lambda f, fn, leaf: leaf == "python"),
    ("im2col, col2im (convolution.py)", lambda f, fn, leaf: f.endswith("convolution.py")),
    ("compiled kernels (numba: Adam, Dense's bias and activation)", lambda f, fn, leaf: f.endswith("_kernels.py")),
    ("optimizer update", lambda f, fn, leaf: os.sep + "optimizers" + os.sep in f),
    ("activation (forward and derivative)", lambda f, fn, leaf: f.endswith("activations.py")),
    ("softmax + cross-entropy", lambda f, fn, leaf: f.endswith("losses.py")),
    ("metrics (accuracy)", lambda f, fn, leaf: f.endswith("metrics.py")),
    ("training doctor", lambda f, fn, leaf: os.sep + "doctor" + os.sep in f),
    ("callbacks", lambda f, fn, leaf: f.endswith("callbacks.py")),
    ("fit's input checks (once per fit)", lambda f, fn, leaf: f.endswith("_checks.py")),
    ("Conv2D, pooling: bias, activation, max/argmax, buffers", lambda f, fn, leaf: f.endswith(
        ("convolutional.py", "pooling.py"))),
    ("Dense: bias add, bias gradient, buffers", lambda f, fn, leaf: os.sep + "layers" + os.sep in f),
    ("batch gather (np.take) and the fit loop's array work", lambda f, fn, leaf: f.endswith("models.py")),
    ("other glassnet code", lambda f, fn, leaf: bool(f)),
    ("outside glassnet", lambda f, fn, leaf: True),
]


def part_of(file, function, leaf):
    for name, test in PARTS:
        if test(file or "", function or "", leaf):
            return name
    return "outside glassnet"


# --------------------------------------------------------------------------
# The measured run
# --------------------------------------------------------------------------

def _setup(config_name, images, threads):
    glassnet = peers.Glassnet()
    glassnet.check()
    if threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads, user_api="blas")
    data = data_module.load(glassnet.gn)
    if images:
        data = data.head(images, 1000)
    config = C.CONFIGS[config_name]
    glassnet.train(config, data.head(512, 256), 1, 0)             # warm-up
    return glassnet, config, data


def _fit(model, config, data, epochs=1):
    model.fit(config.inputs(data.x_train), data.y_train, batch_size=config.batch, epochs=epochs, verbose=0)


def profiled_epoch(model, config, data, epochs):
    """The epochs py-spy's samples are counted in (found by this function's name in the stacks)."""
    _fit(model, config, data, epochs)


def worker(config_name, images, threads, epochs):
    glassnet, config, data = _setup(config_name, images, threads)
    model = glassnet._model(config, 0)
    start = time.perf_counter()
    profiled_epoch(model, config, data, epochs)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "contention": machine.blas_contention()}))


# --------------------------------------------------------------------------
# Parts timed alone
# --------------------------------------------------------------------------

def _per_call(fn, calls=1000, runs=5):
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return sorted(times)[runs // 2]


def parts_alone(gn, config, data):
    """[(what, microseconds)]: a step's parts outside the step, through public glassnet and NumPy calls."""
    import numpy as np
    rng = np.random.default_rng(0)
    model = peers.Glassnet()
    model.gn = gn
    n_params = model._model(config, 0).count_params()
    w = rng.standard_normal(n_params).astype(np.float32)
    g = rng.standard_normal(n_params).astype(np.float32) * np.float32(1e-3)
    if config.optimizer == "sgd":
        opt = gn.optimizers.SGD(learning_rate=config.learning_rate)
    else:
        opt = gn.optimizers.Adam(learning_rate=config.learning_rate, epsilon=C.ADAM_EPSILON)
    opt.apply([g], [w])
    order = rng.permutation(len(data.x_train))[:config.batch]
    buf = np.empty((config.batch, data.x_train.shape[1]), dtype=np.float32)
    step = limit.MatmulStep(config.matmul_layers, config.batch)
    return [
        ("the step's matmuls (bench/limit.py)", _per_call(step.run, calls=20 if config.convnet else 1000)),
        (f"{type(opt).__name__}.apply on one flat float32 vector of {n_params:,} weights",
         _per_call(lambda: opt.apply([g], [w]))),
        (f"np.take of {config.batch} rows into a kept buffer", _per_call(
            lambda: np.take(data.x_train, order, axis=0, out=buf))),
    ]


# --------------------------------------------------------------------------
# cProfile
# --------------------------------------------------------------------------

def cprofile_parts(model, config, data, top):
    prof = cProfile.Profile()
    prof.enable()
    _fit(model, config, data)
    prof.disable()
    stats = pstats.Stats(prof)
    rows, parts = [], collections.Counter()
    total = 0.0
    for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        total += tt
        glass = "glassnet" + os.sep in file
        if file == "~":                           # a C function called from Python: np.take, sum, ...
            name = func
            part = ("batch gather (np.take) and the fit loop's array work" if "take" in func
                    else "NumPy C calls (reductions, ...)")
        else:
            name = f"{os.path.basename(file)}:{line}({func})"
            if glass:
                part = part_of(file, func, "numpy")
                if part.startswith("Dense"):
                    part = "Dense forward/backward: matmuls, bias add, bias gradient"
                elif part.startswith("Conv2D"):
                    part = "Conv2D, pooling forward/backward: matmuls, bias, max/argmax, buffers"
            elif os.sep + "numpy" + os.sep in file:
                part = "NumPy's Python wrappers (np.sum, np.take, ...)"
            else:
                part = "outside glassnet and NumPy"
        parts[part] += tt
        rows.append((tt, nc, name))
    rows.sort(reverse=True)
    return total, parts, rows[:top]


# --------------------------------------------------------------------------
# py-spy
# --------------------------------------------------------------------------

def _leaf_kind(frame):
    """'blas', 'gc', 'python' or 'numpy' for a py-spy frame 'name (file or library)'."""
    name, _, where = frame.partition(" (")
    low = frame.lower()
    if "openblas" in low or "libmkl" in low or "gemm" in name.lower() or name in ("exec_blas", "inner_thread"):
        return "blas"
    if "gc_collect" in name or "gc_collect" in low:
        return "gc"
    if "libpython" in where or ".py:" in where or where.startswith("<frozen"):
        return "python"
    return "numpy"


def pyspy_parts(config_name, images, threads, rate, epochs):
    exe = shutil.which("py-spy")
    if exe is None:
        return None, "py-spy is not installed (pip install py-spy)"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "raw.txt")
        cmd = [exe, "record", "--native", "-r", str(rate), "-f", "raw", "-o", out, "--",
               sys.executable, "-m", "bench.profile", "--worker", "--config", config_name,
               "--epochs", str(epochs)]
        if images:
            cmd += ["--images", str(images)]
        if threads:
            cmd += ["--threads", str(threads)]
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
        if result.returncode != 0 or not os.path.exists(out):
            return None, f"py-spy failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}"
        with open(out) as fh:
            lines = fh.read().splitlines()
        run = {}
        for text in (result.stdout + "\n" + result.stderr).splitlines():
            if text.startswith('{"seconds"'):
                run = json.loads(text)
    parts, functions = collections.Counter(), collections.Counter()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any(f.startswith("profiled_epoch ") for f in frames):
            continue
        n = int(count)
        glass = [f for f in frames if "glassnet/" in f]
        inner = glass[-1] if glass else ""
        function = inner.partition(" (")[0]
        file = inner.partition(" (")[2].rsplit(":", 1)[0]
        kind = _leaf_kind(frames[-1])
        part = part_of(file, function, kind)
        parts[part] += n
        functions[(function or "-", kind)] += n
    return (parts, functions, run), None


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="C1", choices=[k for k, c in C.CONFIGS.items() if not c.inference])
    parser.add_argument("--images", type=int, default=None, help="train on the first N images (default: all)")
    parser.add_argument("--threads", type=int, default=None, help="limit NumPy's BLAS threads (threadpoolctl)")
    parser.add_argument("--top", type=int, default=15, help="functions listed from cProfile (default 15)")
    parser.add_argument("--py-spy", action="store_true", help="also sample an epoch with py-spy --native")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (default 250)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs py-spy samples (default 20)")
    parser.add_argument("--wait-idle", type=float, default=120.0, metavar="SECONDS",
                        help="first wait up to SECONDS while other processes keep the cores busy (default 120)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.config, args.images, args.threads, args.epochs)
        return 0

    from bench.measure import Quiet
    quiet = Quiet(args.wait_idle)
    quiet.check("profile")
    glassnet, config, data = _setup(args.config, args.images, args.threads)
    n = len(data.x_train)
    steps = -(-n // config.batch)
    times = [glassnet.train(config, data, 1, s)[0][0] for s in range(3)]
    epoch = sorted(times)[1]
    matmul = limit.MatmulEpoch(config.matmul_layers, config.batch, n)
    limit_epoch = sorted(matmul.seconds() for _ in range(3))[1]
    step_us = epoch / steps * 1e6
    blas, _ = machine.numpy_blas()
    print(f"glassnet {glassnet.gn.__version__}, {config.name}: {config.describe()}; {n:,} images, {steps:,} steps")
    print(f"machine: {machine.cpu_model()}, load {' '.join(f'{a:.2f}' for a in machine.load_average() or ())}; "
          f"BLAS {blas}")
    print(f"source: {machine.source_identity(os.path.dirname(glassnet.gn.__file__))}")
    print(f"others: {quiet.line()}")
    contention = machine.blas_contention()
    if contention:
        print(f"BLAS use: a 32x784x50 float32 matmul takes {contention[0]:.0f} us with the BLAS's threads, "
              f"{contention[1]:.0f} us with 1 thread" + ("  WARNING: oversubscribed, numbers inflated"
                                                         if contention[0] > 3 * contention[1] else ""))
    print(f"epoch {epoch:.3f} s (median of 3) = {step_us:.1f} us per step; "
          f"matmul-only limit {limit_epoch:.3f} s = {limit_epoch / steps * 1e6:.1f} us per step "
          f"({100 * limit_epoch / epoch:.0f}% of the step)")

    alone = parts_alone(glassnet.gn, config, data)
    calls = "1,000 calls; the matmuls: 20" if config.convnet else "1,000 calls"
    print(f"\ntimed alone, per step (each the median of 5 runs of {calls}):")
    for what, us in alone:
        print(f"  {what:<70}{us:>9.1f} us")

    total, parts, rows = cprofile_parts(glassnet._model(config, 1), config, data, args.top)
    print(f"\ncProfile of one epoch: {total:.3f} s of own time (profiling slows small calls down)")
    print(f"  {'part of the step (by the Python function that runs it)':<70}{'share':>7}{'us/step':>9}")
    for part, t in parts.most_common():
        print(f"  {part:<70}{100 * t / total:>6.1f}%{step_us * t / total:>9.1f}")
    print(f"\n  {'function':<70}{'calls':>8}{'own s':>8}")
    for tt, nc, name in rows:
        print(f"  {name[:70]:<70}{nc:>8}{tt:>8.3f}")

    if args.py_spy:
        quiet.check("py-spy")
        result, why = pyspy_parts(args.config, args.images, args.threads, args.rate, args.epochs)
        if result is None:
            print(f"\npy-spy: {why}")
            return 0
        parts, functions, run = result
        total = sum(parts.values())
        print(f"\npy-spy --native, {args.epochs} epoch(s) in a fresh process: {total:,} samples")
        if run.get("seconds"):
            print(f"  (the sampled epochs took {run['seconds'] / args.epochs:.3f} s each under py-spy)")
        if run.get("contention"):
            cur, one = run["contention"]
            print(f"  BLAS use after them: {cur:.0f} us with the BLAS's threads, {one:.0f} us with 1 thread"
                  + ("  WARNING: oversubscribed, these shares are not the idle machine's" if cur > 3 * one else ""))
        print(f"  {'part of the step':<70}{'share':>7}{'us/step':>9}")
        for part, k in parts.most_common():
            print(f"  {part:<70}{100 * k / total:>6.1f}%{step_us * k / total:>9.1f}")
        print(f"\n  {'innermost glassnet function, where the sample was':<70}{'share':>7}")
        for (function, kind), k in functions.most_common(args.top):
            label = {"blas": "in BLAS", "gc": "in the garbage collector", "python": "in the interpreter",
                     "numpy": "in NumPy's C code"}[kind]
            print(f"  {(function + ', ' + label)[:70]:<70}{100 * k / total:>6.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
