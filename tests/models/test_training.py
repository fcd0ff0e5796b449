"""Does glassnet learn?  XOR, the notes' MNIST network, reproducibility, one hand-worked SGD step,
gradients against finite differences, the fused softmax/cross-entropy path, validation and callbacks."""
import numpy as np
import pytest

import glassnet as gn

# every test may reseed freely: glassnet's, NumPy's and Python's generators are restored afterwards
pytestmark = pytest.mark.usefixtures("isolated_random_state")

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([0, 1, 1, 0])


@pytest.fixture
def float64():
    saved = gn.floatx()
    gn.set_floatx("float64")
    yield
    gn.set_floatx(saved)


def _xor_model(hidden_activation, seed=0):
    gn.set_random_seed(seed)
    model = gn.Sequential([
        gn.layers.Dense(8, activation=hidden_activation, input_shape=(2,)),
        gn.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


# ----------------------------------------------------------------------------
# Non-linearity: XOR
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_hidden_nonlinearity_learns_xor(activation):
    model = _xor_model(activation)
    history = model.fit(XOR_X, XOR_Y, epochs=600, batch_size=4, verbose=0)
    p = model.predict(XOR_X).ravel()
    np.testing.assert_array_equal(p > 0.5, XOR_Y.astype(bool))
    loss, acc = model.evaluate(XOR_X, XOR_Y, verbose=0)
    assert acc == 1.0
    assert loss < 0.05
    assert history.history["loss"][-1] < history.history["loss"][0] / 10


def test_linear_network_cannot_learn_xor():
    # the notes: stacked linear layers are still one linear map, so hidden layers buy nothing
    model = _xor_model("linear")
    model.fit(XOR_X, XOR_Y, epochs=600, batch_size=4, verbose=0)
    loss, acc = model.evaluate(XOR_X, XOR_Y, verbose=0)
    assert acc <= 0.75
    assert loss > 0.4            # no linear classifier gets all four points right
    W1, b1, W2, b2 = model.get_weights()
    # the whole network is x -> sigmoid(x A + c): a single linear layer in disguise
    A, c = W1 @ W2, b1 @ W2 + b2
    z = XOR_X @ A + c
    np.testing.assert_allclose(model.predict(XOR_X), gn.activations.sigmoid(z), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------
# The notes' MNIST network (003) on the bundled sample
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist():
    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    x_train = (x_train / 255.0).reshape(-1, 784).astype(np.float32)
    x_test = (x_test / 255.0).reshape(-1, 784).astype(np.float32)
    return (x_train, y_train), (x_test, y_test)


def _notes_mnist_model():
    model = gn.Sequential()
    model.add(gn.layers.Dense(50, activation="sigmoid", input_shape=(784,)))
    model.add(gn.layers.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_notes_mnist_network_reaches_90_percent(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    gn.set_random_seed(1)
    model = _notes_mnist_model()
    history = model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc >= 0.90, f"test accuracy {acc:.4f}"
    assert history.history["accuracy"][-1] > history.history["accuracy"][0]
    assert np.all(np.diff(history.history["loss"]) < 0)
    p = model.predict(x_test)
    assert p.shape == (2000, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean(np.argmax(p, axis=1) == y_test) == pytest.approx(acc)


def test_same_seed_same_run_bit_for_bit(mnist):
    (x_train, y_train), _ = mnist
    x, y = x_train[:1000], y_train[:1000]

    def run():
        gn.set_random_seed(123)
        model = _notes_mnist_model()
        history = model.fit(x, y, epochs=2, batch_size=32, validation_split=0.1, verbose=0)
        return model.get_weights(), history.history

    w1, h1 = run()
    w2, h2 = run()
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    # and a different seed gives a different run
    gn.set_random_seed(124)
    other = _notes_mnist_model().get_weights()
    assert not np.array_equal(other[0], w1[0])


def test_float64_mode_trains(float64):
    gn.set_random_seed(3)
    model = gn.Sequential([gn.layers.Dense(8, activation="tanh", input_shape=(2,)),
                           gn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(XOR_X, XOR_Y, epochs=600, batch_size=4, verbose=0)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(XOR_X).dtype == np.float64
    assert history.history["accuracy"][-1] == 1.0
    assert history.history["loss"][-1] < 0.05


# ----------------------------------------------------------------------------
# One SGD step by hand (scikit-learn's test_fit style)
# ----------------------------------------------------------------------------
def test_one_sgd_step_matches_a_hand_computation():
    x = np.array([[0.6, 0.8, 0.0], [0.1, -0.4, 0.9]])
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    W1 = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]])
    b1 = np.array([0.01, -0.02])
    W2 = np.array([[0.7, -0.8], [0.9, 0.25]])
    b2 = np.array([0.05, 0.1])
    lr = 0.1

    model = gn.Sequential([gn.layers.Dense(2, activation="sigmoid", input_shape=(3,), dtype="float64"),
                           gn.layers.Dense(2, dtype="float64")])
    model.set_weights([W1, b1, W2, b2])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=lr), loss="mse")
    loss = model.train_on_batch(x, t)

    # forward
    z1 = x @ W1 + b1
    h = 1.0 / (1.0 + np.exp(-z1))
    y = h @ W2 + b2
    # L = mean over the batch (2) and the outputs (2) of (y - t)^2
    n_values = y.size
    expected_loss = np.sum((y - t) ** 2) / n_values
    # backward
    dy = 2.0 * (y - t) / n_values
    gW2, gb2 = h.T @ dy, dy.sum(axis=0)
    dz1 = (dy @ W2.T) * h * (1.0 - h)
    gW1, gb1 = x.T @ dz1, dz1.sum(axis=0)

    assert loss == pytest.approx(expected_loss, rel=1e-14)       # the loss before the update
    expected = [W1 - lr * gW1, b1 - lr * gb1, W2 - lr * gW2, b2 - lr * gb2]
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16)
    # a concrete number, worked on paper: the first output bias
    assert model.get_weights()[3][0] == pytest.approx(0.05 - 0.1 * np.sum(2 * (y[:, 0] - t[:, 0]) / 4), rel=1e-14)


# ----------------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------------
def _small_classifier(last_activation="softmax", loss="sparse_categorical_crossentropy", seed=7):
    gn.set_random_seed(seed)
    model = gn.Sequential([gn.layers.Dense(6, activation="tanh", input_shape=(4,), dtype="float64"),
                           gn.layers.Dense(5, activation="sigmoid", dtype="float64"),
                           gn.layers.Dense(3, activation=last_activation, dtype="float64")])
    model.compile(optimizer="sgd", loss=loss)
    return model


def _central_differences(model, x, y, eps=1e-6):
    weights = model.get_weights()
    grads = []
    for i, w in enumerate(weights):
        g = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            trial = [v.copy() for v in weights]
            trial[i][idx] = w[idx] + eps
            model.set_weights(trial)
            up = model.evaluate(x, y, verbose=0)
            trial[i][idx] = w[idx] - eps
            model.set_weights(trial)
            down = model.evaluate(x, y, verbose=0)
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    model.set_weights(weights)
    return grads


@pytest.mark.parametrize("last_activation,loss,target", [
    ("softmax", "sparse_categorical_crossentropy", "labels"),
    ("softmax", "categorical_crossentropy", "onehot"),
    ("linear", "mse", "onehot"),
    ("sigmoid", "binary_crossentropy", "onehot"),
])
def test_compute_gradients_matches_central_differences(last_activation, loss, target):
    model = _small_classifier(last_activation, loss)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 4))
    labels = rng.integers(0, 3, size=7)
    y = labels if target == "labels" else np.eye(3)[labels]
    before = model.get_weights()

    value, grads = model.compute_gradients(x, y)

    assert value == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-12)
    assert [g.shape for g in grads] == [w.shape for w in model.get_weights()]
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)                        # nothing was updated
    numeric = _central_differences(model, x, y)
    for g, n in zip(grads, numeric):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-9)


