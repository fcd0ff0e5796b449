"""Traces (model.trace, glassnet.explain) and the `glassnet explain` / `glassnet gradcheck` commands.

Every number a trace records is checked against an independent float64 NumPy computation by
hand (z, a, softmax, dL/dz = (p - t) / n, dW = x^T dz, the SGD update), and the step itself
against train_on_batch: the weights after trace() are bit for bit those after train_on_batch().
The worked example of study note 002 is checked against the numbers the note prints.
"""
import copy
import random
import re

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli, explain
from glassnet.layers.core import Dense


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    gn.set_random_seed(0)
    yield


# hand-chosen weights of a 2-3-2 network, so the expected numbers depend on nothing else
W1 = np.array([[0.1, -0.3, 0.5], [0.2, 0.4, -0.6]])
B1 = np.array([0.01, -0.02, 0.03])
W2 = np.array([[0.7, -0.1], [-0.2, 0.3], [0.5, 0.25]])
B2 = np.array([0.05, -0.05])
X = np.array([[1.0, 0.5], [0.0, 1.0], [-1.0, 2.0], [0.5, -0.5]])
LABELS = np.array([1, 0, 1, 0])


def net_232(activation="sigmoid", out="softmax", loss="sparse_categorical_crossentropy", optimizer=None,
            dtype="float64"):
    model = gn.Sequential([Dense(3, activation=activation, input_shape=(2,), dtype=dtype),
                           Dense(2, activation=out, dtype=dtype)])
    model.set_weights([W1, B1, W2, B2])
    model.compile(optimizer=optimizer or gn.optimizers.SGD(learning_rate=0.1), loss=loss)
    return model


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ----------------------------------------------------------------------------
# The recorded numbers
# ----------------------------------------------------------------------------

