"""glassnet without numba: the tests that reach a compiled kernel, again, with GLASSNET_KERNELS=numpy.

CI installs numba (the test extra), so the rest of the suite runs the compiled kernels in float32.
Users without numba run the NumPy code; this test keeps that path covered by the same tests, in a
fresh process started with GLASSNET_KERNELS=numpy (so numba is never even imported).

Only tests that reach a kernel are worth a second run: kernels serve float32 models in fit, evaluate
and predict (Dense's forward and backward, Adam's update, the fused softmax cross-entropy); layers
stepped through by hand in float64, the notes' float64 reproductions and the losses' formulas run
the NumPy code in the main run already.  The list below is the modules (or tests) in which
glassnet.backend.kernel() handed out a compiled kernel, measured over the former eight modules
(fast paths, layers, training, optimizers, losses, notes, saving, README): 70 of 382 tests.
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = [
    "models/test_fast_paths.py",                    # float32 fit/evaluate/predict against references
    "models/test_training.py",                      # XOR, MNIST to 90%, bit-for-bit seeds, NaN stop
    "models/test_fit_weights.py",                   # weighted fused softmax/sigmoid cross-entropy
    "saving/test_model_file.py",                    # resumed training equals the uninterrupted run
    "optimizers/test_optimizer.py::test_float32_variables_stay_float32",   # Adam's update kernel
    "project/test_docs.py::test_readme_examples_run",
    "project/test_docs.py::test_docs_examples_run[models.md]",
    "project/test_docs.py::test_docs_examples_run[layers.md]",
    "project/test_docs.py::test_main_job_example_trains_the_notes_network",
]


def test_kernel_tests_pass_with_the_numpy_code_only():
    pytest.importorskip("numba")          # without numba the whole suite runs the NumPy code anyway
    env = dict(os.environ, GLASSNET_KERNELS="numpy")
    env.pop("GLASSNET_SMOKE", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist"] + \
          [os.path.join("tests", t) for t in TESTS]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    assert " passed" in last and "failed" not in last and "error" not in last, last
