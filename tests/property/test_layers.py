"""Properties of the layers over random small configurations and shapes, in float64: the output shape is
compute_output_shape's and Keras's formula (or the layer refuses the shape with a clean error); forward
equals a reference written here (direct convolution, window-by-window pooling, batch statistics);
backward equals central differences of sum(forward(x) * g), for x and every weight."""
import math

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import glassnet as gn
from property._helpers import examples
from reference import central_difference, relative_error

L = gn.layers
pytestmark = pytest.mark.usefixtures("isolated_random_state")     # layers draw initial weights from glassnet's rng
SMOOTH = ["linear", "tanh", "sigmoid", "swish", "softmax"]
SEEDS = st.integers(0, 2**32 - 1)


def randomize(layer, rng):
    layer.set_weights([rng.normal(size=w.shape) for w in layer.params.values()]
                      + [rng.uniform(0.5, 1.5, size=w.shape) for w in layer.state.values()])


def check_backward(layer, x, rng, training=False, rtol=1e-6):
    """backward(g) against float64 central differences of sum(forward(x) * g), for x and each weight."""
    g = rng.normal(size=layer.forward(x, training=training).shape)

    def loss(_):
        return float(np.sum(layer.forward(x, training=training) * g))
    layer.forward(x, training=training)
    dx = layer.backward(g)
    grads = {k: np.array(v) for k, v in layer.grads.items()}
    err = relative_error(dx, central_difference(loss, x))
    assert err < rtol, f"dL/dx: relative error {err:.2e}"
    for key, param in layer.params.items():
        err = relative_error(grads[key], central_difference(loss, param))
        assert err < rtol, f"dL/d{key}: relative error {err:.2e}"


def out_size(n, kernel, stride, padding, dilation=1):
    """Keras's output length: valid floor((n - d(k-1) - 1) / s) + 1; same and causal ceil(n / s)."""
    if padding == "valid":
        return (n - dilation * (kernel - 1) - 1) // stride + 1
    return -(-n // stride)


def pad_before(n, kernel, stride, padding, dilation=1):
    effective = dilation * (kernel - 1) + 1
    if padding == "valid":
        return 0
    if padding == "causal":
        return effective - 1
    return max((out_size(n, kernel, stride, padding) - 1) * stride + effective - n, 0) // 2


@st.composite
def conv_cases(draw):
    rank = draw(st.sampled_from([1, 2]))
    spatial = tuple(draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank)))
    kernel = tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    padding = draw(st.sampled_from(["valid", "same"] + ["causal"] * (rank == 1)))
    steps = tuple(draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank)))
    strided = draw(st.booleans())                                  # Keras: strides > 1 or dilation > 1, not both
    strides, dilation = (steps, (1,) * rank) if strided else ((1,) * rank, steps)
    return dict(rank=rank, spatial=spatial, channels=draw(st.integers(1, 2)), filters=draw(st.integers(1, 3)),
                kernel=kernel, padding=padding, strides=strides, dilation=dilation,
                activation=draw(st.sampled_from(SMOOTH)), use_bias=draw(st.booleans()), batch=draw(st.integers(1, 2)),
                seed=draw(SEEDS))


def conv_reference(x, kernel, bias, strides, dilation, padding, activation):
    """The cross-correlation written out over output positions (channels last), then the activation."""
    rank = x.ndim - 2
    spatial = x.shape[1:-1]
    ks = kernel.shape[:rank]
    outs = [out_size(n, k, s, padding, d) for n, k, s, d in zip(spatial, ks, strides, dilation)]
    before = [pad_before(n, k, s, padding, d) for n, k, s, d in zip(spatial, ks, strides, dilation)]
    padded = np.zeros((x.shape[0],) + tuple(n + 2 * 4 * 4 for n in spatial) + (x.shape[-1],))
    padded[(slice(None),) + tuple(slice(b, b + n) for b, n in zip(before, spatial))] = x
    y = np.zeros((x.shape[0],) + tuple(outs) + (kernel.shape[-1],))
    for pos in np.ndindex(*outs):
        for tap in np.ndindex(*ks):
            at = tuple(p * s + t * d for p, s, t, d in zip(pos, strides, tap, dilation))
            y[(slice(None),) + pos] += padded[(slice(None),) + at] @ kernel[tap]
    if bias is not None:
        y += bias
    return gn.activations.get(activation)(y)


