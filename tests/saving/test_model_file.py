"""save_model / load_model / read_config: the file, and round trips of every layer and optimizer
(a resumed run repeats the original bit for bit)."""
import hashlib
import io
import json
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import saving
from glassnet.saving import ModelFileError, load_model
from saving.saving_helpers import _data, _members, _mlp, _same_optimizer_state, _same_weights, _trained

pytestmark = pytest.mark.usefixtures("isolated_random_state")


# ----------------------------------------------------------------------
# the file
# ----------------------------------------------------------------------
def test_save_writes_one_zip_with_manifest_config_weights_and_optimizer_state(tmp_path):
    model, path, _ = _trained(tmp_path)
    assert path == tmp_path / "model.glassnet" and os.listdir(tmp_path) == ["model.glassnet"]
    members = _members(path)
    assert set(members) == {"manifest.json", "config.json", "weights.npz", "optimizer.npz"}
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "glassnet-model" and manifest["format_version"] == saving.FORMAT_VERSION
    for name, entry in manifest["members"].items():
        assert entry == {"sha256": hashlib.sha256(members[name]).hexdigest(), "size": len(members[name])}
    config = json.loads(members["config.json"])
    assert config["format"] == "glassnet-model" and config["glassnet_version"] == gn.__version__
    assert config["model"] == {"class_name": "Sequential", "config": model.get_config()}
    assert config["compile"]["loss"] == {"class_name": "SparseCategoricalCrossentropy",
                                         "config": {"from_logits": False}}
    assert config["compile"]["metrics"] == ["accuracy"]
    assert config["compile"]["optimizer"]["class_name"] == "Adam"
    assert config["optimizer_state"]["layout"] == "flat" and config["optimizer_state"]["iterations"] == 6
    names = [w["name"] for w in config["weights"]]
    assert names == ["dense/W", "dense/b", "batch_normalization/gamma", "batch_normalization/beta",
                     "batch_normalization/moving_mean", "batch_normalization/moving_variance",
                     "dense_1/W", "dense_1/b"]
    with np.load(io.BytesIO(members["weights.npz"]), allow_pickle=False) as npz:     # a plain .npz inside
        assert npz.files == names
        for name, w in zip(names, model.get_weights()):
            assert np.array_equal(npz[name], w)


def test_suffix_is_added_only_when_missing_and_the_same_model_gives_the_same_bytes(tmp_path):
    gn.set_random_seed(0)
    model = _mlp()
    assert model.save(tmp_path / "a") == tmp_path / "a.glassnet"
    assert model.save(str(tmp_path / "b.v1")) == tmp_path / "b.v1"
    assert (tmp_path / "a.glassnet").read_bytes() == (tmp_path / "b.v1").read_bytes()
    assert load_model(tmp_path / "a").get_config() == model.get_config()    # load finds a.glassnet too
    with pytest.raises(ValueError, match="save_weights"):
        model.save(tmp_path / "c.npz")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "a.glassnet", overwrite=False)
    with pytest.raises(FileNotFoundError, match="no-such-dir"):
        model.save(tmp_path / "no-such-dir" / "m.glassnet")


def test_keras_style_entry_points(tmp_path):
    model, path, (x, _) = _trained(tmp_path)
    loaded = gn.models.load_model(path)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert saving.read_config(path)["model"]["config"] == model.get_config()


# ----------------------------------------------------------------------
# round trips: every layer
# ----------------------------------------------------------------------
def _check_roundtrip(model, tmp_path, x):
    path = model.save(tmp_path / "m.glassnet")
    loaded = load_model(path)
    assert loaded.get_config() == model.get_config()
    assert [type(l) for l in loaded.layers] == [type(l) for l in model.layers]
    assert _same_weights(loaded, model)
    assert loaded.predict(x).dtype == model.predict(x).dtype
    assert np.array_equal(loaded.predict(x), model.predict(x))
    return loaded


