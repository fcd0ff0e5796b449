"""Attack catalogue, .glassnet model files (issue 13): every hostile file below is refused by load_model
with a clean error naming the file, within twice the memory of the model it legitimately describes plus
32 MiB (tracemalloc; NumPy's allocations are traced), without hanging. The files are made by hand in one
module-scoped folder; the bombs are deflate streams that are never inflated here."""
from __future__ import annotations

import copy
import json
import zlib

import numpy as np
import pytest

import glassnet as gn
from attacks.attack_helpers import (MiB, bomb, bomb_entry, deflated, manifest, npy, npy_of, raw_zip, refused,
                                    stored, zip64)
from glassnet.saving import format as fmt

ORDER = ("config.json", "weights.npz", "optimizer.npz")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """(folder, {member: bytes}, config dict) of a small compiled, trained model's file."""
    import zipfile
    folder = tmp_path_factory.mktemp("glassnet_attacks")
    gn.set_random_seed(3)
    model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(6,)), gn.layers.BatchNormalization(),
                           gn.layers.Dropout(0.25), gn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(16, 6)).astype(np.float32)
    model.fit(x, np.arange(16) % 3, epochs=1, verbose=0)
    path = model.save(folder / "good.glassnet")
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    return folder, members, json.loads(members["config.json"])


def archive(members, extra=(), listed=None, sizes=None, shas=None, entries=None):
    """A .glassnet file of `members` (stored), its manifest listing `listed` (default: all of them)."""
    members = {n: d for n, d in members.items() if n != "manifest.json"}
    man = manifest({n: members.get(n, b"") for n in (listed or members) if n != "manifest.json"}, sizes, shas)
    if entries is None:
        entries = [stored(n, d) for n, d in members.items()]
    return raw_zip(list(entries) + list(extra) + [stored("manifest.json", man)])


def with_config(change):
    def make(members, config):
        config = copy.deepcopy(config)
        change(config)
        return archive({**members, "config.json": json.dumps(config).encode()})
    return make


def with_weights(arrays_bytes):
    """weights.npz replaced by an .npz of {name: .npy bytes} (written by hand), the manifest rehashed."""
    def make(members, config):
        npz = raw_zip([stored(n + ".npy", d) for n, d in arrays_bytes(config).items()])
        return archive({**members, "weights.npz": npz})
    return make


def _layers(config):
    return config["model"]["config"]["layers"]


def _set(index, **values):
    def change(config):
        _layers(config)[index]["config"].update(values)
    return change


def _insert(index, spec):
    def change(config):
        _layers(config).insert(index, spec)
    return change


def _dense_w(config, header=None, data=None):
    """The good weights as .npy bytes, dense/W replaced by `header` + `data`."""
    good = {w["name"]: npy_of(np.zeros(w["shape"], w["dtype"])) for w in config["weights"]}
    if header is not None:
        good["dense/W"] = npy(header, data if data is not None else b"")
    return good


_W = {"descr": "<f4", "fortran_order": False, "shape": (6, 8)}
BOMB = 64 * MiB                        # what the bombs below inflate to: twice the 32 MiB slack (never inflated here)

