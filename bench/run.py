"""Speed benchmark: the notes' network, glassnet against its peers, in one run.

    python bench/run.py                 # or, from the repository root: python -m bench
    python bench/run.py --epochs 5 --repeats 7   # defaults: 3 epochs x 5 repeats, ~15-30 s
    python bench/run.py --quick         # tiny data, 1 epoch, 1 repeat (the smoke test)

The network is the study notes' 784-50 sigmoid-10 softmax, trained with Adam
(learning rate 1e-3, epsilon 1e-7), batch 32, float32, on real data:
Fashion-MNIST's 60,000 training images when Debian's package is installed
(/usr/share/datasets/fashion-mnist), else the MNIST sample bundled with glassnet
(8,000 images).

glassnet trains through its public API (model.fit, verbose=0); the seconds of
each epoch are taken by a LambdaCallback at epoch begin and end, which adds no
per-batch work.  PyTorch (when installed) trains the same network in a plain
loop: nn.Sequential(Linear, Sigmoid, Linear), CrossEntropyLoss, Adam(lr=1e-3,
eps=1e-7), a randperm per epoch and index batching (no DataLoader), with as many
threads as NumPy's BLAS uses.  The runs alternate (glassnet, torch, glassnet,
torch, ...) so that a change in the machine's speed hits both alike.

Reported: the median seconds per epoch over every epoch of every repeat, the
min-max range (the noise), torch/glassnet (above 1: glassnet is faster), and
the test accuracy of each after the same number of epochs (median over the
repeats).  The header names the machine, NumPy and its BLAS, and torch.

Nothing here is asserted: speed is measured here and never in tests.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import os
import platform
import statistics
import sys
import time

import numpy as np

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz",
}
BATCH = 32
LEARNING_RATE = 1e-3
EPSILON = 1e-7
HIDDEN = 50
QUICK_TRAIN, QUICK_TEST = 1024, 512


def _import_glassnet():
    try:
        import glassnet
    except ImportError:               # run from a checkout that is not installed
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
        import glassnet
    return glassnet


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def _find(directory, name):
    """The file `name` in `directory`, gzip-compressed or not."""
    for candidate in (name, name[:-3] if name.endswith(".gz") else name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return None


def load_data(quick=False, fashion_dir=FASHION_DIR):
    """(x_train, y_train, x_test, y_test, description): images as float32 rows in [0, 1], labels int64."""
    gn = _import_glassnet()
    arrays, note = None, ""
    paths = {key: _find(fashion_dir, name) for key, name in FASHION_FILES.items()}
    if all(paths.values()):
        try:
            arrays = {key: gn.datasets.read_idx(path) for key, path in paths.items()}
            name = f"Fashion-MNIST ({fashion_dir})"
        except ValueError as err:     # e.g. a package being installed right now
            arrays, note = None, f"; Fashion-MNIST unreadable: {err}"
    elif any(paths.values()):
        note = f"; Fashion-MNIST incomplete in {fashion_dir}"
    if arrays is None:
        (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        name = "MNIST sample bundled with glassnet (gn.datasets.mnist_mini)" + note
    x_train, y_train, x_test, y_test = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    if quick:
        x_train, y_train = x_train[:QUICK_TRAIN], y_train[:QUICK_TRAIN]
        x_test, y_test = x_test[:QUICK_TEST], y_test[:QUICK_TEST]
        name += ", --quick subset"

    def rows(x):
        return (x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0))

    return rows(x_train), y_train.astype(np.int64), rows(x_test), y_test.astype(np.int64), name


# --------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _openblas_library():
    """ctypes handle of the OpenBLAS that NumPy bundles (numpy.libs/), or None."""
    base = os.path.dirname(os.path.dirname(np.__file__))
    for pattern in ("numpy.libs/lib*openblas*.so*", "numpy/.dylibs/lib*openblas*", "numpy.libs/*openblas*.dll"):
        for path in glob.glob(os.path.join(base, pattern)):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


def _call(lib, names, restype):
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = []
            return fn()
    return None


def blas_info():
    """(description, threads): NumPy's BLAS by name and version, its kernel and thread count at run time."""
    threads = None
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            threads = p.get("num_threads")
            text = f"{p.get('internal_api')} {p.get('version')} (core {p.get('architecture')}, {threads} threads)"
            return text + " [threadpoolctl]", threads
    except ImportError:
        pass
    name = version = None
    try:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        name, version = blas.get("name"), blas.get("version")
    except Exception:                 # older NumPy: no mode="dicts"
        pass
    text = f"{name or 'unknown'} {version or ''}".strip()
    lib = _openblas_library()
    if lib is not None:
        core = _call(lib, ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                           "openblas_get_corename64_", "openblas_get_corename"), ctypes.c_char_p)
        threads = _call(lib, ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                              "openblas_get_num_threads64_", "openblas_get_num_threads"), ctypes.c_int)
        if core is not None:
            text += f" (core {core.decode()}, {threads} threads)"
    return text, threads


