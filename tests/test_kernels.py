"""The kernel switch (gn.backend.set_kernels) and the compiled optimizer update (glassnet/_kernels.py).

The NumPy code is the reference: every kernel must give its numbers.  Adam's kernel does the same
float32 operations in the same order as Adam._update's NumPy passes, so the two agree bit for bit.
"""
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend


@pytest.fixture
def restore_kernels(monkeypatch):
    """Let a test switch kernels; the setting in force before it is back afterwards."""
    monkeypatch.setattr(backend, "_KERNELS_WANTED", backend._KERNELS_WANTED)
    monkeypatch.setattr(backend, "_KERNEL_TABLE", backend._KERNEL_TABLE)
    yield


def test_set_kernels_rejects_unknown_names(restore_kernels):
    with pytest.raises(ValueError, match=r"set_kernels expects one of \['auto', 'numba', 'numpy'\], got 'cuda'"):
        gn.backend.set_kernels("cuda")


def test_numpy_kernels_hand_out_nothing(restore_kernels):
    gn.backend.set_kernels("numpy")
    assert gn.backend.kernels() == "numpy"
    assert backend.kernel("adam", np.float32) is None


def test_environment_variable_chooses_at_first_use(restore_kernels, monkeypatch):
    monkeypatch.setenv("GLASSNET_KERNELS", "numpy")
    monkeypatch.setattr(backend, "_KERNELS_WANTED", None)
    monkeypatch.setattr(backend, "_KERNEL_TABLE", None)
    assert gn.backend.kernels() == "numpy"
    monkeypatch.setenv("GLASSNET_KERNELS", "fast")
    monkeypatch.setattr(backend, "_KERNELS_WANTED", None)
    monkeypatch.setattr(backend, "_KERNEL_TABLE", None)
    with pytest.raises(ValueError, match="GLASSNET_KERNELS must be one of .*got 'fast'"):
        gn.backend.kernels()


def test_without_numba_auto_falls_back_and_numba_is_refused(restore_kernels, monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)             # import numba -> ImportError
    monkeypatch.delitem(sys.modules, "glassnet._kernels", raising=False)
    monkeypatch.delattr(gn, "_kernels", raising=False)           # else `from . import _kernels` finds it
    gn.backend.set_kernels("auto")
    assert gn.backend.kernels() == "numpy"
    assert backend.kernel("adam", np.float32) is None
    with pytest.raises(ImportError, match=r"needs the numba package: pip install numba"):
        gn.backend.set_kernels("numba")


def test_a_numba_that_cannot_load_the_kernels_falls_back_with_a_warning(restore_kernels, monkeypatch):
    """numba importable, but glassnet._kernels fails (as with no writable cache directory)."""
    pytest.importorskip("numba")

    class Broken:
        def find_spec(self, name, path=None, target=None):
            if name == "glassnet._kernels":
                raise RuntimeError("cannot cache function '_adam': no locator available")
            return None

    monkeypatch.delitem(sys.modules, "glassnet._kernels", raising=False)
    monkeypatch.delattr(gn, "_kernels", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Broken()] + sys.meta_path)
    gn.backend.set_kernels("auto")
    with pytest.warns(RuntimeWarning, match=r"numba is installed but its kernels could not be loaded "
                                            r"\(RuntimeError: cannot cache function"):
        assert gn.backend.kernels() == "numpy"
    assert backend.kernel("adam", np.float32) is None
    with pytest.raises(RuntimeError, match="no locator available"):
        gn.backend.set_kernels("numba")


numba = pytest.importorskip("numba")


def test_auto_uses_numba_for_float32_only(restore_kernels):
    gn.backend.set_kernels("auto")
    assert gn.backend.kernels() == "numba"
    assert backend.kernel("adam", np.float32) is not None
    assert backend.kernel("adam", np.float64) is None          # float64 always runs the NumPy code
    assert backend.kernel("no such kernel", np.float32) is None


def _run_optimizer(make, mode, dtype, shape=(37, 11), steps=7, seed=0, grad_dtype=None):
    """Train one variable for a few steps on fixed random gradients; returns (variable, slots)."""
    gn.backend.set_kernels(mode)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(dtype)
    grads = [(rng.standard_normal(shape) * 10.0 ** rng.integers(-4, 2)).astype(grad_dtype or dtype) for _ in range(steps)]
    opt = make()
    for g in grads:
        opt.apply([g], [w])
    return w, opt.slots[0]


