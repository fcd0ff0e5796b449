"""glassnet without numba: the numeric test modules again, in a fresh process with GLASSNET_KERNELS=numpy.

CI installs numba (the test extra), so the rest of the suite runs the compiled kernels in float32.
Users without numba run the NumPy code; this test keeps that path covered by the same tests.
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = ["models/test_fast_paths.py", "layers/test_layers.py", "models/test_training.py", "test_optimizers.py",
           "test_losses.py", "project/test_notes.py", "saving/test_saving.py", "project/test_readme.py"]


def test_numeric_modules_pass_with_the_numpy_code_only():
    pytest.importorskip("numba")          # without numba the whole suite runs the NumPy code anyway
    env = dict(os.environ, GLASSNET_KERNELS="numpy")
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"] + \
          [os.path.join("tests", m) for m in MODULES]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    assert " passed" in last and "failed" not in last and "error" not in last, last