def gemm_rates(dtype=np.float32, seconds=0.3):
    """GFLOP/s of float32 matmul: a large square one (the machine's limit) and the network's own shapes."""
    rng = np.random.default_rng(0)

    def rate(m, k, n):
        a = rng.random((m, k), dtype=dtype)
        b = rng.random((k, n), dtype=dtype)
        out = np.empty((m, n), dtype=dtype)
        np.matmul(a, b, out=out)
        reps, start = 0, time.perf_counter()
        while True:
            np.matmul(a, b, out=out)
            reps += 1
            elapsed = time.perf_counter() - start
            if elapsed > seconds:
                return 2.0 * m * k * n * reps / elapsed / 1e9

    return {"1024x1024x1024": rate(1024, 1024, 1024),
            f"{BATCH}x784x{HIDDEN} (a batch through layer 1)": rate(BATCH, 784, HIDDEN)}


def flops_per_epoch(n):
    """Multiply-adds x 2 of one epoch of the 784-50-10 network: forward x W1, x^T dz1, h W2, h^T dz2, dz2 W2^T."""
    per_sample = 2 * (784 * HIDDEN * 2 + HIDDEN * 10 * 3)
    return per_sample * n


# --------------------------------------------------------------------------
# The runners: each returns (seconds of each epoch, test accuracy)
# --------------------------------------------------------------------------

def run_glassnet(data, epochs, seed):
    gn = _import_glassnet()
    x, y, x_test, y_test = data
    gn.set_random_seed(seed)
    model = gn.Sequential([
        gn.layers.Dense(HIDDEN, activation="sigmoid", input_shape=(784,)),
        gn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=LEARNING_RATE, epsilon=EPSILON),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    began, times = {}, []
    clock = gn.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: began.__setitem__(epoch, time.perf_counter()),
        on_epoch_end=lambda epoch, logs: times.append(time.perf_counter() - began[epoch]))
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[clock])
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    return times, float(accuracy)


