"""Attack catalogue, the other files a model reads (issue 13): `.weights.npz` for load_weights, Keras 3
`.keras` and `.weights.h5` files (h5py), and BackupAndRestore folders. Each is refused with a clean error
naming the file, within twice what it legitimately describes plus 32 MiB, without hanging."""
from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

import glassnet as gn
from attacks.attack_helpers import MiB, bomb_entry, entries_of, npy, npy_of, raw_zip, refused, stored
from glassnet.saving import backup

h5py = pytest.importorskip("h5py")
BOMB = 64 * MiB
_W = {"descr": "<f4", "fortran_order": False, "shape": (6, 8)}


def _model():
    model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(6,)), gn.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.fixture(autouse=True)
def _small_member_limit(monkeypatch):
    """The member limit (4096 by default) patched to 256, so that the case of too many members is small."""
    from glassnet import _npy
    assert _npy.MAX_MEMBERS == 4096
    monkeypatch.setattr(_npy, "MAX_MEMBERS", 256)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights_attacks")
    gn.set_random_seed(5)
    model = _model()
    model.train_on_batch(np.ones((4, 6), np.float32), np.zeros((4, 3), np.float32))
    return folder, model, model.save_weights(folder / "good.weights.npz"), model.save(folder / "good.keras"), \
        model.save_weights(folder / "good.weights.h5")


def _npz(weights, replace=None, extra=(), drop=None):
    arrays = {f"{n}": npy_of(w) for n, w in zip(("dense/W", "dense/b", "dense_1/W", "dense_1/b"), weights)}
    arrays.update(replace or {})
    arrays.pop(drop, None)
    return raw_zip([stored(k + ".npy", v) for k, v in arrays.items()] + list(extra))


# ------------------------------------------------------------------ .weights.npz for load_weights

