"""Pooling layers against torch.nn.functional in float64, forward and backward (torch autograd), over pool sizes,
strides, padding and odd sizes; the fast path for windows side by side against the reference path (windows +
col2im) and torch, ties included; global pooling against torch's reductions; shapes and 'same' averages against
Keras 3; the errors.

torch pads pooling windows symmetrically only, so Keras's "same" (TensorFlow's rule: the odd pixel at the end)
is written out: F.pad with -inf before a max, and for an average the sum of the zero-padded input divided by
the count of real pixels under each window (both pooled with torch), which is Keras's exclude-the-padding mean.
"""
import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")
F = torch.nn.functional
L = gn.layers
pytestmark = pytest.mark.usefixtures("isolated_random_state")


def same_pads(length, pool, stride):
    """(before, after) of TensorFlow's 'same' rule, written out for the reference."""
    out = -(-length // stride)
    total = max((out - 1) * stride + pool - length, 0)
    return total // 2, total - total // 2


def torch_pool(x, kind, pool, strides, padding):
    """x (batch, *spatial, channels) channels-last, pooled by torch; returns (y, a function dy -> dx)."""
    rank = x.ndim - 2
    t = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)          # channels first for torch
    tp = t
    if padding == "same":
        pads = [same_pads(n, p, s) for n, p, s in zip(x.shape[1:-1], pool, strides)]
        flat = [v for pair in reversed(pads) for v in pair]               # F.pad lists the last axis first
        tp = F.pad(t, flat, value=-np.inf if kind == "max" else 0.0)
    fn = {("max", 1): F.max_pool1d, ("max", 2): F.max_pool2d,
          ("average", 1): F.avg_pool1d, ("average", 2): F.avg_pool2d}[kind, rank]
    y = fn(tp, pool, strides)
    if kind == "average" and padding == "same":
        ones = F.pad(torch.ones_like(t), flat, value=0.0)
        y = y / fn(ones, pool, strides)                                    # mean over the real pixels only

    def backward(dy):
        t.grad = None
        y.backward(torch.tensor(np.moveaxis(dy, -1, 1)), retain_graph=True)
        return np.moveaxis(t.grad.numpy(), 1, -1)
    return np.moveaxis(y.detach().numpy(), 1, -1), backward


POOL_2D = [((2, 2), None, "valid"), ((2, 2), None, "same"), ((3, 3), (2, 2), "valid"), ((3, 3), (2, 2), "same"),
           ((2, 3), (1, 2), "valid"), ((3, 2), (2, 1), "same"), ((3, 3), (1, 1), "same"), ((1, 1), None, "valid"),
           ((2, 2), (3, 3), "valid"), ((4, 4), (3, 3), "same"), ((3, 3), None, "valid"), ((3, 1), None, "same")]
SHAPES_2D = [(3, 8, 8, 2), (2, 11, 11, 3), (2, 7, 10, 1)]


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("pool, strides, padding", POOL_2D, ids=str)
@pytest.mark.parametrize("shape", SHAPES_2D, ids=str)
def test_2d_pooling_matches_torch(kind, pool, strides, padding, shape, monkeypatch):
    cls = L.MaxPooling2D if kind == "max" else L.AveragePooling2D
    rng = np.random.default_rng(sum(shape) * 1000 + sum(pool) * 10 + len(padding))
    x = rng.normal(size=shape)
    monkeypatch.setattr(gn.layers.pooling, "CHUNK_BYTES", 2 * x[0].nbytes)     # the fast path's slices: 2, then 1
    monkeypatch.setattr(gn.layers.pooling, "WHOLE_BYTES", 0)
    expected, torch_backward = torch_pool(x, kind, pool, strides or pool, padding)
    for tiled in (True, False):                     # the fast path (where it applies) and the reference
        layer = cls(pool, strides=strides, padding=padding, dtype="float64")
        layer.build((None,) + shape[1:])
        layer.tiled = tiled
        assert layer.tiled == (tiled and (strides or pool) == pool and padding == "valid")
        y = layer.forward(x, training=True)
        assert y.shape == expected.shape
        np.testing.assert_allclose(y, expected, rtol=1e-13, atol=1e-14)
        dy = rng.normal(size=y.shape)
        np.testing.assert_allclose(layer.backward(dy), torch_backward(dy), rtol=1e-13, atol=1e-14)


