"""summary() of convolutional networks: Keras's table (output shapes, parameter counts) as Keras 3 prints
it, and the "How the numbers add up" rows of the new layers, against hand-worked numbers, PyTorch's
FLOP counter (torch.utils.flop_counter) for the convolutions, and Keras's count_params()."""
import math

import numpy as np
import pytest

import glassnet as gn

L = gn.layers


def _keras_style_convnet(lib):
    K = lib.layers
    return lib.Sequential([lib.Input((28, 28, 1)), K.Conv2D(32, 3, activation="relu"), K.MaxPooling2D(2),
                           K.Conv2D(64, 3, activation="relu"), K.MaxPooling2D(2), K.Flatten(), K.Dropout(0.5),
                           K.Dense(10, activation="softmax")])


def _every_layer(lib):
    K = lib.layers
    return lib.Sequential([
        lib.Input((13, 11, 2)), K.ZeroPadding2D(((1, 2), (0, 1))),
        K.Conv2D(4, 3, strides=2, padding="same", activation="tanh"), K.UpSampling2D((2, 3)),
        K.SpatialDropout2D(0.3), K.AveragePooling2D(3, strides=2, padding="same"), K.MaxPooling2D(2, padding="same"),
        K.Conv2D(3, 2, dilation_rate=2, padding="same", use_bias=False), K.UpSampling2D(2, interpolation="bilinear"),
        K.GlobalAveragePooling2D(keepdims=True), K.Conv2D(6, 1), K.GlobalMaxPooling2D(), K.Dense(3)])


def _every_1d_layer(lib):
    K = lib.layers
    return lib.Sequential([lib.Input((20, 3)), K.Conv1D(4, 3, padding="causal", dilation_rate=2),
                           K.MaxPooling1D(), K.AveragePooling1D(3, strides=1, padding="same"),
                           K.Conv1D(2, 2, strides=2), K.GlobalMaxPooling1D()])


def _printed(model):
    calls = []
    model.summary(print_fn=calls.append)
    return calls


def _cells(details, name):
    row = next(line for line in details.splitlines() if line.startswith(f"│ {name} "))
    return [cell.strip() for cell in row.strip("│").split("│")]


def _total_flops(details):
    line = next(line for line in details.splitlines() if line.startswith(" FLOPs per sample: "))
    return int(line.split()[3].replace(",", ""))


# ---------------------------------------------------------------------------- hand-worked numbers
def test_the_keras_style_convnet_row_by_row():
    details = _printed(_keras_style_convnet(gn))[1]
    # 3 x 3 filters on 1 channel, 32 of them, a bias each; 26 x 26 output pixels, each a 9-number patch
    assert _cells(details, "conv2d") == ["conv2d", "3 x 3 x 1 x 32 + 32 = 320", "relu, glorot_uniform", "1.25 KB",
                                         "2 x 26 x 26 x 9 x 32 + 26 x 26 x 32 = 411,008"]
    assert 2 * 26 * 26 * 9 * 32 + 26 * 26 * 32 == 411_008 and 3 * 3 * 1 * 32 + 32 == 320
    assert _cells(details, "max_pooling2d") == ["max_pooling2d", "0",
                                                "max of 2 x 2 windows, strides 2 x 2: 3 comparisons each",
                                                "0.00 B", "(4 - 1) x 13 x 13 x 32 = 16,224"]
    # the second convolution reads 32 channels: a patch is 3 x 3 x 32 = 288 numbers
    assert _cells(details, "conv2d_1")[1] == "3 x 3 x 32 x 64 + 64 = 18,496" == f"3 x 3 x 32 x 64 + 64 = {18496:,}"
    assert _cells(details, "conv2d_1")[3] == f"{18_496 * 4 / 1024:.2f} KB"
    assert _cells(details, "conv2d_1")[4] == "2 x 11 x 11 x 288 x 64 + 11 x 11 x 64 = 4,468,288"
    assert 2 * 11 * 11 * 288 * 64 + 11 * 11 * 64 == 4_468_288
    assert _cells(details, "max_pooling2d_1")[4] == "(4 - 1) x 5 x 5 x 64 = 4,800"
    assert _cells(details, "dense")[4] == "2 x 1,600 x 10 + 10 = 32,010"
    assert _total_flops(details) == 411_008 + 16_224 + 4_468_288 + 4_800 + 32_010