def test_trace_matches_a_hand_computation_of_the_2_3_2_network():
    model = net_232()
    tr = model.trace(X, LABELS)
    # by hand, float64
    n = len(X)
    z1 = X @ W1 + B1
    a1 = sigmoid(z1)
    z2 = a1 @ W2 + B2
    p = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    t = np.eye(2)[LABELS]
    loss = -np.mean(np.log(p[np.arange(n), LABELS]))
    dz2 = (p - t) / n
    dW2, db2 = a1.T @ dz2, dz2.sum(axis=0)
    da1 = dz2 @ W2.T
    dz1 = da1 * a1 * (1 - a1)
    dW1, db1 = X.T @ dz1, dz1.sum(axis=0)

    hidden, output = tr.layers
    assert (hidden.role, output.role) == ("hidden 1", "output")
    close = dict(rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(hidden.x, X)
    np.testing.assert_array_equal(hidden.W, W1)
    np.testing.assert_array_equal(hidden.b, B1)
    np.testing.assert_allclose(hidden.z, z1, **close)
    np.testing.assert_allclose(hidden.a, a1, **close)
    np.testing.assert_allclose(output.x, a1, **close)
    np.testing.assert_allclose(output.z, z2, **close)
    np.testing.assert_allclose(output.a, p, **close)
    np.testing.assert_allclose(tr.outputs, p, **close)
    assert tr.loss == pytest.approx(loss, rel=1e-13)
    # backward
    assert output.fused and output.dL_da is None
    np.testing.assert_allclose(output.dL_dz, dz2, **close)
    np.testing.assert_allclose(output.dW, dW2, **close)
    np.testing.assert_allclose(output.db, db2, **close)
    np.testing.assert_allclose(output.dL_dx, da1, **close)
    np.testing.assert_allclose(hidden.dL_da, da1, **close)
    np.testing.assert_allclose(hidden.dL_dz, dz1, **close)
    np.testing.assert_allclose(hidden.dW, dW1, **close)
    np.testing.assert_allclose(hidden.db, db1, **close)
    assert hidden.dL_dx is None                      # nobody needs dL/dx of the data
    np.testing.assert_allclose(hidden.delta, -dz1, **close)
    # the SGD update w - lr * dW, applied to the model
    for layer, (W, b, dW, db) in zip(tr.layers, ((W1, B1, dW1, db1), (W2, B2, dW2, db2))):
        np.testing.assert_allclose(layer.W_after, W - 0.1 * dW, **close)
        np.testing.assert_allclose(layer.b_after, b - 0.1 * db, **close)
        np.testing.assert_allclose(layer.update["W"], -0.1 * dW, rtol=1e-9, atol=1e-15)
    for got, want in zip(model.get_weights(), [tr[0].W_after, tr[0].b_after, tr[1].W_after, tr[1].b_after]):
        np.testing.assert_array_equal(got, want)
    assert tr["dense_1"] is output and len(tr) == 2


def test_trace_of_a_non_fused_loss_records_dL_da_and_the_activation_rule():
    """tanh hidden, sigmoid outputs, MSE: dL/da = 2(a - t)/(n k), dL/dz = dL/da * f'(z)."""
    model = net_232(activation="tanh", out="sigmoid", loss="mse")
    t = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    tr = model.trace(X, t)
    a1 = np.tanh(X @ W1 + B1)
    a2 = sigmoid(a1 @ W2 + B2)
    da2 = 2 * (a2 - t) / t.size
    dz2 = da2 * a2 * (1 - a2)
    da1 = dz2 @ W2.T
    dz1 = da1 * (1 - a1 ** 2)
    hidden, output = tr.layers
    close = dict(rtol=1e-12, atol=1e-15)
    assert not output.fused
    assert tr.loss == pytest.approx(np.mean((a2 - t) ** 2), rel=1e-13)
    np.testing.assert_allclose(output.dL_da, da2, **close)
    np.testing.assert_allclose(output.dL_dz, dz2, **close)
    np.testing.assert_allclose(output.dW, a1.T @ dz2, **close)
    np.testing.assert_allclose(hidden.dL_da, da1, **close)
    np.testing.assert_allclose(hidden.dL_dz, dz1, **close)
    np.testing.assert_allclose(hidden.dW, X.T @ dz1, **close)


OPTIMIZERS = [lambda: gn.optimizers.SGD(0.1), lambda: gn.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
              lambda: gn.optimizers.Adam(0.01), lambda: gn.optimizers.RMSprop(0.01, clipnorm=0.05)]


@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=["sgd", "nesterov", "adam", "rmsprop-clipnorm"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_trace_steps_exactly_like_train_on_batch(make_opt, dtype):
    traced = net_232(optimizer=make_opt(), dtype=dtype)
    trained = net_232(optimizer=make_opt(), dtype=dtype)
    for _ in range(3):                               # optimizer state (momentum, moments) carries over too
        tr = traced.trace(X, LABELS)
        loss = trained.train_on_batch(X, LABELS)
        assert tr.loss == pytest.approx(loss, rel=1e-6 if dtype == "float32" else 1e-14)
        for a, b in zip(traced.get_weights(), trained.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert traced.optimizer.iterations == trained.optimizer.iterations == 3


def test_trace_with_batchnorm_dropout_and_a_regularizer_steps_like_train_on_batch():
    def build():
        model = gn.Sequential([
            gn.layers.Flatten(input_shape=(2, 2), dtype="float64"),
            Dense(5, activation="relu", kernel_regularizer=gn.regularizers.L2(0.01), dtype="float64"),
            gn.layers.BatchNormalization(dtype="float64"),
            gn.layers.Dropout(0.3, seed=1, dtype="float64"),
            Dense(3, activation="softmax", dtype="float64"),
        ])
        gn.set_random_seed(5)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model
    gn.set_random_seed(5)
    a = build()
    gn.set_random_seed(5)
    b = build()
    b.set_weights(a.get_weights())
    x = np.random.default_rng(0).normal(size=(6, 2, 2))
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    tr = a.trace(x, y)
    loss = b.train_on_batch(x, y)
    assert tr.loss == pytest.approx(loss, rel=1e-14) and tr.regularization > 0
    for u, v in zip(a.get_weights(), b.get_weights()):     # includes BatchNormalization's moving statistics
        np.testing.assert_array_equal(u, v)
    assert [l.kind for l in tr.layers] == ["Flatten", "Dense", "BatchNormalization", "Dropout", "Dense"]
    assert not tr.layers[0].backward_ran and tr.layers[1].backward_ran
    text = str(tr)
    assert "regularisation penalty" in text and "not trained" in text


def test_update_false_records_the_step_and_changes_nothing():
    model = net_232(optimizer=gn.optimizers.Adam(0.01))
    model.train_on_batch(X, LABELS)                   # give Adam some state
    before = model.get_weights()
    state = copy.deepcopy(model.optimizer.get_state())
    tr = model.trace(X, LABELS, update=False)
    assert not tr.applied
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == state["iterations"] == 1
    for mine, kept in zip(model.optimizer.get_state()["slots"], state["slots"]):
        for key in kept:
            np.testing.assert_array_equal(mine[key], kept[key])
    # what it shows as "after" is what the real step gives
    model.train_on_batch(X, LABELS)
    shown = [w for layer in tr.layers for w in (layer.W_after, layer.b_after)]
    for a, b in zip(shown, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "not applied: update=False" in str(tr)


def test_trace_checks_its_arguments_before_computing():
    model = net_232()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"unknown language 'fr'.*'en', 'ko'"):
        model.trace(X, LABELS, lang="fr")
    with pytest.raises(ValueError, match="expects 2 features per sample, got 3"):
        model.trace(np.ones((4, 3)), LABELS)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0
    tr = model.trace(X, LABELS)
    with pytest.raises(ValueError, match=r"'en', 'ko'"):
        tr.to_text(lang="de")
    with pytest.raises(ValueError, match=r"'en', 'ko'"):
        tr.to_markdown(lang="jp")
    uncompiled = gn.Sequential([Dense(2, input_shape=(2,))])
    with pytest.raises(ValueError, match="compile"):
        uncompiled.trace(X, LABELS)


# ----------------------------------------------------------------------------
# Printing
# ----------------------------------------------------------------------------

def test_text_is_a_readable_table_with_the_numbers():
    tr = net_232().trace(X, LABELS)
    text = str(tr)
    for needle in ("FORWARD PASS", "BACKWARD PASS", "UPDATE", "input layer", "hidden layer 1", "output layer",
                   "weights", "bias", "z = xW + b", "a = sigmoid(z)", "a = softmax(z)", "dL/dz = (a - t) / n",
                   "dL/dW = x^T dL/dz", "dL/db", "learning rate 0.1", "the study notes' delta = -dL/dz",
                   "(2, 3)", "(4, 2)"):
        assert needle in text, needle
    # W1 in full, at 4 significant digits, one row per line
    assert re.search(r"\[\[\s*0.1\s+-0.3\s+0.5\]\n\s+\[\s*0.2\s+0.4\s+-0.6\]\]", text)
    assert f"{tr.loss:.4g}" in text
    assert f"{tr.layers[1].dW[0, 0]:.4g}" in text
    assert "Traceback" not in text and "array(" not in text
    full = tr.to_text(precision=None)
    assert repr(float(tr.layers[1].a[0, 0])) in full and repr(float(tr.loss)) in full
    assert repr(float(tr.layers[1].a[0, 0])) not in text


def test_korean_text_uses_the_notes_terms():
    model = net_232()
    text = model.trace(X, LABELS, lang="ko").to_text()
    for term in ("입력층", "은닉층", "출력층", "가중치", "편향", "활성화 함수", "손실 함수", "오차역전파", "기울기", "학습률"):
        assert term in text, term
    assert "hidden layer" not in text
    tr = model.trace(X, LABELS)                       # English by default, Korean on request
    assert "은닉층" not in str(tr) and "은닉층" in tr.to_text(lang="ko") and "은닉층" in tr.to_markdown(lang="ko")


def test_markdown_has_tables():
    tr = net_232().trace(X, LABELS)
    md = tr._repr_markdown_()
    assert md == tr.to_markdown()
    assert "| quantity | shape | values |" in md and "| --- | --- | --- |" in md
    assert "#### FORWARD PASS" in md and "#### BACKWARD PASS" in md
    row = next(line for line in md.splitlines() if line.startswith("| W  weights"))
    assert row.count("|") == 4 and "`[[0.1, -0.3, 0.5], [0.2, 0.4, -0.6]]`" in row


def test_big_layers_are_summarised():
    gn.set_random_seed(0)
    model = gn.Sequential([Dense(50, activation="sigmoid", input_shape=(784,)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(size=(8, 784))
    tr = model.trace(x, np.arange(8))
    text = str(tr)
    W = tr.layers[0].W
    line = next(l for l in text.splitlines() if "W  weights" in l and "(784, 50)" in l)
    assert f"min {W.min():.4g}" in line and f"max {W.max():.4g}" in line and f"mean {W.mean():.4g}" in line
    assert len(text.splitlines()) < 80                 # no 39,200 numbers
    assert max(len(l) for l in text.splitlines()) < 160
    assert "(8, 784)" in text and "min 0" not in text.split("(8, 784)")[0]


# ----------------------------------------------------------------------------
# Study note 002: the worked 2-1-2 network
# ----------------------------------------------------------------------------

NOTE_HIDDEN_OUTPUT = 0.7105668883115941
NOTE_OUTPUTS = [0.6629970129852887, 0.7253160725279748]
NOTE_HIDDEN_DELTA = -0.002711797799238243
NOTE_OUTPUT_DELTAS = [-0.14813473120687762, 0.05472601157879688]


def test_backprop_example_draws_the_notes_weights_from_python_random():
    state = random.getstate()
    model, x, y = explain.backprop_example()
    assert random.getstate() == state                  # the global random state is left alone
    random.seed(1)
    hidden = [random.random() for _ in range(3)]
    output = [[random.random() for _ in range(2)] for _ in range(2)]
    W1, b1, W2, b2 = model.get_weights()
    assert W1[:, 0].tolist() == hidden[:2] and b1.tolist() == [hidden[2]]
    assert W2[0].tolist() == [output[0][0], output[1][0]] and b2.tolist() == [output[0][1], output[1][1]]
    assert hidden == [0.13436424411240122, 0.8474337369372327, 0.763774618976614]
    assert model.dtype == "float64" and x.tolist() == [[1.0, 0.0]] and y.tolist() == [[0.0, 1.0]]


def test_backprop_example_reproduces_the_notes_outputs_and_deltas_exactly():
    model, x, y = explain.backprop_example()
    tr = model.trace(x, y, update=False)
    hidden, output = tr.layers
    assert hidden.a[0, 0] == NOTE_HIDDEN_OUTPUT
    assert output.a[0].tolist() == NOTE_OUTPUTS
    assert hidden.delta[0].tolist() == [NOTE_HIDDEN_DELTA]
    assert output.delta[0].tolist() == NOTE_OUTPUT_DELTAS
    # the note's loss 0.5 * sum((output - target)^2) is glassnet's mse for one sample of two outputs
    assert tr.loss == pytest.approx(0.5 * np.sum((output.a - y) ** 2), rel=1e-15)
    # the note's update w += l_rate * delta * input is the SGD step
    tr = model.trace(x, y)
    np.testing.assert_allclose(tr[1].W_after, tr[1].W + 0.5 * tr[0].a.T @ tr[1].delta, rtol=1e-15)


def test_explain_example_command_prints_the_notes_numbers(capsys):
    assert cli.main(["explain", "--example", "backprop-2-1-2"]) == 0
    out = capsys.readouterr().out
    for number in (NOTE_HIDDEN_OUTPUT, *NOTE_OUTPUTS, NOTE_HIDDEN_DELTA, *NOTE_OUTPUT_DELTAS):
        assert repr(number) in out, number
    assert "the study notes' delta = -dL/dz" in out
    assert "delta = -dL/dz" in out and "dL/dz = dL/da * a(1 - a)" in out
    check = out.split("Check against the note")[1]
    assert check.count("==") == 4 and "!=" not in check
    assert "0.13436424411240122" in out and "0.763774618976614" in out


def test_explain_example_in_korean_and_markdown(capsys):
    assert cli.main(["explain", "--example", "backprop-2-1-2", "--lang", "ko", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "노트의 delta = -dL/dz" in out and "은닉층" in out and "| --- |" in out
    for number in (NOTE_HIDDEN_OUTPUT, *NOTE_OUTPUTS, NOTE_HIDDEN_DELTA, *NOTE_OUTPUT_DELTAS):
        assert repr(number) in out, number


def test_explain_example_check_would_show_a_mismatch(monkeypatch, capsys):
    """The check compares computed numbers: a broken sigmoid derivative shows up as '!='."""
    real = gn.activations.ACTIVATIONS["sigmoid"]
    broken = real._replace(backward=lambda z, y, dy, out=None: dy * y * (1 - y) * 1.001)
    monkeypatch.setitem(gn.activations.ACTIVATIONS, "sigmoid", broken)
    text = explain.explain_example()
    check = text.split("Check against the note")[1]
    assert "!=" in check and check.count("==") == 2


# ----------------------------------------------------------------------------
# glassnet explain
# ----------------------------------------------------------------------------

def test_explain_command_default_network(capsys):
    assert cli.main(["explain"]) == 0
    out = capsys.readouterr().out
    assert 'One training step of "sequential" (2-3-2): a batch of 1 sample, float64' in out
    assert "hidden layer 1" in out and "output layer" in out and "SGD, learning rate 0.1" in out
    assert "[[  1  0.5]]" in out
    # the same network by hand gives the same trace: the command is seeded
    gn.set_random_seed(0)
    model = gn.Sequential([Dense(3, activation="sigmoid", input_shape=(2,), dtype="float64"),
                           Dense(2, activation="softmax", dtype="float64")])
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    assert str(model.trace(np.array([[1.0, 0.5]]), np.array([1]))) in out


def test_explain_command_options(capsys):
    assert cli.main(["explain", "--lang", "ko"]) == 0
    assert "오차역전파" in capsys.readouterr().out
    assert cli.main(["explain", "--markdown", "--hidden", "4,3", "--activation", "tanh", "--samples", "3",
                     "--no-update", "--precision", "3"]) == 0
    out = capsys.readouterr().out
    assert "(2-4-3-2)" in out and "hidden layer 2" in out and "| --- | --- | --- |" in out
    assert "not applied: update=False" in out and "a = tanh(z)" in out
    assert cli.main(["explain", "--precision", "full"]) == 0
    assert re.search(r"0\.\d{12,}", capsys.readouterr().out)


@pytest.mark.parametrize("argv", [["explain", "--lang", "fr"], ["explain", "--example", "nope"],
                                  ["explain", "--example", "backprop-2-1-2", "--hidden", "3"],
                                  ["explain", "--precision", "0"]])
def test_explain_command_usage_errors(argv, capsys):
    assert cli.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# glassnet gradcheck
# ----------------------------------------------------------------------------

def test_gradcheck_command_passes_on_the_default_network(capsys):
    assert cli.main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "random network 4-5-3-3 (tanh hidden, softmax output), sparse_categorical_crossentropy" in out
    assert out.count("pass") >= 6 and "FAIL" not in out
    for name in ("dense/W", "dense/b", "dense_1/W", "dense_1/b", "dense_2/W", "dense_2/b"):
        assert re.search(rf"^{name}\s+\d\.\d+e-\d+\s+pass$", out, flags=re.M), name


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "binary_crossentropy", "mse"])
def test_gradcheck_command_options(loss, capsys):
    assert cli.main(["gradcheck", "--hidden", "4", "--activation", "sigmoid", "--loss", loss,
                     "--samples", "5", "--seed", "3", "--features", "3", "--classes", "2"]) == 0
    assert "pass: all 4 parameters agree" in capsys.readouterr().out


def test_gradcheck_command_fails_on_a_broken_backward(monkeypatch, capsys):
    real = Dense._backward_linear

    def scaled(self, dz):                              # a bug: dL/dW 1% too large
        dx = real(self, dz)
        self.grads["W"] *= 1.01
        return dx
    monkeypatch.setattr(Dense, "_backward_linear", scaled)
    assert cli.main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^dense/W\s+\S+\s+FAIL$", out, flags=re.M)
    assert re.search(r"^dense/b\s+\S+\s+pass$", out, flags=re.M)
    assert "FAIL: 3 of 6 parameters exceed the tolerance 1e-06: dense/W, dense_1/W, dense_2/W" in out


def test_gradcheck_command_checks_a_saved_model(tmp_path, capsys):
    gn.set_random_seed(0)
    model = gn.Sequential([Dense(8, activation="sigmoid", input_shape=(784,)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    path = model.save(tmp_path / "tiny")
    assert cli.main(["gradcheck", str(path), "--samples", "3", "--max-entries", "5"]) == 0
    out = capsys.readouterr().out
    assert "3 test samples of mnist-mini" in out and "up to 5 entries" in out and "pass: all 4" in out
    assert cli.main(["gradcheck", str(path), "--hidden", "3"]) == 2
    assert cli.main(["gradcheck", str(tmp_path / "missing.glassnet")]) == 1
    assert "glassnet: error:" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# docs/explain.md shows the real output
# ----------------------------------------------------------------------------

DOC = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "explain.md"


def test_docs_show_the_real_example_printout_and_their_python_runs(capsys):
    text = DOC.read_text(encoding="utf-8")
    shown = re.findall(r"```text\n(.*?)```", text, flags=re.S)
    assert explain.explain_example() + "\n" in shown
    assert cli.main(["gradcheck"]) == 0
    assert capsys.readouterr().out in shown
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        exec(compile(block, "docs/explain.md", "exec"), {})


def test_gradcheck_command_uses_the_step_it_is_given(capsys):
    # central differences err by about h^2 f'''/6: a step of 0.5 is far too coarse for a sigmoid network
    assert cli.main(["gradcheck", "--step", "0.5"]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert cli.main(["gradcheck", "--step", "1e-6"]) == 0
    assert cli.main(["gradcheck", "--step", "0"]) == 2


def _saved_convnet(path, activation):
    gn.set_random_seed(0)
    L = gn.layers
    model = gn.Sequential([gn.Input((28, 28, 1)), L.Conv2D(2, 5, strides=3, activation=activation),
                           L.MaxPooling2D(2), L.Flatten(), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model.save(path)


def test_gradcheck_command_checks_a_saved_convnet_with_a_small_step(tmp_path, capsys):
    path = _saved_convnet(tmp_path / "tanh", "tanh")
    assert cli.main(["gradcheck", str(path), "--samples", "2", "--max-entries", "5", "--step", "1e-7"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^conv2d/W\s+\S+\s+pass$", out, flags=re.M) and "pass: all 4" in out
    # with ReLU, a zero bias puts every blank patch of a digit exactly on the kink: the bias fails at any step
    path = _saved_convnet(tmp_path / "relu", "relu")
    assert cli.main(["gradcheck", str(path), "--samples", "2", "--max-entries", "5", "--step", "1e-7"]) == 1
    assert re.search(r"^conv2d/b\s+\S+\s+FAIL$", capsys.readouterr().out, flags=re.M)
