"""Global settings: the default float type and the random number generator.

glassnet computes in float32 by default (fast), and in float64 on request
(`set_floatx("float64")` or a layer's `dtype=` argument) for gradient checks
and exact reproduction of hand-worked numbers.

All randomness (weight initialisation, shuffling, dropout masks) is drawn from
NumPy `Generator`s.  `set_random_seed(seed)` re-seeds the global one, so the
same seed gives the same run, bit for bit.

BLAS threads: a model whose matrix products are small (the largest one of a
batch under SMALL_MATMUL_FLOPS) runs fit, evaluate and predict with one BLAS
thread, when threadpoolctl is installed (`limit_blas_threads`).  A second
thread buys little on such products, and when another core is busy it makes
every product wait for a thread that is not running.  Measured on a 2-core
machine, an epoch of the 784-50-10 network: idle, two threads were 10 %
faster at batch 32 and 29 % at batch 100; with one core busy, two threads
took 10 s against 0.64 s with one at batch 32, and 14 s against 0.34 s at
batch 100.  One thread trades a little speed on an idle machine for never
collapsing.

Compiled kernels: when the optional numba package is installed, float32
training and inference use a few compiled loops (glassnet/_kernels.py) that do
in one pass over memory what the NumPy code does in several: Adam's update,
Dense's bias and activation, the fused softmax cross-entropy.  The NumPy code
stays the reference: float64 always runs it, and `set_kernels("numpy")` (or
the environment variable GLASSNET_KERNELS=numpy) switches the kernels off.
"""
from __future__ import annotations

import contextlib
import os
import random as _pyrandom

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_RNG = np.random.default_rng()

_VALID_FLOATX = ("float32", "float64")

#: The most numbers one weight array (a layer's kernel, an embedding table) or one array built from an
#: argument (to_categorical's output) may hold: 2**31, 8 GiB in float32.  A larger size is refused with a
#: ValueError naming this limit instead of ending in a MemoryError; raise it with
#: ``glassnet.backend.MAX_ARRAY_SIZE = ...`` on a machine that has the memory.
MAX_ARRAY_SIZE = 2**31


def floatx() -> str:
    """The default float type as a string: "float32" (default) or "float64"."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type for layers created from now on: "float32" or "float64"."""
    global _FLOATX
    if value is None:
        raise ValueError(f"set_floatx expects one of {list(_VALID_FLOATX)}, got None")
    try:
        _FLOATX = standardize_dtype(value)
    except ValueError:
        raise ValueError(f"set_floatx expects one of {list(_VALID_FLOATX)}, got {value!r}") from None


def standardize_dtype(dtype) -> str:
    """Turn "float32", np.float32 or np.dtype("float32") into "float32"; reject others."""
    if dtype is None:
        return _FLOATX
    try:
        name = np.dtype(dtype).name
    except (TypeError, ValueError):
        name = None
    if name not in _VALID_FLOATX:
        raise ValueError(f"dtype must be one of {list(_VALID_FLOATX)}, got {dtype!r}")
    return name


def epsilon() -> float:
    """The fuzz factor used to clip probabilities (Keras: 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor (a number in (0, 0.5))."""
    global _EPSILON
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 < value < 0.5:
        raise ValueError(f"epsilon must be a number in (0, 0.5), got {value!r}")
    _EPSILON = float(value)


def set_random_seed(seed: int) -> None:
    """Seed every source of randomness glassnet uses (and Python's and NumPy's legacy ones).

    Layers created and models trained after this call repeat bit for bit.
    """
    global _RNG
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    _RNG = np.random.default_rng(seed)
    _pyrandom.seed(seed)
    np.random.seed(seed % 2**32)


def clear_session(free_memory=True) -> None:
    """Keras's clear_session (also `glassnet.utils.clear_session`): start afresh between models.

    Keras keeps a global counter of layer and model names, so the 2nd model a loop builds has layers
    "dense_3", "dense_4", ... until clear_session() starts the counters again at "dense".  glassnet
    numbers names inside each model, so every model's layers are already named "dense", "dense_1",
    ...: what Keras gives after clear_session().  There is no other global state to drop; as in
    Keras, the float type (floatx) and the random generators are left alone, so a seeded run stays
    the same run.  free_memory=True runs Python's garbage collector, as Keras does.
    """
    if free_memory:
        import gc
        gc.collect()


def global_rng() -> np.random.Generator:
    """The global generator seeded by `set_random_seed`."""
    return _RNG