@pytest.mark.parametrize("activation", list(gn.activations.ACTIVATIONS))
def test_dense_with_each_activation(tmp_path, activation):
    gn.set_random_seed(2)
    model = gn.Sequential([gn.layers.Dense(5, activation=activation, input_shape=(4,)),
                           gn.layers.Dense(2)])
    loaded = _check_roundtrip(model, tmp_path, _data(features=4)[0])
    assert loaded.layers[0].activation == activation


def test_dense_options_regularizers_and_seeded_initializers(tmp_path):
    model = gn.Sequential([
        gn.layers.Dense(5, use_bias=False, input_shape=(4,), name="no_bias",
                        kernel_initializer=gn.initializers.HeNormal(seed=3),
                        kernel_regularizer=gn.regularizers.L2(1e-3)),
        gn.layers.Dense(4, activation="tanh", kernel_initializer=gn.initializers.RandomNormal(stddev=0.01, seed=4),
                        bias_initializer=gn.initializers.Constant(0.5),
                        kernel_regularizer=gn.regularizers.L1L2(l1=1e-4, l2=2e-4),
                        bias_regularizer=gn.regularizers.L1(1e-3)),
        gn.layers.Dense(3, activation="softmax", kernel_initializer="glorot_normal", trainable=False),
    ])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    loaded = _check_roundtrip(model, tmp_path, _data(features=4)[0])
    assert loaded.layers[0].name == "no_bias" and "b" not in loaded.layers[0].params
    assert loaded.layers[0].kernel_initializer.seed == 3
    assert repr(loaded.layers[1].kernel_regularizer) == repr(model.layers[1].kernel_regularizer)
    assert not loaded.layers[2].trainable
    x = _data(features=4)[0]
    y = np.eye(3)[np.arange(len(x)) % 3]
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)   # the penalties count too


def test_activation_flatten_input_dropout_and_batchnorm_with_moving_stats(tmp_path):
    gn.set_random_seed(5)
    model = gn.Sequential([
        gn.Input(shape=(28, 28)),
        gn.layers.Flatten(),
        gn.layers.Dense(6),
        gn.layers.BatchNormalization(momentum=0.5, epsilon=1e-2),
        gn.layers.Activation("elu"),
        gn.layers.Dropout(0.3, seed=7),
        gn.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(32, 28, 28)).astype(np.float32)
    y = np.arange(32) % 3
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    bn = model.layers[2]
    assert not np.allclose(bn.state["moving_mean"], 0) and not np.allclose(bn.state["moving_variance"], 1)
    loaded = _check_roundtrip(model, tmp_path, x)
    assert loaded.input_shape == (None, 28, 28)
    assert np.array_equal(loaded.layers[2].state["moving_mean"], bn.state["moving_mean"])
    assert loaded.layers[4].seed == 7 and loaded.layers[2].momentum == 0.5


def test_float64_models_stay_float64(tmp_path):
    gn.set_random_seed(6)
    model = _mlp(dtype="float64")
    x, y = _data(dtype=np.float64)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    loaded = _check_roundtrip(model, tmp_path, x)
    assert loaded.dtype == "float64" and all(w.dtype == np.float64 for w in loaded.get_weights())
    assert all(a.dtype == np.float64 for s in loaded.optimizer.get_state()["slots"] for a in s.values())


def test_uncompiled_and_unbuilt_models(tmp_path):
    gn.set_random_seed(7)
    model = gn.Sequential([gn.layers.Dense(3, input_shape=(2,))])
    loaded = load_model(model.save(tmp_path / "plain"))
    assert not loaded.compiled and loaded.optimizer is None and _same_weights(loaded, model)
    with pytest.raises(ValueError, match="compiled"):
        loaded.fit(np.zeros((2, 2)), np.zeros((2, 3)), verbose=0)

    unbuilt = gn.Sequential([gn.layers.Dense(4, activation="relu"), gn.layers.Dense(1)], name="later")
    unbuilt.compile(optimizer="sgd", loss="mse")
    loaded = load_model(unbuilt.save(tmp_path / "unbuilt"))
    assert not loaded.built and loaded.compiled and loaded.name == "later"
    loaded.fit(np.ones((4, 5)), np.ones((4, 1)), verbose=0)          # builds from the data, as the original would
    assert loaded.count_params() == 5 * 4 + 4 + 4 + 1

    compiled, path, (x, _) = _trained(tmp_path)
    bare = load_model(path, compile=False)
    assert not bare.compiled and np.array_equal(bare.predict(x), compiled.predict(x))


def test_metrics_and_custom_objects(tmp_path):
    def top_class(y_true, y_pred):
        return (np.argmax(y_pred, axis=-1) == 0).astype(float)

    gn.set_random_seed(8)
    model = _mlp(optimizer=gn.optimizers.RMSprop(0.01))
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["acc", gn.metrics.sparse_categorical_accuracy, top_class])
    x, y = _data()
    path = model.save(tmp_path / "m.glassnet")
    with pytest.raises(ModelFileError, match="top_class.*custom_objects"):
        load_model(path)
    loaded = load_model(path, custom_objects={"top_class": top_class})
    assert loaded.metrics_names == model.metrics_names == ["loss", "acc", "sparse_categorical_accuracy",
                                                           "top_class"]
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_settings_a_file_cannot_hold_are_refused_before_touching_the_disk(tmp_path):
    gn.set_random_seed(9)
    model = _mlp(optimizer=gn.optimizers.SGD(learning_rate=lambda: 0.01))
    target = tmp_path / "m.glassnet"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match=r"learning_rate is a function.*save_weights"):
        model.save(target)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.glassnet"]


