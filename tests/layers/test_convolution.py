"""glassnet.convolution: im2col, col2im, Geometry and conv by hand.

References: numbers worked by hand (a 4x4 image, a 3x3 filter), the adjoint identity
sum(im2col(x) * c) == sum(x * col2im(c)) (which col2im must satisfy for the backward pass to be
right), a direct loop over output pixels written here without im2col, and Keras's output shapes.
"""
import itertools

import numpy as np
import pytest

from glassnet import convolution as C

X44 = np.arange(16.0).reshape(1, 4, 4, 1)          # the docs' 4x4 image: pixel (r, c) holds 4r + c
FILTER = np.array([[1.0, 2.0, 0.0],
                   [0.0, 1.0, 0.0],
                   [0.0, 0.0, -1.0]])


# ---------------------------------------------------------------------------- worked by hand
def test_im2col_of_the_4x4_image_lists_its_four_patches_row_by_row():
    cols = C.im2col(X44, (3, 3))
    assert cols.shape == (4, 9)
    np.testing.assert_array_equal(cols, [[0, 1, 2, 4, 5, 6, 8, 9, 10],
                                         [1, 2, 3, 5, 6, 7, 9, 10, 11],
                                         [4, 5, 6, 8, 9, 10, 12, 13, 14],
                                         [5, 6, 7, 9, 10, 11, 13, 14, 15]])


def test_conv_of_the_4x4_image_by_hand():
    # top-left pixel p of a patch: 1 p + 2 (p + 1) + 1 (p + 5) - 1 (p + 10) = 3p - 3; p = 0, 1, 4, 5
    W = FILTER.reshape(3, 3, 1, 1)
    y = C.conv(X44, W)
    assert y.shape == (1, 2, 2, 1)
    np.testing.assert_array_equal(y[0, :, :, 0], [[-3.0, 0.0], [9.0, 12.0]])
    np.testing.assert_array_equal(C.conv(X44, W, b=np.array([0.5]))[0, :, :, 0], [[-2.5, 0.5], [9.5, 12.5]])