ADAMS = [
    ("adam", lambda: gn.optimizers.Adam(0.01)),
    ("adam_amsgrad", lambda: gn.optimizers.Adam(0.01, amsgrad=True)),
    ("adamw", lambda: gn.optimizers.AdamW(0.01, weight_decay=0.05)),
    ("adam_betas", lambda: gn.optimizers.Adam(0.003, beta_1=0.5, beta_2=0.9, epsilon=1e-3)),
    ("adam_schedule", lambda: gn.optimizers.Adam(gn.optimizers.ExponentialDecay(0.01, 2, 0.5))),
]


@pytest.mark.parametrize("name, make", ADAMS, ids=[a[0] for a in ADAMS])
def test_adam_kernel_is_bit_for_bit_the_numpy_update(restore_kernels, name, make):
    w_fast, s_fast = _run_optimizer(make, "numba", np.float32)
    w_ref, s_ref = _run_optimizer(make, "numpy", np.float32)
    assert w_fast.dtype == np.float32
    np.testing.assert_array_equal(w_fast, w_ref)
    for key in s_ref:
        np.testing.assert_array_equal(s_fast[key], s_ref[key])
    start = np.random.default_rng(0).standard_normal((37, 11)).astype(np.float32)
    assert np.abs(w_fast - start).max() > 1e-3                    # the steps did move the weights


def test_adam_kernel_leaves_mixed_dtypes_to_numpy(restore_kernels):
    """float64 gradients for float32 weights: NumPy's mixed-type rules decide, as without kernels."""
    make = ADAMS[0][1]
    w_fast, _ = _run_optimizer(make, "numba", np.float32, grad_dtype=np.float64)
    w_ref, _ = _run_optimizer(make, "numpy", np.float32, grad_dtype=np.float64)
    np.testing.assert_array_equal(w_fast, w_ref)


def test_adam_kernel_matches_a_float64_hand_formula(restore_kernels):
    """Keras's Adam written out in float64, against the float32 kernel."""
    gn.backend.set_kernels("numba")
    rng = np.random.default_rng(3)
    w64 = rng.standard_normal(500)
    w = w64.astype(np.float32)
    opt = gn.optimizers.Adam(0.01)
    m = np.zeros(500)
    v = np.zeros(500)
    for t in range(1, 6):
        g64 = rng.standard_normal(500)
        opt.apply([g64.astype(np.float32)], [w])
        g64 = g64.astype(np.float32).astype(np.float64)
        m = 0.9 * m + 0.1 * g64
        v = 0.999 * v + 0.001 * g64 ** 2
        w64 = w64 - 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(w, w64, rtol=1e-5, atol=1e-6)


def test_adam_kernel_skips_non_contiguous_variables(restore_kernels):
    """A strided view cannot be walked as one flat array: the NumPy code updates it instead."""
    results = []
    for mode in ("numba", "numpy"):
        gn.backend.set_kernels(mode)
        base = np.arange(40, dtype=np.float32).reshape(8, 5) / 10
        view = base[:, ::2]
        gn.optimizers.Adam(0.1).apply([np.ones_like(view)], [view])
        results.append(base)
    np.testing.assert_array_equal(results[0], results[1])
    assert results[0][0, 1] == np.float32(0.1)                  # the skipped columns were left alone


def test_model_training_with_kernels_equals_numpy_in_float64_exactly(restore_kernels):
    """float64 never runs a kernel: the two settings give the same weights, bit for bit."""
    rng = np.random.default_rng(1)
    x, y = rng.random((64, 6)), rng.integers(0, 3, 64)
    weights = []
    for mode in ("numba", "numpy"):
        gn.backend.set_kernels(mode)
        model = gn.Sequential([gn.layers.Dense(5, activation="sigmoid", input_shape=(6,), dtype="float64",
                                               kernel_initializer=gn.initializers.RandomNormal(0.5, seed=1)),
                               gn.layers.Dense(3, activation="softmax", dtype="float64",
                                               kernel_initializer=gn.initializers.RandomNormal(0.5, seed=2))])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, doctor=False)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
