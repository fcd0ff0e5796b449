"""Keras 3 `.keras` and `.weights.h5` files (glassnet.saving.keras_file, keras_weights, keras_compile).

The reference is real Keras 3 (3.15.1, on the torch backend): glassnet writes a file, Keras loads it and
predicts the same numbers; Keras builds, trains and saves a model, glassnet loads it and predicts the
same numbers. The file layout itself is checked with h5py and zipfile directly. Hostile files (a huge
declared member, an unknown layer class, wrong shapes, a path out of the archive, a string dataset)
each give a clear error. Keras is imported once for the module (it takes several seconds).
"""
import io
import json
import os
import struct
import sys
import warnings
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError, keras_compile, keras_weights

h5py = pytest.importorskip("h5py")
pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]   # Keras on torch
TOL = 1e-6       # float32 results of two libraries summing in different orders: |a - b| <= 1e-6 + 1e-6 |b|
ACTIVATIONS = ["relu", "sigmoid", "tanh", "elu", "leaky_relu", "swish", "linear", "softmax"]


def _images(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, 28, 28)) * 255).astype(np.float32), rng.integers(0, 3, n)


def _glassnet_model(activations=("elu",)):
    """Every layer glassnet writes: Rescaling, Flatten (28x28), Dense, BatchNormalization, Dropout, Activation."""
    layers = [gn.layers.Input((28, 28)), gn.layers.Rescaling(1 / 127.5, offset=-1.0), gn.layers.Flatten(),
              gn.layers.Dense(12, activation="relu"), gn.layers.BatchNormalization(), gn.layers.Dropout(0.3)]
    layers += [gn.layers.Dense(6, activation=a) for a in activations]
    layers += [gn.layers.Dense(3), gn.layers.Activation("softmax")]
    model = gn.Sequential(layers)
    model.compile(optimizer=gn.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _keras_model(keras, activations=("elu",)):
    layers = [keras.Input((28, 28)), keras.layers.Rescaling(1 / 127.5, offset=-1.0), keras.layers.Flatten(),
              keras.layers.Dense(12, activation="relu"), keras.layers.BatchNormalization(),
              keras.layers.Dropout(0.3)]
    layers += [keras.layers.Dense(6, activation="silu" if a == "swish" else a) for a in activations]
    layers += [keras.layers.Dense(3), keras.layers.Activation("softmax")]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _keras_predict(model, x):
    return np.asarray(model.predict(x, verbose=0))


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # Keras: "Skipping variable loading for optimizer" (no slots saved)
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------- glassnet -> Keras
def test_glassnet_keras_file_loads_in_keras_and_predicts_the_same(keras, tmp_path):
    gn.set_random_seed(3)
    x, y = _images()
    model = _glassnet_model(ACTIVATIONS)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    bn = model.layers[3]
    assert np.abs(bn.state["moving_mean"]).max() > 1e-3 and np.abs(bn.state["moving_variance"] - 1).max() > 1e-3
    path = model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        assert "manifest.json" not in zf.namelist()              # no longer a glassnet zip under Keras's name
        config = json.loads(zf.read("config.json"))
        h5 = h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")
    assert config["class_name"] == "Sequential"
    assert [s["class_name"] for s in config["config"]["layers"]][:4] == ["InputLayer", "Rescaling", "Flatten", "Dense"]
    with h5:
        np.testing.assert_array_equal(h5["layers/dense/vars/0"][()], model.layers[2].params["W"])
        np.testing.assert_array_equal(h5["layers/batch_normalization/vars/2"][()], bn.state["moving_mean"])
    loaded = _quiet(keras.saving.load_model, path)
    np.testing.assert_allclose(_keras_predict(loaded, x), model.predict(x), rtol=TOL, atol=TOL)
    assert type(loaded.optimizer).__name__ == "Adam"
    assert float(loaded.optimizer.learning_rate) == pytest.approx(0.02)
    assert loaded.loss == "sparse_categorical_crossentropy"
    _quiet(loaded.fit, x, y, epochs=1, verbose=0)                  # Keras can keep training it


def test_glassnet_sgd_and_from_logits_go_to_keras(keras, tmp_path):
    gn.set_random_seed(4)
    x, y = _images(8)
    model = gn.Sequential([gn.layers.Flatten(input_shape=(28, 28)), gn.layers.Dense(3, name="logits")])
    model.compile(optimizer=gn.optimizers.SGD(0.05, momentum=0.9),
                  loss=gn.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x / 255, y, epochs=1, verbose=0)
    loaded = _quiet(keras.saving.load_model, model.save(tmp_path / "m.keras"))
    np.testing.assert_allclose(_keras_predict(loaded, x / 255), model.predict(x / 255), rtol=TOL, atol=TOL)
    assert type(loaded.optimizer).__name__ == "SGD" and float(loaded.optimizer.momentum) == pytest.approx(0.9)
    assert loaded.loss.from_logits and loaded.layers[-1].name == "logits"     # its weights sit in layers/dense


# ---------------------------------------------------------------------------- Keras -> glassnet
def test_keras_trained_file_loads_in_glassnet_and_predicts_the_same(keras, tmp_path):
    keras.utils.set_random_seed(5)
    x, y = _images(seed=5)
    kmodel = _keras_model(keras, ACTIVATIONS)
    kmodel.fit(x, y, epochs=3, batch_size=8, verbose=0)
    kbn = kmodel.layers[3]
    assert np.abs(np.asarray(kbn.moving_mean.numpy())).max() > 1e-3
    kmodel.save(tmp_path / "k.keras")
    model = gn.load_model(tmp_path / "k.keras")
    assert [type(l).__name__ for l in model.layers][:5] == ["Rescaling", "Flatten", "Dense", "BatchNormalization",
                                                           "Dropout"]
    assert [l.activation for l in model.layers[5:5 + len(ACTIVATIONS)]] == ACTIVATIONS
    np.testing.assert_allclose(model.predict(x), _keras_predict(kmodel, x), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(model.layers[3].state["moving_variance"], kbn.moving_variance.numpy(), atol=0)
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    assert model.loss.name == "sparse_categorical_crossentropy"
    history = model.fit(x, y, epochs=1, verbose=0)
    assert "accuracy" in history.history


def test_keras_compile_settings_that_do_not_map_load_uncompiled_with_a_warning(keras, tmp_path):
    kmodel = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    kmodel.compile(optimizer=keras.optimizers.Lion(0.001), loss="mse")
    kmodel.save(tmp_path / "lion.keras")
    with pytest.warns(keras_compile.KerasCompileWarning, match="Lion"):
        model = gn.load_model(tmp_path / "lion.keras")
    assert not model.compiled
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), _keras_predict(kmodel, x), rtol=TOL, atol=TOL)
    assert not gn.load_model(tmp_path / "lion.keras", compile=False).compiled


