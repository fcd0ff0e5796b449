"""Traces of convolutional networks: one output pixel written out tap by tap, one dL/dW entry as its
sum, pooling windows, kernels and images shown as slices, and `glassnet explain --model convnet`.

Every written-out term is checked against the test's own NumPy computation: the patch is cut out of
the input with explicit indices (no im2col), the weights are the model's own before the step, and
dL/dz of the convolution is worked out by hand from the softmax above it.  The printed terms are
parsed back from the text (at full precision) and compared with those numbers exactly.
"""
import re

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli
from glassnet.explain import convnet_example, small_digits

pytestmark = pytest.mark.usefixtures("isolated_random_state")

F64 = "float64"


def small_convnet(padding="valid", strides=1, activation="relu", pool=True, filters=2, size=8, seed=0):
    gn.set_random_seed(seed)
    layers = [gn.Input((size, size, 1), dtype=F64),
              gn.layers.Conv2D(filters, 3, strides=strides, padding=padding, activation=activation, dtype=F64,
                               bias_initializer="random_normal")]
    if pool:
        layers.append(gn.layers.MaxPooling2D(2, dtype=F64))
    layers += [gn.layers.Flatten(dtype=F64), gn.layers.Dense(3, activation="softmax", dtype=F64)]
    model = gn.Sequential(layers)
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def batch(n=2, size=8, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, size, size, 1)), rng.integers(0, 3, size=n)


def patch_by_hand(x, sample, row, col, k=3, stride=1, pad=(0, 0)):
    """The k x k patch of x[sample] under output pixel (row, col): zeros outside the image."""
    out = np.zeros((k, k, x.shape[-1]))
    for i in range(k):
        for j in range(k):
            r, c = row * stride - pad[0] + i, col * stride - pad[1] + j
            if 0 <= r < x.shape[1] and 0 <= c < x.shape[2]:
                out[i, j] = x[sample, r, c]
    return out


