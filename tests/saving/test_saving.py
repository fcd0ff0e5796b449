"""Model files: glassnet.saving, model.save / save_weights / load_weights, ModelCheckpoint.

A saved model must come back with the same architecture, weights (bit for bit), compile
settings and optimizer state, so it predicts identically and a resumed run repeats the
original run exactly. Broken, foreign, tampered or newer files raise a clear error.
"""
import hashlib
import io
import json
import os
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet import saving
from glassnet.saving import ModelFileError, load_model

pytestmark = pytest.mark.usefixtures("isolated_random_state")


# ----------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------
def _data(n=48, features=6, classes=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(dtype)
    y = (np.argmax(x[:, :classes], axis=1)).astype(int)
    return x, y


def _mlp(optimizer="adam", dtype=None, **compile_kw):
    """A small model with every kind of weight: Dense, BatchNormalization (moving stats), Dropout."""
    model = gn.Sequential([
        gn.layers.Dense(8, activation="relu", input_shape=(6,), dtype=dtype),
        gn.layers.BatchNormalization(dtype=dtype),
        gn.layers.Dropout(0.25, dtype=dtype),
        gn.layers.Dense(3, activation="softmax", dtype=dtype),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **compile_kw)
    return model


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(wa, wb))


def _same_optimizer_state(a, b):
    sa, sb = a.optimizer.get_state(), b.optimizer.get_state()
    return sa["iterations"] == sb["iterations"] and len(sa["slots"]) == len(sb["slots"]) and all(
        da.keys() == db.keys() and all(np.array_equal(da[k], db[k]) for k in da)
        for da, db in zip(sa["slots"], sb["slots"]))


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rewrite(path, replace=None, drop=(), add=None, rehash=False):
    """Rewrite a .glassnet archive with some members replaced, dropped or added.

    rehash=True also updates manifest.json's digests, as someone who knows the format would.
    """
    members = _members(path)
    for name in drop:
        members.pop(name)
    members.update(replace or {})
    members.update(add or {})
    if rehash:
        manifest = json.loads(members["manifest.json"])
        manifest["members"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                               for n, d in members.items() if n != "manifest.json"}
        members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _trained(tmp_path, model=None, epochs=2):
    gn.set_random_seed(1)
    model = model or _mlp()
    x, y = _data()
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    path = model.save(tmp_path / "model.glassnet")
    return model, path, (x, y)


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


# ----------------------------------------------------------------------
# atomic writes
# ----------------------------------------------------------------------
@pytest.mark.parametrize("fail_at", ["optimizer.npz", "fsync", "replace", "interrupt"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, fail_at):
    model, path, _ = _trained(tmp_path)
    before = path.read_bytes()
    model.fit(*_data(), epochs=1, verbose=0)                # the next save would differ

    def boom(*args, **kwargs):
        raise KeyboardInterrupt if fail_at == "interrupt" else OSError("disk full")

    if fail_at in ("optimizer.npz", "interrupt"):
        real = saving.arrays.npz_bytes
        calls = []

        def second_call_fails(named):                   # weights.npz is written, then optimizer.npz fails
            calls.append(1)
            return real(named) if len(calls) == 1 else boom()
        monkeypatch.setattr(saving.arrays, "npz_bytes", second_call_fails)
    else:
        monkeypatch.setattr(os, fail_at, boom)
    with pytest.raises(KeyboardInterrupt if fail_at == "interrupt" else OSError):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.glassnet"]


def test_save_weights_is_atomic_too(tmp_path, monkeypatch):
    gn.set_random_seed(14)
    model = _mlp()
    path = model.save_weights(tmp_path / "w")
    before = path.read_bytes()
    monkeypatch.setattr(np.lib.format, "write_array", lambda *a, **k: (_ for _ in ()).throw(OSError("full")))
    with pytest.raises(OSError, match="full"):
        model.save_weights(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["w.weights.npz"]


# ----------------------------------------------------------------------
# files that must not load
# ----------------------------------------------------------------------
def _load_fails(path, *patterns):
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert str(path) in message, message
    for pattern in patterns:
        assert pattern in message, message
    assert isinstance(info.value, ValueError)
    return message


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here.glassnet"):
        load_model(tmp_path / "nothing-here.glassnet")
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        gn.Sequential([gn.layers.Dense(1, input_shape=(1,))]).load_weights(tmp_path / "nothing-here")


def test_truncated_and_damaged_files(tmp_path):
    _, path, _ = _trained(tmp_path)
    good = path.read_bytes()
    for cut in (len(good) // 2, len(good) - 10):
        path.write_bytes(good[:cut])
        _load_fails(path, "truncated")
    path.write_bytes(b"")
    _load_fails(path, "empty")
    # flip one byte inside the stored weights: the zip CRC (or the digest) catches it
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        info = zf.getinfo("weights.npz")
    damaged = bytearray(good)
    damaged[info.header_offset + 30 + len(info.filename) + info.file_size - 3] ^= 0xFF
    path.write_bytes(bytes(damaged))
    _load_fails(path, "weights.npz")


def test_foreign_files(tmp_path):
    text = tmp_path / "notes.glassnet"
    text.write_text("hello\n")
    _load_fails(text, "text file")
    png = tmp_path / "picture.glassnet"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    _load_fails(png, "PNG")
    random_zip = tmp_path / "random.glassnet"
    with zipfile.ZipFile(random_zip, "w") as zf:
        zf.writestr("readme.txt", "hi")
    _load_fails(random_zip, "no manifest.json")
    gn.set_random_seed(15)
    weights = _mlp().save_weights(tmp_path / "w.npz")
    _load_fails(weights, "load_weights")
    other_format = tmp_path / "other.glassnet"
    with zipfile.ZipFile(other_format, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something-else", "format_version": 1}))
    _load_fails(other_format, "not a glassnet model file")


def test_newer_format_version(tmp_path):
    _, path, _ = _trained(tmp_path)
    newer = {"format_version": saving.FORMAT_VERSION + 1, "glassnet_version": "9.0.0"}
    config = {**json.loads(_members(path)["config.json"]), **newer}
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    manifest = {**json.loads(_members(path)["manifest.json"]), **newer}
    _rewrite(path, replace={"manifest.json": json.dumps(manifest).encode()})
    _load_fails(path, f"format version {saving.FORMAT_VERSION + 1}", "glassnet 9.0.0", "upgrade glassnet")


def test_tampered_missing_and_extra_members(tmp_path):
    model, path, _ = _trained(tmp_path)
    good = path.read_bytes()
    config = json.loads(_members(path)["config.json"])
    config["model"]["config"]["layers"][0]["config"]["activation"] = "tanh"    # same length as "relu"
    _rewrite(path, replace={"config.json": json.dumps(config, indent=2).encode()})
    _load_fails(path, "config.json", "SHA-256")
    _rewrite(path, replace={"config.json": json.dumps(config).encode()})
    _load_fails(path, "config.json", "modified")

    path.write_bytes(good)
    w = model.get_weights()
    _rewrite(path, replace={"weights.npz": _npz(**{n: a + 1 for n, a in zip(saving.weight_names(model), w)})})
    _load_fails(path, "weights.npz", "modified")

    for member in ("weights.npz", "config.json", "optimizer.npz"):
        path.write_bytes(good)
        _rewrite(path, drop=[member])
        _load_fails(path, member, "missing")

    path.write_bytes(good)
    _rewrite(path, add={"payload.pkl": b"\x80\x04."})
    _load_fails(path, "payload.pkl")


def test_weights_that_do_not_fit_the_architecture(tmp_path):
    model, path, _ = _trained(tmp_path)
    good = path.read_bytes()
    names = saving.weight_names(model)
    arrays = dict(zip(names, model.get_weights()))

    wrong_shape = {**arrays, "dense/W": np.zeros((6, 5), np.float32)}
    _rewrite(path, replace={"weights.npz": _npz(**wrong_shape)}, rehash=True)
    _load_fails(path, "dense/W", "(6, 5)", "(6, 8)")

    path.write_bytes(good)
    wrong_dtype = {**arrays, "dense/b": arrays["dense/b"].astype(np.float64)}
    _rewrite(path, replace={"weights.npz": _npz(**wrong_dtype)}, rehash=True)
    _load_fails(path, "dense/b", "float64")

    path.write_bytes(good)
    _rewrite(path, replace={"weights.npz": _npz(**{k: v for k, v in arrays.items() if k != "dense_1/b"})},
             rehash=True)
    _load_fails(path, "lacks dense_1/b")

    path.write_bytes(good)           # config says 9 units, the weights were made for 8
    config = json.loads(_members(path)["config.json"])
    config["model"]["config"]["layers"][0]["config"]["units"] = 9
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    _load_fails(path, "inconsistent")

    path.write_bytes(good)
    config["model"]["config"]["layers"][0]["class_name"] = "Conv2D"
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    _load_fails(path, "Conv2D")

    path.write_bytes(good)
    objects = {**arrays, "dense/b": np.array([{"x": 1}], dtype=object)}
    buf = io.BytesIO()
    np.savez(buf, **objects)                          # pickles the object array
    _rewrite(path, replace={"weights.npz": buf.getvalue()}, rehash=True)
    _load_fails(path, "dense/b", "without unpickling")


def test_optimizer_state_that_does_not_fit(tmp_path):
    model, path, _ = _trained(tmp_path)
    config = json.loads(_members(path)["config.json"])
    config["optimizer_state"]["variables"][0]["shape"] = [7]
    slots = {"0/m": np.zeros(7, np.float32), "0/v": np.zeros(7, np.float32)}
    _rewrite(path, replace={"config.json": json.dumps(config).encode(), "optimizer.npz": _npz(**slots)},
             rehash=True)
    _load_fails(path, "optimizer state does not fit")
    assert load_model(path, compile=False).built          # the weights alone still load


# ----------------------------------------------------------------------
# save_weights / load_weights
# ----------------------------------------------------------------------
def test_weights_round_trip_by_name_by_position_and_from_a_model_file(tmp_path):
    model, model_path, (x, _) = _trained(tmp_path)
    path = model.save_weights(tmp_path / "run")
    assert path == tmp_path / "run.weights.npz"
    with np.load(path, allow_pickle=False) as npz:
        assert npz.files == saving.weight_names(model)

    def fresh():
        gn.set_random_seed(99)
        return _mlp()

    for source in (path, model_path):
        other = fresh()
        assert not _same_weights(other, model)
        other.load_weights(source)
        assert _same_weights(other, model) and np.array_equal(other.predict(x), model.predict(x))

    shuffled = tmp_path / "shuffled.npz"                     # names match: order does not matter
    named = dict(zip(saving.weight_names(model), model.get_weights()))
    np.savez(shuffled, **dict(reversed(list(named.items()))))
    other = fresh()
    other.load_weights(shuffled)
    assert _same_weights(other, model)

    positional = tmp_path / "keras_style.npz"               # np.savez(path, *get_weights()): by position
    np.savez(positional, *[w.astype(np.float64) for w in model.get_weights()])
    other = fresh()
    other.load_weights(positional)
    assert _same_weights(other, model)                       # cast to the model's float32


def test_load_weights_checks_everything_before_changing_anything(tmp_path):
    gn.set_random_seed(16)
    model = _mlp()
    before = model.get_weights()
    wrong = tmp_path / "wrong.npz"
    ws = model.get_weights()
    ws[-2] = np.zeros((8, 4), np.float32)                   # the last kernel for 4 classes
    np.savez(wrong, *ws)
    with pytest.raises(ModelFileError, match=r"wrong\.npz.*\(8, 4\).*dense_1/W.*\(8, 3\)"):
        model.load_weights(wrong)
    short = tmp_path / "short.npz"
    np.savez(short, *ws[:3])
    with pytest.raises(ModelFileError, match="3 arrays.*8 weights"):
        model.load_weights(short)
    text = tmp_path / "t.npz"
    text.write_text("not weights")
    with pytest.raises(ModelFileError, match="text file"):
        model.load_weights(text)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))

    with pytest.raises(ValueError, match=r"\.npz"):
        model.save_weights(tmp_path / "w.glassnet")
    with pytest.raises(ValueError, match="no weights yet"):
        gn.Sequential([gn.layers.Dense(2)]).load_weights(wrong)


# ----------------------------------------------------------------------
# ModelCheckpoint
# ----------------------------------------------------------------------
def test_checkpoint_every_epoch_with_formatted_names(tmp_path, capsys):
    gn.set_random_seed(17)
    model = _mlp()
    x, y = _data()
    template = str(tmp_path / "ckpt" / "m-{epoch:02d}-{val_loss:.4f}.glassnet")
    cb = gn.callbacks.ModelCheckpoint(template, verbose=1)
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, callbacks=[cb], verbose=0)
    expected = [f"m-{e + 1:02d}-{v:.4f}.glassnet" for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path / "ckpt")) == expected
    assert "Epoch 3: saving model to" in capsys.readouterr().out
    last = load_model(tmp_path / "ckpt" / expected[-1])
    assert _same_weights(last, model) and _same_optimizer_state(last, model)


def test_checkpoint_best_only_and_weights_only(tmp_path, capsys):
    gn.set_random_seed(18)
    model = _mlp(optimizer=gn.optimizers.SGD(0.5, momentum=0.9))
    x, y = _data()
    best_path = tmp_path / "best.glassnet"
    best = gn.callbacks.ModelCheckpoint(best_path, monitor="val_accuracy", save_best_only=True, verbose=1)
    weights = gn.callbacks.ModelCheckpoint(str(tmp_path / "w{epoch}.weights.npz"), save_weights_only=True)
    history = model.fit(x, y, epochs=6, batch_size=8, validation_split=0.25, callbacks=[best, weights],
                        verbose=0)
    assert best.mode == "max" and best.best == max(history.history["val_accuracy"])
    assert sorted(p.name for p in tmp_path.glob("w*.weights.npz")) == [f"w{e}.weights.npz" for e in range(1, 7)]
    out = capsys.readouterr().out
    assert "val_accuracy improved from -inf to" in out
    saved = load_model(best_path)
    x_val, y_val = x[36:], y[36:]
    assert saved.evaluate(x_val, y_val, verbose=0)[1] == best.best

    by_loss = gn.callbacks.ModelCheckpoint(tmp_path / "low.glassnet", save_best_only=True,
                                           initial_value_threshold=-1.0)
    model.fit(x, y, epochs=1, validation_split=0.25, callbacks=[by_loss], verbose=0)
    assert by_loss.mode == "min" and not (tmp_path / "low.glassnet").exists()    # never below the threshold


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\.glassnet"):
        gn.callbacks.ModelCheckpoint(tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"\.npz"):
        gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", save_weights_only=True)
    with pytest.raises(ValueError, match="mode"):
        gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", mode="best")
    with pytest.raises(ValueError, match="save_freq"):
        gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", save_freq=10)
    gn.set_random_seed(19)
    model = _mlp()
    x, y = _data()
    no_val = gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", save_best_only=True)
    with pytest.raises(ValueError, match="val_loss.*validation"):
        model.fit(x, y, epochs=1, callbacks=[no_val], verbose=0)
    bad_key = gn.callbacks.ModelCheckpoint(str(tmp_path / "m-{val_acc}.glassnet"))
    with pytest.raises(ValueError, match=r"\{val_acc\}.*epoch, loss, accuracy"):
        model.fit(x, y, epochs=1, callbacks=[bad_key], verbose=0)