def _max_gap(a, b):
    return max(float(np.abs(u - w).max()) for u, w in zip(a.get_weights(), b.get_weights()))


def test_adam_state_goes_both_ways_and_training_continues_alike(keras, tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 5)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 32)
    gn.set_random_seed(10)
    model = gn.Sequential([gn.layers.Dense(6, activation="tanh", input_shape=(5,)),
                           gn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)              # no "Skipping variable loading for optimizer"
        kmodel = keras.saving.load_model(model.save(tmp_path / "g.keras"))
    assert int(kmodel.optimizer.iterations) == 3
    fresh = gn.load_model(tmp_path / "g.keras")
    fresh.compile(optimizer=gn.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")   # moments reset
    for m in (model, kmodel, fresh):
        m.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False)
    assert _max_gap(model, kmodel) < 1e-5 < 1e-3 < _max_gap(model, fresh)

    kmodel.save(tmp_path / "k.keras")
    loaded = gn.load_model(tmp_path / "k.keras")
    assert loaded.optimizer.iterations == 5
    for m in (loaded, kmodel):
        m.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False)
    assert _max_gap(loaded, kmodel) < 1e-5


def test_l1_l2_regularizers_go_both_ways_and_constraints_are_dropped_with_a_warning(keras, tmp_path):
    gn.set_random_seed(11)
    model = gn.Sequential([gn.layers.Dense(3, input_shape=(4,), kernel_regularizer=gn.regularizers.L1L2(0.01, 0.02),
                                           bias_regularizer=gn.regularizers.L2(0.03))])
    loaded = _quiet(keras.saving.load_model, model.save(tmp_path / "g.keras"))
    reg = loaded.layers[0].kernel_regularizer
    assert type(reg).__name__ == "L1L2" and (float(reg.l1), float(reg.l2)) == pytest.approx((0.01, 0.02))
    assert float(loaded.layers[0].bias_regularizer.l2) == pytest.approx(0.03)

    kmodel = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        3, kernel_regularizer=keras.regularizers.L1(0.04), kernel_constraint=keras.constraints.NonNeg())])
    kmodel.save(tmp_path / "k.keras")
    with pytest.warns(UserWarning, match="no kernel_constraint"):
        back = gn.load_model(tmp_path / "k.keras")
    assert type(back.layers[0].kernel_regularizer).__name__ == "L1" and back.layers[0].kernel_regularizer.l1 == pytest.approx(0.04)


