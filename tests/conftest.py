"""Shared pytest fixtures (append only: several test modules add to this file)."""
import random

import numpy as np
import pytest

import glassnet as gn


@pytest.fixture
def isolated_random_state(monkeypatch):
    """Let a test call gn.set_random_seed freely; glassnet's, NumPy's and Python's generators are restored after."""
    monkeypatch.setattr(gn.backend, "_RNG", gn.backend.global_rng())
    np_state, py_state = np.random.get_state(), random.getstate()
    yield
    np.random.set_state(np_state)
    random.setstate(py_state)
