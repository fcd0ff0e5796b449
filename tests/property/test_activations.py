"""Properties of glassnet.activations, for any finite input (float32 and float64, subnormals and +-max
included): the value's range, dtype and shape, no NaN/inf and no floating-point warning; softmax rows
are distributions and shift-invariant; each derivative equals float64 central differences away from
its kinks; the layers' fast forward/backward rules equal the plain functions."""
import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet as gn
from property._helpers import FLOATS, arrays, examples, floats, small_shapes
from reference import no_numerical_warnings

A = gn.activations
ELEMENTWISE = ["step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish"]
ALL = ELEMENTWISE + ["softmax"]
KINKS = {"step": 0.0, "relu": 0.0, "leaky_relu": 0.0, "elu": 0.0}      # not differentiable at 0


def extreme_arrays(dtype, max_side=6):
    """Any finite values of dtype, with the largest, smallest and subnormal ones mixed in often."""
    info = np.finfo(dtype)
    special = st.sampled_from([info.max, -info.max, info.tiny, -info.tiny, info.smallest_subnormal,
                               -info.smallest_subnormal, 0.0, -0.0, 1000.0, -1000.0, 88.8, -88.8, 710.0, -710.0])
    return hnp.arrays(dtype, small_shapes(max_side=max_side), elements=st.one_of(floats(dtype), special))


ANY_FINITE = st.sampled_from(FLOATS).flatmap(extreme_arrays)
#: rows spanning more than the largest float: x - max(x) overflows to -inf (softmax's shift)
WIDEST = [np.array([[m, -m], [-m, m]], dtype) for dtype in FLOATS for m in [np.finfo(dtype).max]]


@examples(50)
@given(x=ANY_FINITE)
@example(x=WIDEST[0])
@example(x=WIDEST[1])
def test_finite_for_any_finite_input_and_dtype_kept(x):
    dtype = x.dtype.type
    x0 = x.copy()
    for name in ALL:
        f, df = A.get(name), A.get_derivative(name)
        with no_numerical_warnings():
            y, dy = f(x), df(x)
        assert y.dtype == dtype and y.shape == x.shape, f"{name}: {x.dtype}{x.shape} -> {y.dtype}{y.shape}"
        assert dy.dtype == dtype
        assert dy.shape == (x.shape if name != "softmax" else x.shape + x.shape[-1:])
        assert np.isfinite(y).all() and np.isfinite(dy).all(), f"{name}({x!r}) = {y!r}, derivative {dy!r}"
        assert np.array_equal(x, x0), f"{name} changed its input"


@examples(40)
@given(x=ANY_FINITE)
@example(x=WIDEST[0])
@example(x=WIDEST[1])
def test_ranges(x):
    dtype = x.dtype.type
    with no_numerical_warnings():
        s, t, r, step = A.sigmoid(x), A.tanh(x), A.relu(x), A.step(x)
        e = A.elu(x, alpha=0.7)
        p = A.softmax(x)
    assert ((0 <= s) & (s <= 1)).all() and ((-1 <= t) & (t <= 1)).all()
    assert (r >= 0).all() and np.array_equal(r, np.where(x > 0, x, 0))
    assert np.array_equal(step, (x > 0).astype(dtype))
    assert (e >= dtype(-0.7)).all() and np.array_equal(e[x > 0], x[x > 0])
    assert (p >= 0).all() and (p <= 1).all()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.allclose(p.sum(axis=-1), 1, rtol=0, atol=tol * x.shape[-1])
    # the largest entry of each row gets the largest probability
    assert np.array_equal(np.take_along_axis(p, x.argmax(-1)[..., None], -1)[..., 0], p.max(-1))


@examples(30)
@given(x=arrays(np.float64, st.integers(2, 30), -1e6, 1e6))
def test_monotone(x):
    """These activations never decrease: sorted inputs give sorted outputs."""
    for name in ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "step", "linear"]:
        y = A.get(name)(np.sort(x))
        assert (np.diff(y) >= 0).all(), (name, y)


@examples(40)
@given(x=arrays(np.float64, small_shapes(max_side=5), -700, 700))
def test_closed_forms(x):
    """Against formulas written here in float64 (exp of |x| <= 700 does not overflow)."""
    assert np.allclose(A.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-13, atol=1e-300)
    assert np.allclose(A.tanh(x), np.tanh(x), rtol=1e-15, atol=0)
    assert np.allclose(A.swish(x), x / (1 + np.exp(-x)), rtol=1e-13, atol=1e-300)
    assert np.allclose(A.elu(x, alpha=1.5), np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0))), rtol=1e-15)
    assert np.allclose(A.leaky_relu(x, 0.1), np.where(x > 0, x, 0.1 * x), rtol=1e-15)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    assert np.allclose(A.softmax(x), e / e.sum(axis=-1, keepdims=True), rtol=1e-12, atol=1e-300)


@examples(40)
@given(x=arrays(np.float64, small_shapes(min_dims=1, max_dims=3), -50, 50),
       shift=floats(np.float64, -100, 100), dtype=st.sampled_from(FLOATS))
def test_softmax_is_shift_invariant(dtype, x, shift):
    x = x.astype(dtype)
    shifted = (x + dtype(shift)).astype(dtype)
    assume(np.allclose((shifted - x).astype(np.float64), dtype(shift), rtol=0, atol=0))   # the shift is exact
    tol = 1e-5 if dtype == np.float32 else 1e-13
    assert np.allclose(A.softmax(shifted), A.softmax(x), rtol=tol, atol=tol)


