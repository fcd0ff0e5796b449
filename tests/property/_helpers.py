"""Shared pieces of the property tests: the example budget, strategies and the clean-error check."""
import re

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def examples(n):
    """settings(max_examples=n) under the loaded profile (ten times n under glassnet-explore)."""
    return settings(max_examples=n * (10 if settings.default.max_examples >= 400 else 1))


FLOATS = (np.float32, np.float64)


def floats(dtype, lo=None, hi=None, **kw):
    """Finite numbers representable in dtype (subnormals included unless bounds say otherwise)."""
    dtype = np.dtype(dtype)
    lo, hi = (None if v is None else float(dtype.type(v)) for v in (lo, hi))     # bounds the dtype can hold
    return st.floats(lo, hi, width=8 * dtype.itemsize, allow_nan=False, allow_infinity=False, **kw)


def arrays(dtype, shape, lo=None, hi=None, **kw):
    return hnp.arrays(dtype, shape, elements=floats(dtype, lo, hi, **kw))


def small_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def assert_clean_error(err, *words):
    """err is a ValueError/TypeError whose message is a sentence that names each of `words`."""
    assert isinstance(err, (ValueError, TypeError)), f"{type(err).__name__}: {err}"
    message = str(err)
    assert len(message) > 10, f"a bare {type(err).__name__}: {message!r}"
    for w in words:
        assert re.search(re.escape(str(w)), message), f"the message does not name {w!r}: {message!r}"