@examples(25)
@given(case=conv_cases())
def test_convolution(case):
    c = case
    cls = L.Conv1D if c["rank"] == 1 else L.Conv2D
    layer = cls(c["filters"], c["kernel"], strides=c["strides"], padding=c["padding"], dilation_rate=c["dilation"],
                activation=c["activation"], use_bias=c["use_bias"], dtype="float64")
    input_shape = (None,) + c["spatial"] + (c["channels"],)
    outs = [out_size(n, k, s, c["padding"], d) for n, k, s, d in zip(c["spatial"], c["kernel"], c["strides"],
                                                                        c["dilation"])]
    event(f"{cls.__name__} {c['padding']}: " + ("refused" if min(outs) < 1 else "built"))
    if min(outs) < 1:
        with pytest.raises((ValueError, TypeError)) as err:
            layer.build(input_shape)
        assert str(c["spatial"][0]) in str(err.value) or "shape" in str(err.value), str(err.value)
        return
    layer.build(input_shape)
    expected_shape = (None,) + tuple(outs) + (c["filters"],)
    assert tuple(layer.compute_output_shape(input_shape)) == expected_shape
    rng = np.random.default_rng(c["seed"])
    randomize(layer, rng)
    x = rng.normal(size=(c["batch"],) + c["spatial"] + (c["channels"],))
    y = layer.forward(x)
    assert y.shape == (c["batch"],) + expected_shape[1:] and y.dtype == np.float64
    reference = conv_reference(x, layer.params["W"], layer.params.get("b"), c["strides"], c["dilation"],
                               c["padding"], c["activation"])
    assert np.allclose(y, reference, rtol=1e-12, atol=1e-12)
    check_backward(layer, x, rng)


@st.composite
def pool_cases(draw):
    rank = draw(st.sampled_from([1, 2]))
    return dict(rank=rank, kind=draw(st.sampled_from(["Max", "Average"])),
                spatial=tuple(draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank))),
                pool=tuple(draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))),
                strides=draw(st.one_of(st.none(), st.lists(st.integers(1, 3), min_size=rank, max_size=rank)
                                       .map(tuple))),
                padding=draw(st.sampled_from(["valid", "same"])), channels=draw(st.integers(1, 2)),
                batch=draw(st.integers(1, 2)), seed=draw(SEEDS))


@examples(25)
@given(case=pool_cases())
def test_pooling(case):
    """Pooling: Keras's shapes; each output is the max / mean of its window's real entries (padding='same'
    adds none to the mean); backward vs central differences (random normal inputs: no ties)."""
    c = case
    cls = getattr(L, f"{c['kind']}Pooling{c['rank']}D")
    strides = c["strides"] or c["pool"]
    layer = cls(c["pool"], strides=c["strides"], padding=c["padding"], dtype="float64")
    input_shape = (None,) + c["spatial"] + (c["channels"],)
    outs = [out_size(n, k, s, c["padding"]) for n, k, s in zip(c["spatial"], c["pool"], strides)]
    event(f"{cls.__name__} {c['padding']}: " + ("refused" if min(outs) < 1 else "built"))
    if min(outs) < 1:
        with pytest.raises((ValueError, TypeError)):
            layer.build(input_shape)
        return
    layer.build(input_shape)
    assert tuple(layer.compute_output_shape(input_shape)) == (None,) + tuple(outs) + (c["channels"],)
    rng = np.random.default_rng(c["seed"])
    x = rng.normal(size=(c["batch"],) + c["spatial"] + (c["channels"],))
    y = layer.forward(x)
    assert y.shape == (c["batch"],) + tuple(outs) + (c["channels"],)
    before = [pad_before(n, k, s, c["padding"]) for n, k, s in zip(c["spatial"], c["pool"], strides)]
    reduce = np.max if c["kind"] == "Max" else np.mean
    for pos in np.ndindex(*outs):
        window = tuple(slice(max(p * s - b, 0), min(p * s - b + k, n))
                       for p, s, b, k, n in zip(pos, strides, before, c["pool"], c["spatial"]))
        expected = reduce(x[(slice(None),) + window].reshape(c["batch"], -1, c["channels"]), axis=1)
        assert np.allclose(y[(slice(None),) + pos], expected, rtol=1e-13, atol=1e-15), pos
    check_backward(layer, x, rng)


