"""Reference tests for glassnet.activations.

Each op is checked by `helper_test_op` (in the spirit of tinygrad's helper):
values against a hand-written float64 NumPy closed form and against PyTorch
(float64, when torch imports); the derivative function and the table's
backward rule against float64 central differences and torch autograd.
"""

import numpy as np
import pytest

import glassnet as gn
from glassnet import activations as A
from reference import no_numerical_warnings, relative_error

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the NumPy references still run
    torch = F = None

RTOL = 1e-6          # required relative error of derivatives against central differences
H = 1e-6             # central-difference step (float64)


def sample(shape=(5, 7), seed=0, low=-4.0, high=4.0, away_from_zero=False):
    """float64 inputs; away_from_zero keeps |x| >= 0.1 so kinks at 0 do not spoil differences."""
    x = np.random.default_rng(seed).uniform(low, high, size=shape)
    if away_from_zero:
        x = np.where(np.abs(x) < 0.1, np.sign(x) * 0.1 + x, x)
    return x


def elementwise_central_difference(f, x, h=H):
    return (f(x + h) - f(x - h)) / (2 * h)


def helper_test_op(name, numpy_ref, torch_ref=None, away_from_zero=False, torch_has_grad=True):
    """One line per op: values, derivative and backward rule of activation `name`."""
    row = A.ACTIVATIONS[name]
    x = sample(away_from_zero=away_from_zero)
    dy = sample(seed=1)

    # values: closed form in float64, and float32 stays float32 and close
    y = row.function(x)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, numpy_ref(x), rtol=1e-12, atol=1e-15)
    y32 = row.function(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, numpy_ref(x), rtol=1e-5, atol=1e-6)

    # derivative and backward rule against central differences of the closed form
    numeric = elementwise_central_difference(numpy_ref, x)
    assert relative_error(row.derivative(x), numeric) < RTOL
    assert relative_error(row.backward(x, y, dy), dy * numeric) < RTOL
    with_buffer = row.backward(x, y, dy, out=np.empty_like(dy))          # as layers call it
    assert relative_error(with_buffer, dy * numeric) < RTOL

    # PyTorch, float64: values and the vector-Jacobian product from autograd
    if torch is not None and torch_ref is not None:
        t = torch.tensor(x, dtype=torch.float64, requires_grad=torch_has_grad)
        ty = torch_ref(t)
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-15)
        if torch_has_grad:
            ty.backward(torch.tensor(dy))
            np.testing.assert_allclose(row.backward(x, y, dy), t.grad.numpy(), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------
# Elementwise activations, one line each
# --------------------------------------------------------------------------

def test_linear():
    helper_test_op("linear", lambda x: x, lambda t: t)


def test_step():
    helper_test_op("step", lambda x: (x > 0).astype(np.float64),
                   lambda t: torch.heaviside(t, torch.tensor(0.0, dtype=t.dtype)),
                   away_from_zero=True, torch_has_grad=False)


def test_sigmoid():
    helper_test_op("sigmoid", lambda x: 1 / (1 + np.exp(-x)), lambda t: torch.sigmoid(t))


def test_tanh():
    helper_test_op("tanh", lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)), lambda t: torch.tanh(t))


def test_relu():
    helper_test_op("relu", lambda x: np.where(x > 0, x, 0.0), lambda t: F.relu(t), away_from_zero=True)


def test_leaky_relu():  # Keras's default slope 0.2; torch is given the same slope
    helper_test_op("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x),
                   lambda t: F.leaky_relu(t, negative_slope=0.2), away_from_zero=True)


def test_elu():
    helper_test_op("elu", lambda x: np.where(x > 0, x, np.exp(x) - 1), lambda t: F.elu(t), away_from_zero=True)


def test_swish():
    helper_test_op("swish", lambda x: x / (1 + np.exp(-x)), lambda t: F.silu(t))


def test_silu_is_swish():
    assert A.silu is A.swish and A.silu_derivative is A.swish_derivative


def test_torch_reference_available():
    """Reported as skipped when torch is missing, so a run without torch says so."""
    pytest.importorskip("torch")


@pytest.mark.parametrize("slope", [0.01, 0.3])
def test_leaky_relu_with_other_slopes(slope):
    x = sample(away_from_zero=True)
    np.testing.assert_allclose(A.leaky_relu(x, slope), np.where(x > 0, x, slope * x), rtol=1e-15)
    numeric = elementwise_central_difference(lambda v: A.leaky_relu(v, slope), x)
    assert relative_error(A.leaky_relu_derivative(x, slope), numeric) < RTOL


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_elu_with_other_alpha(alpha):
    x = sample(away_from_zero=True)
    np.testing.assert_allclose(A.elu(x, alpha), np.where(x > 0, x, alpha * (np.exp(x) - 1)), rtol=1e-14)
    numeric = elementwise_central_difference(lambda v: A.elu(v, alpha), x)
    assert relative_error(A.elu_derivative(x, alpha), numeric) < RTOL


