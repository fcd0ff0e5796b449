"""The compiled pooling kernels (glassnet/_conv_kernels.py: max_pool, max_unpool, average_pool,
average_unpool) against their NumPy twins.

Inside a running float32 model, MaxPooling and AveragePooling (1-D and 2-D) with windows side by side run
the kernels; their y and dx must equal, bit for bit, those of the NumPy fast path (gn.backend.set_kernels
("numpy")) and of the reference path (layer.tiled = False: windows + col2im; for an average within a
rounding, as it divides by the count where the others multiply by 1 / count). The inputs are small
integers, so most windows hold a tie (the first max must win), and the sizes are odd (the last row or
column gets no gradient). The kernels must have run (the table is wrapped to count calls); float64, a
layer used by hand and a strided input never run them.
"""

import numpy as np
import pytest

pytest.importorskip("numba")

import glassnet as gn                                      # noqa: E402
from glassnet import _conv_kernels, backend                # noqa: E402

pytestmark = pytest.mark.usefixtures("isolated_random_state")
L = gn.layers


def integers(rng, shape, dtype="float32"):
    """Small integers: nearly every 2x2 window of 0..3 holds a tie."""
    return rng.integers(0, 4, size=shape).astype(dtype)


def pool_step(cls, features, pool_size, n=5, seed=0, by_hand=False, dtype="float32", tiled=True, training=True,
              x=None):
    """A model's second layer (cls(pool_size)) driven by hand while the model runs (or, by_hand, outside it):
    (y, dx), copied."""
    rng = np.random.default_rng(seed)
    layer = cls(pool_size, dtype=dtype)
    layer.tiled = tiled
    model = gn.Sequential([L.Input(features), L.Identity(dtype=dtype), layer])
    model.compile("sgd", "mse")
    layer.need_input_grad = True                     # (a model skips dx before its first layer with weights)
    x = integers(rng, (n,) + features, dtype) if x is None else x
    dy = rng.normal(size=(n,) + layer.compute_output_shape((None,) + features)[1:]).astype(dtype)

    def run():
        y = layer.forward(x, training=training).copy()
        return y, layer.backward(dy).copy()
    if by_hand:
        return run()
    with model._running(n):
        run()                                        # twice: the second reuses the kept buffers
        return run()


CASES = [(L.MaxPooling2D, (9, 11, 8), 2), (L.MaxPooling2D, (8, 8, 3), 2), (L.MaxPooling2D, (10, 7, 5), 3),
         (L.MaxPooling2D, (7, 9, 4), (2, 3)), (L.MaxPooling1D, (13, 6), 2), (L.MaxPooling1D, (12, 3), 3),
         (L.AveragePooling2D, (9, 11, 8), 2), (L.AveragePooling2D, (10, 7, 5), 3), (L.AveragePooling1D, (13, 6), 2),
         (L.AveragePooling1D, (12, 3), 3)]


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c.__name__}-{f}-{p}" for c, f, p in CASES])
def test_pooling_kernels_equal_the_numpy_paths_bit_for_bit(kernels, case, training):
    cls, features, pool = CASES[case]
    kind = "max" if "Max" in cls.__name__ else "average"
    kernels("numpy")
    tiled = pool_step(cls, features, pool, training=training)
    reference = pool_step(cls, features, pool, training=training, tiled=False)
    calls = kernels("auto")
    compiled = pool_step(cls, features, pool, training=training)
    # two forward and two backward passes; at inference the backward finds the winners with max_pool again
    assert calls == {f"{kind}_pool": 2 + (2 if kind == "max" and not training else 0), f"{kind}_unpool": 2}
    for name, got, numpy_, ref in zip(["y", "dx"], compiled, tiled, reference):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, numpy_, err_msg=name)
        if kind == "max":
            np.testing.assert_array_equal(got, ref, err_msg=name)
        else:
            np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7, err_msg=name)


def test_ties_go_to_the_first_max_and_the_odd_edge_gets_zero(kernels):
    """A case written out: every window of ones is a tie, so dx is dy at each window's top-left pixel only."""
    kernels("auto")
    layer = L.MaxPooling2D(2)
    model = gn.Sequential([L.Input((5, 5, 2)), L.Identity(), layer])
    model.compile("sgd", "mse")
    layer.need_input_grad = True
    x = np.ones((3, 5, 5, 2), np.float32)
    dy = np.arange(1, 3 * 2 * 2 * 2 + 1, dtype=np.float32).reshape(3, 2, 2, 2)
    want = np.zeros_like(x)
    want[:, 0:4:2, 0:4:2] = dy
    with model._running(3):
        for _ in range(2):                            # the second time over a dx buffer full of the first's numbers
            np.testing.assert_array_equal(layer.forward(x, training=True), np.ones((3, 2, 2, 2), np.float32))
            np.testing.assert_array_equal(layer.backward(dy), want)
    assert layer._compiled


