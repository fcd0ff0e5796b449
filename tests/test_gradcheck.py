"""numerical_gradient and gradient_check.

numerical_gradient is checked against closed-form derivatives (the notes' f(x) = x0^2 + x1^2
among them); gradient_check against every activation/loss pair, and -- to prove it can
fail -- against deliberately broken backward passes.
"""
import zlib

import numpy as np
import pytest

import glassnet as gn
from glassnet import gradcheck
from glassnet.gradcheck import gradient_check, numerical_gradient
from glassnet.layers.core import Dense
from glassnet.models import Sequential


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    gn.set_random_seed(0)
    yield


# --------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------

def function_2(x):
    """The notes' f(x0, x1) = x0^2 + x1^2."""
    return x[0] ** 2 + x[1] ** 2


@pytest.mark.parametrize("point, expected", [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)),
                                             ((3.0, 0.0), (6.0, 0.0))])
def test_numerical_gradient_reproduces_the_notes(point, expected):
    grad = numerical_gradient(function_2, np.array(point))
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-9)
    # the notes' printed value for (3, 4) comes from dividing by exactly 2h = 2e-4
    if point == (3.0, 4.0):
        h = 1e-4
        assert grad[0] == ((3.0 + h) ** 2 + 16.0 - ((3.0 - h) ** 2 + 16.0)) / (2 * h)


def test_numerical_gradient_of_a_sum_of_squares_is_2x():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 2), x), 2 * x, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f, df", [
    (lambda v: np.sum(np.sin(v)), np.cos),
    (lambda v: np.sum(np.exp(v)), np.exp),
    (lambda v: np.sum(v ** 3), lambda v: 3 * v ** 2),
    (lambda v: np.log(np.sum(np.exp(v))), lambda v: np.exp(v) / np.sum(np.exp(v))),
])
def test_numerical_gradient_closed_forms(f, df):
    x = np.random.default_rng(1).normal(size=5)
    np.testing.assert_allclose(numerical_gradient(f, x), df(x), rtol=1e-6, atol=1e-8)


def test_numerical_gradient_restores_x_bit_for_bit():
    x = np.random.default_rng(2).normal(size=(4, 3))
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(v ** 2)), x)
    assert np.array_equal(x, before)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(v):
        calls.append(v.copy())
        if len(calls) == 4:
            raise RuntimeError("boom")
        return float(np.sum(v))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_numerical_gradient_sees_x_perturbed_in_place():
    # f reads a variable it closed over (as the notes' loss_W does): x must change in place
    w = np.array([[1.0, 2.0], [3.0, 4.0]])

    def loss_w(_):
        return float(np.sum(w ** 2) / 2)

    np.testing.assert_allclose(numerical_gradient(loss_w, w), w, rtol=1e-8)


def test_numerical_gradient_handles_non_contiguous_x():
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    x = base.T                                      # a view, not C-contiguous
    grad = numerical_gradient(lambda v: np.sum(v ** 2), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8, atol=1e-6)
    np.testing.assert_array_equal(base, np.arange(12).reshape(3, 4))


def test_numerical_gradient_in_float32_divides_by_the_step_taken():
    x = np.array([3.0, 4.0], dtype=np.float32)
    grad = numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, [6.0, 8.0], rtol=1e-4)


@pytest.mark.parametrize("bad", [np.array([3, 4]), np.array([True, False]), [3.0, 4.0], 3.0])
def test_numerical_gradient_type_errors(bad):
    with pytest.raises(TypeError, match="float ndarray"):
        numerical_gradient(function_2, bad)


def test_numerical_gradient_needs_a_scalar_function_and_a_positive_step():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v * 2, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="h > 0"):
        numerical_gradient(function_2, np.array([1.0, 2.0]), h=0)


# --------------------------------------------------------------------------
# gradient_check: every activation and loss
# --------------------------------------------------------------------------

HIDDEN = ["linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "softmax"]
OUTPUTS = [  # (output activation, loss, target kind)
    ("softmax", "categorical_crossentropy", "onehot"),
    ("softmax", "sparse_categorical_crossentropy", "labels"),
    ("sigmoid", "binary_crossentropy", "binary"),
    ("linear", "mean_squared_error", "real"),
    ("linear", "mean_absolute_error", "real"),
    ("softmax", "mean_squared_error", "onehot"),
    ("tanh", "mean_squared_error", "real"),
    ("sigmoid", "categorical_crossentropy", "onehot"),
    ("softmax", "binary_crossentropy", "binary"),
    ("linear", gn.losses.CategoricalCrossentropy(from_logits=True), "onehot"),
    ("linear", gn.losses.SparseCategoricalCrossentropy(from_logits=True), "labels"),
    ("linear", gn.losses.BinaryCrossentropy(from_logits=True), "binary"),
]


def targets(kind, n, k, rng):
    if kind == "labels":
        return rng.integers(0, k, n)
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, n)]
    if kind == "binary":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    return rng.normal(size=(n, k))