# ---------------------------------------------------------------------------- .weights.h5 both ways
def test_weights_h5_both_ways(keras, tmp_path):
    gn.set_random_seed(6)
    keras.utils.set_random_seed(6)
    x, y = _images(seed=6)
    model, kmodel = _glassnet_model(), _keras_model(keras)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save_weights(tmp_path / "g.weights.h5")
    _quiet(kmodel.load_weights, tmp_path / "g.weights.h5")
    np.testing.assert_allclose(_keras_predict(kmodel, x), model.predict(x), rtol=TOL, atol=TOL)

    kmodel.fit(x, y, epochs=2, batch_size=8, verbose=0)
    kmodel.save_weights(tmp_path / "k.weights.h5")
    model.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(model.predict(x), _keras_predict(kmodel, x), rtol=TOL, atol=TOL)
    kmodel.save(tmp_path / "k.keras")                 # load_weights also reads a whole .keras file's weights
    other = _glassnet_model()
    other.load_weights(tmp_path / "k.keras")
    np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=0, atol=0)


def test_model_checkpoint_writes_keras_files(keras, tmp_path):
    gn.set_random_seed(7)
    x, y = _images(seed=7)
    model = _glassnet_model()
    whole = gn.callbacks.ModelCheckpoint(tmp_path / "ckpt" / "m-{epoch:02d}.keras")
    weights = gn.callbacks.ModelCheckpoint(tmp_path / "ckpt" / "w-{epoch:02d}.weights.h5", save_weights_only=True)
    model.fit(x, y, epochs=2, batch_size=8, callbacks=[whole, weights], verbose=0)
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["m-01.keras", "m-02.keras", "w-01.weights.h5",
                                                     "w-02.weights.h5"]
    loaded = _quiet(keras.saving.load_model, tmp_path / "ckpt" / "m-02.keras")
    np.testing.assert_allclose(_keras_predict(loaded, x), model.predict(x), rtol=TOL, atol=TOL)
    _quiet(loaded.load_weights, tmp_path / "ckpt" / "w-02.weights.h5")
    np.testing.assert_allclose(_keras_predict(loaded, x), model.predict(x), rtol=TOL, atol=TOL)


# ---------------------------------------------------------------------------- glassnet alone (h5py only)
def _saved(tmp_path, name="m.keras"):
    gn.set_random_seed(8)
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(5,)), gn.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model, model.save(tmp_path / name)