def test_the_kernels_called_directly():
    """max_pool's index and max_unpool's dx against an argmax written out with NumPy, ties and NaN included."""
    rng = np.random.default_rng(4)
    x = integers(rng, (3, 7, 9, 5))
    x[0, 0, 1, 0] = x[1, 2, 2, 3] = x[1, 3, 3, 3] = np.nan
    windows = x[:, :6, :9].reshape(3, 2, 3, 3, 3, 5).transpose(0, 1, 3, 2, 4, 5).reshape(3, 2, 3, 9, 5)
    filled = np.where(np.isnan(windows), np.inf, windows)           # argmax: the first NaN, else the first max
    want_index = np.argmax(filled, axis=3)
    want_y = np.take_along_axis(windows, want_index[:, :, :, None], axis=3)[:, :, :, 0]
    y = np.full((3, 2, 3, 5), -1, np.float32)
    index = np.full(y.shape, 99, np.uint8)
    _conv_kernels.max_pool(x, y, index, 3, 3)
    np.testing.assert_array_equal(index, want_index)
    np.testing.assert_array_equal(y, want_y)
    assert np.isnan(y[0, 0, 0, 0]) and np.isnan(y[1, 0, 0, 3]) and np.isnan(y[1, 1, 1, 3])
    y2 = np.full_like(y, -1)
    _conv_kernels.max_pool(x, y2, None, 3, 3)
    np.testing.assert_array_equal(y2, y)
    dy = rng.normal(size=y.shape).astype(np.float32)
    dx = np.full(x.shape, np.nan, np.float32)
    _conv_kernels.max_unpool(dy, index, dx, 3, 3)
    want = np.zeros_like(windows)
    np.put_along_axis(want, want_index[:, :, :, None], dy[:, :, :, None], axis=3)
    want_dx = np.zeros_like(x)
    want_dx[:, :6, :9] = want.reshape(3, 2, 3, 3, 3, 5).transpose(0, 1, 3, 2, 4, 5).reshape(3, 6, 9, 5)
    np.testing.assert_array_equal(dx, want_dx)


def test_float64_by_hand_and_strided_inputs_run_no_kernel(kernels):
    calls = kernels("auto")
    pool_step(L.MaxPooling2D, (9, 8, 8), 2, dtype="float64")
    pool_step(L.MaxPooling2D, (9, 8, 8), 2, by_hand=True)
    strided = integers(np.random.default_rng(1), (5, 9, 16, 8))[:, :, ::2]
    got = pool_step(L.MaxPooling2D, (9, 8, 8), 2, x=strided)
    assert not calls
    kernels("numpy")
    want = pool_step(L.MaxPooling2D, (9, 8, 8), 2, x=np.ascontiguousarray(strided))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_fit_with_kernels_equals_fit_without(kernels):
    """A small convnet with both pooling kinds trained for two epochs (last batch smaller: views of the kept
    buffers), with every kernel but pooling's, then with all: the same weights bit for bit, as pooling's
    numbers are the same and nothing else changes."""
    def train():
        gn.set_random_seed(3)
        rng = np.random.default_rng(3)
        model = gn.Sequential([L.Input((11, 11, 2)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(2),
                               L.Conv2D(8, 2, activation="relu"), L.AveragePooling2D(2),
                               L.Flatten(), L.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(rng.normal(size=(45, 11, 11, 2)).astype(np.float32), rng.integers(0, 3, 45), batch_size=16,
                  epochs=2, verbose=0, shuffle=False)
        return model.get_weights()
    pooling = ("max_pool", "max_unpool", "average_pool", "average_unpool")
    calls = kernels("numba")
    for name in pooling:
        del backend._kernel_table()[name]
    want = train()
    assert calls["im2col"] and not any(calls[k] for k in pooling)
    calls = kernels("numba")
    got = train()
    # 3 batches x 2 epochs (the average pool's dx is needed: a Conv2D with weights comes before it)
    assert {k: calls[k] for k in pooling} == \
        {"max_pool": 6, "max_unpool": 6, "average_pool": 6, "average_unpool": 6}
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
