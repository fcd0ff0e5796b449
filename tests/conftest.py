"""Shared pytest fixtures (append only: several test modules add to this file)."""
import collections
import os
import random

# scikit-learn's array-API estimator check (tests/wrappers) runs only when SciPy was imported with this
# set: it checks that array-API dispatch with NumPy inputs changes no result. Set before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

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


# ---------------------------------------------------------------------------- the smoke subset
# GLASSNET_SMOKE=1 runs only these tests (each with all its parameters), marked `smoke`; everything
# else is deselected.  tests/project/test_clean_copy.py sets it for the README's test command inside
# its fresh clone, so the suite does not run twice.  One representative, quick test per package.
# A listed test that no longer exists is an error: rename it here too.
SMOKE_TESTS = [
    "tests/test_activations.py::test_sigmoid",
    "tests/test_losses.py::test_categorical_crossentropy_hand_worked",
    "tests/optimizers/test_sgd.py::test_sgd_momentum_two_steps_literal",
    "tests/test_gradcheck.py::test_numerical_gradient_reproduces_the_notes",
    "tests/test_backend.py::test_float32_is_the_default",
    "tests/test_kernels.py::test_auto_uses_numba_for_float32_only",
    "tests/test_perceptron.py::test_fit_on_and_gives_the_hand_worked_result",
    "tests/callbacks/test_early_stopping.py::test_early_stopping_min_delta",
    "tests/layers/test_layers.py::test_dense_backward_matches_central_differences",
    "tests/models/test_training.py::test_one_sgd_step_matches_a_hand_computation",
    "tests/models/test_summary.py::test_the_details_table_for_the_notes_network",
    "tests/saving/test_model_file.py::test_keras_style_entry_points",
    "tests/cli/test_cli.py::test_console_script_prints_the_version",
    "tests/plot/test_plot.py::test_plot_history_draws_the_history_values_in_loss_and_accuracy_panels",
    "tests/explain/test_explain.py::test_trace_matches_a_hand_computation_of_the_2_3_2_network",
    "tests/datasets/test_mnist.py::test_shipped_files_match_the_official_digests",
    "tests/project/test_docs.py::test_readme_examples_run",
    "tests/project/test_examples.py::test_note004_forward_pass",
]


def pytest_ignore_collect(collection_path, config):
    """With GLASSNET_SMOKE=1, do not even import the test modules that hold no smoke test."""
    if os.environ.get("GLASSNET_SMOKE", "") != "1" or collection_path.suffix != ".py" \
            or not collection_path.name.startswith("test_"):
        return None
    try:
        name = collection_path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return None
    return True if name not in {test.split("::")[0] for test in SMOKE_TESTS} else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark the smoke tests; with GLASSNET_SMOKE=1 keep only them (all of them must exist)."""
    wanted = {}
    for item in items:
        base = item.nodeid.split("[", 1)[0]
        if base in SMOKE_TESTS:
            item.add_marker(pytest.mark.smoke)
            wanted.setdefault(base, []).append(item)
    if os.environ.get("GLASSNET_SMOKE", "") != "1":
        return
    whole_suite = not config.args or config.args_source == pytest.Config.ArgsSource.TESTPATHS
    missing = [name for name in SMOKE_TESTS if name not in wanted]
    if missing and whole_suite:
        raise pytest.UsageError("GLASSNET_SMOKE=1: these smoke tests were not found (renamed or moved? "
                                "update SMOKE_TESTS in tests/conftest.py): " + ", ".join(missing))
    keep = [item for item in items if item.nodeid.split("[", 1)[0] in wanted]
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid.split("[", 1)[0] not in wanted])
    items[:] = keep


# ---------------------------------------------------------------------------- Keras 3 as a reference
@pytest.fixture(scope="module")
def keras():
    """Keras 3 on the torch backend, or the test is skipped (CI installs both)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"the Keras reference tests run Keras on torch, this Keras runs on {keras.backend.backend()}")
    return keras


@pytest.fixture
def kernels(monkeypatch):
    """(tests/test_kernels_conv.py, test_kernels_pool.py, layers/test_layer_kernels.py)
    use(name) switches with set_kernels(name) and returns a Counter of kernel calls by name (with
    "auto", every kernel is wrapped to count); the previous setting is restored afterwards."""
    monkeypatch.setattr(gn.backend, "_KERNELS_WANTED", gn.backend._KERNELS_WANTED)
    monkeypatch.setattr(gn.backend, "_KERNEL_TABLE", gn.backend._KERNEL_TABLE)
    calls = collections.Counter()

    def counting(name, fn):
        def kernel(*args):
            calls[name] += 1
            return fn(*args)
        return kernel

    def use(name):
        calls.clear()
        gn.backend.set_kernels(name)
        table = gn.backend._kernel_table()
        if name != "numpy":
            assert gn.backend.kernels() == "numba"
            for key, fn in list(table.items()):
                table[key] = counting(key, fn)
        return calls
    return use
