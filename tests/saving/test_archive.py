"""The archive: atomic writes, and broken, foreign, tampered or newer files that must not load."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet import saving
from glassnet.saving import ModelFileError, load_model
from saving.saving_helpers import _data, _members, _mlp, _npz, _rewrite, _trained

pytestmark = pytest.mark.usefixtures("isolated_random_state")


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
    config["model"]["config"]["layers"][0]["class_name"] = "Conv3D"
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    _load_fails(path, "Conv3D")

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
