"""The convolutional-network layers of issue 12 inside models: each in a Sequential and in a graph model
(gn.Model(inputs, outputs)) passes gn.gradient_check (float64 central differences of the model's loss), learns
a small made-up task (the loss falls), shows its output shape in summary(), and saves and loads; the output
shapes agree with Keras 3's compute_output_shape over many configurations."""
import numpy as np
import pytest

import glassnet as gn

L = gn.layers
pytestmark = pytest.mark.usefixtures("isolated_random_state")
IMAGE, SEQUENCE = (8, 8, 1), (12, 2)


def lines(n, seed=0):
    """8x8 images of one noisy vertical (label 0) or horizontal (label 1) line."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(0, 0.2, size=(n,) + IMAGE)
    where = rng.integers(1, 7, size=n)
    for i in range(n):
        if y[i]:
            x[i, where[i], :, 0] += 1.0
        else:
            x[i, :, where[i], 0] += 1.0
    return x, y


def peaks(n, seed=0):
    """Sequences of 12 steps with a bump somewhere on channel 0 (label 0) or channel 1 (label 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(0, 0.2, size=(n,) + SEQUENCE)
    x[np.arange(n), rng.integers(0, 12, size=n), y] += 1.5
    return x, y


def stack(name, act):
    """(input shape, layers between the input and the softmax) of a small model around layer `name`."""
    conv = lambda **k: L.Conv2D(3, 3, activation=act, **k)                       # noqa: E731
    conv1 = lambda **k: L.Conv1D(3, 3, activation=act, **k)                      # noqa: E731
    stacks = {
        "Conv2D": (IMAGE, [conv(strides=2), L.Flatten()]),
        "Conv2D-same-dilated": (IMAGE, [L.Conv2D(2, 3, padding="same", dilation_rate=2, activation=act),
                                        L.Flatten()]),
        "MaxPooling2D": (IMAGE, [conv(padding="same"), L.MaxPooling2D(2), L.Flatten()]),
        "MaxPooling2D-same": (IMAGE, [conv(), L.MaxPooling2D(3, strides=2, padding="same"), L.Flatten()]),
        "AveragePooling2D": (IMAGE, [conv(), L.AveragePooling2D(2), L.Flatten()]),
        "AveragePooling2D-same": (IMAGE, [conv(), L.AveragePooling2D(3, strides=2, padding="same"), L.Flatten()]),
        "GlobalMaxPooling2D": (IMAGE, [conv(), L.GlobalMaxPooling2D()]),
        "GlobalAveragePooling2D": (IMAGE, [conv(), L.GlobalAveragePooling2D()]),
        "ZeroPadding2D": (IMAGE, [L.ZeroPadding2D(((1, 0), (0, 2))), conv(strides=2), L.Flatten()]),
        "UpSampling2D": (IMAGE, [conv(strides=2), L.UpSampling2D(2), L.Flatten()]),
        "UpSampling2D-bilinear": (IMAGE, [conv(strides=2), L.UpSampling2D((2, 1), interpolation="bilinear"),
                                          L.Flatten()]),
        "SpatialDropout2D": (IMAGE, [conv(), L.SpatialDropout2D(0.25, seed=3), L.Flatten()]),
        "Conv1D": (SEQUENCE, [conv1(), L.Flatten()]),
        "Conv1D-causal": (SEQUENCE, [L.Conv1D(2, 3, padding="causal", dilation_rate=2, activation=act),
                                     L.Flatten()]),
        "MaxPooling1D": (SEQUENCE, [conv1(), L.MaxPooling1D(2), L.Flatten()]),
        "AveragePooling1D": (SEQUENCE, [conv1(), L.AveragePooling1D(3, strides=2, padding="same"), L.Flatten()]),
        "GlobalMaxPooling1D": (SEQUENCE, [conv1(), L.GlobalMaxPooling1D()]),
        "GlobalAveragePooling1D": (SEQUENCE, [conv1(), L.GlobalAveragePooling1D()]),
    }
    return stacks[name]


NAMES = ["Conv2D", "Conv2D-same-dilated", "MaxPooling2D", "MaxPooling2D-same", "AveragePooling2D",
         "AveragePooling2D-same", "GlobalMaxPooling2D", "GlobalAveragePooling2D", "ZeroPadding2D", "UpSampling2D",
         "UpSampling2D-bilinear", "SpatialDropout2D", "Conv1D", "Conv1D-causal", "MaxPooling1D", "AveragePooling1D",
         "GlobalMaxPooling1D", "GlobalAveragePooling1D"]


def build(name, graph, act="relu", seed=0):
    gn.set_random_seed(seed)
    shape, layers = stack(name, act)
    head = L.Dense(2, activation="softmax")
    if graph:
        inputs = gn.Input(shape)
        h = inputs
        for layer in layers + [head]:
            h = layer(h)
        model = gn.Model(inputs, h)
    else:
        model = gn.Sequential([gn.Input(shape)] + layers + [head])
    return model, (lines if shape == IMAGE else peaks)


@pytest.mark.parametrize("graph", [False, True], ids=["Sequential", "graph"])
@pytest.mark.parametrize("name", NAMES)
def test_gradient_check_in_a_model(name, graph):
    """tanh keeps the loss smooth (a ReLU at 0 has no derivative for central differences to find)."""
    model, data = build(name, graph, act="tanh")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = data(5, seed=1)
    result = gn.gradient_check(model, x, y)
    assert result.passed, f"{name}:\n{result}"
    assert len(result) == len(model.get_weights())


@pytest.mark.parametrize("graph", [False, True], ids=["Sequential", "graph"])
@pytest.mark.parametrize("name", NAMES)
def test_the_model_learns_and_saves(name, graph, tmp_path):
    model, data = build(name, graph)
    model.compile(optimizer=gn.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = data(128)
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], f"{name}: the loss went {losses[0]:.3f} -> {losses[-1]:.3f}"
    assert history.history["accuracy"][-1] > 0.9
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
    np.testing.assert_array_equal(loaded.predict(x[:9], verbose=0), model.predict(x[:9], verbose=0))


def test_summary_shows_the_output_shapes():
    model = gn.Sequential([gn.Input((28, 28, 1)), L.ZeroPadding2D(1), L.Conv2D(8, 3, activation="relu"),
                           L.MaxPooling2D(2), L.SpatialDropout2D(0.2), L.UpSampling2D(2),
                           L.AveragePooling2D(3, strides=2, padding="same"), L.GlobalMaxPooling2D(), L.Dense(10)])
    lines_ = []
    model.summary(print_fn=lines_.append, details=False)
    text = "\n".join(lines_)
    for row in ["zero_padding2d (ZeroPadding2D)", "(None, 30, 30, 1)", "(None, 28, 28, 8)", "(None, 14, 14, 8)",
                "spatial_dropout2d (SpatialDropout2D)", "global_max_pooling2d (GlobalMaxPooling2D)",
                "(None, 8)", "up_sampling2d (UpSampling2D)", "average_pooling2d (AveragePooling2D)"]:
        assert row in text, f"{row!r} not in\n{text}"


SHAPES = [
    ("Conv2D", dict(filters=4, kernel_size=3), (9, 9, 2)),
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"), (9, 8, 2)),
    ("Conv2D", dict(filters=2, kernel_size=3, dilation_rate=2), (11, 10, 1)),
    ("Conv1D", dict(filters=3, kernel_size=4, strides=3, padding="same"), (10, 2)),
    ("Conv1D", dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2), (10, 2)),
    ("MaxPooling2D", dict(pool_size=2), (11, 11, 3)),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (11, 10, 3)),
    ("MaxPooling2D", dict(pool_size=(2, 3), strides=(1, 2)), (6, 9, 1)),
    ("AveragePooling2D", dict(pool_size=2, padding="same"), (7, 7, 2)),
    ("AveragePooling2D", dict(pool_size=(3, 1), strides=2), (9, 4, 2)),
    ("MaxPooling1D", dict(), (9, 2)),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same"), (10, 2)),
    ("AveragePooling1D", dict(pool_size=4, strides=1), (9, 2)),
    ("GlobalMaxPooling2D", dict(), (5, 6, 3)),
    ("GlobalMaxPooling2D", dict(keepdims=True), (5, 6, 3)),
    ("GlobalAveragePooling2D", dict(data_format="channels_first"), (3, 5, 6)),
    ("GlobalAveragePooling2D", dict(keepdims=True), (5, 6, 3)),
    ("GlobalMaxPooling1D", dict(), (7, 3)),
    ("GlobalMaxPooling1D", dict(data_format="channels_first", keepdims=True), (3, 7)),
    ("ZeroPadding2D", dict(padding=((1, 2), (3, 0))), (5, 6, 3)),
    ("ZeroPadding2D", dict(padding=(2, 1)), (5, 6, 3)),
    ("UpSampling2D", dict(size=(2, 3)), (5, 6, 3)),
    ("UpSampling2D", dict(size=3, interpolation="bilinear"), (4, 4, 1)),
    ("SpatialDropout2D", dict(rate=0.3), (5, 6, 3)),
]


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("name, kwargs, shape", SHAPES, ids=str)
def test_output_shapes_agree_with_keras(keras, name, kwargs, shape):
    ours = getattr(L, name)(**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    expected = tuple(theirs.compute_output_shape((None,) + shape))
    assert ours.compute_output_shape((None,) + shape) == expected
    ours.build((None,) + shape)
    assert ours.output_shape == expected
    x = np.random.default_rng(0).normal(size=(2,) + shape).astype(np.float32)
    assert ours.forward(x).shape == (2,) + expected[1:] == tuple(keras.ops.convert_to_numpy(theirs(x)).shape)