@examples(25)
@given(units=st.integers(1, 4), features=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       activation=st.sampled_from(SMOOTH), use_bias=st.booleans(), batch=st.integers(1, 3), seed=SEEDS)
def test_dense(units, features, activation, use_bias, batch, seed):
    """Dense on inputs of any rank acts on the last axis: activation(x @ W + b)."""
    layer = L.Dense(units, activation=activation, use_bias=use_bias, dtype="float64")
    layer.build((None,) + features)
    assert tuple(layer.compute_output_shape((None,) + features)) == (None,) + features[:-1] + (units,)
    rng = np.random.default_rng(seed)
    randomize(layer, rng)
    x = rng.normal(size=(batch,) + features)
    z = x @ layer.params["W"] + (layer.params["b"] if use_bias else 0)
    assert np.allclose(layer.forward(x), gn.activations.get(activation)(z), rtol=1e-13, atol=1e-14)
    check_backward(layer, x, rng)


@examples(25)
@given(features=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), batch=st.integers(2, 4),
       training=st.booleans(), epsilon=st.sampled_from([1e-3, 0.1]), center=st.booleans(), scale=st.booleans(),
       seed=SEEDS)
def test_batch_normalization(features, batch, training, epsilon, center, scale, seed):
    """Training: (x - batch mean) / sqrt(batch variance + eps) * gamma + beta per channel (the last axis), the
    statistics over every other axis; inference: the moving statistics instead."""
    layer = L.BatchNormalization(epsilon=epsilon, center=center, scale=scale, dtype="float64")
    layer.build((None,) + features)
    assert tuple(layer.compute_output_shape((None,) + features)) == (None,) + features
    rng = np.random.default_rng(seed)
    randomize(layer, rng)
    x = rng.normal(size=(batch,) + features) * 2 + 1
    axes = tuple(range(x.ndim - 1))
    weights = dict(zip([k for k in ("gamma", "beta") if k in layer.params], layer.params.values()))
    mean, var = (x.mean(axes), x.var(axes)) if training else (layer.state["moving_mean"], layer.state["moving_variance"])
    expected = (x - mean) / np.sqrt(var + epsilon) * weights.get("gamma", 1.0) + weights.get("beta", 0.0)
    state = {k: v.copy() for k, v in layer.state.items()}
    assert np.allclose(layer.forward(x, training=training), expected, rtol=1e-12, atol=1e-12)
    for k, v in layer.state.items():              # restored: the check below runs forward many times
        v[...] = state[k]
    check_backward(layer, x, rng, training=training, rtol=1e-5)     # a batch of 2: ill-conditioned differences


@examples(30)
@given(features=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), batch=st.integers(1, 3),
       rate=st.floats(0.0, 0.9), seed=SEEDS)
def test_dropout(features, batch, rate, seed):
    """training=False: the identity, forward and backward; training=True: each output is 0 or x / (1 - rate),
    and backward passes the same mask."""
    layer = L.Dropout(rate, seed=seed % 1000, dtype="float64")
    layer.build((None,) + features)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch,) + features)
    g = rng.normal(size=x.shape)
    assert np.array_equal(layer.forward(x, training=False), x)
    assert np.array_equal(layer.backward(g), g)
    y = layer.forward(x, training=True)
    kept = y != 0
    assert np.allclose(y[kept], x[kept] / (1 - rate), rtol=1e-12)
    assert np.allclose(layer.backward(g), np.where(kept, g / (1 - rate), 0), rtol=1e-12)