# ----------------------------------------------------------------------
# round trips: every optimizer, and resumed training bit for bit
# ----------------------------------------------------------------------
OPTIMIZERS = {
    "sgd": lambda: gn.optimizers.SGD(0.05),
    "sgd_momentum": lambda: gn.optimizers.SGD(0.05, momentum=0.9),
    "sgd_nesterov": lambda: gn.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adagrad": lambda: gn.optimizers.Adagrad(0.05),
    "rmsprop_centered_momentum": lambda: gn.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adam_amsgrad": lambda: gn.optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: gn.optimizers.AdamW(0.01, weight_decay=0.05),
    "adam_exponential_decay": lambda: gn.optimizers.Adam(
        gn.optimizers.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.5)),
    "sgd_piecewise": lambda: gn.optimizers.SGD(
        gn.optimizers.schedules.PiecewiseConstantDecay([2, 5, 8], [0.1, 0.05, 0.02, 0.01]), momentum=0.9),
    "rmsprop_cosine": lambda: gn.optimizers.RMSprop(gn.optimizers.CosineDecay(0.01, decay_steps=20)),
    "adagrad_step_decay": lambda: gn.optimizers.Adagrad(gn.optimizers.StepDecay(0.05, decay_steps=4)),
    "adam_clipnorm": lambda: gn.optimizers.Adam(0.01, clipnorm=0.1),
    "sgd_momentum_clipnorm": lambda: gn.optimizers.SGD(0.05, momentum=0.9, clipnorm=0.1),
    "adamw_clipvalue": lambda: gn.optimizers.AdamW(0.01, clipvalue=0.01),
    "rmsprop_global_clipnorm": lambda: gn.optimizers.RMSprop(0.01, global_clipnorm=0.2),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_resumed_training_repeats_the_original_bit_for_bit(tmp_path, name):
    gn.set_random_seed(10)
    original = _mlp(optimizer=OPTIMIZERS[name]())
    x, y = _data()
    original.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_split=0.25)
    path = original.save(tmp_path / "m.glassnet")
    loaded = load_model(path)

    assert np.array_equal(loaded.predict(x), original.predict(x))
    assert type(loaded.optimizer) is type(original.optimizer)
    assert loaded.optimizer.get_config() == original.optimizer.get_config()
    assert _same_optimizer_state(loaded, original)
    layout = saving.read_config(path)["optimizer_state"]["layout"]
    assert layout == ("per_variable" if original.optimizer.clipnorm else "flat")
    assert loaded.optimizer.learning_rate == original.optimizer.learning_rate      # schedules at the same step

    gn.set_random_seed(11)
    h1 = original.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_split=0.25)
    gn.set_random_seed(11)
    h2 = loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_split=0.25)
    assert h1.history == h2.history
    assert _same_weights(loaded, original)                  # Dense, BN moving stats: bit for bit
    assert _same_optimizer_state(loaded, original)