# (id, make(members, config) -> file bytes, bytes the file legitimately describes)
CASES = [
    # ------------------------------------------------------------------ not a model file at all
    ("empty file", lambda m, c: b"", 0),
    ("text file", lambda m, c: b"hello, I am a model\n" * 10, 0),
    ("png magic", lambda m, c: b"\x89PNG\r\n\x1a\n" + bytes(100), 0),
    ("pickle bytes", lambda m, c: b"\x80\x04\x95" + bytes(64), 0),
    ("npy instead of model", lambda m, c: npy_of(np.zeros(4)), 0),
    ("local header only", lambda m, c: archive(m)[:200], 0),
    ("cut at 30%", lambda m, c: (lambda b: b[:len(b) * 3 // 10])(archive(m)), 0),
    ("cut at 75%", lambda m, c: (lambda b: b[:len(b) * 3 // 4])(archive(m)), 0),
    ("cut before end record", lambda m, c: archive(m)[:-22], 0),
    ("end record points past the file", lambda m, c: (lambda b: b[:-6] + (2**31).to_bytes(4, "little")
                                                      + b[-2:])(archive(m)), 0),
    ("zip of unrelated files", lambda m, c: raw_zip([stored("readme.txt", b"hi")]), 0),
    ("keras-looking zip", lambda m, c: raw_zip([stored("metadata.json", b"{}"), stored("config.json", b"{}"),
                                                 stored("model.weights.h5", b"")]), 0),
    # ------------------------------------------------------------------ the zip's members
    ("no manifest", lambda m, c: raw_zip([stored(n, d) for n, d in m.items() if n != "manifest.json"]), 0),
    ("no config", lambda m, c: archive({n: d for n, d in m.items() if n != "config.json"}), 0),
    ("no weights", lambda m, c: archive({n: d for n, d in m.items() if n != "weights.npz"}), 0),
    ("duplicate config.json", lambda m, c: archive(m, extra=[stored("config.json", b"{}")]), 0),
    ("duplicate weights.npz", lambda m, c: archive(m, extra=[stored("weights.npz", m["weights.npz"])]), 0),
    ("duplicate manifest.json", lambda m, c: archive(m, extra=[stored("manifest.json", b"{}")]), 0),
    ("unlisted member", lambda m, c: archive(m, extra=[stored("evil.py", b"import os")]), 0),
    ("member ../config.json", lambda m, c: archive(m, extra=[stored("../config.json", b"{}")]), 0),
    ("member /etc/passwd", lambda m, c: archive(m, extra=[stored("/etc/passwd", b"root")]), 0),
    ("member config.json/../x", lambda m, c: archive(m, extra=[stored("config.json/../x", b"x")]), 0),
    ("member with backslashes", lambda m, c: archive(m, extra=[stored("..\\..\\x.dll", b"x")]), 0),
    ("unicode member name", lambda m, c: archive(m, extra=[stored("cönfig\u202e.json", b"{}")]), 0),
    ("listed unknown member", lambda m, c: archive({**m, "extra.bin": b"x" * 100}), 0),
    ("listed bomb member 64 MiB", lambda m, c: archive(m, extra=[bomb_entry("big.bin", BOMB)],
                                                         listed=list(m) + ["big.bin"],
                                                         sizes={"big.bin": BOMB}, shas={"big.bin": bomb(BOMB)[2]}),
     0),
    ("3000 members", lambda m, c: archive(m, extra=[stored(f"m{i}", b"") for i in range(3000)]), 0),
    ("encrypted flag on config.json", lambda m, c: archive(m, entries=[
        stored(n, d, flags=1 if n == "config.json" else 0) for n, d in m.items() if n != "manifest.json"]), 0),
    ("encrypted flag on weights.npz", lambda m, c: archive(m, entries=[
        stored(n, d, flags=1 if n == "weights.npz" else 0) for n, d in m.items() if n != "manifest.json"]), 0),
    ("compression method 99 (AES)", lambda m, c: archive(m, entries=[
        _method(stored(n, d), 99) if n == "config.json" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"]), 0),
    ("compression method 1 (shrink)", lambda m, c: archive(m, entries=[
        _method(stored(n, d), 1) if n == "weights.npz" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"]), 0),
    ("deflate method on stored bytes", lambda m, c: archive(m, entries=[
        _method(stored(n, d), 8) if n == "config.json" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"]), 0),
    ("version needed 99", lambda m, c: archive(m, entries=[
        stored(n, d, version=99) for n, d in m.items() if n != "manifest.json"]), 0),
    ("crc mismatch config.json", lambda m, c: archive(m, entries=[
        stored(n, d, crc=1234) if n == "config.json" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"]), 0),
    ("crc mismatch weights.npz", lambda m, c: archive(m, entries=[
        stored(n, d, crc=1234) if n == "weights.npz" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"]), 0),
    ("local name differs from central", lambda m, c: archive(m, entries=[
        stored(n, d, local_name="xonfig.json" if n == "config.json" else None)
        for n, d in m.items() if n != "manifest.json"]), 0),
    ("config.json size says 4 GiB - 1", lambda m, c: archive(m, entries=[
        stored(n, d, usize=2**32 - 1) if n == "config.json" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"]), 0),
    ("weights.npz size says 3 GiB", lambda m, c: archive(m, entries=[
        stored(n, d, usize=3 * 2**30) if n == "weights.npz" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"], sizes={"weights.npz": 3 * 2**30}), 0),
    ("zip64 extra: weights.npz is 1 TiB", lambda m, c: archive(m, entries=[
        zip64(stored(n, d), 2**40) if n == "weights.npz" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"], sizes={"weights.npz": 2**40}), 0),
    ("zip64 extra: config.json is 1 TiB", lambda m, c: archive(m, entries=[
        zip64(stored(n, d), 2**40) if n == "config.json" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"], sizes={"config.json": 2**40}), 0),
    ("zip64 extra: size field cut off", lambda m, c: archive(m, entries=[
        zip64(stored(n, d), truncated=True) if n == "weights.npz" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"]), 0),
    ("zip64 extra: 2**64 - 1 bytes", lambda m, c: archive(m, entries=[
        zip64(stored(n, d), 2**64 - 1) if n == "optimizer.npz" else stored(n, d)
        for n, d in m.items() if n != "manifest.json"], sizes={"optimizer.npz": 2**64 - 1}), 0),
    ("config.json bomb 64 MiB", lambda m, c: archive(
        {**m, "config.json": b"{}"}, entries=[bomb_entry("config.json", 64 * MiB, prefix=b'{"a": "'),
                                              *[stored(n, d) for n, d in m.items() if n in ORDER[1:]]],
        sizes={"config.json": 64 * MiB}), 0),
    ("manifest.json bomb 64 MiB", lambda m, c: raw_zip(
        [stored(n, d) for n, d in m.items() if n != "manifest.json"]
        + [bomb_entry("manifest.json", 64 * MiB, prefix=b'{"a": "')]), 0),
    ("weights.npz bomb 64 MiB", lambda m, c: archive(
        m, entries=[stored("config.json", m["config.json"]), bomb_entry("weights.npz", BOMB),
                    stored("optimizer.npz", m["optimizer.npz"])],
        sizes={"weights.npz": BOMB}, shas={"weights.npz": bomb(BOMB)[2]}), 0),
    ("optimizer.npz bomb 64 MiB", lambda m, c: archive(
        m, entries=[stored("config.json", m["config.json"]), stored("weights.npz", m["weights.npz"]),
                    bomb_entry("optimizer.npz", BOMB)],
        sizes={"optimizer.npz": BOMB}, shas={"optimizer.npz": bomb(BOMB)[2]}), 0),
    ("npy bomb inside weights.npz", lambda m, c: archive({**m, "weights.npz": raw_zip(
        [stored(n + ".npy", d) for n, d in _dense_w(c).items() if n != "dense/W"]
        + [bomb_entry("dense/W.npy", BOMB, prefix=npy({**_W, "shape": (BOMB // 4 - 32,)}))])}), 0),
    ("lying npy bomb inside weights.npz", lambda m, c: archive({**m, "weights.npz": raw_zip(
        [stored(n + ".npy", d) for n, d in _dense_w(c).items() if n != "dense/W"]
        + [bomb_entry("dense/W.npy", BOMB, prefix=npy(_W), usize=300,
                      crc=zlib.crc32(npy(_W) + bytes(300 - len(npy(_W)))))])}), 0),
    ("nested zip in weights.npz", lambda m, c: archive({**m, "weights.npz": raw_zip(
        [stored(n + ".npy", d) for n, d in _dense_w(c).items() if n != "dense/W"]
        + [stored("dense/W.npy", raw_zip([bomb_entry("x.npy", BOMB)]))])}), 0),
    # ------------------------------------------------------------------ manifest.json
    ("manifest not json", lambda m, c: raw_zip([stored(n, d) for n, d in m.items() if n != "manifest.json"]
                                               + [stored("manifest.json", b"\xff\xfe{")]), 0),
    ("manifest deep 200k", lambda m, c: raw_zip([stored(n, d) for n, d in m.items() if n != "manifest.json"]
                                                + [deflated("manifest.json", b"[" * 200_000 + b"]" * 200_000)]), 0),
    ("manifest a list", lambda m, c: raw_zip([stored(n, d) for n, d in m.items() if n != "manifest.json"]
                                             + [stored("manifest.json", b"[1, 2]")]), 0),
    ("manifest format version 999", lambda m, c: raw_zip(
        [stored(n, d) for n, d in m.items() if n != "manifest.json"]
        + [stored("manifest.json", m["manifest.json"].replace(b'"format_version": 1', b'"format_version": 999'))]),
     0),
    ("manifest negative size", lambda m, c: archive(m, sizes={"weights.npz": -1}), 0),
    ("manifest size 1e30", lambda m, c: raw_zip([stored(n, d) for n, d in m.items() if n != "manifest.json"] + [
        stored("manifest.json", manifest({n: d for n, d in m.items() if n != "manifest.json"}).replace(
            b'"size": %d' % len(m["weights.npz"]), b'"size": 1e30'))]), 0),
    ("manifest sha256 wrong", lambda m, c: archive(m, shas={"config.json": "0" * 64}), 0),
    ("manifest members a list", lambda m, c: raw_zip(
        [stored(n, d) for n, d in m.items() if n != "manifest.json"]
        + [stored("manifest.json", b'{"format": "glassnet-model", "format_version": 1, "members": []}')]), 0),
    # ------------------------------------------------------------------ config.json as JSON
    ("config not utf-8", lambda m, c: archive({**m, "config.json": b'{"format": "\xff\xfe"}'}), 0),
    ("config utf-16", lambda m, c: archive({**m, "config.json": m["config.json"].decode().encode("utf-16")}), 0),
    ("config deep 200k", lambda m, c: archive({**m, "config.json": b"[" * 200_000 + b"]" * 200_000}), 0),
    ("config deep 150 objects", lambda m, c: archive({**m, "config.json": b'{"a":' * 150 + b"1" + b"}" * 150}), 0),
    ("config a number", lambda m, c: archive({**m, "config.json": b"12"}), 0),
    ("config NaN literal", with_config(lambda c: _layers(c)[0]["config"].update(units=float("nan"))), 0),
    ("config huge string 3.9 MiB", with_config(lambda c: _layers(c)[0]["config"].update(name="x" * (4 * MiB - 8000))),
     0),
    ("config 5 MiB", lambda m, c: archive({**m, "config.json": b" " * (5 * MiB) + m["config.json"]}), 0),
    ("config format missing", with_config(lambda c: c.pop("format")), 0),
    ("config version mismatch", with_config(lambda c: c.update(format_version=0)), 0),
    # ------------------------------------------------------------------ absurd sizes in the config
    ("dense units 1e12", with_config(_set(0, units=10**12)), 0),
    ("dense units 2e7", with_config(_set(0, units=2 * 10**7)), 0),
    ("dense units 2e7 float", with_config(_set(0, units=2e7)), 0),
    ("dense units negative", with_config(_set(3, units=-3)), 0),
    ("dense units string", with_config(_set(3, units="3; import os")), 0),
    ("dense units true", with_config(_set(3, units=True)), 0),
    ("input_shape 1e12", with_config(lambda c: (c["model"]["config"].update(input_shape=[10**12]),
                                                _layers(c)[0]["config"].update(input_shape=[10**12]))), 0),
    ("input_shape negative", with_config(lambda c: (c["model"]["config"].update(input_shape=[-6]),
                                                    _layers(c)[0]["config"].update(input_shape=[-6]))), 0),
    ("input_shape 40 dims", with_config(lambda c: (c["model"]["config"].update(input_shape=[2] * 40),
                                                   _layers(c)[0]["config"].update(input_shape=[2] * 40))), 0),
    ("batchnorm on 3e7 features", with_config(_insert(1, {"class_name": "Dense", "config": {
        "name": "wide", "units": 3 * 10**7}})), 0),
    ("conv2d filters 1e9", with_config(lambda c: c["model"]["config"].update(input_shape=[8, 8, 1], layers=[
        {"class_name": "Conv2D", "config": {"name": "conv", "filters": 10**9, "kernel_size": [3, 3],
                                            "input_shape": [8, 8, 1]}}])), 0),
    ("conv2d kernel 1e5 x 1e5", with_config(lambda c: c["model"]["config"].update(input_shape=[8, 8, 1], layers=[
        {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [10**5, 10**5],
                                            "input_shape": [8, 8, 1]}}])), 0),
    ("conv1d filters 1e9", with_config(lambda c: c["model"]["config"].update(input_shape=[8, 2], layers=[
        {"class_name": "Conv1D", "config": {"name": "conv", "filters": 10**9, "kernel_size": 3,
                                            "input_shape": [8, 2]}}])), 0),
    ("embedding input_dim 1e12", with_config(lambda c: c["model"]["config"].update(input_shape=[5], layers=[
        {"class_name": "Embedding", "config": {"name": "emb", "input_dim": 10**12, "output_dim": 4,
                                               "input_shape": [5]}}])), 0),
    ("embedding output_dim 1e9", with_config(lambda c: c["model"]["config"].update(input_shape=[5], layers=[
        {"class_name": "Embedding", "config": {"name": "emb", "input_dim": 10, "output_dim": 10**9,
                                               "input_shape": [5]}}])), 0),
    ("batchnorm input 1e9", with_config(lambda c: c["model"]["config"].update(input_shape=[10**9], layers=[
        {"class_name": "BatchNormalization", "config": {"name": "bn", "input_shape": [10**9]}}])), 0),
    ("layernorm input 1e9", with_config(lambda c: c["model"]["config"].update(input_shape=[10**9], layers=[
        {"class_name": "LayerNormalization", "config": {"name": "ln", "input_shape": [10**9]}}])), 0),
    ("normalization input 1e9", with_config(lambda c: c["model"]["config"].update(input_shape=[10**9], layers=[
        {"class_name": "Normalization", "config": {"name": "norm", "input_shape": [10**9]}}])), 0),
    ("prelu input 1e9", with_config(lambda c: c["model"]["config"].update(input_shape=[10**9], layers=[
        {"class_name": "PReLU", "config": {"name": "prelu", "input_shape": [10**9]}}])), 0),
    ("reshape to 1e6 x 1e6 then dense", with_config(lambda c: c["model"]["config"].update(input_shape=[10**12],
                                                                                       layers=[
        {"class_name": "Reshape", "config": {"name": "r", "target_shape": [10**6, 10**6], "input_shape": [10**12]}},
        {"class_name": "Dense", "config": {"name": "d", "units": 10**6}}])), 0),
    ("flatten of a huge image then dense", with_config(lambda c: c["model"]["config"].update(
        input_shape=[10**5, 10**5, 1], layers=[
            {"class_name": "Flatten", "config": {"name": "f", "input_shape": [10**5, 10**5, 1]}},
            {"class_name": "Dense", "config": {"name": "d", "units": 4}}])), 0),
    ("upsampling 1e6 then dense", with_config(lambda c: c["model"]["config"].update(input_shape=[4, 4, 1], layers=[
        {"class_name": "UpSampling2D", "config": {"name": "u", "size": [10**6, 10**6], "input_shape": [4, 4, 1]}},
        {"class_name": "Flatten", "config": {"name": "f"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 2}}])), 0),
    ("weights list declares 1e12", with_config(lambda c: c["weights"][0].update(shape=[10**6, 10**6])), 0),
    ("weights list dtype object", with_config(lambda c: c["weights"][0].update(dtype="object")), 0),
    ("weights list dtype string", with_config(lambda c: c["weights"][0].update(dtype="<U10")), 0),
    ("weights list not a list", with_config(lambda c: c.update(weights={"a": 1})), 0),
    ("optimizer slot shape 1e12", with_config(lambda c: c["optimizer_state"]["variables"][0].update(
        shape=[10**12])), 0),
    ("optimizer slot wrong shape", with_config(lambda c: c["optimizer_state"]["variables"][0].update(
        shape=[98])), 0),
    ("optimizer slot dtype object", with_config(lambda c: c["optimizer_state"]["variables"][0].update(
        dtype="object")), 0),
    ("optimizer iterations -5", with_config(lambda c: c["optimizer_state"].update(iterations=-5)), 0),
    ("optimizer unknown class", with_config(lambda c: c["compile"]["optimizer"].update(class_name="Evil")), 0),
    ("loss unknown class", with_config(lambda c: c["compile"]["loss"].update(class_name="os.system")), 0),
    ("rng state garbage", with_config(lambda c: c["rng_states"].update(dropout={"bit_generator": "MT19937"})), 0),
    # ------------------------------------------------------------------ classes and graphs
    ("unregistered layer class", with_config(lambda c: _layers(c)[0].update(class_name="Lambda")), 0),
    ("dotted class name", with_config(lambda c: _layers(c)[0].update(class_name="builtins.eval")), 0),
    ("model class not registered", with_config(lambda c: c["model"].update(class_name="subprocess.Popen")), 0),
    ("layer spec a string", with_config(lambda c: _layers(c).__setitem__(0, "Dense")), 0),
    ("layers a dict", with_config(lambda c: c["model"]["config"].update(layers={"a": 1})), 0),
    ("nested sequentials 30 deep", lambda m, c: archive({**m, "config.json": json.dumps(
        {**c, "model": _nest(c["model"], 30)}).encode()}), 0),
    ("graph cycle", with_config(lambda c: c.update(model=_graph([["dense_1", 0]], [["dense", 0]]))), 0),
    ("graph self loop", with_config(lambda c: c.update(model=_graph([["dense", 0]], [["dense_1", 0]]))), 0),
    ("graph dangling inbound", with_config(lambda c: c.update(model=_graph([["ghost", 0]], [["dense", 0]]))), 0),
    ("graph call index 99", with_config(lambda c: c.update(model=_graph([["input_layer", 99]], [["dense", 0]]))),
     0),
    ("graph output missing", with_config(lambda c: c.update(model=_graph([["input_layer", 0]], [["nowhere", 0]]))),
     0),
    ("graph 12000 nodes", with_config(lambda c: c.update(model=_graph(
        [["input_layer", 0]], [["dense_1", 0]], repeat=12_000))), 0),
    ("graph input shape 1e12", with_config(lambda c: c.update(model=_graph(
        [["input_layer", 0]], [["dense_1", 0]], shape=[10**12]))), 0),
    ("graph dense units 1e12", with_config(lambda c: c.update(model=_graph(
        [["input_layer", 0]], [["dense_1", 0]], units=10**12))), 0),
    ("graph dense units 2e7 after a wide input", with_config(lambda c: c.update(model=_graph(
        [["input_layer", 0]], [["dense_1", 0]], units=2 * 10**7, shape=[64]))), 0),
    ("sequential inside sequential, dense 1e12", with_config(lambda c: c["model"]["config"].update(layers=[
        {"class_name": "Sequential", "config": {"name": "inner", "layers": [
            {"class_name": "Dense", "config": {"name": "d", "units": 10**12, "input_shape": [6]}}]}}])), 0),
    ("sequential inside graph, dense 1e12", with_config(lambda c: c.update(model=_graph(
        [["input_layer", 0]], [["dense_1", 0]], inner={"class_name": "Sequential", "config": {
            "name": "dense", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 10**12}}]}}))),
     0),
    # ------------------------------------------------------------------ the arrays in weights.npz
    ("npy shape 1e12 x 784", with_weights(lambda c: _dense_w(c, {**_W, "shape": (10**12, 784)})), 0),
    ("npy object dtype", with_weights(lambda c: _dense_w(c, {**_W, "descr": "|O"}, b"\x80\x04N.")), 0),
    ("npy structured dtype", with_weights(lambda c: _dense_w(c, {**_W, "descr": [("a", "<f4"), ("b", "<f4")]},
                                                              bytes(384))), 0),
    ("npy big-endian", with_weights(lambda c: _dense_w(c, {**_W, "descr": ">f4"}, bytes(192))), 0),
    ("npy float64 for float32", with_weights(lambda c: _dense_w(c, {**_W, "descr": "<f8"}, bytes(384))), 0),
    ("npy wrong shape", with_weights(lambda c: _dense_w(c, {**_W, "shape": (8, 6)}, bytes(192))), 0),
    ("npy negative shape", with_weights(lambda c: _dense_w(c, {**_W, "shape": (-6, 8)}, bytes(192))), 0),
    ("npy header 1 MiB (v2)", with_weights(lambda c: _dense_w(c) | {"dense/W": npy(
        repr(_W)[:-1] + ", 'x': '" + "x" * MiB + "'}", bytes(192), version=(2, 0))}), 0),
    ("npy header not a dict", with_weights(lambda c: _dense_w(c, "[1, 2, 3]", bytes(192))), 0),
    ("npy header is code", with_weights(lambda c: _dense_w(c, "__import__('os').system('true')", bytes(192))), 0),
    ("npy version 9.9", with_weights(lambda c: _dense_w(c) | {"dense/W": npy(_W, bytes(192), version=(9, 9))}), 0),
    ("npy bad magic", with_weights(lambda c: _dense_w(c) | {"dense/W": npy(_W, bytes(192), magic=b"\x93NUMPZ")}),
     0),
    ("npy truncated values", with_weights(lambda c: _dense_w(c, _W, bytes(100))), 0),
    ("npy trailing bytes", with_weights(lambda c: _dense_w(c, _W, bytes(192 + 4))), 0),
    ("npy missing array", with_weights(lambda c: {k: v for k, v in _dense_w(c).items() if k != "dense/b"}), 0),
    ("npy extra array 1e12", with_weights(lambda c: _dense_w(c) | {"junk": npy({**_W, "shape": (10**12,)})}), 0),
    ("npy duplicate array", lambda m, c: archive({**m, "weights.npz": raw_zip(
        [stored(n + ".npy", d) for n, d in _dense_w(c).items()] + [stored("dense/W.npy", npy_of(np.zeros((6, 8),
                                                                                              "f4")))])}), 0),
    ("weights.npz not a zip", lambda m, c: archive({**m, "weights.npz": b"not a zip" * 10}), 0),
]


def _method(entry, method):
    entry.method = method
    return entry


def _nest(model_spec, depth):
    spec = model_spec
    for i in range(depth):
        spec = {"class_name": "Sequential", "config": {"name": f"s{i}", "layers": [spec]}}
    return spec


def _graph(inbound_dense, outputs, first=None, repeat=0, shape=(4,), units=3, inner=None):
    dense = inner or {"class_name": "Dense", "config": {"name": "dense", "units": units}}
    dense_1 = {"class_name": "Dense", "config": {"name": "dense_1", "units": 2}}
    nodes = [{"layer": "input_layer", "merge": False, "inbound": first or []},
             {"layer": "dense", "merge": False, "inbound": inbound_dense},
             {"layer": "dense_1", "merge": False, "inbound": [["dense", 0]]}]
    nodes += [{"layer": "dense", "merge": False, "inbound": [["dense", i]]} for i in range(repeat)]
    return {"class_name": "Functional", "config": {
        "name": "functional", "layers": [
            {"class_name": "InputLayer", "config": {"name": "input_layer", "shape": list(shape)}}, dense, dense_1],
        "nodes": nodes, "input_layers": [["input_layer", 0]], "output_layers": outputs}}


_BUDGET = "config.json describes a model of more than"
#: what the refusal must say, for the cases that test one mechanism: the weight budget counted from the
#: config before anything is built, the declared sizes checked before decompressing, the JSON limits
WHY = {name: _BUDGET for name, _, _ in CASES if any(k in name for k in (
    "1e12", "2e7", "1e9", "3e7", "1e5 x 1e5", "huge image", "1e6"))
    and not any(k in name for k in ("float", "weights list", "optimizer", "npy", "embedding input_dim"))}
WHY.update({
    "config.json bomb 64 MiB": "config.json declares 67108864 bytes, more than the limit of",
    "manifest.json bomb 64 MiB": "manifest.json declares 67108864 bytes, more than the limit of",
    "weights.npz bomb 64 MiB": "weights.npz declares 67108864 bytes, more than the",
    "optimizer.npz bomb 64 MiB": "optimizer.npz declares 67108864 bytes, more than the",
    "weights.npz size says 3 GiB": "weights.npz declares 3221225472 bytes",
    "listed bomb member 64 MiB": "manifest.json lists members glassnet does not read (big.bin)",
    "npy bomb inside weights.npz": "dense/W has shape (16777184,), the model needs (6, 8)",
    "lying npy bomb inside weights.npz": "but it holds 172 bytes",
    "config deep 200k": "JSON_DEPTH", "manifest deep 200k": "JSON_DEPTH", "config deep 150 objects": "JSON_DEPTH",
    "graph 12000 nodes": "JSON_ITEMS", "config 5 MiB": "JSON_LIMIT",
    "3000 members": "MAX_MEMBERS",
    "encrypted flag on config.json": "unencrypted", "encrypted flag on weights.npz": "unencrypted",
    "npy object dtype": "object arrays are not accepted",
    "npy shape 1e12 x 784": "its header declares shape (1000000000000, 784)",
})


@pytest.mark.parametrize("make, legit", [pytest.param(make, legit, id=name) for name, make, legit in CASES])
def test_hostile_model_file_is_refused(base, make, legit, request):
    folder, members, config = base
    name = request.node.callspec.id
    path = folder / (name.replace(" ", "_").replace("/", "_") + ".glassnet")
    path.write_bytes(make(members, config))
    refused(lambda: gn.load_model(path), path, legit, needle=WHY.get(name))


def test_the_budget_cases_are_the_layer_kinds_with_weights():
    """Every layer kind whose weights grow with its settings or its input is in the catalogue, refused by
    the budget (not by some other check that happens to come first)."""
    kinds = ("dense units 1e12", "conv2d filters 1e9", "conv2d kernel 1e5 x 1e5", "conv1d filters 1e9",
             "embedding output_dim 1e9", "batchnorm input 1e9", "layernorm input 1e9", "normalization input 1e9",
             "prelu input 1e9", "graph dense units 1e12", "sequential inside graph, dense 1e12",
             "sequential inside sequential, dense 1e12", "reshape to 1e6 x 1e6 then dense",
             "upsampling 1e6 then dense", "flatten of a huge image then dense", "input_shape 1e12")
    assert all(WHY.get(kind) == _BUDGET for kind in kinds), [k for k in kinds if WHY.get(k) != _BUDGET]


def _fortran_weights(members, config):
    import io
    with np.load(io.BytesIO(members["weights.npz"])) as npz:
        arrays = {k: npz[k] for k in npz.files}
    good = {k: npy_of(v) for k, v in arrays.items()}
    good["dense/W"] = npy_of(np.asfortranarray(arrays["dense/W"]))
    assert b"'fortran_order': True" in good["dense/W"][:128]
    return archive({**members, "weights.npz": raw_zip([stored(k + ".npy", v) for k, v in good.items()])})


HARMLESS = [
    ("comment length lies", lambda m, c: archive(m)[:-2] + b"\xff\xff"),
    ("fortran-order weight", _fortran_weights),
]


@pytest.mark.parametrize("make", [pytest.param(make, id=name) for name, make in HARMLESS])
def test_harmless_oddities_load_the_same_weights(base, make, request):
    """Oddities that change nothing the model needs load to the very weights saved (so the reader is not
    simply refusing everything unusual)."""
    import io
    folder, members, config = base
    path = folder / (request.node.callspec.id.replace(" ", "_") + ".glassnet")
    path.write_bytes(make(members, config))
    with np.load(io.BytesIO(members["weights.npz"])) as npz:
        saved = [npz[w["name"]] for w in config["weights"]]
    loaded = gn.load_model(path).get_weights()
    assert len(loaded) == len(saved) and all(np.array_equal(a, b) for a, b in zip(loaded, saved))


def test_the_untouched_file_loads(base):
    """The catalogue's base file, rewritten by its own zip writer, still loads: the attacks change only
    what their names say."""
    folder, members, config = base
    path = folder / "rewritten.glassnet"
    path.write_bytes(archive(members))
    model = gn.load_model(path)
    assert [w.shape for w in model.get_weights()] == [tuple(w["shape"]) for w in config["weights"]]


def test_limits_the_catalogue_relies_on():
    assert fmt.JSON_LIMIT == 4 * MiB and fmt.JSON_DEPTH == 100 and fmt.JSON_ITEMS == 100_000 and fmt.MAX_MEMBERS == 64


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("honest")
    model = gn.Sequential([gn.layers.Dense(2048, input_shape=(2048,)), gn.layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(np.ones((2, 2048), np.float32), np.ones((2, 4), np.float32))
    return model, model.save(folder / "honest.glassnet")


@pytest.mark.parametrize("compile", [False, True])
def test_an_honest_large_file_loads_within_twice_its_model(honest, compile):
    """The bound the catalogue holds hostile files to holds for an honest file too: a model of 16 MiB of
    weights (and 32 MiB of Adam slots) loads within twice the model's memory (weights, gradients and, when
    compiled, the optimizer's slots) plus 32 MiB, with the very weights saved."""
    from attacks.attack_helpers import SLACK, run
    model, path = honest
    loaded = {}
    error, peak = run(lambda: loaded.setdefault("model", gn.load_model(path, compile=compile)))
    assert error is None, error
    weights = sum(w.nbytes for w in model.get_weights())
    described = 2 * weights + (2 * weights if compile else 0)          # weights and gradients; Adam's m and v
    assert 16 * MiB < weights and peak < 2 * described + SLACK, (peak / MiB, described / MiB)
    assert all(np.array_equal(a, b) for a, b in zip(loaded["model"].get_weights(), model.get_weights()))
