"""Helpers shared by the optimizer tests."""
import numpy as np


def f64(*values):
    return np.array(values, dtype=np.float64)


def _grad_sequence(n, shape, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(n)]