POOL_1D = [(2, None, "valid"), (2, None, "same"), (3, 2, "valid"), (3, 2, "same"), (3, 1, "same"), (4, 3, "same"),
           (1, None, "valid"), (2, 3, "valid"), (5, None, "same")]


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("pool, strides, padding", POOL_1D, ids=str)
@pytest.mark.parametrize("steps", [8, 11])
def test_1d_pooling_matches_torch(kind, pool, strides, padding, steps, monkeypatch):
    cls = L.MaxPooling1D if kind == "max" else L.AveragePooling1D
    rng = np.random.default_rng(steps * 100 + pool)
    x = rng.normal(size=(3, steps, 2))
    monkeypatch.setattr(gn.layers.pooling, "CHUNK_BYTES", 2 * x[0].nbytes)
    monkeypatch.setattr(gn.layers.pooling, "WHOLE_BYTES", 0)
    expected, torch_backward = torch_pool(x, kind, (pool,), (strides or pool,), padding)
    for tiled in (True, False):
        layer = cls(pool, strides=strides, padding=padding, dtype="float64")
        layer.build((None, steps, 2))
        layer.tiled = tiled
        y = layer.forward(x, training=True)
        np.testing.assert_allclose(y, expected, rtol=1e-13, atol=1e-14)
        dy = rng.normal(size=y.shape)
        np.testing.assert_allclose(layer.backward(dy), torch_backward(dy), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("shape", [(4, 26, 26, 8), (4, 11, 11, 16), (3, 9, 7, 2)], ids=str)
@pytest.mark.parametrize("pool", [(2, 2), (3, 3), (2, 3)], ids=str)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("per_slice", [1, 2, None], ids=["slices-of-1", "slices-of-2", "whole"])
def test_the_fast_path_equals_the_reference_with_ties(shape, pool, training, per_slice, monkeypatch):
    """After a ReLU many windows tie at 0, and small integers tie often: both paths give the gradient to the
    first max in reading order, as torch does (bit for bit: no arithmetic is involved), whether the batch is
    worked through in one piece or sample by sample."""
    if per_slice is not None:
        monkeypatch.setattr(gn.layers.pooling, "CHUNK_BYTES", per_slice * 8 * int(np.prod(shape[1:])))
        monkeypatch.setattr(gn.layers.pooling, "WHOLE_BYTES", 0)
    slices = L.MaxPooling2D()._chunks(shape[0], 8 * int(np.prod(shape[1:])))
    assert len(slices) == (1 if per_slice is None else -(-shape[0] // per_slice))
    rng = np.random.default_rng(7)
    for x in (np.maximum(rng.normal(size=shape), 0), rng.integers(0, 3, size=shape).astype(float)):
        fast, reference = (L.MaxPooling2D(pool, dtype="float64") for _ in range(2))
        for layer in (fast, reference):
            layer.build((None,) + shape[1:])
        reference.tiled = False
        assert fast.tiled
        y = fast.forward(x, training=training)
        assert np.array_equal(y, reference.forward(x, training=training))
        dy = rng.normal(size=y.shape)
        dx = fast.backward(dy)
        assert np.array_equal(dx, reference.backward(dy))
        expected, torch_backward = torch_pool(x, "max", pool, pool, "valid")
        assert np.array_equal(y, expected) and np.array_equal(dx, torch_backward(dy))


def test_float32_fast_path_matches_torch_and_drops_the_odd_last_row():
    """The Keras convnet's shapes (smaller batch): 26 -> 13, and 11 -> 5 with row and column 10 dropped."""
    rng = np.random.default_rng(3)
    for shape in [(8, 26, 26, 32), (8, 11, 11, 64)]:
        x = np.maximum(rng.normal(size=shape), 0).astype(np.float32)
        layer = L.MaxPooling2D(2)
        y = layer.forward(x, training=True)
        assert y.dtype == np.float32 and y.shape == (8, shape[1] // 2, shape[2] // 2, shape[3])
        dy = rng.normal(size=y.shape).astype(np.float32)
        dx = layer.backward(dy)
        t = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
        out = F.max_pool2d(t, 2)
        out.backward(torch.tensor(np.moveaxis(dy, -1, 1)))
        assert np.array_equal(y, np.moveaxis(out.detach().numpy(), 1, -1))
        assert np.array_equal(dx, np.moveaxis(t.grad.numpy(), 1, -1))
        if shape[1] % 2:
            assert not dx[:, -1].any() and not dx[:, :, -1].any()


def test_fast_path_inside_a_model_reuses_buffers_and_still_matches():
    """fit keeps scratch buffers between batches (a smaller last batch gets a view): results equal the reference."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10, 6, 6, 2))
    y = rng.normal(size=(10, 3))
    models = []
    for tiled in (True, False):
        gn.set_random_seed(0)
        d = "float64"
        model = gn.Sequential([gn.Input((6, 6, 2)), L.Conv2D(3, 3, padding="same", activation="relu", dtype=d),
                               L.MaxPooling2D(2, dtype=d), L.Flatten(dtype=d), L.Dense(3, dtype=d)])
        model.layers[1].tiled = tiled
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
        assert model.layers[1].tiled == tiled and (model.layers[1]._wins is not None) == tiled
        models.append(model)
    for a, b in zip(*(m.get_weights() for m in models)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_backward_after_an_inference_forward_scans_again():
    rng = np.random.default_rng(5)
    x = np.maximum(rng.normal(size=(2, 6, 6, 3)), 0)
    fast, reference = L.MaxPooling2D(dtype="float64"), L.MaxPooling2D(dtype="float64")
    reference.build((None, 6, 6, 3))
    reference.tiled = False
    dy = rng.normal(size=(2, 3, 3, 3))
    fast.forward(x, training=False)
    reference.forward(x, training=False)
    assert np.array_equal(fast.backward(dy), reference.backward(dy))


# -- global pooling ----------------------------------------------------------------------------------------------
GLOBAL = [(L.GlobalAveragePooling2D, (3, 5, 4, 2)), (L.GlobalMaxPooling2D, (3, 5, 4, 2)),
          (L.GlobalAveragePooling1D, (3, 7, 2)), (L.GlobalMaxPooling1D, (3, 7, 2))]


@pytest.mark.parametrize("cls, shape", GLOBAL, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_torch(cls, shape, data_format, keepdims):
    rng = np.random.default_rng(11)
    x = rng.normal(size=shape)
    layer = cls(data_format=data_format, keepdims=keepdims, dtype="float64")
    y = layer.forward(x, training=True)
    rank = len(shape) - 2
    axes = tuple(range(1, 1 + rank)) if data_format == "channels_last" else tuple(range(2, 2 + rank))
    t = torch.tensor(x, requires_grad=True)
    ty = (torch.mean if "Average" in cls.__name__ else torch.amax)(t, dim=axes, keepdim=keepdims)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-14)
    dy = rng.normal(size=y.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.backward(dy), t.grad.numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("cls", [L.GlobalMaxPooling2D, L.GlobalMaxPooling1D])
def test_global_max_gives_a_tie_to_the_first_pixel_as_torch_max_pooling(cls):
    """torch's max pooling over the whole image (kernel = image) routes dL/dy to the first max in reading
    order; glassnet does the same (torch.amax, and Keras, would split it between the tied pixels)."""
    rng = np.random.default_rng(12)
    shape = (3, 4, 5, 3) if cls is L.GlobalMaxPooling2D else (3, 6, 3)
    x = rng.integers(0, 2, size=shape).astype(float)               # many ties at 1
    layer = cls(dtype="float64")
    y = layer.forward(x)
    dy = rng.normal(size=y.shape)
    dx = layer.backward(dy)
    t = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
    pool = F.max_pool2d if cls is L.GlobalMaxPooling2D else F.max_pool1d
    out = pool(t, tuple(shape[1:-1]))
    out.backward(torch.tensor(dy.reshape(out.shape)))
    assert np.array_equal(y, out.detach().numpy().reshape(y.shape))
    assert np.array_equal(dx, np.moveaxis(t.grad.numpy(), 1, -1))
    assert (np.count_nonzero(dx.reshape(shape[0], -1, shape[-1]), axis=1) == 1).all()


# -- against Keras 3 ---------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("name, kwargs, shape", [
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 7, 3)),      # pads (1, 1)
    ("AveragePooling2D", dict(pool_size=3, strides=1, padding="same"), (2, 5, 6, 2)),
    ("AveragePooling1D", dict(pool_size=5, strides=1, padding="same"), (2, 10, 3)),        # pads (2, 2)
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 6, 3)),          # (0, 1) on the width
    ("MaxPooling2D", dict(pool_size=(2, 3), padding="same"), (2, 5, 5, 2)),
    ("MaxPooling2D", dict(pool_size=2), (2, 11, 11, 2)),
    ("MaxPooling1D", dict(pool_size=3, padding="same"), (2, 8, 2)),
], ids=str)
def test_same_padding_agrees_with_keras(keras, name, kwargs, shape):
    """Keras averages over the real pixels of a window at the edge and ignores the padding in a max.

    Only symmetric padding is compared for averages: Keras 3 on torch pads an uneven 'same' by repeating the
    edge pixels (F.pad mode='replicate') and counts them in the mean, which Keras on TensorFlow (and
    glassnet, and the torch reference above) does not; for a max, repeating an edge pixel changes nothing."""
    x = np.random.default_rng(13).normal(size=shape).astype(np.float32)
    ours = getattr(L, name)(**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    np.testing.assert_allclose(ours.forward(x), keras.ops.convert_to_numpy(theirs(x)), rtol=1e-6, atol=1e-6)


# -- errors ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, shape, message", [
    (lambda: L.MaxPooling2D(), (2, 8, 8), r"expects inputs of shape \(batch, height, width, channels\), got "
                                          r"inputs of shape \(None, 8, 8\)"),
    (lambda: L.MaxPooling1D(), (2, 8, 8, 1), r"expects inputs of shape \(batch, steps, channels\)"),
    (lambda: L.MaxPooling2D(5), (2, 4, 8, 1), r"pool_size \(5, 5\) is larger than the inputs' spatial shape \(4, 8\) "
                                              r"with padding='valid'"),
    (lambda: L.AveragePooling1D(9), (2, 8, 1), r"pool_size \(9,\) is larger than .* \(8,\)"),
    (lambda: L.GlobalMaxPooling2D(), (2, 8, 3),
     r"GlobalMaxPooling2D expects inputs of shape \(batch, height, width, channels\), got inputs of shape "
     r"\(None, 8, 3\)"),
    (lambda: L.GlobalMaxPooling1D(), (2, 8, 3, 1), r"GlobalMaxPooling1D expects inputs of shape \(batch, steps, "
                                                   r"channels\)"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_wrong_inputs_are_refused_by_name(make, shape, message):
    layer = make()
    with pytest.raises(ValueError, match=message):
        layer.build((None,) + shape[1:])
    with pytest.raises(ValueError, match=message.split(" got")[0].split(" is larger")[0]):
        layer.forward(np.zeros(shape))


def test_a_built_layer_refuses_another_image_size():
    layer = L.MaxPooling2D()
    layer.forward(np.zeros((1, 6, 6, 2)))
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, 6, 6, 2\), got \(1, 6, 5, 2\)"):
        layer.forward(np.zeros((1, 6, 5, 2)))


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match=r"MaxPooling2D padding must be one of \['valid', 'same'\], got 'full'"):
        L.MaxPooling2D(padding="full")
    with pytest.raises(ValueError, match=r"MaxPooling1D padding must be one of \['valid', 'same'\], got 'causal'"):
        L.MaxPooling1D(padding="causal")
    with pytest.raises(ValueError, match=r"channels-last .* got data_format='channels_first'"):
        L.AveragePooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match=r"MaxPooling2D pool_size must be an int or a tuple of 2 ints, got \(2, 2, 2"):
        L.MaxPooling2D((2, 2, 2))
    with pytest.raises(ValueError, match=r"AveragePooling2D strides"):
        L.AveragePooling2D(2, strides=0)
    with pytest.raises(ValueError, match=r"data_format must be 'channels_last' or 'channels_first', got 'nhwc'"):
        L.GlobalAveragePooling2D(data_format="nhwc")
    layer = L.MaxPooling2D()
    layer.forward(np.zeros((2, 4, 4, 1)), training=True)
    with pytest.raises(ValueError, match=r"backward expects dy of shape \(2, 2, 2, 1\), got \(2, 2, 2\)"):
        layer.backward(np.zeros((2, 2, 2)))