def run_torch(data, epochs, seed, threads):
    import torch
    from torch import nn
    if threads:
        torch.set_num_threads(threads)
    x, y, x_test, y_test = data
    torch.manual_seed(seed)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    model = nn.Sequential(nn.Linear(784, HIDDEN), nn.Sigmoid(), nn.Linear(HIDDEN, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, eps=EPSILON)
    n = len(X)
    times = []
    model.train()
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = order[i:i + BATCH]
            xb, yb = X[idx], Y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    return times, float(np.mean(pred == y_test))


def peers():
    """{name: (version or None, why skipped)} for the libraries compared against glassnet."""
    found = {}
    try:
        import torch
        found["pytorch"] = (torch.__version__, None)
    except ImportError as err:
        found["pytorch"] = (None, f"not installed ({err.name})")
    for label, module in (("scikit-learn", "sklearn"), ("keras", "keras")):
        try:
            __import__(module)
            found[label] = (None, "installed, but this bench has no runner for it yet")
        except ImportError:
            found[label] = (None, "not installed")
    return found


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def _summary(times):
    return statistics.median(times), min(times), max(times)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each library, alternating (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {QUICK_TRAIN} training images, 1 epoch, 1 repeat")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-gemm", action="store_true", help="skip measuring the machine's GEMM rate")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.repeats = 1, 1
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")

    gn = _import_glassnet()
    t0 = time.perf_counter()
    x, y, x_test, y_test, data_name = load_data(args.quick)
    data = (x, y, x_test, y_test)
    blas, blas_threads = blas_info()
    threads = blas_threads or usable_cores()
    found = peers()
    if args.no_torch:
        found["pytorch"] = (None, "left out (--no-torch)")
    torch_version = found["pytorch"][0]

    print("glassnet bench: 784-50 sigmoid-10 softmax, Adam(lr=1e-3, eps=1e-7), batch 32, float32")
    print(f"data      {data_name}: {len(x):,} train / {len(x_test):,} test images")
    print(f"machine   {cpu_model()}, {os.cpu_count()} cores ({usable_cores()} usable), "
          f"{platform.system()} {platform.machine()}")
    try:
        load = os.getloadavg()
        print(f"load      {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15-min load average; above "
              f"{usable_cores()} other work competes for the cores and the numbers are noisy)")
    except (AttributeError, OSError):
        pass
    print(f"python    {platform.python_version()}; glassnet {gn.__version__}; NumPy {np.__version__}, BLAS {blas}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                "MKL_NUM_THREADS"):
        if var in os.environ:
            print(f"env       {var}={os.environ[var]}")
    if torch_version:
        print(f"torch     {torch_version}, {threads} threads (matched to NumPy's BLAS)")
    print(f"runs      {args.repeats} repeat(s) x {args.epochs} epoch(s) each, alternating "
          f"{'glassnet / torch' if torch_version else 'glassnet only'}")
    sys.stdout.flush()

    results = {"glassnet": ([], [])}
    if torch_version:
        results["pytorch"] = ([], [])
    for r in range(args.repeats):
        times, acc = run_glassnet(data, args.epochs, seed=r)
        results["glassnet"][0].extend(times)
        results["glassnet"][1].append(acc)
        if torch_version:
            times, acc = run_torch(data, args.epochs, seed=r, threads=threads)
            results["pytorch"][0].extend(times)
            results["pytorch"][1].append(acc)

    print()
    header = f"{'library':<14}{'median s/epoch':>15}{'min-max s':>18}{'test acc':>10}{'torch/glassnet':>16}"
    print(header)
    print("-" * len(header))
    gn_median = _summary(results["glassnet"][0])[0]
    for name, (times, accs) in results.items():
        med, lo, hi = _summary(times)
        ratio = (med / gn_median) if name != "glassnet" else 1.0
        print(f"{name:<14}{med:>15.3f}{f'{lo:.3f}-{hi:.3f}':>18}{statistics.median(accs):>10.4f}{ratio:>16.2f}")
    for name, (version, why) in found.items():
        if name not in results:
            print(f"{name:<14}  skipped: {why}")
    print(f"(test accuracy after {args.epochs} epoch(s), median over {args.repeats} repeat(s); "
          f"torch/glassnet > 1 means glassnet is faster)")

    if not args.no_gemm:
        rates = gemm_rates()
        flops = flops_per_epoch(len(x))
        big = rates["1024x1024x1024"]
        print()
        print(f"GEMM limit: one epoch is {flops / 1e9:.2f} GFLOP of matmul")
        for shape, gflops in rates.items():
            print(f"  float32 matmul {shape:<34} {gflops:8.1f} GFLOP/s -> {flops / gflops / 1e9:.3f} s/epoch")
        print(f"  glassnet reaches {flops / gn_median / 1e9:.1f} GFLOP/s, "
              f"{100 * flops / gn_median / 1e9 / big:.0f}% of the large-GEMM rate")
    print(f"\ntotal bench time {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
