"""Tools shared by the tests. The references are written without glassnet, so they can catch it."""
import contextlib
import random
import warnings

import numpy as np


def relative_error(analytic, numeric):
    """max |a - n| / max(|a|, |n|), normwise; 0 when both are all zero."""
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)))
    return 0.0 if scale == 0 else float(np.max(np.abs(analytic - numeric)) / scale)


def central_difference(f, x, h=1e-6):
    """d f(x) / dx for scalar f by central differences, perturbing x in place (and restoring it)."""
    grad = np.empty_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


@contextlib.contextmanager
def no_numerical_warnings():
    """Overflow, division by zero and invalid operations raise, and so does any warning.

    Underflow is allowed: exp(-1000) flushing to 0.0 is the correctly rounded result.
    """
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@contextlib.contextmanager
def saved_random_state():
    """Let a block reseed glassnet, NumPy and Python freely; their generators are restored after."""
    import glassnet as gn
    rng, np_state, py_state = gn.backend.global_rng(), np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        gn.backend._RNG = rng
        np.random.set_state(np_state)
        random.setstate(py_state)