def factorizations(n):
    """Strategy: tuples of ints > 0 whose product is n (one entry may be -1)."""
    def split(data_n):
        return st.integers(1, 3).flatmap(lambda parts: st.lists(st.sampled_from(
            [d for d in range(1, data_n + 1) if data_n % d == 0]), min_size=parts - 1, max_size=parts - 1))
    return split(n)


@examples(40)
@given(data=st.data(), features=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       batch=st.integers(1, 3))
def test_flatten_and_reshape(data, features, batch):
    """Flatten gives (batch, prod); Reshape any factorization of the sample size (with one -1 or not) gives
    x.reshape; a target of another size is a clean ValueError naming both; backward reshapes the gradient."""
    size = math.prod(features)
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    head = data.draw(st.lists(st.sampled_from(divisors), max_size=2))
    rest = size // math.prod(head) if size % math.prod(head) == 0 else None
    x = np.arange(batch * size, dtype=np.float64).reshape((batch,) + features)
    flat = L.Flatten(dtype="float64")
    flat.build((None,) + features)
    assert np.array_equal(flat.forward(x), x.reshape(batch, -1))
    assert np.array_equal(flat.backward(x.reshape(batch, -1)), x)
    if rest is None:
        target = tuple(head) + (1,)
        with pytest.raises(ValueError) as err:
            L.Reshape(target).build((None,) + features)
        assert str(size) in str(err.value) and str(target) in str(err.value), str(err.value)
        return
    target = tuple(head) + (data.draw(st.sampled_from([rest, -1])),)
    layer = L.Reshape(target, dtype="float64")
    layer.build((None,) + features)
    want = x.reshape((batch,) + target)
    assert tuple(layer.compute_output_shape((None,) + features)) == (None,) + want.shape[1:]
    assert np.array_equal(layer.forward(x), want)
    assert np.array_equal(layer.backward(want), x)


HOSTILE = st.sampled_from([0, -1, 1, 2, 2.5, 1.0, True, "3", None, 10**12, (), (0,), (2, 0), (2, 2, 2), [2, 2],
                           float("nan"), float("inf"), -0.5, 0.5, 1.5, np.int64(2), np.float64(2.0), object()])
BUILDERS = {
    "Dense.units": lambda v: L.Dense(v), "Conv1D.filters": lambda v: L.Conv1D(v, 2),
    "Conv1D.kernel_size": lambda v: L.Conv1D(2, v), "Conv2D.kernel_size": lambda v: L.Conv2D(2, v),
    "Conv2D.strides": lambda v: L.Conv2D(2, 2, strides=v), "Conv2D.dilation_rate": lambda v: L.Conv2D(2, 2, dilation_rate=v),
    "MaxPooling2D.pool_size": lambda v: L.MaxPooling2D(v), "AveragePooling1D.strides": lambda v: L.AveragePooling1D(2, strides=v),
    "Dropout.rate": lambda v: L.Dropout(v), "BatchNormalization.momentum": lambda v: L.BatchNormalization(momentum=v),
    "BatchNormalization.epsilon": lambda v: L.BatchNormalization(epsilon=v), "Reshape.target_shape": lambda v: L.Reshape(v),
}
SHAPES_FOR = {"Dense": (None, 3), "Conv1D": (None, 6, 2), "Conv2D": (None, 6, 6, 2), "MaxPooling2D": (None, 6, 6, 2),
              "AveragePooling1D": (None, 6, 2), "Dropout": (None, 4), "BatchNormalization": (None, 4), "Reshape": (None, 4)}