def test_dropout_masks_resume_where_they_stopped(tmp_path):
    """A Dropout without a seed keeps drawing its own masks; its generator's state is in the file."""
    gn.set_random_seed(12)
    original = _mlp(optimizer="sgd")
    x, y = _data()
    original.fit(x, y, epochs=1, batch_size=16, verbose=0)
    loaded = load_model(original.save(tmp_path / "m.glassnet"))
    a = original.layers[2].forward(np.ones((4, 8), np.float32), training=True)
    b = loaded.layers[2].forward(np.ones((4, 8), np.float32), training=True)
    assert np.array_equal(a, b)


def test_a_nested_models_dropout_resumes_its_masks_too(tmp_path, isolated_random_state):
    """The Dropout inside a model used as a layer keeps its generator's state under "inner/dropout"."""
    gn.set_random_seed(14)
    inner = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(4,)), gn.layers.Dropout(0.5)],
                          name="inner")
    outer = gn.Sequential([inner, gn.layers.Dense(2, activation="softmax")])
    outer.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype(np.float32), rng.integers(0, 2, 32)
    outer.fit(x, y, epochs=1, batch_size=8, verbose=0)
    loaded = load_model(outer.save(tmp_path / "nested.glassnet"))
    for model in (outer, loaded):                  # the same masks: the same next training step
        model.train_on_batch(x, y)
    for a, b in zip(outer.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    drop = loaded.layers[0].layers[1]
    assert np.array_equal(drop.rng.random(3), inner.layers[1].rng.random(3))


def test_loading_draws_nothing_from_the_global_generator(tmp_path):
    _, path, _ = _trained(tmp_path)
    gn.set_random_seed(13)
    expected = gn.backend.global_rng().random(3)
    gn.set_random_seed(13)
    load_model(path)
    assert np.array_equal(gn.backend.global_rng().random(3), expected)


def test_state_helpers_check_before_changing_anything():
    opt = gn.optimizers.Adam()
    w = [np.zeros(3, np.float32)]
    opt.apply([np.ones(3, np.float32)], w)
    state = opt.get_state()
    other = gn.optimizers.Adam()
    with pytest.raises(ValueError, match="shape"):
        other.set_state(state, [np.zeros(4, np.float32)])
    with pytest.raises(ValueError, match="slots"):
        gn.optimizers.SGD(momentum=0.9).set_state(state, w)
    assert other.iterations == 0 and other.slots == []
    other.set_state(state, w)
    assert other.iterations == 1 and np.array_equal(other.slots[0]["m"], opt.slots[0]["m"])
    state["slots"][0]["m"][:] = 5                     # get_state hands out copies
    assert not np.array_equal(opt.slots[0]["m"], state["slots"][0]["m"])


def test_a_legacy_h5_name_gets_a_glassnet_file_and_a_warning_that_says_so(tmp_path):
    """Keras tutorials still save to 'my_model.h5': glassnet writes its own format there (and reads it
    back) but says that Keras cannot open it, instead of quietly writing a file under Keras's name."""
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))])
    with pytest.warns(UserWarning, match="Keras cannot read it.*'.keras' path"):
        path = model.save(tmp_path / "my_model.h5")
    assert path.name == "my_model.h5"
    np.testing.assert_array_equal(load_model(path).get_weights()[0], model.get_weights()[0])
