"""Fixtures for the callback tests: the data, and a random state restored after each test."""
import numpy as np
import pytest

from callbacks.callback_helpers import FEATURES, N


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    yield
