"""The study notes' own numbers (shared/seeds/000-004), reproduced through glassnet's public API.

Every network here is built in float64 so the notes' printed digits can be matched exactly.
"""
import random

import numpy as np
import pytest

import glassnet as gn

# every test may reseed freely: glassnet's, NumPy's and Python's generators are restored afterwards
pytestmark = pytest.mark.usefixtures("isolated_random_state")

F64 = "float64"


def dense(units, **kwargs):
    return gn.layers.Dense(units, dtype=F64, **kwargs)


# ----------------------------------------------------------------------------
# 004: forward pass of one weight matrix, softmax, the two loss functions
# ----------------------------------------------------------------------------
W_004 = np.array([[0.2, 0.5, 0.3],
                  [0.8, 0.6, 0.4]])
X_004 = np.array([[1.0, 2.0]])


def _net_004(activation=None):
    model = gn.Sequential([dense(3, use_bias=False, activation=activation, input_shape=(2,))])
    model.set_weights([W_004])
    return model


def test_004_forward_without_activation():
    y = _net_004().predict(X_004)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, [[1.8, 1.7, 1.1]], rtol=0, atol=1e-15)


def test_004_forward_with_sigmoid():
    y = _net_004("sigmoid").predict(X_004)
    # the note prints 8 decimals
    np.testing.assert_allclose(y, [[0.85814894, 0.84553473, 0.75026011]], rtol=0, atol=5e-9)


def test_004_forward_is_the_elementwise_sum_of_weight_times_input():
    # forward1 in the note: y[i] = W[0][i] * x[0] + W[1][i] * x[1]
    y = _net_004().predict(X_004)[0]
    for i in range(3):
        assert y[i] == pytest.approx(W_004[0][i] * 1.0 + W_004[1][i] * 2.0, abs=1e-15)


def test_004_softmax():
    a = np.array([0.3, 2.9, 4.0])
    s = gn.activations.softmax(a)
    e = np.exp(a)
    np.testing.assert_allclose(s, e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(s, [0.01821127, 0.24519181, 0.73659691], atol=5e-9)
    assert s.sum() == pytest.approx(1.0, abs=1e-15)
    # subtracting the max keeps large inputs finite (the reason the note writes x - max(x))
    big = gn.activations.softmax(np.array([1010.0, 1000.0, 990.0]))
    assert np.all(np.isfinite(big))
    np.testing.assert_allclose(big, gn.activations.softmax(np.array([20.0, 10.0, 0.0])), rtol=1e-14)


Y_PRED = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
T_ONEHOT = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=np.float64)


def test_004_mean_squared_error():
    # note: np.mean((y - t) ** 2); glassnet takes Keras's (y_true, y_pred) order
    expected = sum((a - b) ** 2 for a, b in zip(Y_PRED, T_ONEHOT)) / 10
    assert float(gn.losses.mean_squared_error(T_ONEHOT, Y_PRED)) == pytest.approx(expected, rel=1e-15)
    assert expected == pytest.approx(0.0195, rel=1e-12)


def test_004_cross_entropy_error_notes_argument_order():
    # a batch of two samples: -sum(t * log(y + delta)) / batch_size
    y = np.stack([Y_PRED, Y_PRED[::-1]])
    t = np.stack([T_ONEHOT, T_ONEHOT])
    expected = -(np.log(0.6 + 1e-9) + np.log(0.1 + 1e-9)) / 2   # Y_PRED[::-1][2] == 0.1
    assert gn.losses.cross_entropy_error(y, t, delta=1e-9) == pytest.approx(expected, rel=1e-12)
    # one sample (a 1-D y is one sample), glassnet's default delta 1e-7
    assert gn.losses.cross_entropy_error(Y_PRED, T_ONEHOT) == pytest.approx(-np.log(0.6 + 1e-7), rel=1e-12)
    # integer labels give the same value as one-hot targets
    assert gn.losses.cross_entropy_error(y, np.array([2, 2])) == pytest.approx(
        gn.losses.cross_entropy_error(y, t), rel=1e-15)


# ----------------------------------------------------------------------------
# 000 / 001: the three-layer network
# ----------------------------------------------------------------------------
def test_000_001_three_layer_network():
    model = gn.Sequential([
        dense(3, activation="sigmoid", input_shape=(2,)),
        dense(2, activation="sigmoid"),
        dense(2),                                    # identity output (001's y = a3)
    ])
    model.set_weights([
        np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), np.array([0.1, 0.2, 0.3]),
        np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), np.array([0.1, 0.2]),
        np.array([[0.1, 0.3], [0.2, 0.4]]), np.array([0.1, 0.2]),
    ])
    y = model.predict(np.array([[1.0, 0.5]]))
    np.testing.assert_allclose(y, [[0.31682708, 0.69627909]], rtol=0, atol=5e-9)
    assert model.count_params() == 9 + 8 + 6


