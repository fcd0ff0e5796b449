"""The convolutional network's layers in glassnet's own `.glassnet` files (saving/model_file.py).

Each layer saves and loads in a Sequential and in a graph model: the loaded model predicts exactly
(np.array_equal) and keeps training exactly as the original (SpatialDropout2D's masks included, its
generator state kept like Dropout's). Hostile configs (a kernel of 0, negative strides, 10**12 filters,
an unknown padding, weights of the wrong shape, ...) are refused with a ModelFileError that names the
fault, and an absurd size is refused before anything is allocated (saving/budget.py).
"""
import json

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError, load_model
from saving.saving_helpers import _members, _npz, _rewrite, _same_optimizer_state, _same_weights

pytestmark = pytest.mark.usefixtures("isolated_random_state")
L = gn.layers


def _images(n=24, shape=(10, 10, 2), seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *shape)).astype(dtype), rng.integers(0, 3, n)


# every new layer, each in a small classifier of (10, 10, 2) images (or (16, 3) sequences)
IMAGE_LAYERS = {
    "conv2d": lambda: L.Conv2D(4, 3, activation="relu"),
    "conv2d_same_strides": lambda: L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="tanh"),
    "conv2d_dilated_no_bias": lambda: L.Conv2D(3, 2, dilation_rate=2, use_bias=False,
                                               kernel_regularizer=gn.regularizers.L2(1e-3)),
    "max_pooling2d": lambda: L.MaxPooling2D(2),
    "max_pooling2d_same": lambda: L.MaxPooling2D(3, strides=2, padding="same"),
    "average_pooling2d": lambda: L.AveragePooling2D((2, 3), strides=1),
    "zero_padding2d": lambda: L.ZeroPadding2D(((1, 2), (0, 3))),
    "up_sampling2d": lambda: L.UpSampling2D((2, 1)),
    "up_sampling2d_bilinear": lambda: L.UpSampling2D(2, interpolation="bilinear"),
    "spatial_dropout2d": lambda: L.SpatialDropout2D(0.5),
}
GLOBAL_LAYERS = {
    "global_average_pooling2d": lambda: L.GlobalAveragePooling2D(),
    "global_max_pooling2d": lambda: L.GlobalMaxPooling2D(),
}
SEQUENCE_LAYERS = {
    "conv1d_causal": lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
    "max_pooling1d": lambda: L.MaxPooling1D(),
    "average_pooling1d": lambda: L.AveragePooling1D(3, strides=2, padding="same"),
}


