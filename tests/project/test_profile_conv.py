"""bench/profile_conv.py (the per-layer profile of C5's training step): it runs, and its floor times the
products the step's layers really do.  Speed itself is never asserted."""
import os
import subprocess
import sys

import pytest

import glassnet as gn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from bench import profile_conv  # noqa: E402

pytestmark = pytest.mark.usefixtures("isolated_random_state")


def test_the_floor_times_the_products_of_the_step():
    model = profile_conv.glassnet_model()
    convs = [layer for layer in model.layers if isinstance(layer, gn.layers.Conv2D)]
    shapes = [layer.matmul_shape(16) for layer in convs] + [(16, 1600, 10)]
    names = [name for name, _ in profile_conv.floor_products(16)]
    for (m, k, n), first in zip(shapes, range(0, 9, 3)):
        assert f"({m}x{k}) @ ({k}x{n})" in names[first]            # forward: cols @ W
        assert f"({k}x{m}) @ ({m}x{n})" in names[first + 1]        # dW = cols.T @ dz
        assert f"({m}x{n}) @ ({n}x{k})" in names[first + 2]        # dcols = dz @ W.T


def test_the_profile_runs_and_reports_every_layer():
    result = subprocess.run([sys.executable, "-m", "bench.profile_conv", "--rounds", "1", "--steps", "1",
                             "--no-torch", "--threads", "1", "--batch", "8"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "C5 step, batch 8, 1 thread(s), kernels" in out
    for i, name in enumerate(["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]):
        assert f"   {i} {name:<20} forward" in out and f"   {i} {name:<20} backward" in out
    assert "glassnet / floor" in out