# ----------------------------------------------------------------------------
# 002: online back-propagation, a 2-2-2 sigmoid network, 5001 epochs
# ----------------------------------------------------------------------------
DATASET_002 = [
    [2.7810836, 2.550537003, 0],
    [1.465489372, 2.362125076, 0],
    [3.396561688, 4.400293529, 0],
    [1.38807019, 1.850220317, 0],
    [3.06407232, 3.005305973, 0],
    [7.627531214, 2.759262235, 1],
    [5.332441248, 2.088626775, 1],
    [6.922596716, 1.77106367, 1],
    [8.675418651, -0.242068655, 1],
    [7.673756466, 3.508563011, 1],
]

# error printed by the note at epochs 0, 100, ..., 5000
PRINTED_ERRORS_002 = [
    6.697, 4.299, 3.007, 2.037, 1.415, 1.020, 0.754, 0.570, 0.444, 0.356,
    0.293, 0.247, 0.212, 0.185, 0.163, 0.146, 0.131, 0.119, 0.109, 0.101,
    0.093, 0.087, 0.081, 0.076, 0.072, 0.068, 0.064, 0.061, 0.058, 0.055,
    0.053, 0.050, 0.048, 0.046, 0.045, 0.043, 0.041, 0.040, 0.039, 0.037,
    0.036, 0.035, 0.034, 0.033, 0.032, 0.031, 0.030, 0.030, 0.029, 0.028,
    0.027,
]

# the note's final network: per neuron [w_1, w_2, bias]
FINAL_HIDDEN_002 = [[-1.9544732139957548, 2.704321541499767, 1.427507893789529],
                    [1.134364357068215, -1.6866805418327002, -0.3324719515881516]]
FINAL_OUTPUT_002 = [[4.903406947389829, -2.108155861429033, -1.2721372756183076],
                    [-4.566502112347264, 2.615993561526247, 0.8280139001392679]]


def _python_random_layer(n_inputs, n_neurons):
    """Draw the note's neurons [w_1, ..., w_n, bias] from Python's `random` and lay them out as
    glassnet's Dense weights: W (in, out) with W[j, i] = neuron i's weight j, b[i] = its bias."""
    neurons = [[random.random() for _ in range(n_inputs + 1)] for _ in range(n_neurons)]
    return _as_dense(neurons)


def _as_dense(neurons):
    neurons = np.array(neurons, dtype=np.float64)
    return neurons[:, :-1].T.copy(), neurons[:, -1].copy()


def _sigmoid_net(n_in, n_hidden, n_out):
    return gn.Sequential([
        dense(n_hidden, activation="sigmoid", input_shape=(n_in,)),
        dense(n_out, activation="sigmoid"),
    ])


def test_002_initial_weights_layout():
    random.seed(1)
    W1, b1 = _python_random_layer(2, 1)
    W2, b2 = _python_random_layer(1, 2)
    # the note prints these after seed(1); initialize_network(2, 1, 2)
    np.testing.assert_array_equal(W1, [[0.13436424411240122], [0.8474337369372327]])
    np.testing.assert_array_equal(b1, [0.763774618976614])
    np.testing.assert_array_equal(W2, [[0.2550690257394217, 0.4494910647887381]])
    np.testing.assert_array_equal(b2, [0.49543508709194095, 0.651592972722763])