def test_every_layer_explains_its_numbers():
    details = _printed(_every_layer(gn))[1]
    cells = {name: _cells(details, name)[1:] for name in (
        "zero_padding2d", "conv2d", "up_sampling2d", "spatial_dropout2d", "average_pooling2d", "max_pooling2d",
        "conv2d_1", "up_sampling2d_1", "global_average_pooling2d", "conv2d_2", "global_max_pooling2d")}
    assert cells["zero_padding2d"] == ["0", "zeros: 1 above, 2 below, 0 left, 1 right", "0.00 B", "0 (a copy)"]
    # (16, 12, 2) padded -> stride 2, same: (8, 6) pixels of 4 filters over 3 x 3 x 2 = 18-number patches
    assert cells["conv2d"] == ["3 x 3 x 2 x 4 + 4 = 76", "tanh, glorot_uniform, strides 2 x 2, same padding",
                               "304.00 B", "2 x 8 x 6 x 18 x 4 + 8 x 6 x 4 = 7,104"]
    assert 2 * 8 * 6 * 18 * 4 + 8 * 6 * 4 == 7_104
    assert cells["up_sampling2d"] == ["0", "each pixel repeated 2 x 3 (nearest)", "0.00 B", "0 (a copy)"]
    assert cells["spatial_dropout2d"] == ["0", "drops whole channels, rate 0.3 (training only)", "0.00 B", "0"]
    # 3 x 3 windows: 8 adds and a divide per output number; (16, 18, 4) -> (8, 9, 4)
    assert cells["average_pooling2d"] == ["0", "mean of 3 x 3 windows, strides 2 x 2 (edge windows counted whole): "
                                               "8 adds, 1 divide each", "0.00 B", "9 x 8 x 9 x 4 = 2,592"]
    assert cells["max_pooling2d"][3] == "(4 - 1) x 4 x 5 x 4 = 240"
    assert cells["conv2d_1"][:2] == ["2 x 2 x 4 x 3 = 48", "linear, glorot_uniform, dilation 2 x 2, same padding"]
    assert cells["conv2d_1"][3] == "2 x 4 x 5 x 16 x 3 = 1,920"             # no bias: no adds after the products
    assert cells["up_sampling2d_1"][1] == "x 2 x 2, bilinear: 4 products, 3 adds each"
    assert cells["up_sampling2d_1"][3] == "7 x 8 x 10 x 3 = 1,680"
    assert cells["global_average_pooling2d"][1:] == ["mean over 8 x 10 pixels", "0.00 B", "8 x 10 x 3 = 240"]
    assert cells["conv2d_2"][3] == "2 x 1 x 1 x 3 x 6 + 1 x 1 x 6 = 42"
    assert cells["global_max_pooling2d"][1:] == ["max over 1 x 1 pixels", "0.00 B", "(1 x 1 - 1) x 6 = 0"]


def test_1d_layers():
    details = _printed(_every_1d_layer(gn))[1]
    assert _cells(details, "conv1d")[1:] == ["3 x 3 x 4 + 4 = 40", "linear, glorot_uniform, dilation 2, causal padding",
                                             "160.00 B", "2 x 20 x 9 x 4 + 20 x 4 = 1,520"]
    assert _cells(details, "max_pooling1d")[2] == "max of 2-step windows, strides 2: 1 comparison each"
    assert _cells(details, "max_pooling1d")[4] == "(2 - 1) x 10 x 4 = 40"
    assert _cells(details, "average_pooling1d")[4] == "3 x 10 x 4 = 120"
    assert _cells(details, "conv1d_1")[4] == "2 x 5 x 8 x 2 + 5 x 2 = 170"        # (10 - 2) // 2 + 1 = 5 steps
    assert _cells(details, "global_max_pooling1d")[2:] == ["max over 5 steps", "0.00 B", "(5 - 1) x 2 = 8"]


def test_convolution_flops_count_every_product_of_im2col():
    """Independently of the formula: the products of a convolution are those of its im2col matrix
    (output pixels x patch numbers) times its filters, twice (multiply, add), plus a bias add per output."""
    for model in (_keras_style_convnet(gn), _every_layer(gn), _every_1d_layer(gn)):
        details = _printed(model)[1]
        for layer in model.layers:
            if not isinstance(layer, (L.Conv2D, L.Conv1D)):
                continue
            x = np.zeros((1, *layer.input_shape[1:]), np.float32)
            g = layer.geometry
            cols = gn.convolution.im2col(x, g.kernel, g.strides, g.padding, g.dilation)
            flops = 2 * cols.size * layer.filters + (cols.shape[0] * layer.filters if layer.use_bias else 0)
            assert _cells(details, layer.name)[4].endswith(f"= {flops:,}")


