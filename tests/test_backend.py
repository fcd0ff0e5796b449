"""backend: the default float type (floatx) and seeding (set_random_seed).

float64 training is checked against a NumPy float64 reference step (a float32 computation
misses it by ~1e-8); seeding by repeating whole runs bit for bit.
"""
import random

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend


@pytest.fixture
def floatx64():
    """floatx is float64 inside the test, and float32 again afterwards whatever happens."""
    gn.set_floatx("float64")
    try:
        yield
    finally:
        gn.set_floatx("float32")


@pytest.fixture(autouse=True)
def _restore(isolated_random_state):
    before = gn.floatx()
    yield
    gn.set_floatx(before)


# --------------------------------------------------------------------------
# floatx
# --------------------------------------------------------------------------

def test_float32_is_the_default():
    assert gn.floatx() == backend.floatx() == "float32"
    layer = gn.layers.Dense(3, input_shape=(2,))
    layer.build((None, 2))
    assert layer.params["W"].dtype == np.float32 and layer.params["b"].dtype == np.float32


def test_set_floatx_float64_makes_new_layers_float64(floatx64):
    assert gn.floatx() == "float64"
    model = gn.Sequential([gn.layers.Dense(4, activation="relu", input_shape=(3,)),
                           gn.layers.BatchNormalization(),
                           gn.layers.Dense(2, activation="softmax")])
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(np.ones((2, 3), dtype=np.float32)).dtype == np.float64


def test_layers_made_before_set_floatx_keep_their_dtype(floatx64):
    gn.set_floatx("float32")
    old = gn.layers.Dense(2, input_shape=(2,))
    gn.set_floatx("float64")
    new = gn.layers.Dense(2, input_shape=(2,))
    assert old.dtype == "float32" and new.dtype == "float64"


def test_models_train_in_float64(floatx64):
    # One SGD step on softmax + cross-entropy against a float64 NumPy reference.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4))
    y = np.array([0, 2, 1, 2, 0])
    model = gn.Sequential([gn.layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy")
    W = rng.normal(size=(4, 3)) * 0.7
    b = rng.normal(size=3) * 0.3
    model.set_weights([W, b])

    z = x @ W + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(5), y]))
    dz = (p - np.eye(3)[y]) / 5
    W_next, b_next = W - 0.5 * x.T @ dz, b - 0.5 * dz.sum(axis=0)

    reported = model.train_on_batch(x, y)
    W_got, b_got = model.get_weights()
    assert W_got.dtype == np.float64
    assert reported == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(W_got, W_next, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(b_got, b_next, rtol=1e-13, atol=1e-15)


def test_fit_in_float64_keeps_everything_float64(floatx64):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(3,)),
                           gn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(x).dtype == np.float64


def test_float64_model_matches_a_float64_reference_better_than_float32_can():
    # The same step in float32 misses the float64 reference by far more than 1e-13: the
    # float64 test above could not pass on a float32 computation.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4))
    model = gn.Sequential([gn.layers.Dense(3, input_shape=(4,), dtype="float32")])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.5), loss="mse")
    W = rng.normal(size=(4, 3))
    model.set_weights([W, np.zeros(3)])
    z = model.predict(x)
    assert z.dtype == np.float32
    assert np.max(np.abs(z - x @ W)) > 1e-10


@pytest.mark.parametrize("value", ["float16", "int32", 64, "foo", None, "bfloat16", np.int64])
def test_invalid_floatx_raises_and_changes_nothing(value):
    with pytest.raises(ValueError, match="float32"):
        gn.set_floatx(value)
    assert gn.floatx() == "float32"


@pytest.mark.parametrize("value", [np.float64, np.dtype("float64"), "float64", "double"])
def test_set_floatx_accepts_numpy_types(floatx64, value):
    gn.set_floatx("float32")
    gn.set_floatx(value)
    assert gn.floatx() == "float64"


def test_standardize_dtype():
    assert backend.standardize_dtype(None) == "float32"
    assert backend.standardize_dtype(np.float32) == "float32"
    assert backend.standardize_dtype(np.dtype("float64")) == "float64"
    for bad in ("float16", np.int64, "nonsense", 3.5, object):
        with pytest.raises(ValueError):
            backend.standardize_dtype(bad)


def test_dense_dtype_argument_overrides_floatx():
    layer = gn.layers.Dense(3, dtype="float64", input_shape=(2,))
    model = gn.Sequential([layer, gn.layers.Dense(2, activation="softmax", dtype="float64")])
    assert gn.floatx() == "float32"
    assert all(w.dtype == np.float64 for w in model.get_weights())
    x = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    out = layer.forward(x.astype(np.float64))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, x.astype(np.float64) @ layer.params["W"] + layer.params["b"], rtol=1e-15)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, np.array([0, 1]), epochs=2, verbose=0)
    assert model.predict(x).dtype == np.float64