NPZ = [
    ("w empty", lambda w: b""),
    ("w text", lambda w: b"W = [[1, 2]]"),
    ("w npy alone", lambda w: npy_of(w[0])),
    ("w shape 1e12", lambda w: _npz(w, {"dense/W": npy({**_W, "shape": (10**12, 8)}, bytes(64))})),
    ("w object dtype", lambda w: _npz(w, {"dense/W": npy({**_W, "descr": "|O"}, b"\x80\x04N.")})),
    ("w string dtype", lambda w: _npz(w, {"dense/W": npy({**_W, "descr": "<U4"}, bytes(768))})),
    ("w structured dtype", lambda w: _npz(w, {"dense/W": npy({**_W, "descr": [("a", "<f4")]}, bytes(192))})),
    ("w wrong shape", lambda w: _npz(w, {"dense/W": npy_of(np.zeros((8, 6), np.float32))})),
    ("w extra array 1e12", lambda w: _npz(w, {"junk": npy({**_W, "shape": (10**12,)})})),
    ("w extra bomb member 64 MiB", lambda w: _npz(w, extra=[bomb_entry("junk.npy", BOMB)])),
    ("w bomb as dense/W", lambda w: _npz(w, drop="dense/W", extra=[bomb_entry("dense/W.npy", BOMB, prefix=npy(
        {**_W, "shape": (BOMB // 4 - 32,)}))])),
    ("w lying bomb as dense/W", lambda w: _npz(w, drop="dense/W", extra=[
        bomb_entry("dense/W.npy", BOMB, prefix=npy(_W))])),
    ("w missing array", lambda w: _npz(w[:3])),
    ("w truncated values", lambda w: _npz(w, {"dense/W": npy(_W, bytes(100))})),
    ("w header 100 KB", lambda w: _npz(w, {"dense/W": npy(repr(_W)[:-1] + ", 'x': '" + "x" * 100_000 + "'}",
                                                          bytes(192), version=(2, 0))})),
    ("w encrypted", lambda w: raw_zip([stored(e.name, e.data, flags=1) for e in entries_of(_npz(w))])),
    ("w crc mismatch", lambda w: raw_zip([stored(e.name, e.data, crc=1) for e in entries_of(_npz(w))])),
    ("w nested zip", lambda w: _npz(w, {"dense/W": raw_zip([bomb_entry("x.npy", BOMB)])})),
    ("w 300 members (limit patched to 256)", lambda w: _npz(w, extra=[stored(f"m{i}.npy", b"") for i in range(300)])),
]


@pytest.mark.parametrize("make", [pytest.param(make, id=name) for name, make in NPZ])
def test_hostile_weights_npz_is_refused_and_changes_nothing(saved, make, request):
    folder, model, *_ = saved
    path = folder / (request.node.callspec.id.replace(" ", "_").replace("/", "_") + ".weights.npz")
    path.write_bytes(make(model.get_weights()))
    before = [w.copy() for w in model.get_weights()]
    refused(lambda: model.load_weights(path), path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


# ------------------------------------------------------------------ .keras files

def _keras_with(source, config=None, weights=None, extra=(), entries=None):
    with zipfile.ZipFile(source) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if config is not None:
        c = json.loads(members["config.json"])
        config(c)
        members["config.json"] = json.dumps(c).encode()
    if weights is not None:
        members["model.weights.h5"] = weights
    return raw_zip(entries(members) if entries else [stored(n, d) for n, d in members.items()] + list(extra))


def _h5(build):
    import io
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        build(f)
    return buffer.getvalue()


def _keras_layout(f, dataset):
    """Keras 3's layout with the first Dense's kernel made by dataset(group, name)."""
    for layer, shapes in (("dense", [(6, 8), (8,)]), ("dense_1", [(8, 3), (3,)])):
        group = f.create_group(f"layers/{layer}/vars")
        for i, shape in enumerate(shapes):
            if layer == "dense" and i == 0:
                dataset(group, "0")
            else:
                group.create_dataset(str(i), data=np.zeros(shape, np.float32))


def _dense_units(units):
    def change(c):
        c["config"]["layers"][1]["config"]["units"] = units
    return change


KERAS = [
    ("k empty", lambda src: b""),
    ("k no weights member", lambda src: raw_zip([stored("config.json", b"{}"), stored("metadata.json", b"{}")])),
    ("k config deep", lambda src: raw_zip(
        [stored("config.json", b"[" * 100_000 + b"]" * 100_000), stored("model.weights.h5", b"")])),
    ("k config bomb 64 MiB", lambda src: raw_zip([bomb_entry("config.json", BOMB, prefix=b'{"a": "'),
                                                  stored("model.weights.h5", b"")])),
    ("k weights bomb 64 MiB", lambda src: _keras_with(src, entries=lambda m: [
        stored("config.json", m["config.json"]), stored("metadata.json", m["metadata.json"]),
        bomb_entry("model.weights.h5", BOMB)])),
    ("k path traversal member", lambda src: _keras_with(src, extra=[stored("../../evil.h5", b"x")])),
    ("k absolute member", lambda src: _keras_with(src, extra=[stored("/tmp/evil", b"x")])),
    ("k duplicate config", lambda src: _keras_with(src, extra=[stored("config.json", b"{}")])),
    ("k encrypted config", lambda src: _keras_with(src, entries=lambda m: [
        stored(n, d, flags=1 if n == "config.json" else 0) for n, d in m.items()])),
    ("k encrypted weights", lambda src: _keras_with(src, entries=lambda m: [
        stored(n, d, flags=1 if n == "model.weights.h5" else 0) for n, d in m.items()])),
    ("k crc mismatch weights", lambda src: _keras_with(src, entries=lambda m: [
        stored(n, d, crc=3 if n == "model.weights.h5" else None) for n, d in m.items()])),
    ("k dense units 1e12", lambda src: _keras_with(src, config=_dense_units(10**12))),
    ("k dense units 2e7", lambda src: _keras_with(src, config=_dense_units(2 * 10**7))),
    ("k unknown layer class", lambda src: _keras_with(src, config=lambda c: c["config"]["layers"][1].update(
        class_name="TFOpLambda"))),
    ("k module os", lambda src: _keras_with(src, config=lambda c: c["config"]["layers"][1].update(
        module="os", class_name="system"))),
    ("k h5 not hdf5", lambda src: _keras_with(src, weights=b"not hdf5" * 100)),
    ("k h5 huge chunked dataset", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.create_dataset(n, shape=(10**9,), dtype="f4", chunks=(2**16,)))))),
    ("k h5 gzip dataset 64 MiB", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.create_dataset(n, shape=(BOMB // 4,), dtype="f4", chunks=(2**20,), compression="gzip",
                                         fillvalue=0.0))))),
    ("k h5 string dataset", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.create_dataset(n, data=np.array([b"x" * 10] * 48)))))),
    ("k h5 compound dataset", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.create_dataset(n, data=np.zeros(48, [("a", "<f4"), ("b", "<f4")])))))),
    ("k h5 vlen dataset", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.create_dataset(n, (48,), dtype=h5py.vlen_dtype(np.float32)))))),
    ("k h5 soft link", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.__setitem__(n, h5py.SoftLink("/layers/dense_1/vars/0")))))),
    ("k h5 external link", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.__setitem__(n, h5py.ExternalLink("/etc/passwd", "/x")))))),
    ("k h5 external storage /dev/zero", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.create_dataset(n, shape=(6, 8), dtype="f4", external=[("/dev/zero", 0, 192)]))))),
    ("k h5 wrong dtype complex", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.create_dataset(n, data=np.zeros((6, 8), np.complex64)))))),
    ("k h5 wrong shape", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(
        f, lambda g, n: g.create_dataset(n, data=np.zeros((8, 6), np.float32)))))),
]


