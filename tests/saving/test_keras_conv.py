"""The convolutional network's layers in Keras 3 files (`.keras`, `.weights.h5`), against real Keras 3.

The same architecture is written once for both libraries (glassnet takes Keras's names and arguments, so
`lib.layers.Conv2D(32, 3, activation="relu")` builds either): a glassnet model saved as `.keras` opens in
`keras.saving.load_model` and predicts the same numbers; a model Keras built, trained and saved opens in
glassnet and predicts the same numbers; `.weights.h5` goes both ways. Keras options glassnet lacks
(channels_first, groups, constraints, an interpolation it does not have) are refused with a
ModelFileError naming the layer and the option, and an absurd size is refused before anything is allocated.
"""
import json
import warnings
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError
from saving.saving_helpers import rewrite_keras_config

h5py = pytest.importorskip("h5py")
pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]   # Keras on torch
TOL = 1e-5       # float32 convolutions summed in different orders by two libraries


def _keras_style_convnet(lib):
    """The Keras-style convnet of issue 12, in glassnet (lib=gn) or Keras (lib=keras)."""
    L = lib.layers
    return lib.Sequential([lib.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                           L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.5),
                           L.Dense(10, activation="softmax")])


def _every_2d_layer(lib):
    """Every 2-D layer, with the options glassnet and Keras share (strides, same padding, dilation, bilinear)."""
    L = lib.layers
    return lib.Sequential([
        lib.Input((13, 11, 2)), L.ZeroPadding2D(((1, 2), (0, 1))),
        L.Conv2D(4, 3, strides=2, padding="same", activation="tanh"), L.UpSampling2D((2, 3)),
        L.SpatialDropout2D(0.3, seed=1), L.AveragePooling2D(3, strides=2, padding="same"),
        L.MaxPooling2D(2, padding="same"), L.Conv2D(3, 2, dilation_rate=2, padding="same", use_bias=False),
        L.UpSampling2D(2, interpolation="bilinear"), L.AveragePooling2D((2, 3), strides=(1, 2)),
        L.Conv2D(5, (1, 2), activation="relu", kernel_regularizer=lib.regularizers.L2(1e-3)),
        L.GlobalMaxPooling2D(), L.Dense(3, activation="softmax")])


def _every_1d_layer(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((20, 3)), L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="elu"),
                           L.MaxPooling1D(), L.AveragePooling1D(3, strides=1, padding="same"),
                           L.Conv1D(2, 2, strides=2, padding="same"), L.MaxPooling1D(2, strides=1),
                           L.GlobalMaxPooling1D()])


def _graph(lib):
    """A graph model: two branches of the same feature maps, global poolings joined."""
    L = lib.layers
    image = lib.Input((10, 10, 3), name="image")
    h = L.Conv2D(6, 3, padding="same", activation="relu")(image)
    left = L.GlobalAveragePooling2D()(L.MaxPooling2D(2)(h))
    right = L.GlobalMaxPooling2D(keepdims=True)(L.Conv2D(6, 1)(h))
    joined = L.Concatenate()([left, L.Flatten()(right)])
    return lib.Model(image, L.Dense(4, activation="softmax")(joined))


MODELS = {"keras_style_convnet": (_keras_style_convnet, (28, 28, 1)), "every_2d_layer": (_every_2d_layer, (13, 11, 2)),
          "every_1d_layer": (_every_1d_layer, (20, 3)), "graph": (_graph, (10, 10, 3))}


def _x(shape, n=6, seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def _keras_predict(model, x):
    return np.asarray(model.predict(x, verbose=0))


def _trained_glassnet(name):
    build, shape = MODELS[name]
    model = build(gn)
    x = _x(shape, n=16)
    out = model.output_shape[-1]
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, np.arange(16) % out, epochs=2, batch_size=8, verbose=0)
    return model


@pytest.mark.parametrize("name", list(MODELS))
def test_a_glassnet_convnet_opens_in_keras_with_the_same_predictions(keras, tmp_path, name):
    gn.set_random_seed(1)
    model = _trained_glassnet(name)
    path = model.save(tmp_path / f"{name}.keras")
    loaded = keras.saving.load_model(path)
    assert sorted(type(layer).__name__ for layer in loaded.layers) == sorted(type(layer).__name__
                                                                            for layer in model.layers)
    assert loaded.count_params() == model.count_params()
    x = _x(MODELS[name][1], seed=2)
    np.testing.assert_allclose(_keras_predict(loaded, x), model.predict(x), rtol=TOL, atol=TOL)
    for layer in model.layers:                         # each layer's weights, exactly
        theirs = loaded.get_layer(layer.name).get_weights()
        assert len(theirs) == len(layer.weights) and all(np.array_equal(a, np.asarray(b))
                                                         for a, b in zip(layer.weights, theirs))