def test_convolution_flops_match_pytorchs_flop_counter():
    """torch.utils.flop_counter counts a convolution's multiply-adds as 2 FLOPs, the bias aside."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    model = _keras_style_convnet(gn)
    details = _printed(model)[1]
    for layer in model.layers:
        if not isinstance(layer, L.Conv2D):
            continue
        h, w, cin = layer.input_shape[1:]
        conv = torch.nn.Conv2d(cin, layer.filters, layer.kernel_size)
        with FlopCounterMode(display=False) as counter:
            conv(torch.zeros(1, cin, h, w))
        out_pixels = math.prod(layer.output_shape[1:3])
        assert _cells(details, layer.name)[4].endswith(f"= {counter.get_total_flops() + out_pixels * layer.filters:,}")


# ---------------------------------------------------------------------------- against Keras 3
def _rows(table):
    """(layer, output shape, params) of each row of a Keras-style table, and its closing lines. Keras wraps a
    long "name (Class)" onto a second line; glassnet widens the column instead (test_summary.py): the
    words are the same."""
    rows, current = [], None
    for line in table.splitlines():
        if line.startswith("│"):
            cells = [cell.strip() for cell in line.strip("│").split("│")]
            current = cells if current is None else [f"{a} {b}".strip() for a, b in zip(current, cells)]
        elif current is not None:
            rows.append(tuple(current))
            current = None
    return rows, [line for line in table.splitlines() if line.startswith((" Total", " Trainable", " Non-trainable"))]


@pytest.mark.parametrize("build", [_keras_style_convnet, _every_layer, _every_1d_layer])
def test_the_keras_table_has_keras_shapes_and_counts(keras, build):
    """Every layer's output shape and parameter count, and the totals, as Keras 3 prints them."""
    keras.backend.clear_session()                           # Keras numbers names across the whole run
    theirs = []
    keras_model = build(keras)
    keras_model.summary(print_fn=lambda text, **kwargs: theirs.append(text.rstrip("\n")))
    model = build(gn)
    ours = _printed(model)[0]
    assert _rows(ours) == _rows("\n".join(theirs))
    assert len(_rows(ours)[0]) == len(model.layers) and len(_rows(ours)[1]) == 3
    assert model.count_params() == keras_model.count_params()
    assert [layer.output_shape for layer in model.layers] == [tuple(layer.output.shape) for layer in keras_model.layers]
    if build is _keras_style_convnet:                     # no long names: the very same text
        assert ours == "\n".join(theirs)


def test_a_graph_convnet_summary(keras):
    def build(lib):
        K = lib.layers
        image = lib.Input((10, 10, 3), name="image")
        h = K.Conv2D(6, 3, padding="same", activation="relu", name="features")(image)
        left = K.GlobalAveragePooling2D(name="mean")(K.MaxPooling2D(2, name="pool")(h))
        right = K.GlobalMaxPooling2D(name="max")(K.Conv2D(6, 1, name="mix")(h))
        return lib.Model(image, K.Dense(4, name="out")(K.Concatenate(name="both")([left, right])), name="two_ways")
    keras.backend.clear_session()
    keras_model = build(keras)
    model = build(gn)
    assert model.count_params() == keras_model.count_params()
    shapes = {layer.name: tuple(layer.output.shape) for layer in keras_model.layers}
    assert {layer.name: tuple(layer.output_shape) for layer in model.layers} == shapes
    details = _printed(model)[1]
    assert _cells(details, "features")[4] == "2 x 10 x 10 x 27 x 6 + 10 x 10 x 6 = 33,000"
    assert _cells(details, "mix")[4] == "2 x 10 x 10 x 6 x 6 + 10 x 10 x 6 = 7,800"
    assert _cells(details, "mean")[4] == "5 x 5 x 6 = 150"


def test_the_convnet_table_shown_in_the_docs_is_the_real_one():
    """docs/models.md shows the Keras-style convnet's second table: it must be what summary() prints."""
    import pathlib
    import re
    text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "models.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(How the numbers add up.*?)```", text, flags=re.S).group(1).rstrip("\n")
    model = _keras_style_convnet(gn)
    assert _printed(model)[1].lstrip("\n") == shown
