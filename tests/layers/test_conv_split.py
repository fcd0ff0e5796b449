"""A convolution's big products split in row blocks over threads (backend.split_rows, run_blocks):
the same numbers as one product, and only where BLAS is held to one thread."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import backend
from glassnet.models import batches


@pytest.fixture
def split_everything(monkeypatch):
    """Every product of a model step is split, over 3 threads."""
    monkeypatch.setattr(backend, "SPLIT_FLOPS", 0)
    backend.set_split_threads(3)
    yield
    backend.set_split_threads(None)


def test_split_rows_needs_one_blas_thread_and_a_big_product(monkeypatch):
    backend.set_split_threads(2)
    try:
        assert backend.split_rows(100, 10**12) == [(0, 100)]                 # BLAS's own threads: no split
        with backend.limit_blas_threads(1):
            if backend._blas_controller():
                assert backend.split_rows(100, 10**12) == [(0, 50), (50, 100)]
                assert backend.split_rows(100, backend.SPLIT_FLOPS - 1) == [(0, 100)]
                assert backend.split_rows(3, 10**12) == [(0, 3)]              # too few rows to share
                backend.set_split_threads(3)
                assert backend.split_rows(10, 10**12) == [(0, 3), (3, 6), (6, 10)]
                backend.set_split_threads(1)
                assert backend.split_rows(100, 10**12) == [(0, 100)]
        assert backend._BLAS_LIMIT is None
    finally:
        backend.set_split_threads(None)
    for bad in (0, -1, 2.0, True, "2"):
        with pytest.raises(ValueError, match="positive int or None"):
            backend.set_split_threads(bad)


def test_run_blocks_runs_every_block_and_passes_on_an_error():
    seen = []
    backend.run_blocks(lambda i, j: seen.append((i, j)), [(0, 2), (2, 5), (5, 9)])
    assert sorted(seen) == [(0, 2), (2, 5), (5, 9)]

    def fails(i, j):
        if i:
            raise RuntimeError(f"block {i}")
    with pytest.raises(RuntimeError, match="block 2"):
        backend.run_blocks(fails, [(0, 2), (2, 5)])


def _step(model, x, y):
    """One forward and backward of the model's layers in a model's running state; the outputs and grads."""
    with batches.running(model, len(x)):
        h = x
        for layer in model.layers:
            h = layer.forward(h, training=True)
        d = (h - np.eye(h.shape[-1], dtype=h.dtype)[y]) / len(x)
        for layer in reversed(model.layers):
            d = layer.backward(d)
    return h.copy(), {f"{i}/{k}": g.copy() for i, layer in enumerate(model.layers) for k, g in layer.grads.items()}


@pytest.mark.skipif(not backend._blas_controller(), reason="needs threadpoolctl to hold BLAS to one thread")
def test_split_products_give_the_products_numbers(split_everything, monkeypatch):
    gn.set_random_seed(0)
    L = gn.layers
    model = gn.Sequential([gn.Input((9, 8, 3)), L.Conv2D(5, 3, activation="relu"), L.Conv2D(4, 2, strides=2),
                           L.Flatten(), L.Dense(6, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    for layer in model.layers:
        layer.need_input_grad = True
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((7, 9, 8, 3)).astype("float32"), rng.integers(0, 6, 7)
    monkeypatch.setattr(backend, "SMALL_MATMUL_FLOPS", 10**18)            # fit's rule: one BLAS thread
    blocks = []
    real = backend.run_blocks
    monkeypatch.setattr(backend, "run_blocks", lambda work, b: (blocks.append(len(b)), real(work, b)))
    split_out, split_grads = _step(model, x, y)
    assert blocks and max(blocks) == 3                                    # the products did run in 3 blocks
    backend.set_split_threads(1)
    blocks.clear()
    one_out, one_grads = _step(model, x, y)
    assert set(blocks) == {1}
    np.testing.assert_array_equal(split_out, one_out)                    # a row is the same sum either way
    for key in one_grads:                                                 # dW: partial sums, added
        np.testing.assert_allclose(split_grads[key], one_grads[key], rtol=1e-5, atol=1e-6, err_msg=key)
    # and both are the float64 gradient (central differences check the layer elsewhere)
    gn.set_floatx("float64")
    try:
        model64 = gn.Sequential([gn.Input((9, 8, 3)), L.Conv2D(5, 3, activation="relu"), L.Conv2D(4, 2, strides=2),
                                 L.Flatten(), L.Dense(6, activation="softmax")])
    finally:
        gn.set_floatx("float32")
    model64.compile("sgd", "sparse_categorical_crossentropy")
    model64.set_weights(model.get_weights())
    for layer in model64.layers:
        layer.need_input_grad = True
    out64, grads64 = _step(model64, x.astype("float64"), y)
    np.testing.assert_allclose(split_out, out64, rtol=1e-4, atol=1e-5)
    for key in grads64:
        np.testing.assert_allclose(split_grads[key], grads64[key], rtol=1e-3, atol=1e-5, err_msg=key)


@pytest.mark.skipif(not backend._blas_controller(), reason="needs threadpoolctl to hold BLAS to one thread")
def test_fit_with_split_products_learns_as_without(split_everything, monkeypatch):
    L = gn.layers
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 8, 8, 1)).astype("float32")
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(int)
    weights = []
    for threads in (3, 1):
        backend.set_split_threads(threads)
        gn.set_random_seed(0)
        model = gn.Sequential([gn.Input((8, 8, 1)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(2),
                               L.Conv2D(8, 3, activation="relu"), L.Flatten(), L.Dense(2, activation="softmax")])
        model.compile(gn.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=32, epochs=15, verbose=0)
        weights.append(model.get_weights())
        assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
