"""The layers of issue 11 inside models: each trains inside a Sequential and a graph model, survives
.glassnet files, and goes both ways through Keras 3 `.keras` files (Keras loads glassnet's file and
predicts the same numbers; glassnet loads Keras's file and predicts the same numbers). Plus: a model
nested before a Softmax, Embedding's id checks at the model's boundary, and summary() rows.
"""
import json
import warnings
import zipfile

import numpy as np
import pytest

import glassnet as gn
from saving.saving_helpers import rewrite_keras_config

pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
L = gn.layers
TOL = 1e-6


def _data(kind, n=96, seed=0):
    """(x, y): 6 float features, or 5 ids in [0, 10), and 3 classes that depend on them."""
    rng = np.random.default_rng(seed)
    if kind == "ids":
        x = rng.integers(0, 10, size=(n, 5))
        return x, (x == 3).any(axis=1).astype(int) + (x == 7).any(axis=1).astype(int)
    x = (rng.normal(size=(n, 6)) * [1, 2, 5, 1, 1, 1] + [0, 3, -10, 0, 0, 0]).astype(np.float32)
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 3).astype(int)


# name: (glassnet layers, Keras layers (given the keras module), input kind); every model is
# Input -> <these layers> -> Flatten -> Dense(3, softmax)
LAYERS = {
    "Normalization": (lambda: [L.Normalization()], lambda K: [K.layers.Normalization()], "floats"),
    "Normalization(mean=,variance=)": (
        lambda: [L.Normalization(mean=[0, 3, -10, 0, 0, 0], variance=[1, 4, 25, 1, 1, 1])],
        lambda K: [K.layers.Normalization(mean=[0, 3, -10, 0, 0, 0], variance=[1, 4, 25, 1, 1, 1])], "floats"),
    "Softmax": (lambda: [L.Dense(6), L.Softmax()], lambda K: [K.layers.Dense(6), K.layers.Softmax()], "floats"),
    "ReLU": (lambda: [L.Dense(6), L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.05)],
             lambda K: [K.layers.Dense(6), K.layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.05)],
             "floats"),
    "LeakyReLU": (lambda: [L.Dense(6), L.LeakyReLU()], lambda K: [K.layers.Dense(6), K.layers.LeakyReLU()],
                  "floats"),
    "ELU": (lambda: [L.Dense(6), L.ELU(alpha=0.7)], lambda K: [K.layers.Dense(6), K.layers.ELU(alpha=0.7)], "floats"),
    "PReLU": (lambda: [L.Dense(6), L.Reshape((2, 3)), L.PReLU(shared_axes=[1])],
              lambda K: [K.layers.Dense(6), K.layers.Reshape((2, 3)), K.layers.PReLU(shared_axes=[1])], "floats"),
    "Reshape": (lambda: [L.Dense(6), L.Reshape((3, 2))], lambda K: [K.layers.Dense(6), K.layers.Reshape((3, 2))],
                "floats"),
    "Identity": (lambda: [L.Dense(6), L.Identity()], lambda K: [K.layers.Dense(6), K.layers.Identity()], "floats"),
    "LayerNormalization": (lambda: [L.Dense(6), L.LayerNormalization()],
                           lambda K: [K.layers.Dense(6), K.layers.LayerNormalization()], "floats"),
    "GaussianNoise": (lambda: [L.Dense(6), L.GaussianNoise(0.1, seed=1)],
                      lambda K: [K.layers.Dense(6), K.layers.GaussianNoise(0.1, seed=1)], "floats"),
    "Embedding": (lambda: [L.Embedding(10, 4)], lambda K: [K.layers.Embedding(10, 4)], "ids"),
    "GlobalAveragePooling1D": (lambda: [L.Embedding(10, 4), L.GlobalAveragePooling1D()],
                               lambda K: [K.layers.Embedding(10, 4), K.layers.GlobalAveragePooling1D()], "ids"),
}


