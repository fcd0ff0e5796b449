"""Reference tests for the merge layers (glassnet.layers.merging), used by hand.

They take a list of inputs, so they have their own tests rather than the one-input layer contract:
forward against NumPy written out here, backward against float64 central differences of the
scalar sum(dy * layer([x1, x2, ...])) and against PyTorch's autograd where torch imports.
"""
import json

import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from reference import central_difference, relative_error

try:
    import torch
except ImportError:
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

NUMPY = {                                   # independent forward references
    "Add": lambda xs: sum(xs),
    "Subtract": lambda xs: xs[0] - xs[1],
    "Multiply": lambda xs: np.prod(np.stack(xs), axis=0),
    "Average": lambda xs: sum(xs) / len(xs),
    "Maximum": lambda xs: np.max(np.stack(xs), axis=0),
    "Minimum": lambda xs: np.min(np.stack(xs), axis=0),
}
CLASSES = {"Add": Add, "Subtract": Subtract, "Multiply": Multiply, "Average": Average,
           "Maximum": Maximum, "Minimum": Minimum}


def _inputs(n, shape=(4, 3), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(n)]


def _counts(name):
    return [2] if name == "Subtract" else [2, 3]


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_elementwise_forward_matches_numpy(name):
    for n in _counts(name):
        xs = _inputs(n)
        layer = CLASSES[name](dtype="float64")
        np.testing.assert_allclose(layer.forward(xs), NUMPY[name](xs), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CLASSES) + ["Concatenate"])
def test_backward_matches_central_differences(name):
    for n in _counts(name):
        xs = _inputs(n, seed=n)
        layer = Concatenate(dtype="float64") if name == "Concatenate" else CLASSES[name](dtype="float64")
        if name == "Concatenate":
            xs[1] = np.random.default_rng(7).normal(size=(4, 5))
        dy = np.random.default_rng(3).normal(size=layer.forward(xs).shape)
        grads = layer.backward(dy)
        assert len(grads) == n
        for i in range(n):
            def f(xi, i=i):
                trial = list(xs)
                trial[i] = xi
                return float(np.sum(dy * layer.forward(trial)))
            numeric = central_difference(f, xs[i].copy())
            assert relative_error(grads[i], numeric) < 1e-8, (name, n, i)


def test_concatenate_joins_along_the_axis_and_splits_the_gradient():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(2, 2) + 10
    layer = Concatenate(dtype="float64")
    np.testing.assert_array_equal(layer.forward([a, b]), [[0, 1, 2, 10, 11], [3, 4, 5, 12, 13]])
    da, db = layer.backward(np.arange(10.0).reshape(2, 5))
    np.testing.assert_array_equal(da, [[0, 1, 2], [5, 6, 7]])
    np.testing.assert_array_equal(db, [[3, 4], [8, 9]])
    three_d = Concatenate(axis=1, dtype="float64")
    out = three_d.forward([np.zeros((2, 3, 4)), np.ones((2, 5, 4))])
    assert out.shape == (2, 8, 4)
    assert [g.shape for g in three_d.backward(out)] == [(2, 3, 4), (2, 5, 4)]


def test_maximum_sends_the_gradient_to_the_first_of_tied_inputs():
    a, b = np.array([[1.0, 5.0, 2.0]]), np.array([[3.0, 5.0, 0.0]])
    layer = Maximum(dtype="float64")
    np.testing.assert_array_equal(layer.forward([a, b]), [[3, 5, 2]])
    da, db = layer.backward(np.array([[10.0, 20.0, 30.0]]))
    np.testing.assert_array_equal(da, [[0, 20, 30]])
    np.testing.assert_array_equal(db, [[10, 0, 0]])


@requires_torch
@pytest.mark.parametrize("name", sorted(CLASSES) + ["Concatenate"])
def test_backward_matches_torch_autograd(name):
    xs = _inputs(2, seed=11)
    if name == "Concatenate":
        xs[1] = xs[1][:, :2]
    layer = Concatenate(dtype="float64") if name == "Concatenate" else CLASSES[name](dtype="float64")
    y = layer.forward(xs)
    dy = np.random.default_rng(5).normal(size=y.shape)
    grads = layer.backward(dy)
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    ops = {"Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b, "Multiply": lambda a, b: a * b,
           "Average": lambda a, b: (a + b) / 2, "Maximum": torch.maximum, "Minimum": torch.minimum,
           "Concatenate": lambda a, b: torch.cat([a, b], dim=-1)}
    ty = ops[name](*ts)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12)
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_config_round_trips_through_the_registry():
    for layer in [Concatenate(axis=1, name="join"), Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum()]:
        spec = json.loads(json.dumps(gn.layers.serialize(layer)))
        again = gn.layers.deserialize(spec)
        assert type(again) is type(layer) and again.get_config() == layer.get_config()
    assert Concatenate(axis=1).get_config()["axis"] == 1


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"Add needs inputs of one shape, got \(4, 3\), \(4, 2\)"):
        Add().forward([np.zeros((4, 3)), np.zeros((4, 2))])
    with pytest.raises(ValueError, match="Subtract needs a list of exactly 2 inputs, got 3"):
        Subtract().forward(_inputs(3))
    with pytest.raises(ValueError, match="Multiply needs a list of at least 2 inputs, got 1"):
        Multiply().forward(_inputs(1))
    with pytest.raises(TypeError, match="Average expects a list of arrays, got ndarray"):
        Average().forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Concatenate needs inputs of one shape except along axis -1"):
        Concatenate().forward([np.zeros((2, 3, 4)), np.zeros((2, 5, 4))])
    with pytest.raises(ValueError, match="axis=0 is not a feature axis"):
        Concatenate(axis=0).forward(_inputs(2))
    with pytest.raises(TypeError, match="Concatenate axis must be an int"):
        Concatenate(axis="last")
    with pytest.raises(RuntimeError, match="Maximum.backward called before forward"):
        Maximum().backward(np.zeros((2, 3)))