@pytest.mark.parametrize("name", list(MODELS))
def test_a_keras_convnet_opens_in_glassnet_with_the_same_predictions(keras, tmp_path, name):
    keras.utils.set_random_seed(2)
    build, shape = MODELS[name]
    model = build(keras)
    x = _x(shape, n=16)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, np.arange(16) % model.output_shape[-1], epochs=1, batch_size=8, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = gn.load_model(path)
    shapes = {layer.name: tuple(layer.output.shape) for layer in model.layers}
    assert {layer.name: tuple(layer.output_shape) for layer in loaded.layers} == shapes
    assert loaded.count_params() == model.count_params() and loaded.compiled
    x = _x(shape, seed=3)
    np.testing.assert_allclose(loaded.predict(x), _keras_predict(model, x), rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", list(MODELS))
def test_weights_h5_go_both_ways(keras, tmp_path, name):
    gn.set_random_seed(3)
    keras.utils.set_random_seed(3)
    build, shape = MODELS[name]
    mine = _trained_glassnet(name)
    theirs = build(keras)
    x = _x(shape, seed=4)
    mine.save_weights(tmp_path / "mine.weights.h5")
    theirs.load_weights(tmp_path / "mine.weights.h5")
    np.testing.assert_allclose(_keras_predict(theirs, x), mine.predict(x), rtol=TOL, atol=TOL)

    fresh = build(keras)                              # new random weights, saved by Keras
    fresh.save_weights(tmp_path / "theirs.weights.h5")
    mine.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(mine.predict(x), _keras_predict(fresh, x), rtol=TOL, atol=TOL)
    assert not np.allclose(mine.predict(x), _keras_predict(theirs, x))


def test_the_weights_file_layout_is_keras_own(keras, tmp_path):
    """The same groups (conv2d, max_pooling2d, zero_padding2d, up_sampling2d_1, ...) with the same arrays."""
    gn.set_random_seed(4)
    keras.utils.set_random_seed(4)
    _every_2d_layer(gn).save_weights(tmp_path / "mine.weights.h5")
    _every_2d_layer(keras).save_weights(tmp_path / "theirs.weights.h5")

    def layout(path):
        found = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, item: found.__setitem__(name, getattr(item, "shape", None)))
        return found
    mine, theirs = layout(tmp_path / "mine.weights.h5"), layout(tmp_path / "theirs.weights.h5")
    assert mine == theirs
    assert mine["layers/conv2d/vars/0"] == (3, 3, 2, 4) and mine["layers/conv2d_2/vars/1"] == (5,)
    assert "layers/global_max_pooling2d/vars" in mine and "layers/spatial_dropout2d/vars" in mine


def test_the_config_is_what_keras_writes(keras, tmp_path):
    """Each layer's Keras config from glassnet equals Keras's own, key for key (initializers aside:
    glassnet writes none, Keras takes its defaults; names aside: Keras numbers them per process)."""
    gn.set_random_seed(5)
    _every_2d_layer(gn).save(tmp_path / "mine.keras")
    _every_2d_layer(keras).save(tmp_path / "theirs.keras")

    def specs(path):
        with zipfile.ZipFile(path) as zf:
            layers = json.loads(zf.read("config.json"))["config"]["layers"]
        for spec in layers:                 # Keras marks the dtype policy its layers share; no meaning for a reader
            if isinstance(spec["config"].get("dtype"), dict):
                spec["config"]["dtype"].pop("shared_object_id", None)
        return [(spec["class_name"], {k: v for k, v in spec["config"].items()
                                      if not k.endswith("_initializer") and k != "name"}) for spec in layers]
    mine, theirs = specs(tmp_path / "mine.keras"), specs(tmp_path / "theirs.keras")
    assert [a[0] for a in mine] == [b[0] for b in theirs] and len(mine) == 13
    for a, b in zip(mine[1:-1], theirs[1:-1]):         # the new layers (InputLayer and Dense: test_keras_file)
        assert a == b


# ---------------------------------------------------------------------------- what glassnet refuses
def _keras_file(keras, tmp_path):
    model = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.Conv2D(4, 3, name="features"),
                              keras.layers.MaxPooling2D(name="pool"), keras.layers.UpSampling2D(name="up"),
                              keras.layers.GlobalAveragePooling2D(name="gap")])
    path = tmp_path / "k.keras"
    model.save(path)
    return path


