"""ZeroPadding2D and UpSampling2D against torch.nn.functional in float64 (F.pad; F.interpolate nearest, and
bilinear with align_corners=False, Keras's half-pixel resize), forward and backward (torch autograd); against
Keras 3 where installed; a hand-worked bilinear row; the errors."""
import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")
F = torch.nn.functional
L = gn.layers


def torch_reference(x, fn):
    """fn applied by torch to x (channels-last, moved to channels-first for torch): (y, dy -> dx)."""
    t = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
    y = fn(t)

    def backward(dy):
        t.grad = None
        y.backward(torch.tensor(np.moveaxis(dy, -1, 1)), retain_graph=True)
        return np.moveaxis(t.grad.numpy(), 1, -1)
    return np.moveaxis(y.detach().numpy(), 1, -1), backward


def check_against(layer, x, fn, rtol=1e-14):
    expected, backward = torch_reference(x, fn)
    y = layer.forward(x, training=True)
    assert y.shape == expected.shape == tuple([x.shape[0]] + list(layer.compute_output_shape(x.shape)[1:]))
    np.testing.assert_allclose(y, expected, rtol=rtol, atol=1e-15)
    dy = np.random.default_rng(1).normal(size=y.shape)
    np.testing.assert_allclose(layer.backward(dy), backward(dy), rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("padding, pairs", [
    (1, ((1, 1), (1, 1))), (0, ((0, 0), (0, 0))), ((2, 1), ((2, 2), (1, 1))), (((0, 3), (2, 0)), ((0, 3), (2, 0))),
    ([[1, 0], [0, 2]], ((1, 0), (0, 2))), ((np.int64(1), (0, 1)), ((1, 1), (0, 1))),
], ids=str)
def test_zero_padding_matches_torch_pad(padding, pairs):
    x = np.random.default_rng(2).normal(size=(2, 5, 4, 3))
    layer = L.ZeroPadding2D(padding, dtype="float64")
    assert layer.padding == pairs
    (top, bottom), (left, right) = pairs
    check_against(layer, x, lambda t: F.pad(t, (left, right, top, bottom)))
    assert layer.get_config()["padding"] == [list(p) for p in pairs]


@pytest.mark.parametrize("size", [2, (2, 3), (3, 1), 1], ids=str)
@pytest.mark.parametrize("shape", [(2, 4, 5, 3), (1, 3, 3, 2), (2, 1, 6, 1)], ids=str)
def test_nearest_upsampling_matches_torch_interpolate(size, shape):
    x = np.random.default_rng(3).normal(size=shape)
    layer = L.UpSampling2D(size, dtype="float64")
    scale = (size, size) if isinstance(size, int) else size
    check_against(layer, x, lambda t: F.interpolate(t, scale_factor=scale, mode="nearest"))


@pytest.mark.parametrize("size", [2, (2, 3), (3, 3), (1, 2), (4, 1)], ids=str)
@pytest.mark.parametrize("shape", [(2, 4, 5, 3), (1, 3, 3, 2), (2, 1, 6, 1), (1, 7, 2, 2)], ids=str)
def test_bilinear_upsampling_matches_torch_interpolate(size, shape):
    x = np.random.default_rng(4).normal(size=shape)
    layer = L.UpSampling2D(size, interpolation="bilinear", dtype="float64")
    scale = (size, size) if isinstance(size, int) else size
    check_against(layer, x, lambda t: F.interpolate(t, scale_factor=scale, mode="bilinear", align_corners=False),
                  rtol=1e-13)


def test_bilinear_row_worked_by_hand():
    """Doubling [0, 4, 8]: output pixel i sits at input position (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25,
    1.75, 2.25 (clamped at the edges): 0, 1, 3, 5, 7, 8."""
    x = np.array([0.0, 4.0, 8.0]).reshape(1, 1, 3, 1)
    y = L.UpSampling2D((1, 2), interpolation="bilinear", dtype="float64").forward(x)
    assert np.allclose(y.ravel(), [0, 1, 3, 5, 7, 8])
    near = L.UpSampling2D((1, 2), dtype="float64").forward(x)
    assert np.array_equal(near.ravel(), [0, 0, 4, 4, 8, 8])


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("make", [
    lambda M: M.ZeroPadding2D(((1, 2), (0, 3))), lambda M: M.ZeroPadding2D(2), lambda M: M.UpSampling2D((2, 3)),
    lambda M: M.UpSampling2D(2, interpolation="bilinear"), lambda M: M.UpSampling2D((3, 2), interpolation="bilinear"),
])
def test_padding_and_upsampling_agree_with_keras(keras, make):
    x = np.random.default_rng(5).normal(size=(2, 5, 4, 3)).astype(np.float32)
    ours, theirs = make(L), make(keras.layers)
    assert ours.compute_output_shape((None, 5, 4, 3)) == tuple(theirs.compute_output_shape((None, 5, 4, 3)))
    np.testing.assert_allclose(ours.forward(x), keras.ops.convert_to_numpy(theirs(x)), rtol=1e-6, atol=1e-6)
    config = theirs.get_config()
    assert {k: ours.get_config()[k] for k in config if k in ("size", "interpolation", "data_format")} == \
        {k: list(v) if isinstance(v, tuple) else v for k, v in config.items() if k in ("size", "interpolation",
                                                                                       "data_format")}


@pytest.mark.parametrize("make, message", [
    (lambda: L.ZeroPadding2D(-1), r"ZeroPadding2D padding must be .* integers >= 0, got -1"),
    (lambda: L.ZeroPadding2D((1, 2, 3)), r"ZeroPadding2D padding must be an int, a pair \(rows, columns\) or "
                                         r"\(\(top, bottom\), \(left, right\)\) .* got \(1, 2, 3\)"),
    (lambda: L.ZeroPadding2D(((1, 2), (3,))), r"got \(\(1, 2\), \(3,\)\)"),
    (lambda: L.ZeroPadding2D("same"), r"got 'same'"),
    (lambda: L.ZeroPadding2D(1.5), r"got 1.5"),
    (lambda: L.ZeroPadding2D(data_format="channels_first"), r"channels-last .* got data_format='channels_first'"),
    (lambda: L.UpSampling2D(0), r"UpSampling2D size"),
    (lambda: L.UpSampling2D((2, 2, 2)), r"UpSampling2D size must be an int or a tuple of 2 ints, got \(2, 2, 2\)"),
    (lambda: L.UpSampling2D(interpolation="bicubic"), r"UpSampling2D interpolation must be one of \['nearest', "
                                                      r"'bilinear'\] in glassnet, got 'bicubic'"),
    (lambda: L.UpSampling2D(data_format="channels_first"), r"channels-last .* got data_format='channels_first'"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer", [L.ZeroPadding2D(), L.UpSampling2D(), L.UpSampling2D(interpolation="bilinear")],
                         ids=lambda l: type(l).__name__)
def test_wrong_rank_and_wrong_dy_are_refused_by_name(layer):
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{name} expects images of shape \(batch, height, width, channels\), got "
                                         rf"inputs of shape \(None, 4, 4\)"):
        layer.forward(np.zeros((2, 4, 4)))
    y = layer.forward(np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match=rf"backward expects dy of shape {tuple(y.shape)}".replace("(", r"\(")
                       .replace(")", r"\)")):
        layer.backward(np.zeros((2, 4, 4, 1)))
