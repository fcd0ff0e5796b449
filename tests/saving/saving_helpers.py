"""Helpers shared by the model-file tests (tests/saving/test_*.py)."""
import hashlib
import io
import json
import zipfile

import numpy as np

import glassnet as gn


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


def rewrite_keras_config(src, dst, edit):
    """Copy the .keras archive `src` to `dst` with its config.json changed by edit(config)."""
    with zipfile.ZipFile(src) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dst