def _virtual(g, n):
    layout = h5py.VirtualLayout(shape=(6, 8), dtype="f4")
    layout[:] = h5py.VirtualSource("/dev/zero", "x", shape=(6, 8))
    g.create_virtual_dataset(n, layout)


KERAS.append(("k h5 virtual dataset", lambda src: _keras_with(src, weights=_h5(lambda f: _keras_layout(f, _virtual)))))


@pytest.mark.parametrize("make", [pytest.param(make, id=name) for name, make in KERAS])
def test_hostile_keras_file_is_refused(saved, make, request):
    folder, model, _, keras_path, _ = saved
    path = folder / (request.node.callspec.id.replace(" ", "_").replace("/", "_") + ".keras")
    path.write_bytes(make(keras_path))
    refused(lambda: gn.load_model(path), path)


@pytest.mark.parametrize("name", ["k h5 huge chunked dataset", "k h5 gzip dataset 64 MiB", "k h5 external link",
                                  "k h5 external storage /dev/zero", "k h5 virtual dataset", "k h5 string dataset"])
def test_hostile_weights_h5_is_refused_by_load_weights(saved, name):
    import io
    folder, model, _, keras_path, _ = saved
    make = dict(KERAS)[name]
    with zipfile.ZipFile(io.BytesIO(make(keras_path))) as zf:           # the same payload as the .keras case
        data = zf.read("model.weights.h5")
    path = folder / (name.replace(" ", "_").replace("/", "_") + ".weights.h5")
    path.write_bytes(data)
    before = [w.copy() for w in model.get_weights()]
    refused(lambda: model.load_weights(path), path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_the_good_keras_and_h5_files_load(saved):
    folder, model, npz_path, keras_path, h5_path = saved
    loaded = gn.load_model(keras_path)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights()))
    fresh = _model()
    fresh.load_weights(h5_path)
    fresh.load_weights(npz_path)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), model.get_weights()))


# ------------------------------------------------------------------ BackupAndRestore folders

def _state(**change):
    doc = {"format": "glassnet-backup", "version": 1, "model_file": "backup-0.glassnet", "epoch": 1, "batch": None}
    doc.update(change)
    return json.dumps(doc).encode()


BACKUPS = [
    ("b state 2 MiB", lambda: b'{"format": "glassnet-backup", "pad": "' + b"x" * (2 * MiB) + b'"}', None),
    ("b state not json", lambda: b"\xff\xfe not json", None),
    ("b state deep", lambda: b"[" * 100_000 + b"]" * 100_000, None),
    ("b state a list", lambda: b"[1, 2, 3]", None),
    ("b state wrong format", lambda: _state(format="other"), None),
    ("b state version 99", lambda: _state(version=99), None),
    ("b model file ../../etc/passwd", lambda: _state(model_file="../../etc/passwd"), None),
    ("b model file absolute", lambda: _state(model_file="/etc/passwd"), None),
    ("b model file missing", lambda: _state(model_file="backup-2.glassnet"), None),
    ("b epoch -1", lambda: _state(epoch=-1), None),
    ("b epoch 1e30", lambda: _state(epoch=10**30), None),
    ("b epoch string", lambda: _state(epoch="1"), None),
    ("b rng state garbage", lambda: _state(shuffle_rng={"bit_generator": "PCG64", "state": "x"}), None),
    ("b model file bomb", lambda: _state(), "bomb"),
    ("b model file is a fifo", lambda: _state(), "fifo"),
    ("b model file of another model", lambda: _state(), "other"),
    ("b model file not a zip", lambda: _state(), "text"),
]


@pytest.mark.parametrize("state, model_file", [pytest.param(s, m, id=name) for name, s, m in BACKUPS])
def test_hostile_backup_folder_is_refused_and_changes_nothing(saved, state, model_file, request):
    import os
    folder, model, *_ = saved
    directory = folder / request.node.callspec.id.replace(" ", "_").replace("/", "_")
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    (directory / "training_state.json").write_bytes(state())
    target = directory / "backup-0.glassnet"
    if model_file is None:
        model.save(target)
    elif model_file == "bomb":
        target.write_bytes(raw_zip([bomb_entry("config.json", BOMB, prefix=b'{"a": "')]))
    elif model_file == "fifo":
        os.mkfifo(target)
    elif model_file == "other":
        gn.Sequential([gn.layers.Dense(2, input_shape=(3,))]).save(target)
    else:
        target.write_bytes(b"hello")
    before = [w.copy() for w in model.get_weights()]
    message = refused(lambda: backup.read_backup(model, directory), directory)
    assert "training_state.json" in message or "backup-" in message
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