def _features(kind):
    return (5,) if kind == "ids" else (6,)


def _adapt(layers, x):
    for layer in layers:
        if isinstance(layer, L.Normalization) and layer.input_mean is None:
            layer.adapt(x)


def _sequential(name):
    make, _, kind = LAYERS[name]
    x, y = _data(kind)
    middle = make()
    _adapt(middle, x)
    model = gn.Sequential([gn.Input(_features(kind)), *middle, L.Flatten(), L.Dense(3, activation="softmax")])
    return model, x, y


def _graph(name):
    make, _, kind = LAYERS[name]
    x, y = _data(kind)
    middle = make()
    _adapt(middle, x)
    inputs = gn.Input(_features(kind), dtype="int32" if kind == "ids" else None)
    h = inputs
    for layer in middle:
        h = layer(h)
    outputs = L.Dense(3, activation="softmax")(L.Flatten()(h))
    return gn.Model(inputs, outputs), x, y


def _trained(model, x, y, epochs=30):
    model.compile(optimizer=gn.optimizers.Adam(0.03), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return history.history


@pytest.mark.parametrize("build", [_sequential, _graph], ids=["Sequential", "graph"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_the_layer_trains_and_survives_a_glassnet_file(name, build, tmp_path):
    gn.set_random_seed(0)
    model, x, y = build(name)
    layer = next(l for l in model.layers if type(l).__name__ == name.split("(")[0])
    before = {k: v.copy() for k, v in layer.params.items()}
    state = {k: v.copy() for k, v in layer.state.items()}
    history = _trained(model, x, y)
    assert history["loss"][-1] < 0.7 * history["loss"][0], history["loss"]
    assert history["accuracy"][-1] > 0.75
    for key, value in before.items():                        # the layer's own weights learnt
        assert not np.array_equal(layer.params[key], value), key
    for key, value in state.items():                         # and adapted statistics stay put
        assert np.array_equal(layer.state[key], value), key
    path = model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights()))


def _keras_model(keras, name, graph):
    _, make, kind = LAYERS[name]
    x, y = _data(kind)
    middle = make(keras)
    for layer in middle:
        if isinstance(layer, keras.layers.Normalization) and layer.input_mean is None:
            layer.adapt(x)
    if graph:
        inputs = keras.Input(_features(kind), dtype="int32" if kind == "ids" else "float32")
        h = inputs
        for layer in middle:
            h = layer(h)
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(h)))
    else:
        model = keras.Sequential([keras.Input(_features(kind), dtype="int32" if kind == "ids" else "float32"),
                                  *middle, keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(5)
    for v in model.trainable_weights:                       # weights of Keras's own, alpha of PReLU not 0
        v.assign((rng.normal(size=v.shape) * 0.5).astype("float32"))
    return model, x


@pytest.mark.parametrize("graph", [False, True], ids=["Sequential", "graph"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_keras_files_go_both_ways(keras, name, graph, tmp_path):
    gn.set_random_seed(1)
    model, x, y = (_graph if graph else _sequential)(name)
    _trained(model, x, y, epochs=5)
    ours = model.save(tmp_path / "ours.keras")
    with zipfile.ZipFile(ours) as zf:
        specs = json.loads(zf.read("config.json"))["config"]["layers"]
    assert name.split("(")[0] in [s["class_name"] for s in specs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = keras.saving.load_model(ours)
        np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x), rtol=TOL, atol=TOL)

        kmodel, kx = _keras_model(keras, name, graph)
        kmodel.save(tmp_path / "theirs.keras")
        expected = np.asarray(kmodel.predict(kx, verbose=0))
    loaded = gn.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(loaded.predict(kx), expected, rtol=TOL, atol=TOL)
    assert name.split("(")[0] in [type(l).__name__ for l in loaded.layers]


def test_normalization_weights_keep_keras_names_and_types_in_the_keras_file(tmp_path):
    h5py = pytest.importorskip("h5py")
    model, x, _ = _sequential("Normalization")
    path = model.save(tmp_path / "n.keras")
    with zipfile.ZipFile(path) as zf:
        zf.extract("model.weights.h5", tmp_path)
        spec = json.loads(zf.read("config.json"))["config"]["layers"][1]
    assert spec["config"]["axis"] == [-1] and spec["config"]["mean"] is None
    with h5py.File(tmp_path / "model.weights.h5") as f:
        group = f["layers/normalization/vars"]
        assert group.attrs["name"] == "normalization"
        np.testing.assert_allclose(group["0"][()], x.mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(group["1"][()], x.var(axis=0), rtol=1e-5)
        assert group["2"].dtype == np.int32 and group["2"].shape == () and group["2"][()] == len(x)


def test_a_model_nested_before_a_softmax(tmp_path):
    gn.set_random_seed(2)
    x, y = _data("floats")
    inner = gn.Sequential([gn.Input((6,)), L.Dense(16, activation="relu"), L.Dense(3)])
    inner.compile(optimizer="adam", loss=gn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    inner.fit(x, y, epochs=40, batch_size=16, verbose=0)
    probability_model = gn.Sequential([inner, L.Softmax()])
    p = probability_model.predict(x)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    z = inner.predict(x)
    np.testing.assert_allclose(p, np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(
        1, keepdims=True), rtol=1e-5, atol=1e-7)
    assert np.array_equal(p.argmax(axis=1), z.argmax(axis=1))
    # trained further through the Softmax: the loss is fused with it, as with Activation("softmax"), so
    # its cross-entropy is the inner model's from_logits one, and training goes on from there
    probability_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = probability_model.evaluate(x, y, verbose=0)
    assert probability_model._fused
    np.testing.assert_allclose([loss, accuracy], inner.evaluate(x, y, verbose=0), rtol=1e-6)
    history = probability_model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < loss
    loaded = gn.load_model(probability_model.save(tmp_path / "p.glassnet"))
    np.testing.assert_array_equal(loaded.predict(x), probability_model.predict(x))


def test_embedding_ids_are_checked_before_any_training():
    gn.set_random_seed(3)
    model = gn.Sequential([L.Embedding(10, 4), L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    ids = np.random.default_rng(0).integers(0, 10, size=(64, 5))
    labels = (ids == 3).any(axis=1).astype(int)
    model.fit(ids, labels, epochs=1, verbose=0)
    weights = model.get_weights()
    bad = ids.copy()
    bad[40, 3] = 10
    with pytest.raises(ValueError, match=r"input_dim=10, so ids must lie in \[0, 10\); x holds the id 10 at "
                                         r"sample 40, position 3"):
        model.fit(bad, labels, epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights())), "a batch trained first"
    with pytest.raises(ValueError, match="holds the id -1 at sample 0, position 0"):
        model.predict(np.full((2, 5), -1))
    with pytest.raises(ValueError, match="takes integer ids, but x holds 2.5 at sample 1"):
        model.evaluate(np.array([[1, 2, 3, 4, 5], [2.5, 1, 1, 1, 1]]), np.array([0, 1]), verbose=0)
    with pytest.raises(ValueError, match="x_val holds the id 99"):
        model.fit(ids, labels, validation_data=(np.full((3, 5), 99), labels[:3]), verbose=0)
    with pytest.raises(TypeError, match="takes integer ids"):
        L.Embedding(3, 2).forward(np.array([["a"]]))
    with pytest.raises(ValueError, match="mask_zero=True is not supported"):
        L.Embedding(10, 4, mask_zero=True)
    with pytest.raises(ValueError, match="more ids than float32 holds exactly"):
        L.Embedding(2**24 + 1, 2)
    assert L.Embedding(2**24 + 1, 2, dtype="float64").input_dim == 2**24 + 1    # allocated only when built


def test_float32_carries_every_id_below_2_to_the_24_exactly():
    ids = np.array([[0, 2**24 - 1, 2**24 - 2, 12_345_677]])
    assert np.array_equal(ids.astype(np.float32).astype(np.int64), ids)
    table = L.Embedding(2**24, 1, embeddings_initializer="zeros")
    table.build((None, 4))
    table.params["embeddings"][ids[0], 0] = [1, 2, 3, 4]
    out = table.forward(ids.astype(np.float32))
    assert out[0, :, 0].tolist() == [1, 2, 3, 4]


def test_summary_rows_for_the_new_layers(capsys):
    x, _ = _data("floats")
    norm = L.Normalization()
    norm.adapt(x)
    model = gn.Sequential([gn.Input((6,)), norm, L.Dense(6), L.PReLU(), L.Reshape((2, 3)), L.LayerNormalization(),
                           L.GlobalAveragePooling1D(), L.ReLU(max_value=6.0), L.LeakyReLU(), L.ELU(),
                           L.GaussianNoise(0.1), L.Identity(), L.Dense(2), L.Softmax()])
    model.summary()
    out = capsys.readouterr().out
    for row in ["normalization (Normalization)", "p_re_lu (PReLU)", "global_average_pooling1d (GlobalAveragePooling1D)",
                "re_lu (ReLU)", "leaky_re_lu (LeakyReLU)", "elu (ELU)", "layer_normalization (LayerNormalization)",
                "6 + 6 + 1 = 13 (0 trainable)", "(x - mean) / std, adapted on 96 samples", "2 x 6 = 12",
                "prelu, alpha zeros", "reshape to (2, 3)", "gamma ones, beta zeros", "7 x 6 = 42",
                "mean over 2 steps", "2 x 3 = 6", "relu, max 6", "leaky_relu, slope 0.3", "elu, alpha 1",
                "noise stddev 0.1 (training only)", "identity", "softmax over axis -1"]:
        assert row in out, row
    emb = gn.Sequential([gn.Input((5,)), L.Embedding(1000, 16)])
    emb.summary()
    out = capsys.readouterr().out
    assert "1,000 x 16 = 16,000" in out and "lookup, random_uniform(minval=-0.05, maxval=0.05)" in out


def test_gradient_check_and_trace_run_through_every_new_layer():
    gn.set_random_seed(4)
    x, y = _data("floats", n=6)
    norm = L.Normalization()
    norm.adapt(x)
    model = gn.Sequential([gn.Input((6,)), norm, L.Dense(6), L.PReLU(alpha_initializer="ones"), L.Reshape((2, 3)),
                           L.LayerNormalization(), L.GlobalAveragePooling1D(), L.ELU(), L.LeakyReLU(),
                           L.ReLU(max_value=3.0), L.GaussianNoise(0.1, seed=1), L.Identity(), L.Dense(3), L.Softmax()])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    result = gn.gradient_check(model, x, y)
    assert result.passed and {"p_re_lu/alpha", "layer_normalization/gamma", "layer_normalization/beta"} <= set(result)
    ids, labels = _data("ids", n=6)
    text = gn.Sequential([gn.Input((5,)), L.Embedding(10, 3), L.GlobalAveragePooling1D(),
                          L.Dense(3, activation="softmax")])
    text.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    result = gn.gradient_check(text, ids, labels)
    assert result.passed and "embedding/embeddings" in result
    trace = model.trace(x, y)                       # the real step, recorded layer by layer
    assert len(trace.layers) == len(model.layers) and trace.loss > 0


def test_layer_calls_give_arrays_with_keras_numpy():
    out = L.ReLU()(np.array([[-1.0, 2.0]]))
    assert isinstance(out, np.ndarray) and out.numpy().tolist() == [[0.0, 2.0]]
    assert type(out + 1) is np.ndarray and type(out.numpy()) is np.ndarray       # arithmetic gives plain arrays


def test_an_adapted_first_layer_gives_a_sequential_its_input_shape(capsys):
    x, _ = _data("floats")
    norm = L.Normalization()
    norm.adapt(x)
    model = gn.Sequential([norm, L.Dense(1)])
    assert model.built and model.input_shape == (None, 6)
    model.summary(details=False)                    # before any fit, as Keras scripts call it
    assert "(None, 1)" in capsys.readouterr().out
    flat = L.Normalization(input_shape=[1], axis=None)     # Keras's one-feature tutorial: 1-D data, axis=None
    flat.adapt(x[:, 2])
    assert flat.input_shape == (None, 1) and np.isclose(flat.mean.numpy().item(), x[:, 2].mean(), rtol=1e-6)
    late = L.Normalization(axis=None)
    late.adapt(x[:, 2])                             # built later, by the model that receives it
    model = gn.Sequential([gn.Input((1,)), late])
    np.testing.assert_allclose(model.predict(x[:, 2:3]), (x[:, 2:3] - x[:, 2].mean()) / x[:, 2].std(),
                               rtol=1e-4, atol=1e-5)


def test_integer_inputs_and_sequences_of_any_length():
    tensor = gn.Input(shape=(7,), dtype="int64")            # as Keras scripts declare ids
    assert tensor.dtype == gn.backend.floatx()
    with pytest.raises(ValueError, match="sequences of any length .* pad them to one length"):
        gn.Input(shape=(None,), dtype="int64")


def test_gaussian_noise_resumes_its_draws_from_a_glassnet_file(tmp_path):
    gn.set_random_seed(5)
    model, x, y = _sequential("GaussianNoise")
    _trained(model, x, y, epochs=2)
    loaded = gn.load_model(model.save(tmp_path / "noise.glassnet"))
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights()))


@pytest.mark.parametrize("kwargs", [{"axis": None}, {"axis": [1, 2]}, {"axis": -1, "invert": True},
                                    {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]}],
                         ids=["axis=None", "axis=[1,2]", "invert", "given"])
def test_normalization_variants_go_both_ways_through_keras(keras, kwargs, tmp_path):
    x = (np.random.default_rng(6).normal(size=(20, 2, 3)) * 3 + 1).astype(np.float32)
    norm = L.Normalization(**kwargs)
    if "mean" not in kwargs:
        norm.adapt(x)
    model = gn.Sequential([gn.Input((2, 3)), norm, L.Flatten(), L.Dense(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = keras.saving.load_model(model.save(tmp_path / "n.keras"))
        expected = model.predict(x)
        np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), expected, rtol=TOL, atol=TOL)
        theirs.save(tmp_path / "back.keras")
    back = gn.load_model(tmp_path / "back.keras")
    np.testing.assert_array_equal(back.predict(x), expected)
    assert back.layers[0].get_config() == {**norm.get_config(), "name": back.layers[0].name}




@pytest.mark.parametrize("build", [_sequential, _graph], ids=["Sequential", "graph"])
def test_a_keras_file_asking_for_a_huge_embedding_is_refused_before_allocating(build, tmp_path):
    pytest.importorskip("h5py")
    model, _, _ = build("GlobalAveragePooling1D")
    path = model.save(tmp_path / "e.keras")

    def huge(config):
        for spec in config["config"]["layers"]:
            if spec["class_name"] == "Embedding":
                spec["config"]["input_dim"] = 2**40
                spec["config"]["dtype"] = "float64"
            elif spec["class_name"] != "InputLayer":
                spec["config"]["dtype"] = "float64"
    with pytest.raises(gn.saving.ModelFileError, match="more than .* weights, far more than"):
        gn.load_model(rewrite_keras_config(path, tmp_path / "huge.keras", huge))

    def masked(config):
        next(s for s in config["config"]["layers"] if s["class_name"] == "Embedding")["config"]["mask_zero"] = True
    with pytest.raises(gn.saving.ModelFileError, match="mask_zero=True is not supported"):
        gn.load_model(rewrite_keras_config(path, tmp_path / "masked.keras", masked))