def printed_terms(text, lhs):
    """The (a, b) pairs of the sum printed for `lhs`, parsed back, and the value after the last '='."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(lhs + " = "))
    body = []
    for line in lines[start + 1:]:
        stripped = line.strip()
        if stripped.startswith("= ") and "*" not in stripped:
            result = float(stripped[2:])
            break
        body.append(stripped.lstrip("=+ "))
    terms = " + ".join(body).split(" + ")
    pairs = []
    extra = []
    for term in terms:
        if "*" in term:
            a, b = term.split("*")
            pairs.append((float(a.strip("()")), float(b.strip("()"))))
        else:
            extra.append(term)
    return pairs, extra, result


# ----------------------------------------------------------------------------
# One output pixel, written out
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("padding, strides, pixel", [("valid", 1, (2, 3, 1)), ("same", 1, (0, 7, 0)),
                                                    ("same", 2, (3, 3, 1)), ("valid", 2, (1, 2, 0))])
def test_the_written_out_sum_is_the_patch_times_the_filter(padding, strides, pixel):
    model = small_convnet(padding, strides, pool=False)
    x, y = batch()
    W, b = (w.copy() for w in model.get_weights()[:2])
    tr = model.trace(x, y, pixel=pixel, sample=1, update=False)
    conv = tr["conv2d"]
    row, col, f = pixel
    pad = {"valid": (0, 0), "same": conv.conv["pads"][0][0:1] + conv.conv["pads"][1][0:1]}[padding]
    patch = patch_by_hand(x, 1, row, col, stride=strides, pad=pad)
    z = np.sum(patch * W[..., f]) + b[f]
    px = conv.pixel
    assert px.index == (1, row, col, f) and px.target == f"z[1, {row}, {col}, {f}]"
    np.testing.assert_array_equal(px.patch, patch)
    np.testing.assert_array_equal(px.kernel, W[..., f])
    assert px.bias == b[f] and px.z == conv.z[1, row, col, f]
    assert px.z == pytest.approx(z, rel=1e-13, abs=1e-15) and px.total == pytest.approx(px.z, rel=1e-13, abs=1e-15)
    assert px.a == max(px.z, 0.0)
    # what is printed: every term w * x, then + b, = z, then a = relu(z)
    text = tr.to_text(precision=None, max_items=1000)
    pairs, extra, result = printed_terms(text, px.target)
    assert pairs == list(zip(W[..., f].reshape(-1).tolist(), patch.reshape(-1).tolist()))
    assert [float(e) for e in extra] == [b[f]]
    assert result == conv.z[1, row, col, f]
    assert f"a[1, {row}, {col}, {f}] = relu({px.z!r}) = " in text


def test_the_padding_zeros_are_named_and_the_window_is_described():
    model = small_convnet("same", 1, pool=False)
    x, y = batch()
    tr = model.trace(x, y, pixel=(0, 0, 0), update=False)
    px = tr["conv2d"].pixel
    assert px.padded and px.patch[0].tolist() == [[0.0]] * 3 and px.patch[:, 0].tolist() == [[0.0]] * 3
    assert [p.tolist() for p in px.positions] == [[-1, 0, 1], [-1, 0, 1]]
    text = tr.to_text()
    assert "x patch  rows -1-1, columns -1-1 (0 = padding)" in text
    tr = model.trace(x, y, pixel=(3, 4, 1), update=False)
    assert "x patch  rows 2-4, columns 3-5  " in tr.to_text()
    assert not tr["conv2d"].pixel.padded


def test_the_default_pixel_is_the_middle_of_filter_0_and_pooling_follows_the_conv_pixel():
    model = small_convnet()
    x, y = batch()
    tr = model.trace(x, y, update=False)
    assert tr["conv2d"].pixel_index == (0, 3, 3, 0)                    # 6x6 output: the middle
    assert tr["max_pooling2d"].pixel_index == (0, 1, 1, 0)             # the window holding (3, 3)
    tr = model.trace(x, y, pixel=(4, 1, 1), update=False)
    pick = tr["max_pooling2d"].pool_pixel
    assert pick.index == (0, 2, 0, 1)
    # the window by hand: conv outputs a[0, 4:6, 0:2, 1]; the max is the pooling layer's output
    a = tr["conv2d"].a
    np.testing.assert_array_equal(pick.window, a[0, 4:6, 0:2, 1])
    assert pick.value == a[0, 4:6, 0:2, 1].max() == tr["max_pooling2d"].a[0, 2, 0, 1]
    text = tr.to_text(precision=None)
    values = ", ".join(repr(v) if v != 0 else "0" for v in a[0, 4:6, 0:2, 1].reshape(-1).tolist())
    assert f"a[0, 2, 0, 1] = max({values}) = " in text
    assert "its window of x: rows 4-5, columns 0-1" in text


def test_pixels_by_layer_name_and_a_second_convolution():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.Input((9, 9, 2), dtype=F64), gn.layers.Conv2D(3, 3, activation="tanh", dtype=F64),
                           gn.layers.AveragePooling2D(2, padding="same", dtype=F64),
                           gn.layers.Conv2D(2, 2, dtype=F64), gn.layers.Flatten(dtype=F64),
                           gn.layers.Dense(2, activation="softmax", dtype=F64)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(3).normal(size=(2, 9, 9, 2))
    y = np.array([0, 1])
    tr = model.trace(x, y, pixel={"conv2d_1": (2, 1, 1), "average_pooling2d": (3, 3, 2)}, update=False)
    first, pooled, second = tr["conv2d"], tr["average_pooling2d"], tr["conv2d_1"]
    assert first.pixel_index == (0, 3, 3, 0) and second.pixel_index == (0, 2, 1, 1)
    # the second convolution's patch spans both... its 3 input channels (the pooled a)
    patch = pooled.a[0, 2:4, 1:3, :]
    np.testing.assert_array_equal(second.pixel.patch, patch)
    assert second.pixel.z == pytest.approx(np.sum(patch * second.W[..., 1]) + second.b[1], rel=1e-13)
    assert first.pixel.a == pytest.approx(np.tanh(first.pixel.z), rel=1e-14)
    # an average window hanging over the edge ("same"): only the real pixels count
    pick = pooled.pool_pixel
    assert pick.index == (0, 3, 3, 2) and np.isnan(pick.window[1]).all() and np.isnan(pick.window[:, 1]).all()
    assert pick.value == first.a[0, 6, 6, 2] == pick.total
    assert "a[0, 3, 3, 2] = mean(" in tr.to_text()


# ----------------------------------------------------------------------------
# Backward: one entry of dL/dW, as its sum
# ----------------------------------------------------------------------------

def test_one_weight_gradient_is_written_out_as_x_times_dz():
    """Conv2D (linear) -> Flatten -> Dense softmax: dL/dz of the convolution by hand, then
    dL/dW[1, 1, 0, f] = sum over samples and pixels of x[n, r + 1, c + 1, 0] * dz[n, r, c, f]."""
    model = small_convnet(pool=False, activation="linear", size=5)
    x, y = batch(3, size=5)
    W, b, W2, b2 = (w.copy() for w in model.get_weights())
    tr = model.trace(x, y, pixel=(0, 0, 1), update=False)
    # by hand
    z = np.zeros((3, 3, 3, 2))
    for n in range(3):
        for r in range(3):
            for c in range(3):
                z[n, r, c] = np.tensordot(x[n, r:r + 3, c:c + 3], W, axes=3) + b
    logits = z.reshape(3, -1) @ W2 + b2
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz = ((p - np.eye(3)[y]) / 3 @ W2.T).reshape(z.shape)
    conv = tr["conv2d"]
    np.testing.assert_allclose(conv.z, z, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(conv.dL_dz, dz, rtol=1e-12, atol=1e-15)
    ws = conv.weight_sum
    assert ws.index == (1, 1, 0, 1) and ws.terms.size == 27
    x_under = x[:, 1:4, 1:4, 0].reshape(-1)                         # tap (1, 1): x[n, r + 1, c + 1]
    np.testing.assert_array_equal(ws.x, x_under)
    np.testing.assert_array_equal(ws.dz, conv.dL_dz[..., 1].reshape(-1))
    assert ws.value == conv.dW[1, 1, 0, 1]
    assert ws.value == pytest.approx(np.sum(x_under * dz[..., 1].reshape(-1)), rel=1e-12)
    text = tr.to_text(precision=None)
    pairs, extra, result = printed_terms(text, "dL/dW[1, 1, 0, 1]")
    assert pairs == list(zip(ws.x.tolist(), ws.dz.tolist())) and extra == [] and result == ws.value
    assert "the sum over the 27 (sample, output pixel) pairs of x under tap (1, 1, 0) * dL/dz[..., 1]" in text


def test_a_long_sum_is_shortened_and_a_regulariser_is_a_term_of_its_own():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.Input((10, 10, 1), dtype=F64),
                           gn.layers.Conv2D(2, 3, kernel_regularizer=gn.regularizers.L2(0.5), dtype=F64),
                           gn.layers.Flatten(dtype=F64), gn.layers.Dense(2, activation="softmax", dtype=F64)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).normal(size=(2, 10, 10, 1)), np.array([0, 1])
    tr = model.trace(x, y, update=False)
    ws = tr["conv2d"].weight_sum
    reg = float(0.5 * 2 * tr["conv2d"].W[1, 1, 0, 0])
    assert ws.terms.size == 128 and ws.regularization == pytest.approx(reg, rel=1e-14)
    assert ws.total == pytest.approx(ws.value, rel=1e-12)
    text = tr.to_text(max_items=40)
    assert "... 116 more terms ..." in text                          # 10 shown, then the last two
    assert "(regularisation gradient)" in text
    pairs, extra, _ = printed_terms(tr.to_text(precision=None, max_items=1000), "dL/dW[1, 1, 0, 0]")
    assert len(pairs) == 128 and extra == [f"{reg!r} (regularisation gradient)"]


# ----------------------------------------------------------------------------
# The step is the real one; big arrays are summarised; errors
# ----------------------------------------------------------------------------

def test_a_conv_trace_steps_exactly_like_train_on_batch():
    x, y = batch(4)
    traced, stepped = small_convnet(), small_convnet()
    tr = traced.trace(x, y, pixel=(1, 1, 1))
    stepped.train_on_batch(x, y)
    for a, b in zip(traced.get_weights(), stepped.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(tr["conv2d"].W_after, stepped.get_weights()[0])
    # cols is im2col of the layer's input, one row per output pixel
    cols = tr["conv2d"].cols
    assert cols.shape == (4 * 36, 9)
    np.testing.assert_array_equal(cols[36 + 6 * 2 + 3], x[1, 2:5, 3:6, 0].reshape(-1))


def test_kernels_and_images_print_as_slices_and_big_ones_as_summaries():
    model = small_convnet(size=6)
    x, y = batch(1, size=6)
    tr = model.trace(x, y, update=False)
    text = tr.to_text(precision=3, max_items=40)
    W = tr["conv2d"].W
    assert "[:, :, 0, 0]" in text and "[:, :, 0, 1]" in text
    first_row = "  ".join(f"{v:.3g}" for v in W[0, :, 0, 1])
    assert re.sub(r"\s+", " ", first_row) in re.sub(r"\s+", " ", text)
    assert "[0, :, :, 0]" in text and "[0, :, :, 1]" in text             # z (1, 4, 4, 2): 32 values, as images
    md = tr.to_markdown()
    assert "`[:, :, 0, 0] = [[" in md and ";  [:, :, 0, 1] = [[" in md and "```text" in md
    # 28x28 inputs, 8 filters: nothing prints 6,272 numbers
    gn.set_random_seed(0)
    big = gn.Sequential([gn.Input((28, 28, 1), dtype=F64), gn.layers.Conv2D(8, 3, activation="relu", dtype=F64),
                         gn.layers.MaxPooling2D(2, dtype=F64), gn.layers.Flatten(dtype=F64),
                         gn.layers.Dense(10, activation="softmax", dtype=F64)])
    big.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    text = big.trace(np.random.default_rng(0).random((4, 28, 28, 1)), np.arange(4), update=False).to_text()
    assert len(text.splitlines()) < 150 and max(len(line) for line in text.splitlines()) < 200
    assert "(4, 26, 26, 8)  min " in text and "(2704, 9)" in text


def test_conv1d_pixels_are_step_and_filter():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.Input((7, 2), dtype=F64), gn.layers.Conv1D(2, 3, padding="causal", dtype=F64),
                           gn.layers.MaxPooling1D(2, dtype=F64), gn.layers.Flatten(dtype=F64),
                           gn.layers.Dense(2, activation="softmax", dtype=F64)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).normal(size=(1, 7, 2)), np.array([1])
    tr = model.trace(x, y, pixel=(1, 1), update=False)
    px = tr["conv1d"].pixel
    patch = np.vstack([np.zeros((1, 2)), x[0, 0:2]])                   # causal: steps -1, 0, 1 (-1 is a zero)
    np.testing.assert_array_equal(px.patch, patch)
    assert px.z == pytest.approx(np.sum(patch * tr["conv1d"].W[..., 1]) + tr["conv1d"].b[1], rel=1e-13)
    text = tr.to_text()
    assert "(sample 0, step 1, filter 1)" in text and "x patch  steps -1-1 (0 = padding)" in text
    assert tr["max_pooling1d"].pixel_index == (0, 0, 1)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"pixel": (6, 0, 0)}, ValueError, "pixel (6, 0, 0) is outside the output of 'conv2d', of shape (6, 6, 2) "
                                       "(rows 0-5, columns 0-5, filters 0-1)"),
    ({"pixel": (1, 1)}, ValueError, "must be a tuple of 3 ints (row, column, filter), got (1, 1)"),
    ({"pixel": 3}, TypeError, "must be a tuple (row, column, filter), got 3"),
    ({"pixel": "1,1,1"}, TypeError, "must be a tuple (row, column, filter)"),
    ({"pixel": {"dense": (0, 0, 0)}}, ValueError, "pixel names layer 'dense', which is not a convolution or "
                                                  "pooling layer of the model; those are: conv2d, max_pooling2d"),
    ({"pixel": {"max_pooling2d": (0, 0, 2)}}, ValueError, "(rows 0-2, columns 0-2, channels 0-1)"),
    ({"sample": 2}, ValueError, "sample must be the index of a sample of the batch (0-1), got 2"),
    ({"sample": True}, TypeError, "sample must be an int"),
])
def test_bad_pixels_fail_before_the_step(kwargs, error, message):
    model = small_convnet()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(error) as info:
        model.trace(*batch(), **kwargs)
    assert message in str(info.value)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


def test_a_pixel_for_a_model_without_convolutions_is_an_error():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(2, activation="softmax", input_shape=(3,), dtype=F64)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="pixel= picks an output pixel of a convolution layer"):
        model.trace(np.ones((1, 3)), np.array([0]), pixel=(0, 0, 0))
    assert "x patch" not in str(model.trace(np.ones((1, 3)), np.array([0])))


# ----------------------------------------------------------------------------
# Korean, and `glassnet explain --model convnet`
# ----------------------------------------------------------------------------

def test_korean_words_for_the_convolution():
    model = small_convnet()
    text = model.trace(*batch(), update=False, lang="ko").to_text()
    for words in ("필터 2개 3x3", "출력 픽셀 하나 풀어 쓰기", "x 조각  행", "곱 9개의 합 + b[0]", "창마다 최댓값",
                  "가중치 하나의 기울기 풀어 쓰기", "dL/dx = 창의 최댓값 위치에 dL/da", "펼치기: 출력 픽셀마다 한 행"):
        assert words in text, words


def test_small_digits_are_mnist_averaged_over_3x3_blocks():
    x, y = small_digits(3)
    (_, _), (images, labels) = gn.datasets.mnist_mini.load_data()
    by_hand = np.zeros((3, 8, 8))
    for n in range(3):
        for r in range(8):
            for c in range(8):
                by_hand[n, r, c] = images[n, 2 + 3 * r:5 + 3 * r, 2 + 3 * c:5 + 3 * c].mean() / 255
    np.testing.assert_allclose(x[..., 0], np.round(by_hand, 2), atol=1e-12)
    assert x.shape == (3, 8, 8, 1) and y.tolist() == labels[:3].tolist()
    with pytest.raises(ValueError, match="samples must be between 1 and 2000"):
        small_digits(0)


def test_explain_convnet_command(capsys):
    assert cli.main(["explain", "--model", "convnet", "--pixel", "2,3,1"]) == 0
    out = capsys.readouterr().out
    model, x, y = convnet_example()
    assert model.trace(x, y, pixel=(2, 3, 1)).to_text() + "\n" == out
    assert 'One training step of "convnet" (8x8x1-conv 2@3x3-maxpool 2x2-flatten-10)' in out
    assert "z[0, 2, 3, 1] = the sum of the 9 products, + b[1]" in out
    assert cli.main(["explain", "--model", "convnet", "--lang", "ko", "--markdown", "--filters", "3",
                     "--kernel-size", "2", "--samples", "2", "--optimizer", "adam", "--lr", "0.01",
                     "--max-items", "80", "--no-update", "--precision", "3"]) == 0
    out = capsys.readouterr().out
    assert "필터 3개 2x2" in out and "| --- | --- | --- |" in out and "샘플 2개의 배치" in out
    assert "`[0, :, :, 0] = [[" in out                                  # 8x8 inputs in full with --max-items 80


@pytest.mark.parametrize("argv", [["explain", "--model", "convnet", "--hidden", "3"],
                                  ["explain", "--pixel", "1,1,1"],
                                  ["explain", "--model", "convnet", "--pixel", "1,1"],
                                  ["explain", "--model", "convnet", "--pixel", "a,b,c"],
                                  ["explain", "--model", "cnn"],
                                  ["explain", "--example", "backprop-2-1-2", "--model", "convnet"]])
def test_explain_convnet_usage_errors(argv, capsys):
    assert cli.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_explain_convnet_pixel_outside_is_a_usage_error(capsys):
    assert cli.main(["explain", "--model", "convnet", "--pixel", "6,0,0"]) == 2      # an argument out of range
    err = capsys.readouterr().err
    assert err.startswith("usage: glassnet explain") and err.strip().splitlines()[-1] == (
        "glassnet explain: error: argument --pixel: 6,0,0 is outside the Conv2D output of shape (6, 6, 2) "
        "(rows 0-5, columns 0-5, filters 0-1)")


def test_docs_show_the_real_convnet_printout(capsys):
    page = (__import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "explain.md").read_text("utf-8")
    section = page[page.index("## Convolutional networks: one pixel written out"):page.index("## `glassnet gradcheck`")]
    shown = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    assert len(shown) == 2
    assert cli.main(["explain", "--model", "convnet"]) == 0
    out = capsys.readouterr().out
    for block in shown:
        assert block in out, block