def _rewrite(path, change):
    """Rewrite the .keras archive at `path` with change(members) applied to its {name: bytes}."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    change(members)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_round_trip_in_glassnet_and_other_suffixes_keep_the_glassnet_format(tmp_path):
    model, path = _saved(tmp_path)
    x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    loaded = gn.load_model(path)
    assert np.array_equal(loaded.predict(x), model.predict(x)) and loaded.compiled
    for name in ("m.glassnet", "m.v2"):
        with zipfile.ZipFile(model.save(tmp_path / name)) as zf:
            assert "manifest.json" in zf.namelist()


def test_a_glassnet_archive_under_a_keras_name_still_loads(tmp_path):
    model, _ = _saved(tmp_path)
    old = tmp_path / "old.keras"                         # what glassnet wrote for "x.keras" before Keras files
    model.save(tmp_path / "m.glassnet").rename(old)
    x = np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32)
    assert np.array_equal(gn.load_model(old).predict(x), model.predict(x))
    other = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(5,)), gn.layers.Dense(2)])
    other.load_weights(old)
    assert np.array_equal(other.predict(x), model.predict(x))


def test_what_keras_files_cannot_hold_is_refused_before_writing(tmp_path):
    model = gn.Sequential([gn.layers.Dense(1, activation="step", input_shape=(2,))])
    with pytest.raises(ValueError, match="'step'.*Keras 3"):
        model.save(tmp_path / "s.keras")
    assert not (tmp_path / "s.keras").exists()
    unbuilt = gn.Sequential([gn.layers.Dense(1)])
    with pytest.raises(ValueError, match="no weights yet"):
        unbuilt.save(tmp_path / "u.keras")


def test_compile_settings_keras_cannot_read_are_left_out_with_a_warning(tmp_path):
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=gn.optimizers.SGD(lambda: 0.1), loss="mse")     # Keras's schedules do map
    with pytest.warns(keras_compile.KerasCompileWarning, match="a function or a schedule of your own"):
        path = model.save(tmp_path / "s.keras")
    with zipfile.ZipFile(path) as zf:
        assert "compile_config" not in json.loads(zf.read("config.json"))
    assert not gn.load_model(path).compiled


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    model, _ = _saved(tmp_path)
    monkeypatch.setitem(sys.modules, "h5py", None)
    for call in (lambda: model.save(tmp_path / "x.keras"), lambda: model.save_weights(tmp_path / "x.weights.h5"),
                 lambda: gn.load_model(tmp_path / "m.keras")):
        with pytest.raises(ImportError, match=r'pip install "glassnet\[keras\]"'):
            call()
    assert not (tmp_path / "x.keras").exists()


def test_huge_declared_member_is_refused_before_reading(tmp_path):
    _, path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")                                # the central directory's first entry
    while True:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + name_len]) == b"config.json":
            struct.pack_into("<I", data, at + 24, 0xFFFFFFF0)     # declared uncompressed size: ~4 GiB
            break
        at = data.index(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="config.json declares 4294967280 bytes"):
        gn.load_model(path)


def test_a_compressed_dataset_declaring_far_more_than_the_file_holds_is_refused(tmp_path):
    model = gn.Sequential([gn.layers.Dense(3000, input_shape=(3000,), use_bias=False)])
    bomb = tmp_path / "bomb.weights.h5"
    with h5py.File(bomb, "w") as f:                     # 36 MB of zeros, stored gzip-compressed in a few KB
        f.create_group("layers/dense/vars").create_dataset("0", shape=(3000, 3000), dtype="f4",
                                                            compression="gzip", fillvalue=0.0)
    with pytest.raises(ModelFileError, match="declares more than .* bytes of weights"):
        model.load_weights(bomb)


def test_an_absurd_shape_in_the_config_is_refused_before_anything_is_allocated(tmp_path):
    _, path = _saved(tmp_path)

    def huge(members):
        config = json.loads(members["config.json"])
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 10**9]
        members["config.json"] = json.dumps(config).encode()

    _rewrite(path, huge)
    with pytest.raises(ModelFileError, match="far more than model.weights.h5 holds"):
        gn.load_model(path)


def test_unknown_layer_class_is_named(tmp_path):
    _, path = _saved(tmp_path)

    def conv(members):
        config = json.loads(members["config.json"])
        config["config"]["layers"][1]["class_name"] = "Conv3D"
        members["config.json"] = json.dumps(config).encode()

    _rewrite(path, conv)
    with pytest.raises(ModelFileError, match="Keras layer class 'Conv3D'.*glassnet does not have"):
        gn.load_model(path)


def test_weights_of_the_wrong_shape_are_refused_and_nothing_changes(tmp_path):
    model, path = _saved(tmp_path)
    gn.set_random_seed(9)
    wrong = gn.Sequential([gn.layers.Dense(3, activation="tanh", input_shape=(5,)), gn.layers.Dense(2)])
    wrong.save_weights(tmp_path / "wrong.weights.h5")
    before = model.get_weights()
    with pytest.raises(ModelFileError, match=r"weight 'W' has shape \(5, 3\), the model needs \(5, 4\)"):
        model.load_weights(tmp_path / "wrong.weights.h5")
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    def swap(members):
        members["model.weights.h5"] = (tmp_path / "wrong.weights.h5").read_bytes()

    _rewrite(path, swap)
    with pytest.raises(ModelFileError, match="has shape"):
        gn.load_model(path)


def test_path_traversal_member_is_refused(tmp_path):
    _, path = _saved(tmp_path)
    _rewrite(path, lambda members: members.update({"../../evil.txt": b"x"}))
    with pytest.raises(ModelFileError, match=r"'\.\./\.\./evil\.txt', a path out of the archive"):
        gn.load_model(path)


def test_string_datasets_and_links_are_refused(tmp_path):
    model, _ = _saved(tmp_path)
    bad = tmp_path / "bad.weights.h5"
    with h5py.File(bad, "w") as f:
        group = f.create_group("layers/dense/vars")
        group.create_dataset("0", data=np.array(["a", "b"], dtype=object), dtype=h5py.string_dtype())
        f.create_group("layers/dense_1/vars")["0"] = h5py.ExternalLink("other.h5", "/x")
    with pytest.raises(ModelFileError, match="only plain numbers are read|links are refused"):
        model.load_weights(bad)
    with h5py.File(bad, "w") as f:
        f.create_group("somewhere_else")
    with pytest.raises(ModelFileError, match="not in Keras 3's weights layout"):
        model.load_weights(bad)
    assert issubclass(keras_weights.H5pyMissingError, ImportError)


def test_graph_models_are_refused_before_anything_is_written(tmp_path):
    """A graph model Keras cannot hold (a glassnet-only activation) is refused before a file appears;
    a Sequential's weights file does not fit a graph model, and no weight changes."""
    pytest.importorskip("h5py")
    x = gn.Input(shape=(3,))
    a, b = gn.layers.Dense(2, activation="step")(x), gn.layers.Dense(2)(x)
    model = gn.Model(x, gn.layers.Dense(1)(gn.layers.Concatenate()([a, b])))
    with pytest.raises(ValueError, match=r"activation 'step', which Keras 3 does not have.*\.glassnet"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    with pytest.raises(TypeError, match="expected a glassnet"):
        keras_weights.save_weights_h5(object(), tmp_path / "o.weights.h5")
    assert not (tmp_path / "o.weights.h5").exists()
    seq = gn.Sequential([gn.layers.Dense(1, input_shape=(3,))])
    seq.save_weights(tmp_path / "s.weights.h5")
    before = model.get_weights()
    with pytest.raises(ModelFileError, match="no weights for the layers"):
        model.load_weights(tmp_path / "s.weights.h5")
    assert all(np.array_equal(u, v) for u, v in zip(before, model.get_weights()))
