"""Hypothesis settings for the property-based tests (tests/property/).

The profile "glassnet" (loaded here) is the one CI runs: derandomize=True makes every run draw the same
examples, so a failure in CI is a failure on every machine; no example database is written; no deadline
(this 2-core machine's timings drift). Each test picks its own max_examples with `_helpers.examples(n)`,
so the folder stays within ~15 s.

    HYPOTHESIS_PROFILE=glassnet-explore python -m pytest tests/property      # random examples, 10x as many

A failure prints the smallest example Hypothesis found and a line `@reproduce_failure(...)` (print_blob)
to paste above the test to replay it exactly.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "glassnet",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("glassnet-explore", parent=settings.get_profile("glassnet"), derandomize=False,
                          max_examples=400)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "glassnet"))



@pytest.fixture(autouse=True)
def _numpy_seed_untouched():
    """A property must not depend on (or disturb) NumPy's global generator."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)