def test_fused_softmax_crossentropy_equals_unfused_path():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(9, 4))
    t = np.eye(3)[rng.integers(0, 3, size=9)]

    fused = _small_classifier("softmax", "categorical_crossentropy")
    logits = _small_classifier("linear", gn.losses.CategoricalCrossentropy(from_logits=True))
    logits.set_weights(fused.get_weights())
    loss_f, grads_f = fused.compute_gradients(x, t)
    loss_l, grads_l = logits.compute_gradients(x, t)

    # the unfused path by hand: softmax's own backward (its Jacobian) after the loss's dL/dp
    layers = fused.layers
    h = x
    for layer in layers:
        h = layer.forward(h, training=True)
    p = h
    loss_u = gn.losses.CategoricalCrossentropy()(t, p)
    d = gn.losses.CategoricalCrossentropy().gradient(t, p)
    for layer in reversed(layers):
        d = layer.backward(d)
    grads_u = [layer.grads[k].copy() for layer in layers for k in ("W", "b")]

    assert loss_f == pytest.approx(loss_l, rel=1e-12)
    assert loss_f == pytest.approx(loss_u, rel=1e-12)
    for gf, gl, gu in zip(grads_f, grads_l, grads_u):
        np.testing.assert_allclose(gf, gl, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(gf, gu, rtol=1e-9, atol=1e-12)
    # and the last layer's dL/dz is (p - t) / n
    np.testing.assert_allclose(grads_f[-1], np.sum(p - t, axis=0) / len(x), rtol=1e-12)


def test_fused_path_trains_like_the_logits_path():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 4))
    t = np.eye(3)[rng.integers(0, 3, size=32)]
    a = _small_classifier("softmax", "categorical_crossentropy")
    b = _small_classifier("linear", gn.losses.CategoricalCrossentropy(from_logits=True))
    b.set_weights(a.get_weights())
    ha = a.fit(x, t, epochs=3, batch_size=8, shuffle=False, verbose=0)
    hb = b.fit(x, t, epochs=3, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-12)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------
