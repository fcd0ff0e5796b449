"""The one step function (glassnet.models.step) and its Recorder hook.

A traced step is the real step: after model.trace(x, y) the weights are bit for bit those after
train_on_batch(x, y), for fused and non-fused losses, stateful optimizers, BatchNormalization and
Dropout, regularizers and clipnorm, in float64 and float32, with the compiled kernels on and off.
update=False leaves everything as it was and still reports the update.  A recorder-free fit is
checked against a step written out in NumPy.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet import backend
from glassnet.models import Recorder, Snapshot, restored, step

pytestmark = pytest.mark.usefixtures("isolated_random_state")

rng = np.random.default_rng(3)
X = rng.normal(size=(12, 5))
LABELS = rng.integers(0, 3, size=12)
TARGETS = rng.uniform(size=(12, 3))
BINARY = (rng.uniform(size=(12, 3)) > 0.5).astype(float)


def _dense(units, activation, dtype, **kwargs):
    return gn.layers.Dense(units, activation=activation, dtype=dtype, **kwargs)


def _fused(dtype):
    return [_dense(7, "tanh", dtype, input_shape=(5,)), _dense(3, "softmax", dtype)], \
        "sparse_categorical_crossentropy", LABELS


def _mse(dtype):
    return [_dense(7, "relu", dtype, input_shape=(5,)), _dense(3, "sigmoid", dtype)], "mse", TARGETS


def _sigmoid_bce(dtype):
    return [_dense(7, "sigmoid", dtype, input_shape=(5,)), _dense(3, "sigmoid", dtype)], "binary_crossentropy", BINARY


def _from_logits(dtype):
    return [_dense(7, "tanh", dtype, input_shape=(5,)), _dense(3, None, dtype)], \
        gn.losses.SparseCategoricalCrossentropy(from_logits=True), LABELS


def _bn_dropout(dtype):
    return [_dense(7, "relu", dtype, input_shape=(5,)), gn.layers.BatchNormalization(dtype=dtype),
            gn.layers.Dropout(0.3, seed=11, dtype=dtype), _dense(3, "softmax", dtype)], \
        "sparse_categorical_crossentropy", LABELS


def _regularized(dtype):
    return [_dense(7, "tanh", dtype, input_shape=(5,), kernel_regularizer=gn.regularizers.L2(0.01),
                   bias_regularizer=gn.regularizers.L1(0.02)),
            _dense(3, "softmax", dtype, kernel_regularizer=gn.regularizers.L1L2(0.01, 0.03))], \
        "sparse_categorical_crossentropy", LABELS


def _flatten_activation(dtype):
    return [gn.layers.Flatten(input_shape=(5,), dtype=dtype), _dense(4, None, dtype),
            gn.layers.Activation("tanh", dtype=dtype), _dense(3, "sigmoid", dtype)], "mse", TARGETS


def _sequence(dtype):
    """Dense on (batch, 5, 1): the N-D feature shape path (Dense acts on the last axis)."""
    return [_dense(4, "tanh", dtype, input_shape=(5, 1)), gn.layers.Flatten(dtype=dtype),
            _dense(3, "softmax", dtype)], "sparse_categorical_crossentropy", LABELS


NETWORKS = {"fused": _fused, "mse": _mse, "sigmoid_bce": _sigmoid_bce, "from_logits": _from_logits,
            "bn_dropout": _bn_dropout, "regularized": _regularized, "flatten_activation": _flatten_activation,
            "sequence": _sequence}
OPTIMIZERS = {
    "sgd": lambda: gn.optimizers.SGD(learning_rate=0.1),
    "momentum": lambda: gn.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    "adam": lambda: gn.optimizers.Adam(learning_rate=0.01),
    "clipnorm": lambda: gn.optimizers.Adam(learning_rate=0.05, clipnorm=0.1),
    "global_clipnorm": lambda: gn.optimizers.SGD(learning_rate=0.5, global_clipnorm=0.05),
}


@pytest.fixture(params=["numpy", "auto"])
def kernels(request, monkeypatch):
    """Compiled kernels off and on (numba is installed); the choice is put back afterwards."""
    monkeypatch.setattr(backend, "_KERNELS_WANTED", backend._KERNELS_WANTED)
    monkeypatch.setattr(backend, "_KERNEL_TABLE", backend._KERNEL_TABLE)
    backend.set_kernels(request.param)
    return request.param


def twins(network, optimizer, dtype):
    """Two models with the same layers, weights and optimizer, and the data for them."""
    gn.set_random_seed(5)
    layers, loss, y = NETWORKS[network](dtype)
    a = gn.Sequential(layers)
    b = gn.Sequential.from_config(a.get_config())
    b.set_weights(a.get_weights())
    a.compile(optimizer=OPTIMIZERS[optimizer](), loss=loss)
    b.compile(optimizer=OPTIMIZERS[optimizer](), loss=loss)
    x = X.reshape(len(X), 5, 1) if network == "sequence" else X
    return a, b, x.astype(dtype), y


def assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        assert wa.dtype == wb.dtype
        assert np.array_equal(wa, wb)


# ----------------------------------------------------------------------------
# trace == train_on_batch, bit for bit
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_traced_steps_equal_train_on_batch_bit_for_bit(network, dtype, kernels):
    traced, trained, x, y = twins(network, "adam", dtype)
    for _ in range(3):                                    # the optimizer's state carries over
        tr = traced.trace(x, y)
        loss = trained.train_on_batch(x, y)
        assert tr.loss == loss
        assert_same_weights(traced, trained)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_steps_the_same_when_traced(optimizer, dtype, kernels):
    for network in ("fused", "regularized", "bn_dropout"):
        traced, trained, x, y = twins(network, optimizer, dtype)
        for _ in range(2):
            traced.trace(x, y)
            trained.train_on_batch(x, y)
        assert_same_weights(traced, trained)
        assert traced.optimizer.iterations == trained.optimizer.iterations == 2


@pytest.mark.parametrize("network", ["fused", "bn_dropout", "regularized"])
def test_the_trace_records_the_step_train_on_batch_makes(network):
    traced, trained, x, y = twins(network, "momentum", "float64")
    tr = traced.trace(x, y)
    trained.train_on_batch(x, y)
    for record, layer in zip(tr.layers, trained.layers):
        for key, after in record.weights_after.items():
            assert np.array_equal(after, layer.params[key])


# ----------------------------------------------------------------------------
# update=False
# ----------------------------------------------------------------------------
def _everything(model):
    state = model.optimizer.get_state()
    rngs = [l.rng.bit_generator.state for l in model.layers if hasattr(l, "rng")]
    return model.get_weights(), state, rngs


@pytest.mark.parametrize("optimizer", ["adam", "clipnorm"])
def test_update_false_leaves_everything_and_reports_the_real_update(optimizer):
    traced, trained, x, y = twins("bn_dropout", optimizer, "float64")
    traced.train_on_batch(x, y)                           # an optimizer with state already
    trained.train_on_batch(x, y)
    weights, state, rngs = _everything(traced)
    tr = traced.trace(x, y, update=False)
    assert not tr.applied
    weights2, state2, rngs2 = _everything(traced)
    for a, b in zip(weights, weights2, strict=True):
        assert np.array_equal(a, b)
    assert state["iterations"] == state2["iterations"]
    for s1, s2 in zip(state["slots"], state2["slots"], strict=True):
        assert all(np.array_equal(s1[k], s2[k]) for k in s1)
    assert rngs == rngs2
    # the update shown is the one a real step now makes, and training goes on as if nothing happened
    loss = trained.train_on_batch(x, y)
    assert tr.loss == loss
    for record, layer in zip(tr.layers, trained.layers):
        for key, after in record.weights_after.items():
            assert np.array_equal(after, layer.params[key])
    traced.train_on_batch(x, y)                           # now both have made two steps
    assert_same_weights(traced, trained)
    assert traced.optimizer.iterations == trained.optimizer.iterations == 2


def test_update_false_on_a_model_never_trained_leaves_the_optimizer_unbuilt():
    traced, trained, x, y = twins("fused", "adam", "float64")
    traced.trace(x, y, update=False)
    assert traced.optimizer.iterations == 0 and traced.optimizer.get_state()["slots"] == []
    traced.train_on_batch(x, y)
    trained.train_on_batch(x, y)
    assert_same_weights(traced, trained)


def test_restored_puts_back_a_model_whatever_runs_inside():
    model, _, x, y = twins("bn_dropout", "adam", "float32")
    before = model.get_weights()
    with restored(model):
        model.fit(x, y, epochs=2, batch_size=4, verbose=0, doctor=False)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 0
    snapshot = Snapshot(model)
    model.train_on_batch(x, y)
    snapshot.restore()
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


# ----------------------------------------------------------------------------
# A recorder of one's own
# ----------------------------------------------------------------------------
class Log(Recorder):
    def __init__(self):
        self.events = []

    def begin(self, model, x, y):
        self.events.append(("begin", len(x)))

    def layer_forward(self, index, layer, inputs, outputs, logits=None):
        self.events.append(("forward", index, logits is not None))

    def loss(self, data_loss, regularization, fused=False):
        self.events.append(("loss", data_loss, regularization, fused))

    def layer_backward(self, index, layer, grad_output, grad_input, grads, grad_logits=None):
        self.events.append(("backward", index, grad_output is None, grad_input is None,
                            {k: g.copy() for k, g in grads.items()}))

    def update(self, changes):
        self.events.append(("update", [(layer.name, key) for layer, key, _, _ in changes]))


def test_a_recorder_sees_the_loss_train_on_batch_returns():
    traced, trained, x, y = twins("regularized", "sgd", "float64")
    log = Log()
    loss = traced.train_on_batch(x, y, recorder=log)
    assert loss == trained.train_on_batch(x, y)
    (_, data_loss, penalty, fused), = [e for e in log.events if e[0] == "loss"]
    assert fused and penalty > 0 and data_loss + penalty == loss


def test_the_hooks_come_in_the_order_of_the_step():
    model, twin, x, y = twins("bn_dropout", "sgd", "float64")
    log = Log()
    model.train_on_batch(x, y, recorder=log)
    kinds = [(e[0],) + tuple(e[1:2]) for e in log.events]
    assert kinds == [("begin", 12), ("forward", 0), ("forward", 1), ("forward", 2), ("forward", 3),
                     ("loss", log.events[5][1]), ("backward", 3), ("backward", 2), ("backward", 1),
                     ("backward", 0), ("update", log.events[10][1])]
    assert log.events[10][1] == [("dense", "W"), ("dense", "b"), ("batch_normalization", "gamma"),
                                 ("batch_normalization", "beta"), ("dense_1", "W"), ("dense_1", "b")]
    assert log.events[4][2] and log.events[1][2]          # Dense layers hand over z
    assert log.events[6][2] and not log.events[7][2]      # fused: no dL/da for the output layer
    assert log.events[9][3]                               # the first layer hands nothing further back
    _, grads = twin.compute_gradients(x, y)
    recorded = [g for e in reversed(log.events[6:10]) for g in e[4].values()]
    trainable = [g for g, w in zip(grads, twin.weights) if not any(w is s for l in twin.layers
                                                                    for s in l.state.values())]
    for got, want in zip(recorded, trainable, strict=True):
        assert np.array_equal(got, want)


def test_layers_before_the_first_with_weights_run_no_backward():
    model, _, x, y = twins("flatten_activation", "sgd", "float64")
    log = Log()
    model.train_on_batch(x, y, recorder=log)
    assert [e[1] for e in log.events if e[0] == "backward"] == [3, 2, 1]


# ----------------------------------------------------------------------------
# The recorder-free step, against NumPy
# ----------------------------------------------------------------------------
def test_fit_without_a_recorder_is_the_textbook_sgd_step():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-0.3, 0.8, 0.1], [0.0, 1.0, -1.0]])
    labels = np.array([2, 0, 1, 2])
    W1 = np.array([[0.2, -0.1, 0.4, 0.0], [-0.3, 0.5, 0.1, 0.2], [0.6, -0.4, -0.2, 0.3]])
    b1 = np.array([0.1, 0.0, -0.1, 0.05])
    W2 = np.array([[0.3, -0.6, 0.2], [0.1, 0.4, -0.5], [-0.2, 0.3, 0.7], [0.5, -0.1, 0.2]])
    b2 = np.array([0.0, 0.1, -0.1])
    lr = 0.3
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(3,), dtype="float64"),
                           gn.layers.Dense(3, activation="softmax", dtype="float64")])
    model.set_weights([W1, b1, W2, b2])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=lr), loss="sparse_categorical_crossentropy")
    history = model.fit(x, labels, batch_size=4, epochs=1, shuffle=False, verbose=0, doctor=False)

    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[labels]
    loss = -np.mean(np.log(p[np.arange(4), labels]))
    dz = (p - onehot) / 4
    dz1 = (dz @ W2.T) * (1 - h * h)
    expected = [W1 - lr * x.T @ dz1, b1 - lr * dz1.sum(0), W2 - lr * h.T @ dz, b2 - lr * dz.sum(0)]
    assert history.history["loss"][0] == pytest.approx(loss, rel=1e-14)
    for got, want in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_the_step_function_serves_predict_and_test_on_batch():
    model, _, x, y = twins("bn_dropout", "sgd", "float64")
    loss, out = step(model, x, y, training=False, backward=False, update=False)
    assert loss == model.test_on_batch(x, y)
    assert np.array_equal(out, model.predict(x, batch_size=len(x)))
    none, out2 = step(model, x, None, training=False, backward=False, update=False)
    assert none is None and np.array_equal(out2, out)