def small_model(hidden, out_act, loss, dtype=None):
    model = Sequential([Dense(5, activation=hidden, input_shape=(4,), dtype=dtype),
                        Dense(3, activation=out_act, dtype=dtype)])
    model.compile(optimizer="sgd", loss=loss)
    return model


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("out_act, loss, kind", OUTPUTS,
                         ids=[f"{a}-{l if isinstance(l, str) else type(l).__name__ + '-logits'}"
                              for a, l, _ in OUTPUTS])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradient_check_passes_for_every_activation_and_loss(hidden, out_act, loss, kind, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{hidden}-{out_act}-{kind}".encode()))
    model = small_model(hidden, out_act, loss, dtype)
    x = rng.normal(size=(6, 4)).astype(dtype)
    result = gradient_check(model, x, targets(kind, 6, 3, rng))
    assert list(result) == ["dense/W", "dense/b", "dense_1/W", "dense_1/b"]
    assert result.passed, str(result)
    assert result.max_error < 1e-6
    assert all(0 <= e < 1e-6 for e in result.values())


def test_gradient_check_reports_every_parameter_of_a_deeper_model():
    model = Sequential([Dense(6, activation="relu", input_shape=(5,), name="hidden_1"),
                        Dense(4, activation="tanh", name="hidden_2"),
                        Dense(3, activation="softmax", use_bias=False, name="out")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(3)
    result = gradient_check(model, rng.normal(size=(7, 5)), rng.integers(0, 3, 7))
    assert list(result) == ["hidden_1/W", "hidden_1/b", "hidden_2/W", "hidden_2/b", "out/W"]
    assert result.passed, str(result)
    text = str(result)
    assert all(name in text for name in result) and "FAIL" not in text


def test_gradient_check_with_regularizers():
    model = Sequential([Dense(5, activation="tanh", input_shape=(4,), kernel_regularizer=gn.regularizers.L2(0.1),
                              bias_regularizer=gn.regularizers.L1(0.05)),
                        Dense(2, activation="sigmoid", kernel_regularizer=gn.regularizers.L1L2(0.01, 0.02))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    rng = np.random.default_rng(4)
    result = gradient_check(model, rng.normal(size=(6, 4)), rng.integers(0, 2, (6, 2)))
    assert result.passed, str(result)


def test_gradient_check_with_dropout_and_batch_normalization():
    model = Sequential([Dense(6, activation="relu", input_shape=(4,)),
                        gn.layers.Dropout(0.4),
                        gn.layers.BatchNormalization(),
                        Dense(5, activation="tanh"),
                        gn.layers.BatchNormalization(center=False),
                        Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, 8)]
    result = gradient_check(model, x, y)
    assert list(result) == ["dense/W", "dense/b", "batch_normalization/gamma", "batch_normalization/beta",
                            "dense_1/W", "dense_1/b", "batch_normalization_1/gamma", "dense_2/W", "dense_2/b"]
    assert result.passed, str(result)


# --------------------------------------------------------------------------
# gradient_check can fail
# --------------------------------------------------------------------------

def classifier():
    model = Sequential([Dense(5, activation="tanh", input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(6)
    return model, rng.normal(size=(6, 4)), rng.integers(0, 3, 6)


def test_a_correct_model_passes_before_the_broken_ones():
    model, x, y = classifier()
    assert gradient_check(model, x, y).passed


def test_broken_dense_backward_fails(monkeypatch):
    model, x, y = classifier()
    original = Dense._backward_linear
    monkeypatch.setattr(Dense, "_backward_linear", lambda self, dz: original(self, dz * 1.01))
    result = gradient_check(model, x, y)
    assert not result.passed
    assert result.max_error > 1e-3
    assert all(e > 1e-3 for e in result.values())            # every parameter is off by ~1%
    assert "FAIL" in str(result)


def test_broken_fused_softmax_backward_fails(monkeypatch):
    model, x, y = classifier()
    original = Dense.backward_logits
    monkeypatch.setattr(Dense, "backward_logits", lambda self, dz: original(self, dz * 1.01))
    result = gradient_check(model, x, y)
    assert not result.passed and result.max_error > 1e-3


def test_broken_activation_backward_fails(monkeypatch):
    model, x, y = classifier()
    row = gn.activations.ACTIVATIONS["tanh"]
    original = row.backward
    monkeypatch.setitem(gn.activations.ACTIVATIONS, "tanh",
                        row._replace(backward=lambda z, a, dy, out=None: original(z, a, dy, out=out) * 1.01))
    result = gradient_check(model, x, y)
    assert result["dense/W"] > 1e-3 and result["dense/b"] > 1e-3      # only the tanh layer is wrong
    assert result["dense_1/W"] < 1e-6 and result["dense_1/b"] < 1e-6
    assert not result.passed


def test_a_wrong_bias_gradient_alone_fails(monkeypatch):
    model, x, y = classifier()
    original = Dense._backward_linear

    def bad(self, dz):
        dx = original(self, dz)
        self.grads["b"] += 1e-3                     # a small constant error in db only
        return dx

    monkeypatch.setattr(Dense, "_backward_linear", bad)
    result = gradient_check(model, x, y)
    assert result["dense/b"] > 1e-3 and result["dense_1/b"] > 1e-3
    assert result["dense/W"] < 1e-6 and result["dense_1/W"] < 1e-6


def test_tolerance_decides_the_verdict():
    model, x, y = classifier()
    result = gradient_check(model, x, y, tolerance=1e-300)
    assert not result.passed
    assert result.tolerance == 1e-300


# --------------------------------------------------------------------------
# gradient_check leaves the model alone
# --------------------------------------------------------------------------

def test_gradient_check_does_not_touch_the_model():
    model = Sequential([Dense(6, activation="relu", input_shape=(4,)), gn.layers.Dropout(0.3),
                        gn.layers.BatchNormalization(), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(8, 4)).astype(np.float32), rng.integers(0, 3, 8)
    model.fit(x, y, epochs=1, verbose=0)
    weights = model.get_weights()
    dropout_state = model.layers[1].rng.bit_generator.state
    global_state = gn.backend.global_rng().bit_generator.state
    x_before = x.copy()
    assert gradient_check(model, x, y).passed
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(weights, model.get_weights()))
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.layers[1].rng.bit_generator.state == dropout_state
    assert gn.backend.global_rng().bit_generator.state == global_state   # no hidden draws
    assert np.array_equal(x, x_before)
    model.fit(x, y, epochs=1, verbose=0)                                 # still trains


def test_gradient_check_needs_a_compiled_model():
    model = Sequential([Dense(3, input_shape=(2,))])
    with pytest.raises(ValueError, match="compiled"):
        gradient_check(model, np.ones((2, 2)), np.ones((2, 3)))


def test_gradient_check_checks_its_inputs():
    model, x, y = classifier()
    with pytest.raises(ValueError, match="features"):
        gradient_check(model, x[:, :3], y)
    with pytest.raises(ValueError, match="max_entries"):
        gradient_check(model, x, y, max_entries=0)
    with pytest.raises(ValueError, match="h > 0"):
        gradient_check(model, x, y, h=-1e-5)


# --------------------------------------------------------------------------
# max_entries
# --------------------------------------------------------------------------

def count_loss_evaluations(monkeypatch):
    calls = []
    original = Sequential._forward_loss

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Sequential, "_forward_loss", counting)
    return calls


@pytest.mark.parametrize("max_entries, perturbed", [(None, 20 + 5 + 15 + 3), (1, 4), (4, 4 + 4 + 4 + 3),
                                                    (100, 20 + 5 + 15 + 3)])
def test_max_entries_limits_the_entries_perturbed(monkeypatch, max_entries, perturbed):
    model, x, y = classifier()
    calls = count_loss_evaluations(monkeypatch)
    result = gradient_check(model, x, y, max_entries=max_entries)
    assert len(calls) == 1 + 2 * perturbed          # one backprop pass, two losses per entry
    assert list(result) == ["dense/W", "dense/b", "dense_1/W", "dense_1/b"]
    assert result.passed


def test_max_entries_sample_is_seeded(monkeypatch):
    model, x, y = classifier()
    original = Dense._backward_linear

    def one_bad_entry(self, dz):
        dx = original(self, dz)
        if self.name == "dense":
            self.grads["W"][2, 1] *= 1.5
        return dx

    monkeypatch.setattr(Dense, "_backward_linear", one_bad_entry)
    full = gradient_check(model, x, y)
    assert full["dense/W"] > 0.1
    hits = {seed: gradient_check(model, x, y, max_entries=5, seed=seed)["dense/W"] > 0.1 for seed in range(12)}
    again = {seed: gradient_check(model, x, y, max_entries=5, seed=seed)["dense/W"] > 0.1 for seed in range(12)}
    assert hits == again
    assert any(hits.values()) and not all(hits.values())   # 5 of 20 entries: some samples miss it


# --------------------------------------------------------------------------
# relative_error
# --------------------------------------------------------------------------

def test_relative_error():
    np.testing.assert_allclose(gradcheck.relative_error([1.0, 0.0, 2.0], [1.0, 0.0, 2.2]),
                               [0.0, 0.0, 0.2 / 4.2])
    assert gradcheck.relative_error([1e-12], [0.0], floor=1e-7)[0] == pytest.approx(1e-5)


def test_numerical_gradient_refuses_a_step_lost_to_rounding():
    x = np.array([3000.0], dtype=np.float16)
    with pytest.raises(ValueError, match="larger h"):
        numerical_gradient(lambda v: float(np.sum(v)), x)
    assert x[0] == 3000.0
