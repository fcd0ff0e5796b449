"""Figures of convolutional networks: a Conv2D layer's filters, the feature maps of one image, the
filters over training (FilterSnapshots, plot_filter_evolution), and `glassnet plot` on a convnet.

The data drawn is compared with numbers computed here independently: the kernel cut into tiles
with loops, the feature maps with a convolution and a max-pool written as loops, the snapshots with
a twin model trained one epoch at a time.
"""
import pathlib

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

import glassnet as gn                     # noqa: E402
from glassnet import plot                 # noqa: E402

pytestmark = pytest.mark.usefixtures("isolated_random_state")


def assert_png(path):
    path = pathlib.Path(path)
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100 and pixels.std() > 5
    assert not list(path.parent.glob(path.name + ".tmp*"))


def convnet(filters=(4, 3), size=10, seed=0, dtype="float64"):
    gn.set_random_seed(seed)
    layers = [gn.Input((size, size, 1), dtype=dtype),
              gn.layers.Conv2D(filters[0], 3, activation="relu", dtype=dtype, bias_initializer="random_normal"),
              gn.layers.MaxPooling2D(2, dtype=dtype),
              gn.layers.Conv2D(filters[1], 2, activation="relu", dtype=dtype),
              gn.layers.Flatten(dtype=dtype), gn.layers.Dense(3, activation="softmax", dtype=dtype)]
    model = gn.Sequential(layers)
    model.compile(optimizer=gn.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    return model


def image_of(ax):
    return np.ma.filled(ax.images[0].get_array().astype(np.float64), np.nan)


def mosaic_by_hand(tiles, cols, pad=1):
    """Tiles (n, h, w) side by side, `cols` per row, NaN between them: loops, no glassnet."""
    n, h, w = tiles.shape
    rows = -(-n // cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        for i in range(h):
            for j in range(w):
                out[r * (h + pad) + i, c * (w + pad) + j] = tiles[k, i, j]
    return out


# ----------------------------------------------------------------------------
# Filters
# ----------------------------------------------------------------------------

def test_plot_filters_draws_each_filter_divided_by_its_largest_weight(tmp_path):
    model = convnet()
    W = model.layers[0].params["W"].copy()                            # (3, 3, 1, 4)
    fig = plot.plot_filters(model, tmp_path / "filters.png")
    assert_png(tmp_path / "filters.png")
    tiles = np.stack([W[:, :, 0, f] / np.abs(W[:, :, 0, f]).max() for f in range(4)])
    np.testing.assert_allclose(image_of(fig.axes[0]), mosaic_by_hand(tiles, 4), rtol=1e-12)
    assert fig.axes[0].get_title() == "Filters of 'conv2d': 4 filters 3x3, 1 channel"
    got, name = plot.filter_tiles(model)
    assert name == "conv2d" and got.shape == (4, 1, 3, 3)
    for f in range(4):
        np.testing.assert_array_equal(got[f, 0], W[:, :, 0, f])


def test_plot_filters_of_a_layer_with_several_channels_is_filters_by_channels():
    model = convnet()
    W = model.layers[2].params["W"].copy()                            # (2, 2, 4, 3): 3 filters of 4 channels
    for layer in ("conv2d_1", 1, model.layers[2]):
        fig = plot.plot_filters(model, layer=layer)
        tiles = np.stack([W[:, :, c, f] / np.abs(W[..., f]).max() for f in range(3) for c in range(4)])
        np.testing.assert_allclose(image_of(fig.axes[0]), mosaic_by_hand(tiles, 4), rtol=1e-12)
        assert fig.axes[0].get_xlabel() == "input channel" and fig.axes[0].get_ylabel() == "filter"
    fig = plot.plot_filters(model.layers[2], max_filters=2, max_channels=3)     # a layer passed itself
    assert image_of(fig.axes[0]).shape == (2 * 3 - 1, 3 * 3 - 1)
    assert "2 of 3 filters" in fig.axes[0].get_title()
    fig = plot.plot_filters(np.arange(18.0).reshape(3, 3, 1, 2))             # a kernel array
    assert np.nanmax(image_of(fig.axes[0])) == 1.0


@pytest.mark.parametrize("call, error, message", [
    (lambda m, d: plot.plot_filters(d), ValueError, "plot_filters: the model has no Conv2D layer (its layers: dense)"),
    (lambda m, d: plot.plot_filters(m, layer="dense"), ValueError,
     "no Conv2D layer named 'dense'; the model's Conv2D layers are conv2d, conv2d_1"),
    (lambda m, d: plot.plot_filters(m, layer=2), ValueError, "layer=2 but the model has 2 Conv2D layer(s)"),
    (lambda m, d: plot.plot_filters("model"), TypeError, "expects a model with a Conv2D layer or a Conv2D layer"),
    (lambda m, d: plot.plot_filters(gn.layers.Conv2D(2, 3)), ValueError, "has no weights yet"),
    (lambda m, d: plot.plot_filters(np.ones((3, 3))), ValueError, "plot_filters expects a Conv2D kernel"),
    (lambda m, d: plot.plot_feature_maps(d, np.ones(4)), ValueError, "feature_maps: the model has no Conv2D layer"),
    (lambda m, d: plot.plot_feature_maps(m, np.ones((9, 9))), ValueError,
     "expects one image of shape (10, 10, 1) (or (1, *(10, 10, 1))), got shape (9, 9)"),
    (lambda m, d: plot.plot_filter_evolution([]), ValueError, "no snapshots"),
    (lambda m, d: plot.plot_filter_evolution([np.ones((3, 3, 1, 2)), np.ones((3, 3, 1, 3))]), ValueError,
     "kernels of one shape"),
    (lambda m, d: plot.plot_filter_evolution([np.ones((3, 3, 1, 2))], channel=1), ValueError, "channel must be in 0-0"),
    (lambda m, d: plot.plot_filter_evolution([np.ones((3, 3, 1, 2))], labels=["a", "b"]), ValueError,
     "1 snapshots but 2 labels"),
])
def test_errors_say_what_was_expected(call, error, message):
    gn.set_random_seed(0)
    dense = gn.Sequential([gn.layers.Dense(2, input_shape=(4,))])
    with pytest.raises(error) as info:
        call(convnet(), dense)
    assert message in str(info.value)


def test_plot_weights_points_a_convnet_to_plot_filters():
    gn.set_random_seed(0)
    model = gn.Sequential([gn.Input((6, 6, 1)), gn.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="a Conv2D layer's filters are drawn by plot_filters"):
        plot.plot_weights(model)


# ----------------------------------------------------------------------------
# Feature maps
# ----------------------------------------------------------------------------

def maps_by_hand(model, image):
    """The conv -> relu -> 2x2 max-pool -> conv -> relu maps of one (h, w, 1) image, with loops."""
    W1, b1, W2, b2 = (w.astype(np.float64) for w in model.get_weights()[:4])

    def conv_relu(x, W, b):
        k, out = W.shape[0], x.shape[0] - W.shape[0] + 1
        y = np.zeros((out, out, W.shape[-1]))
        for r in range(out):
            for c in range(out):
                for f in range(W.shape[-1]):
                    y[r, c, f] = max(0.0, np.sum(x[r:r + k, c:c + k, :] * W[..., f]) + b[f])
        return y

    a1 = conv_relu(image, W1, b1)
    half = a1.shape[0] // 2
    p1 = np.zeros((half, half, a1.shape[-1]))
    for r in range(half):
        for c in range(half):
            p1[r, c] = a1[2 * r:2 * r + 2, 2 * c:2 * c + 2].max(axis=(0, 1))
    return [("input", image), ("conv2d", a1), ("max_pooling2d", p1), ("conv2d_1", conv_relu(p1, W2, b2))]


def test_feature_maps_are_the_layers_outputs_on_the_image(tmp_path):
    model = convnet()
    image = np.random.default_rng(0).random((10, 10, 1))
    maps = plot.feature_maps(model, image)
    want = maps_by_hand(model, image)
    assert [name for name, _ in maps] == [name for name, _ in want]
    for (_, got), (_, expected) in zip(maps, want):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    fig = plot.plot_feature_maps(model, image[:, :, 0], tmp_path / "maps.png", max_maps=3)    # (h, w) works too
    assert_png(tmp_path / "maps.png")
    axes = np.array(fig.axes).reshape(4, 3)
    for row, (name, expected) in zip(axes, want):
        for c, ax in enumerate(row):
            if c < expected.shape[-1]:
                np.testing.assert_allclose(image_of(ax), expected[:, :, c], rtol=1e-12, atol=1e-14)
            else:
                assert not ax.images and not ax.axison
        assert row[0].get_ylabel().startswith(name + "\n")
    assert axes[1, 0].get_ylabel() == "conv2d\n8x8, 3 of 4 maps"


def test_feature_maps_of_a_graph_model_are_the_same():
    model = convnet()
    inputs = gn.Input((10, 10, 1), dtype="float64")
    h = inputs
    for layer in model.layers:
        h = type(layer).from_config(layer.get_config())(h)
    graph = gn.Model(inputs, h)
    graph.set_weights(model.get_weights())
    image = np.random.default_rng(1).random((1, 10, 10, 1))
    for (a, x), (b, y) in zip(plot.feature_maps(graph, image), plot.feature_maps(model, image)):
        assert a == b
        np.testing.assert_array_equal(x, y)


# ----------------------------------------------------------------------------
# Filters over training
# ----------------------------------------------------------------------------

def test_filter_snapshots_are_the_kernel_after_each_epoch(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.random((24, 10, 10, 1)), rng.integers(0, 3, 24)
    model, twin = convnet(), convnet()
    snapshots = plot.FilterSnapshots()
    model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0, callbacks=[snapshots])
    expected = [twin.get_weights()[0].copy()]
    for _ in range(3):                                   # the twin, one epoch at a time
        twin.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        expected.append(twin.get_weights()[0].copy())
    assert snapshots.labels == ["start", "epoch 1", "epoch 2", "epoch 3"] and snapshots.layer_name == "conv2d"
    for got, want in zip(snapshots.kernels, expected):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(snapshots.kernels[0], snapshots.kernels[-1])
    fig = plot.plot_filter_evolution(snapshots, tmp_path / "evolution.png")
    assert_png(tmp_path / "evolution.png")
    stack = np.stack([[k[:, :, 0, f] for f in range(4)] for k in expected])        # (time, filter, 3, 3)
    scale = np.abs(stack).max(axis=(0, 2, 3))
    tiles = (stack / scale[None, :, None, None]).reshape(-1, 3, 3)
    np.testing.assert_allclose(image_of(fig.axes[0]), mosaic_by_hand(tiles, 4), rtol=1e-12)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == snapshots.labels


def test_filter_snapshots_every_n_batches_of_a_named_layer_and_at_most_max_rows():
    rng = np.random.default_rng(0)
    x, y = rng.random((30, 10, 10, 1)), rng.integers(0, 3, 30)
    model = convnet()
    snapshots = plot.FilterSnapshots(layer="conv2d_1", every_batches=2)
    model.fit(x, y, epochs=2, batch_size=5, verbose=0, callbacks=[snapshots])     # 6 batches per epoch
    assert snapshots.labels == ["start"] + [f"batch {k}" for k in range(2, 13, 2)]
    np.testing.assert_array_equal(snapshots.kernels[-1], model.layers[2].params["W"])
    assert snapshots.kernels[0].shape == (2, 2, 4, 3)
    fig = plot.plot_filter_evolution(snapshots, max_rows=3, channel=2)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["start", "batch 6", "batch 12"]
    with pytest.raises(ValueError, match="every_batches"):
        plot.FilterSnapshots(every_batches=0)
    gn.set_random_seed(0)
    dense = gn.Sequential([gn.layers.Dense(3, activation="softmax", input_shape=(4,))])
    dense.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="FilterSnapshots: the model has no Conv2D layer"):
        dense.fit(np.ones((4, 4)), np.zeros(4), verbose=0, callbacks=[plot.FilterSnapshots()])


# ----------------------------------------------------------------------------
# glassnet plot on a convnet's run folder
# ----------------------------------------------------------------------------

def test_plot_run_draws_filters_and_feature_maps_for_a_convnet(tmp_path):
    gn.set_random_seed(0)
    model = gn.Sequential([gn.Input((28, 28, 1)), gn.layers.Conv2D(3, 3, activation="relu"),
                           gn.layers.MaxPooling2D(2), gn.layers.Flatten(), gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "model.glassnet")
    written = [pathlib.Path(p).name for p in plot.plot_run(tmp_path, dataset="mnist-mini", samples=50)]
    assert written == ["confusion_matrix.png", "misclassified.png", "histograms.png", "filters.png",
                       "feature_maps.png"]                     # no weights.png: the Dense layer reads 507 maps
    for name in ("filters.png", "feature_maps.png"):
        assert_png(tmp_path / name)