REFUSED = [
    ("features", "data_format", "channels_first", r"layer 'features' \(Conv2D\): data_format='channels_first' is not "
                                                  r"supported"),
    ("features", "groups", 2, r"layer 'features' \(Conv2D\): groups=2 is not supported"),
    ("features", "kernel_constraint", {"module": "keras.constraints", "class_name": "MaxNorm",
                                       "config": {"max_value": 2, "axis": 0}, "registered_name": None},
     r"layer 'features' \(Conv2D\): kernel_constraint='MaxNorm' is not supported"),
    ("features", "bias_constraint", {"class_name": "NonNeg", "config": {}},
     r"layer 'features' \(Conv2D\): bias_constraint='NonNeg' is not supported"),
    ("features", "activity_regularizer", {"class_name": "L2", "config": {"l2": 0.1}},
     r"layer 'features' \(Conv2D\): activity_regularizer='L2' is not supported"),
    ("features", "kernel_regularizer", {"class_name": "OrthogonalRegularizer", "config": {}},
     r"layer 'features' \(Conv2D\): the regularizer 'OrthogonalRegularizer' is not one glassnet has"),
    ("features", "padding", "full", r"layer 'features' \(Conv2D\) cannot be built in glassnet: Conv2D padding must "
                                    r"be one of"),
    ("features", "kernel_size", [0, 3], r"layer 'features' \(Conv2D\) cannot be built in glassnet: Conv2D "
                                        r"kernel_size must be a positive integer, got 0"),
    ("features", "filters", 10**12, r"far more than model.weights.h5 holds"),
    ("pool", "data_format", "channels_first", r"layer 'pool' \(MaxPooling2D\): data_format='channels_first' is not "
                                              r"supported"),
    ("pool", "strides", [-1, 2], r"layer 'pool' \(MaxPooling2D\) cannot be built in glassnet: MaxPooling2D strides"),
    ("up", "interpolation", "bicubic", r"layer 'up' \(UpSampling2D\) cannot be built in glassnet: UpSampling2D "
                                       r"interpolation must be one of \['nearest', 'bilinear'\]"),
    ("up", "data_format", "channels_first", r"layer 'up' \(UpSampling2D\): data_format='channels_first'"),
    ("up", "size", [10**6, 10**6], None),          # no weights: it loads; the shapes are Keras's (checked below)
]


@pytest.mark.parametrize("layer,key,value,message", REFUSED, ids=[f"{a}-{b}" for a, b, *_ in REFUSED])
def test_keras_options_glassnet_lacks_are_refused_by_layer_and_option(keras, tmp_path, layer, key, value, message):
    def edit(config):
        spec = next(s for s in config["config"]["layers"] if s["config"].get("name") == layer)
        spec["config"][key] = value
        spec.pop("build_config", None)
    path = rewrite_keras_config(_keras_file(keras, tmp_path), tmp_path / "edited.keras", edit)
    if message is None:
        model = gn.load_model(path)
        assert model.layers[2].output_shape == (None, 3 * 10**6, 3 * 10**6, 4)
        return
    with pytest.raises(ModelFileError, match=message) as info:
        gn.load_model(path)
    assert str(path) in str(info.value)


def test_channels_first_global_pooling_is_read_as_channels_first(keras, tmp_path):
    """The global poolings take channels-first inputs in glassnet too, so that option loads."""
    model = keras.Sequential([keras.Input((3, 5, 4)), keras.layers.GlobalMaxPooling2D(data_format="channels_first"),
                              keras.layers.Dense(2)])
    model.save(tmp_path / "cf.keras")
    loaded = gn.load_model(tmp_path / "cf.keras")
    assert loaded.layers[0].data_format == "channels_first" and loaded.layers[0].output_shape == (None, 3)
    x = _x((3, 5, 4))
    np.testing.assert_allclose(loaded.predict(x), _keras_predict(model, x), rtol=TOL, atol=TOL)


def test_a_conv_dense_constraint_warns_only_on_dense(keras, tmp_path):
    """Dense still drops a constraint with a warning (as before); a convolution refuses it (above)."""
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2, kernel_constraint=keras.constraints.NonNeg())])
    model.save(tmp_path / "c.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gn.load_model(tmp_path / "c.keras")
    assert [str(w.message) for w in caught if "kernel_constraint" in str(w.message)]