# Validation data
# ----------------------------------------------------------------------------
def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centres = np.array([[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
    x = centres[y] + rng.normal(scale=0.7, size=(n, 4))
    return x, y


def _blob_model(seed=0):
    gn.set_random_seed(seed)
    model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(4,), dtype="float64"),
                           gn.layers.Dense(3, activation="softmax", dtype="float64")])
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_validation_split_scores_equal_evaluate_on_the_held_out_tail():
    x, y = _blobs()
    model = _blob_model()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["val_loss"]) == 3
    x_val, y_val = x[150:], y[150:]                 # Keras holds out the last 25 %, before shuffling
    loss, acc = model.evaluate(x_val, y_val, batch_size=16, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(loss, rel=1e-12)
    assert history.history["val_accuracy"][-1] == pytest.approx(acc, abs=1e-12)


def test_validation_data_scores_equal_evaluate():
    x, y = _blobs()
    x_val, y_val = _blobs(60, seed=1)
    model = _blob_model()
    history = model.fit(x, y, epochs=2, batch_size=32, validation_data=(x_val, y_val), verbose=0)
    loss, acc = model.evaluate(x_val, y_val, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(loss, rel=1e-12)
    assert history.history["val_accuracy"][-1] == pytest.approx(acc, abs=1e-12)


# ----------------------------------------------------------------------------
# Callbacks
# ----------------------------------------------------------------------------
class _WeightRecorder(gn.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = _blobs(120)
    # validation data with 30 % wrong labels: val_loss falls for two epochs, then rises
    x_val, y_val = _blobs(60, seed=5)
    y_val[:18] = (y_val[:18] + 1) % 3
    model = _blob_model()
    recorder = _WeightRecorder()
    stopper = gn.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=50, batch_size=16, validation_data=(x_val, y_val),
                        callbacks=[recorder, stopper], verbose=0)
    val = history.history["val_loss"]
    assert len(val) < 50                                         # it stopped
    best = int(np.argmin(val))
    assert 0 < best < len(val) - 1                               # improved, then got worse
    assert len(val) == best + 1 + 2                              # patience epochs after the best one
    for got, want in zip(model.get_weights(), recorder.weights[best]):
        np.testing.assert_array_equal(got, want)
    assert model.evaluate(x_val, y_val, verbose=0)[0] == pytest.approx(val[best], rel=1e-12)


def test_terminate_on_nan_stops_on_a_huge_learning_rate(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)) * 100
    y = x @ np.array([[1.0], [-2.0], [3.0]]) * 100
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(3,)), gn.layers.Dense(1)])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=1e6), loss="mse")
    with np.errstate(over="ignore", invalid="ignore"):
        history = model.fit(x, y, epochs=20, batch_size=8, callbacks=[gn.callbacks.TerminateOnNaN()], verbose=0,
                            doctor=False)
    assert len(history.history["loss"]) == 1                     # stopped inside the first epoch
    assert not np.isfinite(history.history["loss"][-1])
    assert "Invalid loss" in capsys.readouterr().out