def central(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


@examples(40)
@given(x=arrays(np.float64, small_shapes(max_dims=2, max_side=6), -30, 30),
       slope=floats(np.float64, 0.01, 1.0), alpha=floats(np.float64, 0.1, 3.0))
def test_derivatives_match_central_differences(x, slope, alpha):
    for name in ELEMENTWISE:
        kwargs = {"leaky_relu": {"negative_slope": slope}, "elu": {"alpha": alpha}}.get(name, {})
        at = np.where(np.abs(x - KINKS[name]) < 1e-3, 1e-3, x) if name in KINKS else x
        h = 1e-6 * np.maximum(1, np.abs(at))
        numeric = central(lambda v: A.get(name)(v, **kwargs), at, h)
        analytic = A.get_derivative(name)(at, **kwargs)
        assert np.allclose(analytic, numeric, rtol=1e-6, atol=1e-8), (name, analytic, numeric)


@examples(40)
@given(x=arrays(np.float64, small_shapes(min_dims=1, max_dims=2, max_side=6), -30, 30))
def test_softmax_jacobian_matches_central_differences(x):
    jac = A.softmax_derivative(x)
    h = 1e-6
    for j in range(x.shape[-1]):
        step = np.zeros_like(x)
        step[..., j] = h
        column = (A.softmax(x + step) - A.softmax(x - step)) / (2 * h)      # d softmax_i / d x_j
        assert np.allclose(jac[..., :, j], column, rtol=1e-6, atol=1e-9)


@examples(30)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_layer_rules_equal_the_functions(dtype, data):
    """The forward_into / backward rules that layers use compute the same numbers as the functions:
    backward = dy * f'(z) elementwise, the vector-Jacobian product dy . J for softmax."""
    shape = data.draw(small_shapes(min_dims=2, max_dims=2, max_side=6))
    z = data.draw(arrays(dtype, st.just(shape), -40, 40))
    dy = data.draw(arrays(dtype, st.just(shape), -10, 10))
    for name in ALL:
        row = A.ACTIVATIONS[name]
        y = A.get(name)(z)
        assert np.array_equal(row.forward_into(z, np.empty_like(z)), y), name
        z64, dy64 = z.astype(np.float64), dy.astype(np.float64)
        expected = (np.einsum("...i,...ij->...j", dy64, A.softmax_derivative(z64)) if name == "softmax"
                    else dy64 * A.get_derivative(name)(z64))
        got = row.backward(z, y, dy)
        assert got.dtype == dtype, name
        tol = 1e-4 if dtype == np.float32 else 1e-12
        assert np.allclose(got, expected, rtol=tol, atol=tol * max(1.0, np.abs(dy).max())), name


IDENTIFIERS = st.one_of(st.sampled_from(ALL + ["silu", "identity", "binary_step", None, "", "RELU", "relu ", "soft max"]),
                        st.text("abcelmorstuxy_ -", max_size=8), st.integers(), st.lists(st.just("relu"), max_size=2),
                        st.just({"relu": 1}), st.just(np.sum), st.just(lambda v: v))


@examples(50)
@given(identifier=IDENTIFIERS)
def test_get_takes_a_name_or_says_which(identifier):
    """get(name) gives a function of the table; anything else (unknown names, numbers, lists, dicts, other
    functions) is a ValueError/TypeError that says what is expected."""
    try:
        f = A.get(identifier)
    except (ValueError, TypeError) as err:
        assert "activation" in str(err) and len(str(err)) > 30, str(err)
        return
    assert f in {row.function for row in A.ACTIVATIONS.values()}


@examples(40)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
                    elements=floats(np.float64, -5, 5)))
def test_any_shape_even_empty_or_scalar(x):
    """Every activation takes any shape: empty axes give empty results, a scalar a scalar; softmax's
    Jacobian needs a class axis and says so for a scalar."""
    for name in ALL:
        with no_numerical_warnings():
            y = A.get(name)(x)
            assert np.shape(y) == x.shape and np.isfinite(y).all(), name
            if name == "softmax" and x.ndim == 0:
                with pytest.raises(ValueError, match="scalar"):
                    A.get_derivative(name)(x)
            else:
                assert np.shape(A.get_derivative(name)(x))[:x.ndim] == x.shape, name


@examples(30)
@given(x=st.sampled_from(["int8", "uint8", "int32", "int64", "bool"]).flatmap(
    lambda dt: hnp.arrays(dt, small_shapes(max_side=5))))
@example(x=np.array([1, 2], np.uint8))                # uint8's x - max(x) wrapped around to 255
@example(x=np.array([-128, 127], np.int8))
def test_integer_inputs_compute_in_float64(x):
    """Integers and booleans compute as their float64 values do (NumPy's rule), with no wrap-around."""
    for name in ALL:
        with no_numerical_warnings():
            got, expected = A.get(name)(x), A.get(name)(x.astype(np.float64))
            assert np.allclose(got, expected, rtol=1e-15, atol=0) and np.asarray(got).dtype.kind in "fiub", name
            if name != "linear":
                assert np.asarray(got).dtype == np.float64, (name, got.dtype)
            assert np.allclose(A.get_derivative(name)(x), A.get_derivative(name)(x.astype(np.float64))), name