def make_rng(seed=None) -> np.random.Generator:
    """A generator of its own for `seed`, or a child of the global one when `seed` is None."""
    if seed is None:
        return np.random.default_rng(_RNG.integers(0, 2**63 - 1))
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def plain_state(value):
    """A generator's state (bit_generator.state), or a dict holding one, with NumPy arrays and scalars
    as JSON lists and numbers: what model files and fit's shuffling state write as JSON."""
    if isinstance(value, dict):
        return {k: plain_state(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ----------------------------------------------------------------------------
# Values of variables (Keras 2's keras.backend.get_value / set_value)
# ----------------------------------------------------------------------------
def get_value(x):
    """The value of a variable as NumPy: layer.kernel or optimizer.learning_rate give a copy
    (their .numpy()); NumPy arrays and plain numbers come back unchanged, as in Keras."""
    numpy = getattr(x, "numpy", None)
    return numpy() if callable(numpy) else x


def set_value(x, value) -> None:
    """Write `value` into the variable `x` in place, as Keras 2's keras.backend.set_value:

        set_value(model.optimizer.learning_rate, 0.01)    # the next step uses 0.01
        set_value(model.layers[0].kernel, np.zeros(...))  # a weight, written where the model keeps it

    `x` is a layer weight (layer.kernel, layer.bias), optimizer.learning_rate or a NumPy array; the
    value must have its shape.  A plain number has nowhere to write to: a TypeError says so."""
    assign = getattr(x, "assign", None)
    if callable(assign):
        assign(value)
        return
    if isinstance(x, np.ndarray):
        new = np.asarray(value)
        if new.shape != x.shape:
            raise ValueError(f"set_value: the variable has shape {x.shape}, the value {new.shape}")
        if new.dtype.kind not in "biuf" or (new.dtype.kind == "f" and not np.isfinite(new).all()):
            raise ValueError("set_value: the value must hold finite numbers")
        if not x.flags.writeable:
            raise ValueError("set_value: the array is read-only")
        x[...] = new
        return
    raise TypeError(f"set_value needs a variable to write into (a layer weight such as layer.kernel, "
                    f"optimizer.learning_rate or a NumPy array), got {type(x).__name__}; a number read into "
                    f"a variable of your own cannot be changed in place")


def batch_get_value(xs) -> list:
    """[get_value(x) for x in xs]."""
    return [get_value(x) for x in xs]


def batch_set_value(pairs) -> None:
    """set_value(x, value) for each (x, value) pair."""
    for x, value in pairs:
        set_value(x, value)


#: fit, evaluate and predict use one BLAS thread when the largest matrix product of a batch has
#: fewer floating-point operations than this: 2 x rows x inputs x units, 2.5e6 for 784-50 at batch
#: 32, 7.8e6 at batch 100 (one thread: about 0.1 ms), 1e8 for 784-512 at batch 128 (two threads
#: there: 1.5x faster on an idle machine).  Set it to 0 to leave the BLAS library's count alone.
SMALL_MATMUL_FLOPS = 20_000_000

_BLAS = None          # threadpoolctl's controller for the loaded BLAS libraries, made on first use


def _blas_controller():
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS = ThreadpoolController().select(user_api="blas")
        except Exception:                      # not installed, or it cannot inspect this process
            _BLAS = False
    return _BLAS


_BLAS_LIMIT = None    # the limit limit_blas_threads set, while its block runs (None: the library's own count)


@contextlib.contextmanager
def limit_blas_threads(n):
    """Run the block with at most `n` BLAS threads, and restore the previous counts after it.

    Needs the optional threadpoolctl package; without it (or with n None) nothing changes.
    """
    blas = _blas_controller() if n is not None else False
    if not blas:
        yield
        return
    global _BLAS_LIMIT
    saved = [(lib, lib.num_threads) for lib in blas.lib_controllers]
    outer = _BLAS_LIMIT
    try:
        for lib, threads in saved:
            if threads > n:
                lib.set_num_threads(n)
        _BLAS_LIMIT = n if outer is None else min(n, outer)
        yield
    finally:
        _BLAS_LIMIT = outer
        for lib, threads in saved:
            if threads > n:
                lib.set_num_threads(threads)


# ----------------------------------------------------------------------------
# A big matrix product split in row blocks over threads
# ----------------------------------------------------------------------------
#: while fit, evaluate or predict hold BLAS to one thread (limit_blas_threads(1)), a convolution's
#: matrix product of at least this many floating-point operations is split in row blocks, one per
#: thread of split_threads(), each a one-thread BLAS call.  Unlike BLAS's own threads, which wait for
#: each other at every block and stall when another process holds a core, each block here is one
#: call, and a late thread delays only the end of the product (measured on 2 cores, (15488 x 288) @
#: (288 x 64) with another process busy: one thread 13 ms, two BLAS threads 16 ms, two blocks 8 ms).
SPLIT_FLOPS = 100_000_000
_SPLIT_THREADS = None         # None: os.cpu_count(), at most 4
_POOL = None


def split_threads() -> int:
    """How many threads a big product inside fit/evaluate/predict is split over (1: not split)."""
    if _SPLIT_THREADS is not None:
        return _SPLIT_THREADS
    return max(1, min(os.cpu_count() or 1, 4))


def set_split_threads(n) -> None:
    """Split big products over n threads (1: never split; None: the default, the machine's cores up to 4)."""
    global _SPLIT_THREADS
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"set_split_threads expects a positive int or None, got {n!r}")
    _SPLIT_THREADS = n


def split_rows(rows, flops):
    """The row blocks [(start, stop), ...] to split a product of `rows` rows and `flops` operations
    into: one block (no split) unless BLAS is held to one thread and the product is big."""
    parts = split_threads()
    if parts < 2 or _BLAS_LIMIT != 1 or flops < SPLIT_FLOPS or rows < 2 * parts:
        return [(0, rows)]
    bounds = [rows * i // parts for i in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def run_blocks(work, blocks):
    """work(start, stop) for each block: the first in this thread, the others in a shared pool."""
    global _POOL
    if len(blocks) == 1:
        work(*blocks[0])
        return
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor
        _POOL = ThreadPoolExecutor(max_workers=3, thread_name_prefix="glassnet-split")
    futures = [_POOL.submit(work, *block) for block in blocks[1:]]
    try:
        work(*blocks[0])
    finally:
        for future in futures:
            future.result()



# ----------------------------------------------------------------------------
# Compiled kernels (optional numba)
# ----------------------------------------------------------------------------
_VALID_KERNELS = ("auto", "numba", "numpy")
_KERNELS_WANTED = None        # "auto", "numba" or "numpy"; None: read GLASSNET_KERNELS on first use
_KERNEL_TABLE = None          # name -> compiled function ({} for NumPy), resolved on first use


def set_kernels(name: str) -> None:
    """Choose the code float32 models run: "auto" (default: numba's compiled kernels when numba is
    installed, NumPy otherwise), "numba" (an ImportError if numba is missing) or "numpy"."""
    global _KERNELS_WANTED, _KERNEL_TABLE
    if name not in _VALID_KERNELS:
        raise ValueError(f"set_kernels expects one of {list(_VALID_KERNELS)}, got {name!r}")
    if name == "numba":
        _load_kernels(required=True)
    _KERNELS_WANTED, _KERNEL_TABLE = name, None


def kernels() -> str:
    """The code float32 models run now: "numba" or "numpy"."""
    return "numba" if _kernel_table() else "numpy"


def _kernel_table() -> dict:
    global _KERNELS_WANTED, _KERNEL_TABLE
    if _KERNEL_TABLE is None:
        if _KERNELS_WANTED is None:
            wanted = os.environ.get("GLASSNET_KERNELS", "auto").strip().lower() or "auto"
            if wanted not in _VALID_KERNELS:
                raise ValueError(f"the environment variable GLASSNET_KERNELS must be one of "
                                 f"{list(_VALID_KERNELS)}, got {wanted!r}")
            _KERNELS_WANTED = wanted
        _KERNEL_TABLE = {} if _KERNELS_WANTED == "numpy" else _load_kernels(_KERNELS_WANTED == "numba")
    return _KERNEL_TABLE


def _load_kernels(required=False) -> dict:
    try:
        import numba  # noqa: F401
    except ImportError:
        if required:
            raise ImportError("set_kernels('numba') needs the numba package: pip install numba "
                              "(or: pip install glassnet[fast])") from None
        return {}
    try:
        from . import _kernels
    except Exception as err:       # numba present but unusable here (e.g. no writable cache directory)
        if required:
            raise
        import warnings
        warnings.warn(f"glassnet: numba is installed but its kernels could not be loaded "
                      f"({type(err).__name__}: {err}); running the NumPy code instead "
                      f"(set GLASSNET_KERNELS=numpy to silence this)", RuntimeWarning, stacklevel=3)
        return {}
    return dict(_kernels.TABLE)


def kernel(name: str, dtype):
    """The compiled kernel `name` for arrays of `dtype`, or None: run the NumPy code.

    Kernels serve float32 only; float64 (gradient checks, exact reproduction) always runs NumPy.
    """
    if dtype != np.float32:
        return None
    table = _KERNEL_TABLE if _KERNEL_TABLE is not None else _kernel_table()
    return table.get(name)