def test_002_worked_example_forward_and_deltas():
    random.seed(1)
    weights = [*_python_random_layer(2, 1), *_python_random_layer(1, 2)]
    model = _sigmoid_net(2, 1, 2)
    model.set_weights(weights)
    hidden, output = model.layers

    row = np.array([[1.0, 0.0]])
    expected = np.array([[0.0, 1.0]])

    # forward, layer by layer
    h = hidden.forward(row)
    o = output.forward(h)
    assert h[0, 0] == pytest.approx(0.7105668883115941, rel=1e-14)
    np.testing.assert_allclose(o, [[0.6629970129852887, 0.7253160725279748]], rtol=1e-14)
    np.testing.assert_allclose(model.predict(row), o, rtol=0, atol=0)

    # backward with L = 0.5 * sum((t - o)^2): dL/do = o - t; the note's delta is -dL/dz
    dh = output.backward(o - expected)
    output_delta = -output.grads["b"]          # dL/db = dL/dz summed over a batch of one
    hidden.backward(dh)
    hidden_delta = -hidden.grads["b"]
    np.testing.assert_allclose(output_delta, [-0.14813473120687762, 0.05472601157879688], rtol=1e-13)
    np.testing.assert_allclose(hidden_delta, [-0.002711797799238243], rtol=1e-12)

    # dL/dW = x^T dL/dz: the note's update  w += l_rate * delta * input
    np.testing.assert_allclose(output.grads["W"], -h.T @ output_delta[None, :], rtol=1e-14)
    np.testing.assert_allclose(hidden.grads["W"], -row.T @ hidden_delta[None, :], rtol=1e-14)
    # forward and backward leave the weights alone (the note's In [3])
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_002_online_training_reproduces_every_printed_error_and_the_final_weights():
    random.seed(1)
    weights = [*_python_random_layer(2, 2), *_python_random_layer(2, 2)]
    data = np.array(DATASET_002)
    x = data[:, :2]
    y = np.eye(2)[data[:, 2].astype(int)]

    model = _sigmoid_net(2, 2, 2)
    model.set_weights(weights)
    # "mse" is the mean over the 2 outputs: its gradient is (o - t), the note's delta rule
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.02), loss="mse")

    history = model.fit(x, y, batch_size=1, epochs=5001, shuffle=False, verbose=0)

    losses = np.array(history.history["loss"])
    assert losses.shape == (5001,)
    # the note's error: sum over the epoch of sum of squared errors, before each update
    #   = (mean over 10 samples of per-sample MSE) * 2 outputs * 10 samples
    printed = losses[::100] * 2 * 10
    assert len(printed) == len(PRINTED_ERRORS_002)
    for epoch, (mine, theirs) in enumerate(zip(printed, PRINTED_ERRORS_002)):
        assert f"{mine:.3f}" == f"{theirs:.3f}", f"epoch {epoch * 100}: {mine:.6f} vs the note's {theirs}"

    W1, b1, W2, b2 = model.get_weights()
    eW1, eb1 = _as_dense(FINAL_HIDDEN_002)
    eW2, eb2 = _as_dense(FINAL_OUTPUT_002)
    for got, want in ((W1, eW1), (b1, eb1), (W2, eW2), (b2, eb2)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)

    # the note's closing table: every row is classified correctly
    np.testing.assert_array_equal(np.argmax(model.predict(x), axis=1), data[:, 2].astype(int))


# ----------------------------------------------------------------------------
# 003: the Keras MNIST network and its summary
# ----------------------------------------------------------------------------
def _keras_003(dtype="float32"):
    model = gn.Sequential()
    model.add(gn.layers.Dense(50, activation="sigmoid", input_shape=(784,), dtype=dtype))
    model.add(gn.layers.Dense(10, activation="softmax", dtype=dtype))
    return model


def test_003_parameter_count():
    model = _keras_003()
    assert model.count_params() == 39_760
    assert [layer.count_params() for layer in model.layers] == [784 * 50 + 50, 50 * 10 + 10]
    assert [w.shape for w in model.get_weights()] == [(784, 50), (50,), (50, 10), (10,)]


def test_003_summary_prints_keras_table():
    lines = []
    _keras_003().summary(print_fn=lines.append)
    text = "\n".join(lines)
    rows = text.splitlines()
    first = next(r for r in rows if "dense (Dense)" in r)
    second = next(r for r in rows if "dense_1 (Dense)" in r)
    assert "(None, 50)" in first and "39,250" in first
    assert "(None, 10)" in second and "510" in second
    assert " Total params: 39,760 (155.31 KB)" in rows       # float32, as in Keras
    assert " Trainable params: 39,760 (155.31 KB)" in rows
    assert " Non-trainable params: 0 (0.00 B)" in rows
    assert rows.index(first) < rows.index(second)


def test_003_summary_goes_to_stdout_by_default(capsys):
    _keras_003().summary()
    out = capsys.readouterr().out
    assert "dense_1 (Dense)" in out and "39,760" in out


def test_003_summary_reports_float64_size():
    lines = []
    _keras_003(F64).summary(print_fn=lines.append)
    assert " Total params: 39,760 (310.62 KB)" in "\n".join(lines).splitlines()


def test_set_floatx_float64_builds_float64_layers():
    saved = gn.floatx()
    try:
        gn.set_floatx("float64")
        model = gn.Sequential([gn.layers.Dense(3, use_bias=False, input_shape=(2,))])
        model.set_weights([W_004])
        y = model.predict(X_004)
    finally:
        gn.set_floatx(saved)
    assert gn.floatx() == saved
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, [[1.8, 1.7, 1.1]], rtol=0, atol=1e-15)