def test_hand_worked_values():
    np.testing.assert_array_equal(A.step(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(A.sigmoid(np.array([0.0, 1.0])), [0.5, 0.7310585786300049], rtol=1e-15)
    np.testing.assert_allclose(A.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(A.elu(np.array([-1.0])), [np.exp(-1) - 1], rtol=1e-15)
    np.testing.assert_allclose(A.sigmoid_derivative(0.0), 0.25)


def test_scalar_and_integer_inputs():
    for name, row in A.ACTIVATIONS.items():
        if name == "softmax":
            continue
        assert np.shape(row.function(0.0)) == ()
        assert np.shape(row.derivative(1.5)) == ()
    assert float(A.sigmoid(0.0)) == 0.5
    assert float(A.swish(2)) == pytest.approx(2 / (1 + np.exp(-2)), rel=1e-15)
    assert A.sigmoid(np.array([1, 2])).dtype == np.float64


# --------------------------------------------------------------------------
# Softmax: values, Jacobian, vector-Jacobian product
# --------------------------------------------------------------------------

def numpy_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def numerical_softmax_jacobian(x, h=H):
    """J[n, i, j] = d softmax(x[n])_i / d x[n, j] by central differences."""
    n, k = x.shape
    J = np.empty((n, k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = h
        J[:, :, j] = (A.softmax(x + step) - A.softmax(x - step)) / (2 * h)
    return J


def test_softmax_values():
    x = sample((4, 6))
    np.testing.assert_allclose(A.softmax(x), np.exp(x) / np.exp(x).sum(axis=1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(A.softmax(np.array([0.3, 2.9, 4.0])), [0.01821127, 0.24519181, 0.73659691],
                               rtol=1e-6)
    if torch is not None:
        np.testing.assert_allclose(A.softmax(x), torch.softmax(torch.tensor(x), dim=-1).numpy(), rtol=1e-13)


def test_softmax_derivative_is_the_jacobian():
    x = sample((4, 6))
    J = A.softmax_derivative(x)
    assert J.shape == (4, 6, 6)
    assert relative_error(J, numerical_softmax_jacobian(x)) < RTOL
    s = numpy_softmax(x)
    np.testing.assert_allclose(J, np.stack([np.diag(r) - np.outer(r, r) for r in s]), rtol=1e-12, atol=1e-15)


def test_softmax_backward_is_the_vector_jacobian_product():
    x, dy = sample((4, 6)), sample((4, 6), seed=1)
    y = A.softmax(x)
    vjp = np.einsum("ni,nij->nj", dy, numerical_softmax_jacobian(x))
    assert relative_error(A.ACTIVATIONS["softmax"].backward(x, y, dy), vjp) < RTOL
    if torch is not None:
        t = torch.tensor(x, requires_grad=True)
        torch.softmax(t, dim=-1).backward(torch.tensor(dy))
        np.testing.assert_allclose(A.ACTIVATIONS["softmax"].backward(x, y, dy), t.grad.numpy(),
                                   rtol=1e-12, atol=1e-15)


def test_softmax_axis_argument():
    x = sample((3, 4))
    np.testing.assert_allclose(A.softmax(x, axis=0), numpy_softmax(x.T).T, rtol=1e-13)


# --------------------------------------------------------------------------
# Stability at +-1000
# --------------------------------------------------------------------------

# name: (value at -1000, value at 1000, derivative at -1000, derivative at 1000)
SATURATION = {
    "linear": (-1000, 1000, 1, 1),
    "step": (0, 1, 0, 0),
    "sigmoid": (0, 1, 0, 0),
    "tanh": (-1, 1, 0, 0),
    "relu": (0, 1000, 0, 1),
    "leaky_relu": (-200, 1000, 0.2, 1),
    "elu": (-1, 1000, 0, 1),
    "swish": (0, 1000, 0, 1),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(SATURATION))
def test_saturating_values_are_finite_and_correct(name, dtype):
    row = A.ACTIVATIONS[name]
    x = np.array([-1000.0, 1000.0], dtype=dtype)
    lo, hi, dlo, dhi = SATURATION[name]
    with no_numerical_warnings():
        y = row.function(x)
        d = row.derivative(x)
        b = row.backward(x, y, np.ones_like(x))
    for arr in (y, d, b):
        assert arr.dtype == dtype and np.all(np.isfinite(arr))
    np.testing.assert_allclose(y, [lo, hi], rtol=1e-6)
    np.testing.assert_allclose(d, [dlo, dhi], rtol=1e-6)
    np.testing.assert_allclose(b, [dlo, dhi], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable(dtype):
    with no_numerical_warnings():
        s = A.softmax(np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]], dtype=dtype))
        J = A.softmax_derivative(np.array([[1000.0, -1000.0]], dtype=dtype))
    assert s.dtype == dtype and np.all(np.isfinite(s)) and np.all(np.isfinite(J))
    np.testing.assert_allclose(s.sum(axis=1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(s[0], numpy_softmax(np.array([0.0, 1.0, 2.0])), rtol=1e-6)
    np.testing.assert_allclose(s[1], [0.0, 0.0, 1.0], atol=1e-30)


# --------------------------------------------------------------------------
# Name resolution
# --------------------------------------------------------------------------

def test_get_by_name_alias_and_function():
    assert A.get("relu") is A.relu
    assert A.get("silu") is A.swish
    assert A.get("SiLU") is A.swish
    assert A.get("identity") is A.linear
    assert A.get(None) is A.linear
    assert A.get(A.tanh) is A.tanh
    assert A.get_derivative("sigmoid") is A.sigmoid_derivative
    assert A.serialize(A.silu) == "swish"


def test_every_table_row_is_consistent():
    for name, row in A.ACTIVATIONS.items():
        assert row.name == name
        assert A.get(name) is row.function
        assert getattr(A, name) is row.function


def test_unknown_name_raises_value_error_listing_names():
    with pytest.raises(ValueError) as err:
        A.get("relu6")
    message = str(err.value)
    assert "relu6" in message
    for known in ("relu", "sigmoid", "softmax", "swish", "silu", "leaky_relu", "elu", "tanh", "step", "linear"):
        assert known in message


def test_non_glassnet_callable_and_wrong_type_are_rejected():
    with pytest.raises(ValueError):
        A.get(np.tanh)
    with pytest.raises(TypeError):
        A.get(3)


def test_module_is_exposed_on_the_package():
    assert gn.activations is A
