"""What the numbers were measured on: CPU, cores, memory, load, BLAS and its threads, versions, source tree."""
from __future__ import annotations

import glob
import hashlib
import os
import platform
import subprocess
import time

import numpy as np

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS", "KERAS_BACKEND")


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


def memory_total():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def load_average():
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def env_vars():
    """{name: value} of OPENBLAS_* and the other thread-count variables that are set (left as they are)."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_") or k in THREAD_VARS}


def thread_pools():
    """[(text, threads)] for each BLAS / OpenMP library loaded in this process, via threadpoolctl if installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = []
    for p in threadpool_info():
        path = p.get("filepath", "")
        where = "/".join(path.split(os.sep)[-3:-1])           # e.g. torch/lib, numpy.libs
        extra = ", ".join(str(p[k]) for k in ("architecture", "threading_layer") if p.get(k))
        name = f"{p.get('internal_api')} {p.get('version') or ''}".rstrip()
        if p.get("prefix") and p.get("prefix") not in name:
            name += f" ({p['prefix']}" + (f", {extra})" if extra else ")")
        elif extra:
            name += f" ({extra})"
        text = f"{p.get('user_api')}: {name}, {p.get('num_threads')} threads, from {where}"
        pools.append((text, p.get("num_threads"), p.get("user_api"), path))
    return pools


def numpy_blas():
    """(description, threads) of NumPy's BLAS: threadpoolctl's view, else np.show_config's."""
    pools = thread_pools()
    if pools:
        numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
        for text, threads, api, path in pools:
            if api == "blas" and (path.startswith(os.path.join(numpy_dir, "numpy")) or "numpy" in path):
                return text.split(": ", 1)[1] + " [threadpoolctl]", threads
        for text, threads, api, _ in pools:
            if api == "blas":
                return text.split(": ", 1)[1] + " [threadpoolctl]", threads
    try:
        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')} [np.show_config; threads unknown]", None
    except Exception:                               # NumPy < 1.25: no mode="dicts"
        return "unknown (install threadpoolctl to see it)", None


def source_identity(package_dir):
    """'git 5685ab8 + uncommitted changes in src/, tree sha256 1a2b3c4d' for the glassnet being measured."""
    files = sorted(glob.glob(os.path.join(package_dir, "**", "*.py"), recursive=True))
    digest = hashlib.sha256()
    for path in files:
        digest.update(os.path.relpath(path, package_dir).encode())
        with open(path, "rb") as fh:
            digest.update(fh.read())
    text = f"sha256 of its {len(files)} .py files {digest.hexdigest()[:12]}"
    root = os.path.dirname(os.path.dirname(package_dir))

    def git(*args):
        try:
            out = subprocess.run(["git", "--no-optional-locks", "-C", root, *args],
                                 capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    if commit:
        dirty = git("status", "--porcelain", "--", os.path.relpath(package_dir, root))
        text = f"git {commit}" + (" + uncommitted changes" if dirty else ", clean") + f"; {text}"
    return text


def blas_contention(threads=None, calls=300):
    """(microseconds per call with the current BLAS threads, with 1 thread) of the C1 step's first matmul.

    A much slower multi-threaded call means the BLAS threads fight other work for the cores
    (oversubscription): small matmuls then cost 10-100x more.  None when threadpoolctl is missing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    a = rng.random((32, 784), dtype=np.float32)
    b = rng.random((784, 50), dtype=np.float32)
    out = np.empty((32, 50), dtype=np.float32)

    def per_call():
        np.matmul(a, b, out=out)
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        return (time.perf_counter() - start) / calls * 1e6

    current = per_call()
    with threadpool_limits(1, user_api="blas"):
        single = per_call()
    return current, single


def _cpu_ticks():
    """(busy ticks of the whole machine, all ticks, ticks used by this process)."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)            # idle + iowait
    with open("/proc/self/stat") as fh:
        own = fh.read().rsplit(")", 1)[1].split()
    return sum(fields[:8]) - idle, sum(fields[:8]), int(own[11]) + int(own[12])   # utime + stime


def other_cpu_use(window=0.25):
    """Cores kept busy by other processes during `window` seconds while this one sleeps (None off Linux)."""
    try:
        busy0, total0, own0 = _cpu_ticks()
        time.sleep(window)
        busy1, total1, own1 = _cpu_ticks()
    except (OSError, ValueError, IndexError):
        return None
    if total1 == total0:
        return 0.0
    cores = os.cpu_count() or 1
    return max(0.0, (busy1 - busy0 - (own1 - own0)) / (total1 - total0) * cores)


class OthersDuring:
    """Cores other processes kept busy while a block ran: `with OthersDuring() as w: ...; w.cores`."""

    def __enter__(self):
        try:
            self._start = _cpu_ticks()
        except (OSError, ValueError, IndexError):
            self._start = None
        self.cores = None
        return self

    def __exit__(self, *exc):
        if self._start is None:
            return False
        try:
            busy1, total1, own1 = _cpu_ticks()
        except (OSError, ValueError, IndexError):
            return False
        busy0, total0, own0 = self._start
        if total1 > total0:
            self.cores = max(0.0, (busy1 - busy0 - (own1 - own0)) / (total1 - total0) * (os.cpu_count() or 1))
        return False