def test_col2im_of_ones_counts_the_windows_over_each_pixel():
    counts = C.col2im(np.ones((4, 9)), (1, 4, 4, 1), (3, 3))
    np.testing.assert_array_equal(counts[0, :, :, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_same_padding_by_hand():
    cols = C.im2col(X44, (3, 3), padding="same")
    assert cols.shape == (16, 9)
    np.testing.assert_array_equal(cols[0], [0, 0, 0, 0, 0, 1, 0, 4, 5])            # top-left: zeros above and left
    np.testing.assert_array_equal(cols[15], [10, 11, 0, 14, 15, 0, 0, 0, 0])       # bottom-right
    # strides 2 on 4 pixels, 3 taps: the total padding is (2 - 1) * 2 + 3 - 4 = 1, and it goes at the end
    assert C.Geometry((4, 4), 3, strides=2, padding="same").pads == ((0, 1), (0, 1))
    np.testing.assert_array_equal(C.im2col(X44, 3, strides=2, padding="same")[3], [10, 11, 0, 14, 15, 0, 0, 0, 0])


def test_strides_and_dilation_by_hand():
    np.testing.assert_array_equal(C.im2col(X44, 2, strides=2), [[0, 1, 4, 5], [2, 3, 6, 7],
                                                                [8, 9, 12, 13], [10, 11, 14, 15]])
    np.testing.assert_array_equal(C.im2col(X44, 2, dilation_rate=2), [[0, 2, 8, 10], [1, 3, 9, 11],
                                                                      [4, 6, 12, 14], [5, 7, 13, 15]])
    x = np.arange(5.0).reshape(1, 5, 1)
    np.testing.assert_array_equal(C.im2col(x, 3, padding="causal"), [[0, 0, 0], [0, 0, 1], [0, 1, 2],
                                                                     [1, 2, 3], [2, 3, 4]])


def test_channels_are_last_in_each_row():
    x = np.stack([X44[..., 0], 100 + X44[..., 0]], axis=-1)      # two channels
    np.testing.assert_array_equal(C.im2col(x, 2)[0], [0, 100, 1, 101, 4, 104, 5, 105])


# ---------------------------------------------------------------------------- against a direct loop
def direct_conv(x, W, strides, pads, dilation):
    """The textbook sum, one output pixel at a time, with no im2col (rank 1 or 2)."""
    rank = x.ndim - 2
    xp = np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),))
    kernel = W.shape[:rank]
    out = tuple((xp.shape[1 + a] - (kernel[a] - 1) * dilation[a] - 1) // strides[a] + 1 for a in range(rank))
    y = np.zeros((x.shape[0],) + out + (W.shape[-1],))
    for n in range(x.shape[0]):
        for o in np.ndindex(*out):
            for t in np.ndindex(*kernel):
                pixel = tuple(o[a] * strides[a] + t[a] * dilation[a] for a in range(rank))
                y[(n,) + o] += xp[(n,) + pixel] @ W[t]
    return y


GRID_2D = [(spatial, kernel, strides, dilation, padding)
           for spatial in [(5, 5), (6, 7), (8, 4)]
           for kernel in [(1, 1), (2, 2), (3, 3), (3, 2)]
           for strides, dilation in [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((3, 2), (1, 1)), ((1, 1), (2, 2))]
           for padding in ["valid", "same"]
           if padding == "same" or all((k - 1) * d + 1 <= s for k, d, s in zip(kernel, dilation, spatial))]


@pytest.mark.parametrize("spatial,kernel,strides,dilation,padding", GRID_2D)
def test_conv_and_the_adjoint_over_a_grid(spatial, kernel, strides, dilation, padding):
    rng = np.random.default_rng(len(spatial) + sum(kernel) + sum(strides))
    x = rng.normal(size=(2,) + spatial + (3,))
    W = rng.normal(size=kernel + (3, 2))
    g = C.Geometry(spatial, kernel, strides, padding, dilation)
    np.testing.assert_allclose(C.conv(x, W, strides=strides, padding=padding, dilation_rate=dilation),
                               direct_conv(x, W, strides, g.pads, dilation), rtol=1e-12, atol=1e-12)
    cols = C.im2col(x, kernel, strides, padding, dilation)
    c = rng.normal(size=cols.shape)
    folded = C.col2im(c, x.shape, kernel, strides, padding, dilation)
    assert folded.shape == x.shape
    assert np.sum(cols * c) == pytest.approx(np.sum(x * folded), rel=1e-12)


@pytest.mark.parametrize("length,kernel,stride,dilation,padding", [
    (length, kernel, s, d, padding) for length in (5, 8) for kernel in (1, 2, 3) for s, d in ((1, 1), (2, 1), (1, 2))
    for padding in ("valid", "same", "causal")])
def test_1d_conv_and_the_adjoint(length, kernel, stride, dilation, padding):
    rng = np.random.default_rng(length * 10 + kernel)
    x = rng.normal(size=(3, length, 2))
    W = rng.normal(size=(kernel, 2, 4))
    g = C.Geometry((length,), kernel, stride, padding, dilation)
    np.testing.assert_allclose(C.conv(x, W, strides=stride, padding=padding, dilation_rate=dilation),
                               direct_conv(x, W, (stride,), g.pads, (dilation,)), rtol=1e-12, atol=1e-12)
    cols = C.im2col(x, kernel, stride, padding, dilation)
    c = rng.normal(size=cols.shape)
    assert np.sum(cols * c) == pytest.approx(np.sum(x * C.col2im(c, x.shape, kernel, stride, padding, dilation)),
                                             rel=1e-12)


def test_im2col_writes_into_out():
    out = np.full((4, 9), np.nan)
    assert C.im2col(X44, 3, out=out) is out
    np.testing.assert_array_equal(out, C.im2col(X44, 3))


@pytest.mark.parametrize("shape,kernel,strides,padding,dilation", [((2, 7, 6, 1), (3, 2), 1, "valid", 1),
                                                                   ((3, 6, 5, 3), 3, 2, "same", 1),
                                                                   ((2, 9, 2), 3, 1, "causal", 2),
                                                                   ((2, 8, 8, 2), 2, 1, "same", 2)])
def test_cols_stored_column_by_column_are_the_same_matrix(shape, kernel, strides, padding, dilation):
    """out = buffer.T (im2col fills it column by column) and col2im reading such cols give the same numbers."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=shape)
    want = C.im2col(x, kernel, strides, padding, dilation)
    out = np.full(want.shape[::-1], np.nan).T
    assert not out.flags.c_contiguous
    assert C.im2col(x, kernel, strides, padding, dilation, out=out) is out
    np.testing.assert_array_equal(out, want)
    c = rng.normal(size=want.shape)
    by_column = np.ascontiguousarray(c.T).T
    np.testing.assert_allclose(C.col2im(by_column, shape, kernel, strides, padding, dilation),
                               C.col2im(c, shape, kernel, strides, padding, dilation), rtol=1e-13, atol=1e-13)


# ---------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("length,kernel,stride,dilation", list(itertools.product((1, 4, 5, 6, 7, 28), (1, 2, 3, 5),
                                                                                (1, 2, 3), (1, 2))))
def test_same_padding_gives_ceil_length_over_stride_with_the_odd_zero_at_the_end(length, kernel, stride, dilation):
    before, after = C.padding_amounts(length, kernel, stride, "same", dilation)
    out = C.output_length(length, kernel, stride, "same", dilation)
    assert out == -(-length // stride)
    assert after - before in (0, 1)
    span = (kernel - 1) * dilation + 1
    assert (length + before + after - span) // stride + 1 == out        # the padded axis gives exactly out


def test_geometry_matches_keras_output_shapes(keras):
    cases = [((28, 28), (3, 3), (1, 1), (1, 1), "valid"), ((28, 28), (3, 3), (2, 2), (1, 1), "same"),
             ((7, 9), (2, 5), (3, 2), (1, 1), "same"), ((7, 9), (2, 5), (3, 2), (1, 1), "valid"),
             ((8, 6), (3, 2), (1, 1), (2, 2), "same"), ((8, 6), (3, 2), (1, 1), (2, 1), "valid"),
             ((5, 5), (5, 5), (1, 1), (1, 1), "valid"), ((4, 6), (1, 1), (3, 3), (1, 1), "same")]
    for spatial, kernel, strides, dilation, padding in cases:
        layer = keras.layers.Conv2D(2, kernel, strides=strides, padding=padding, dilation_rate=dilation)
        want = tuple(layer.compute_output_shape((None,) + spatial + (3,)))
        assert (None,) + C.Geometry(spatial, kernel, strides, padding, dilation).out + (2,) == want
    for length, kernel, stride, dilation, padding in [(10, 3, 1, 1, "causal"), (10, 3, 1, 3, "causal"),
                                                      (9, 4, 2, 1, "same"), (9, 4, 3, 1, "valid")]:
        layer = keras.layers.Conv1D(2, kernel, strides=stride, padding=padding, dilation_rate=dilation)
        want = tuple(layer.compute_output_shape((None, length, 3)))
        assert (None,) + C.Geometry((length,), kernel, stride, padding, dilation).out + (2,) == want


# ---------------------------------------------------------------------------- errors
def test_errors_name_what_was_expected_and_what_arrived():
    with pytest.raises(ValueError, match=r"channels-last inputs of shape \(batch, height, width, channels\).*"
                                         r"got shape \(4, 4\)"):
        C.im2col(np.zeros((4, 4)), 3)
    with pytest.raises(ValueError, match=r"got shape \(1, 2, 4, 4, 1\)"):
        C.im2col(np.zeros((1, 2, 4, 4, 1)), 3)
    with pytest.raises(ValueError, match=r"does not fit inputs of spatial shape \(4, 4\) with padding 'valid'"):
        C.im2col(X44, 5)
    with pytest.raises(ValueError, match=r"a window of \(5, 5\) pixels \(kernel_size \(2, 2\), "
                                         r"dilation_rate \(4, 4\)\)"):
        C.im2col(X44, 2, dilation_rate=4)
    with pytest.raises(ValueError, match=r"padding must be one of \['valid', 'same', 'causal'\], got 'full'"):
        C.im2col(X44, 3, padding="full")
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a tuple of 2 ints, got \(3, 3, 3\)"):
        C.im2col(X44, (3, 3, 3))
    with pytest.raises(ValueError, match=r"kernel_size must be a positive integer, got 0"):
        C.im2col(X44, 0)
    with pytest.raises(ValueError, match=r"strides must be a positive integer, got -1"):
        C.im2col(X44, 3, strides=-1)
    with pytest.raises(ValueError, match=r"im2col out must have shape \(4, 9\), got \(4, 8\)"):
        C.im2col(X44, 3, out=np.zeros((4, 8)))
    with pytest.raises(ValueError, match=r"im2col out must be C-contiguous or the transpose of a C-contiguous array"):
        C.im2col(X44, 3, out=np.zeros((4, 18))[:, ::2])
    with pytest.raises(ValueError, match=r"col2im expects cols of shape \(4, 9\) for inputs of shape "
                                         r"\(1, 4, 4, 1\), got \(9, 4\)"):
        C.col2im(np.zeros((9, 4)), (1, 4, 4, 1), 3)
    with pytest.raises(ValueError, match=r"conv expects W of shape \(\*kernel, 1 channels, filters\) for x of "
                                         r"shape \(1, 4, 4, 1\), got W of shape \(3, 3, 2, 1\)"):
        C.conv(X44, np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match=r"pool kind must be 'max' or 'average', got 'min'"):
        C.pool(X44, 2, kind="min")