def _classifier(name):
    """Input, a Conv2D (so that the layer after it gets a gradient to pass back), the layer, then a head."""
    if name in SEQUENCE_LAYERS:
        layers = [L.Input((16, 3)), L.Conv1D(3, 2, activation="relu"), SEQUENCE_LAYERS[name](),
                  L.GlobalMaxPooling1D()]
    elif name in GLOBAL_LAYERS:
        layers = [L.Input((10, 10, 2)), L.Conv2D(3, 3, activation="relu"), GLOBAL_LAYERS[name]()]
    else:
        layers = [L.Input((10, 10, 2)), L.Conv2D(3, 2, activation="relu"), IMAGE_LAYERS[name](),
                  L.Flatten()]
    model = gn.Sequential(layers + [L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data_for(name):
    return _images(shape=(16, 3) if name in SEQUENCE_LAYERS else (10, 10, 2))


@pytest.mark.parametrize("name", [*IMAGE_LAYERS, *GLOBAL_LAYERS, *SEQUENCE_LAYERS])
def test_each_layer_saves_loads_predicts_and_trains_on_exactly(tmp_path, name):
    gn.set_random_seed(5)
    model = _classifier(name)
    x, y = _data_for(name)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    loaded = load_model(model.save(tmp_path / "m.glassnet"))
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]
    assert [a.get_config() for a in loaded.layers] == [b.get_config() for b in model.layers]
    assert [a.output_shape for a in loaded.layers] == [b.output_shape for b in model.layers]
    assert _same_weights(loaded, model) and _same_optimizer_state(loaded, model)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    for m in (model, loaded):                       # the same next epoch: masks, moments, weights
        gn.set_random_seed(9)
        m.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert _same_weights(loaded, model) and _same_optimizer_state(loaded, model)
    assert not _same_weights(loaded, _classifier(name))


def test_float64_convnets_stay_float64(tmp_path):
    gn.set_random_seed(6)
    f64 = {"dtype": "float64"}
    model = gn.Sequential([L.Input((10, 10, 2)), L.Conv2D(3, 3, activation="relu", **f64), L.MaxPooling2D(**f64),
                           L.UpSampling2D(**f64), L.SpatialDropout2D(0.2, **f64), L.GlobalAveragePooling2D(**f64),
                           L.Dense(3, activation="softmax", **f64)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _images(dtype=np.float64)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    loaded = load_model(model.save(tmp_path / "m64.glassnet"))
    assert loaded.dtype == "float64" and {w.dtype for w in loaded.get_weights()} == {np.dtype("float64")}
    assert np.array_equal(loaded.predict(x), model.predict(x))


def test_spatial_dropout_keeps_its_generator_state_like_dropout(tmp_path):
    """An unseeded SpatialDropout2D goes on drawing the masks it would have drawn: its generator's state
    is in config.json's rng_states, as Dropout's is; a seeded one starts from its seed again."""
    gn.set_random_seed(7)
    model = _classifier("spatial_dropout2d")
    x, y = _data_for("spatial_dropout2d")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = model.save(tmp_path / "drop.glassnet")
    config = json.loads(_members(path)["config.json"])
    assert list(config["rng_states"]) == ["spatial_dropout2d"]
    loaded = load_model(path)
    probe = np.ones((4, 9, 9, 3), np.float32)
    a = model.layers[1].forward(probe, training=True)
    b = loaded.layers[1].forward(probe, training=True)
    assert np.array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 2.0}               # whole channels dropped, the others scaled by 1/(1-0.5)
    assert all(len(np.unique(a[i, :, :, c])) == 1 for i in range(4) for c in range(3))


def _graph_model():
    """A graph using every 2-D layer: two branches joined, and a model used as a layer."""
    image = gn.Input((12, 12, 2), name="image")
    h = L.ZeroPadding2D(1)(image)
    h = L.Conv2D(4, 3, strides=2, activation="relu")(h)
    left = L.MaxPooling2D(2, padding="same")(L.SpatialDropout2D(0.25)(h))
    right = L.AveragePooling2D(2, padding="same")(L.Conv2D(4, 1)(h))
    h = L.Add()([left, right])
    inner = gn.Sequential([gn.Input((3, 3, 4)), L.UpSampling2D(2), L.Conv2D(2, 3, padding="same")], name="inner")
    h = inner(h)
    both = L.Concatenate()([L.GlobalMaxPooling2D()(h), L.GlobalAveragePooling2D()(h)])
    model = gn.Model(image, L.Dense(3, activation="softmax")(both))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_a_graph_model_with_every_2d_layer_round_trips(tmp_path):
    gn.set_random_seed(8)
    model = _graph_model()
    x, y = _images(shape=(12, 12, 2))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    loaded = load_model(model.save(tmp_path / "graph.glassnet"))
    assert _same_weights(loaded, model) and np.array_equal(loaded.predict(x), model.predict(x))
    for m in (model, loaded):
        gn.set_random_seed(10)
        m.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert _same_weights(loaded, model)


# ---------------------------------------------------------------------------- hostile files
def _saved(tmp_path, graph=False):
    if graph:
        a = gn.Input((8, 8, 1))
        h = L.MaxPooling2D(2)(L.Conv2D(4, 3, padding="same")(a))
        h = L.SpatialDropout2D(0.1)(L.UpSampling2D(2)(L.ZeroPadding2D(1)(h)))
        model = gn.Model(a, L.Dense(2)(L.Flatten()(h)))
    else:
        model = gn.Sequential([gn.Input((8, 8, 1)), L.Conv2D(4, 3, padding="same"), L.MaxPooling2D(2),
                               L.ZeroPadding2D(1), L.UpSampling2D(2), L.SpatialDropout2D(0.1), L.Flatten(),
                               L.Dense(2)])
    return model.save(tmp_path / ("graph.glassnet" if graph else "seq.glassnet"))


def _edit(path, kind, key, value):
    """Rewrite the config of the first `kind` layer (rehashing the manifest, as someone who knows the format)."""
    config = json.loads(_members(path)["config.json"])
    spec = next(s for s in config["model"]["config"]["layers"] if s["class_name"] == kind)
    spec["config"][key] = value
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)


HOSTILE = [
    ("Conv2D", "kernel_size", [0, 3], r"Conv2D kernel_size must be a positive integer, got 0"),
    ("Conv2D", "kernel_size", [3, 3, 3], r"Conv2D kernel_size must be an int or a tuple of 2 ints"),
    ("Conv2D", "strides", [-1, 1], r"Conv2D strides must be a positive integer, got -1"),
    ("Conv2D", "dilation_rate", [1, 0], r"Conv2D dilation_rate must be a positive integer, got 0"),
    ("Conv2D", "filters", 10**12, r"more than \d+ weights, far more than weights.npz holds"),
    ("Conv2D", "filters", 10**9, r"more than \d+ weights, far more than weights.npz holds"),
    ("Conv2D", "kernel_size", [10**5, 10**5], r"far more than weights.npz holds"),
    ("Conv2D", "filters", 5, r"lists the weight .*conv2d/W.* but its architecture gives .*\(3, 3, 1, 5\)"),
    ("Conv2D", "filters", "4", r"Conv2D filters must be a positive integer, got '4'"),
    ("Conv2D", "padding", "full", r"Conv2D padding must be one of \['valid', 'same'\], got 'full'"),
    ("Conv2D", "data_format", "channels_first", r"Conv2D reads channels-last images .*, got "
                                                r"data_format='channels_first'"),
    ("Conv2D", "activation", "no_such", r"Unknown activation 'no_such'"),
    ("MaxPooling2D", "pool_size", [0, 2], r"MaxPooling2D pool_size must be a positive integer, got 0"),
    ("MaxPooling2D", "strides", [2, -2], r"MaxPooling2D strides must be a positive integer, got -2"),
    ("MaxPooling2D", "padding", "causal", r"MaxPooling2D padding must be one of"),
    ("MaxPooling2D", "pool_size", [9, 9], r"MaxPooling2D.* \(9, 9\) .*spatial shape \(8, 8\)"),
    ("ZeroPadding2D", "padding", [[-1, 0], [0, 0]], r"ZeroPadding2D padding must be .* of integers >= 0"),
    ("ZeroPadding2D", "padding", [[10**9, 0], [0, 0]], r"far more than weights.npz holds"),
    ("UpSampling2D", "size", [0, 2], r"UpSampling2D size must be a positive integer, got 0"),
    ("UpSampling2D", "interpolation", "bicubic", r"UpSampling2D interpolation must be one of"),
    ("SpatialDropout2D", "rate", 1.5, r"SpatialDropout2D rate must be a number in \[0, 1\), got 1.5"),
]


@pytest.mark.parametrize("graph", [False, True], ids=["sequential", "graph"])
@pytest.mark.parametrize("kind,key,value,message", HOSTILE, ids=[f"{k}-{key}-{v}" for k, key, v, _ in HOSTILE])
def test_hostile_configs_are_refused_with_a_model_file_error(tmp_path, graph, kind, key, value, message):
    path = _saved(tmp_path, graph)
    _edit(path, kind, key, value)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_an_absurd_input_shape_is_refused_before_the_convolution_allocates(tmp_path):
    """A Sequential's input shape is the file's too: (8, 8, 10**9) channels would make a kernel of
    3 x 3 x 10**9 x 4 numbers; the walk charges it before Conv2D is built."""
    path = _saved(tmp_path)
    config = json.loads(_members(path)["config.json"])
    config["model"]["config"]["input_shape"] = [8, 8, 10**9]
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    with pytest.raises(ModelFileError, match="far more than weights.npz holds"):
        load_model(path)


def test_dense_gets_the_same_guard(tmp_path):
    path = _saved(tmp_path)
    _edit(path, "Dense", "units", 10**12)
    with pytest.raises(ModelFileError, match="far more than weights.npz holds"):
        load_model(path)


@pytest.mark.parametrize("graph", [False, True], ids=["sequential", "graph"])
def test_weights_of_the_wrong_shape_are_refused(tmp_path, graph):
    path = _saved(tmp_path, graph)
    model = load_model(path)
    arrays = dict(zip(gn.saving.weight_names(model), model.get_weights()))
    arrays["conv2d/W"] = np.zeros((3, 3, 1, 5), np.float32)
    _rewrite(path, replace={"weights.npz": _npz(**arrays)}, rehash=True)
    with pytest.raises(ModelFileError, match=r"conv2d/W has shape \(3, 3, 1, 5\), the model needs \(3, 3, 1, 4\)"):
        load_model(path)
    arrays["conv2d/W"] = np.zeros((3, 3, 1, 4), np.float32)
    arrays["conv2d/b"] = np.zeros((4,), np.int64)
    _rewrite(path, replace={"weights.npz": _npz(**arrays)}, rehash=True)
    with pytest.raises(ModelFileError, match=r"conv2d/b has dtype int64"):
        load_model(path)


def test_a_model_used_as_a_layer_is_walked_too(tmp_path):
    """The walk follows models inside models: 10**12 filters in the inner Sequential are refused unbuilt."""
    path = _graph_model().save(tmp_path / "nested.glassnet")
    config = json.loads(_members(path)["config.json"])
    inner = next(s for s in config["model"]["config"]["layers"] if s["class_name"] == "Sequential")
    conv = next(s for s in inner["config"]["layers"] if s["class_name"] == "Conv2D")
    conv["config"]["filters"] = 10**12
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    with pytest.raises(ModelFileError, match="far more than weights.npz holds"):
        load_model(path)


def test_an_absurd_input_shape_declared_by_the_first_layer_is_counted_too(tmp_path):
    """Conv2D(4, 3, input_shape=(8, 8, 1)) declares the model's input; a file may edit that one instead."""
    model = gn.Sequential([L.Conv2D(4, 3, input_shape=(8, 8, 1)), L.Flatten(), L.Dense(2)])
    path = model.save(tmp_path / "declared.glassnet")
    config = json.loads(_members(path)["config.json"])
    config["model"]["config"]["layers"][0]["config"]["input_shape"] = [8, 8, 10**9]
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    with pytest.raises(ModelFileError, match="far more than weights.npz holds"):
        load_model(path)