def test_mixed_dtypes_in_one_model_are_refused():
    with pytest.raises(ValueError, match="dtype"):
        gn.Sequential([gn.layers.Dense(3, input_shape=(2,), dtype="float64"),
                       gn.layers.Dense(2, dtype="float32")])


def test_invalid_layer_dtype_raises():
    with pytest.raises(ValueError, match="float32"):
        gn.layers.Dense(3, dtype="float16")


def test_epsilon():
    assert backend.epsilon() == 1e-7
    with pytest.raises(ValueError):
        backend.set_epsilon(0)
    with pytest.raises(ValueError):
        backend.set_epsilon("1e-7")
    assert backend.epsilon() == 1e-7


# --------------------------------------------------------------------------
# set_random_seed
# --------------------------------------------------------------------------

def run(seed):
    """Initial weights, History and final weights of a small run that uses every random source."""
    gn.set_random_seed(seed)
    model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(4,)),
                           gn.layers.Dropout(0.3),
                           gn.layers.Dense(3, activation="softmax", kernel_initializer="he_normal")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    initial = model.get_weights()
    data = np.random.default_rng(0)
    x = data.normal(size=(50, 4)).astype(np.float32)
    y = np.arange(50) % 3
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.2, verbose=0)
    return initial, history.history, model.get_weights()


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def test_the_same_seed_repeats_a_run_bit_for_bit():
    first, second = run(7), run(7)
    assert same(first[0], second[0])
    assert first[1] == second[1]                          # every History value, exactly
    assert same(first[2], second[2])


def test_different_seeds_give_different_runs():
    first, other = run(7), run(8)
    assert not same(first[0], other[0])
    assert first[1] != other[1]
    assert not same(first[2], other[2])


def test_a_seed_is_not_disturbed_by_unrelated_numpy_work():
    gn.set_random_seed(7)
    np.random.default_rng(5).normal()          # unrelated NumPy work does not disturb glassnet
    a = gn.layers.Dense(4, input_shape=(3,))
    a.build((None, 3))
    gn.set_random_seed(7)
    b = gn.layers.Dense(4, input_shape=(3,))
    b.build((None, 3))
    np.testing.assert_array_equal(a.params["W"], b.params["W"])


def test_set_random_seed_seeds_python_and_numpy_legacy_generators():
    gn.set_random_seed(123)
    first = (random.random(), np.random.rand())
    gn.set_random_seed(123)
    assert (random.random(), np.random.rand()) == first


def test_shuffling_depends_on_the_seed():
    orders = []
    for seed in (1, 1, 2):
        gn.set_random_seed(seed)
        model = gn.Sequential([gn.layers.Dense(2, activation="softmax", input_shape=(1,))])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        seen = []
        layer = model.layers[0]
        for method in ("forward", "forward_logits"):      # record the batches the layer is given
            original = getattr(layer, method)
            setattr(layer, method, lambda x, training=False, _f=original: (seen.append(np.array(x[:, 0])),
                                                                            _f(x, training))[1])
        model.set_weights([np.zeros((1, 2)), np.zeros(2)])
        model.fit(np.arange(12, dtype=np.float32)[:, None], np.zeros(12, int), batch_size=4, epochs=1,
                  verbose=0)
        orders.append(np.concatenate(seen))
    np.testing.assert_array_equal(orders[0], orders[1])
    assert sorted(orders[0]) == list(range(12))
    assert not np.array_equal(orders[0], orders[2])


@pytest.mark.parametrize("bad", [-1, 1.5, "7", None, True, [7]])
def test_invalid_seeds_raise(bad):
    with pytest.raises(ValueError, match="seed"):
        gn.set_random_seed(bad)


def test_numpy_integer_and_large_seeds_are_accepted():
    gn.set_random_seed(np.int64(7))
    a = backend.global_rng().random()
    gn.set_random_seed(7)
    assert backend.global_rng().random() == a
    gn.set_random_seed(2**40 + 3)
    gn.utils.set_random_seed(0)


def test_make_rng():
    assert backend.make_rng(5).random() == backend.make_rng(5).random()
    g = np.random.default_rng(0)
    assert backend.make_rng(g) is g
    with pytest.raises(ValueError):
        backend.make_rng(-3)
    gn.set_random_seed(3)
    a = backend.make_rng().random()
    gn.set_random_seed(3)
    assert backend.make_rng().random() == a