@examples(60)
@given(which=st.sampled_from(sorted(BUILDERS)), value=HOSTILE, batch=st.integers(1, 2))
def test_hostile_arguments_build_and_run_or_raise_cleanly(which, value, batch):
    """Any argument value: the layer is made, built and run (forward, backward) with finite numbers, or it
    raises a ValueError or TypeError that names the argument; never another exception type."""
    try:
        layer = BUILDERS[which](value)
        shape = SHAPES_FOR[which.split(".")[0]]
        layer.build(shape)
        x = np.random.default_rng(0).normal(size=(batch,) + shape[1:]).astype(np.float32)
        y = layer.forward(x, training=True)
        dx = layer.backward(np.ones_like(y))
    except (ValueError, TypeError) as err:
        message = str(err)
        assert len(message) > 15, message
        return
    assert np.isfinite(y).all() and dx.shape == x.shape and np.isfinite(dx).all(), (which, value)


def twin(make, input_shape, rng):
    """The same layer in float64 and float32 with the same (float32-representable) weights."""
    wide, narrow = make("float64"), make("float32")
    wide.build(input_shape)
    narrow.build(input_shape)
    randomize(wide, rng)
    narrow.set_weights([w.astype(np.float32) for w in wide.get_weights()])
    wide.set_weights([w.astype(np.float32).astype(np.float64) for w in wide.get_weights()])
    return wide, narrow


@examples(25)
@given(conv=conv_cases(), pool=pool_cases(), training=st.booleans())
def test_float32_layers_agree_with_float64(conv, pool, training):
    """float32 layers (the compiled kernels when numba is there) compute what the float64 ones (NumPy)
    compute, to float32 rounding, forward and backward: Conv1D/2D, pooling, Dense, BatchNormalization."""
    cases = []
    c = conv
    shape = c["spatial"] + (c["channels"],)
    if min(out_size(n, k, s, c["padding"], d) for n, k, s, d in zip(c["spatial"], c["kernel"], c["strides"],
                                                                    c["dilation"])) >= 1:
        cls = L.Conv1D if c["rank"] == 1 else L.Conv2D
        cases.append((lambda dt, cls=cls: cls(c["filters"], c["kernel"], strides=c["strides"], padding=c["padding"],
                                               dilation_rate=c["dilation"], activation=c["activation"],
                                               use_bias=c["use_bias"], dtype=dt), shape))
    p = pool
    strides = p["strides"] or p["pool"]
    if min(out_size(n, k, s, p["padding"]) for n, k, s in zip(p["spatial"], p["pool"], strides)) >= 1:
        cls = getattr(L, f"{p['kind']}Pooling{p['rank']}D")
        cases.append((lambda dt, cls=cls: cls(p["pool"], strides=p["strides"], padding=p["padding"], dtype=dt),
                      p["spatial"] + (p["channels"],)))
    cases.append((lambda dt: L.Dense(3, activation=c["activation"], dtype=dt), shape))
    cases.append((lambda dt: L.BatchNormalization(dtype=dt), shape))
    rng = np.random.default_rng(c["seed"])
    for make, features in cases:
        wide, narrow = twin(make, (None,) + features, rng)
        x = rng.normal(size=(c["batch"] + 1,) + features).astype(np.float32)
        y64, y32 = wide.forward(x.astype(np.float64), training=training), narrow.forward(x, training=training)
        assert y32.dtype == np.float32 and y32.shape == y64.shape
        assert np.allclose(y32, y64, rtol=1e-4, atol=1e-5), type(wide).__name__
        g = rng.normal(size=y64.shape)
        dx64, dx32 = wide.backward(g), narrow.backward(g.astype(np.float32))
        assert dx32.dtype == np.float32 and np.allclose(dx32, dx64, rtol=1e-4, atol=1e-4), type(wide).__name__
        for key in wide.grads:
            assert np.allclose(narrow.grads[key], wide.grads[key], rtol=1e-4, atol=1e-4), (type(wide).__name__, key)
