"""The files of tests/cli/test_catalogue.py: a tiny model, datasets, and every kind of bad file (missing,
a folder, a FIFO, empty, random bytes, truncated, zip and PNG bombs, deep JSON, lying .npy headers, bad
history.json and metrics.json, TOML of the wrong types), built once per module by `build_files`."""
import hashlib
import io
import json
import os
import pathlib
import struct
import zipfile
import zlib

import numpy as np

import glassnet as gn

HUGE = "1000000000000"                                        # 10**12


def _npy_bytes(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _npy_header_only(shape, dtype="<f4", payload=64, version=1):
    """An .npy (format `version`: 1, 2 or 3) whose header declares `shape` but which holds `payload`
    bytes of data."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode("latin1")
    length = "<H" if version == 1 else "<I"
    header += b" " * (63 - (len(header) + 8 + struct.calcsize(length)) % 64) + b"\n"
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack(length, len(header)) + header + bytes(payload)


def _zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _model_members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _with_manifest(members):
    """The members with manifest.json listing them (sizes and hashes) as a genuine save would."""
    manifest = json.loads(members["manifest.json"])
    manifest["members"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                           for n, d in members.items() if n != "manifest.json"}
    return {**members, "manifest.json": json.dumps(manifest).encode()}


def _zeros_deflated_member(zf, name, nbytes):
    """Write `nbytes` zero bytes as a deflated member, a megabyte at a time (a bomb: ~1000:1)."""
    with zf.open(zipfile.ZipInfo(name), "w", force_zip64=True) as fh:
        zero = bytes(2**20)
        for _ in range(nbytes // 2**20):
            fh.write(zero)


def _png_declaring(width, height):
    """A valid PNG header declaring width x height 1-bit pixels with almost no data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
            + chunk(b"IEND", b""))


def build_files(d):
    """Every file the catalogue names, built in the folder `d`: {placeholder: path}."""
    d = pathlib.Path(d)
    p = {}

    def put(key, name, data):
        path = d / name
        path.write_bytes(data)
        p[key] = str(path)
        return path

    rng = np.random.default_rng(13)
    (d / "cwd").mkdir()
    p["cwd"] = str(d / "cwd")
    run = d / "run"
    run.mkdir()
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Input((4,)), gn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.save(run / "model.glassnet")
    good = (run / "model.glassnet").read_bytes()
    p["model"], p["run"] = str(run / "model.glassnet"), str(run)
    x, y = rng.random((20, 4)).astype(np.float32), np.arange(20) % 3
    buf = io.BytesIO()
    np.savez(buf, x_train=x, y_train=y, x_test=x, y_test=y)
    put("data", "tiny.npz", buf.getvalue())
    (run / "metrics.json").write_text(json.dumps({"options": {"dataset": p["data"]}}))
    (run / "history.json").write_text('{"loss": [1.0, 0.5]}')
    put("npy", "one.npy", _npy_bytes(x[:2]))

    p["missing"], p["missing_npz"] = str(d / "missing.glassnet"), str(d / "missing.npz")
    p["missing_npy"], p["missing_png"], p["missing_toml"] = (str(d / f"missing.{e}") for e in ("npy", "png", "toml"))
    for key, name in (("folder", "folder"), ("folder_npz", "folder.npz"), ("folder_npy", "folder.npy")):
        (d / name).mkdir()
        p[key] = str(d / name)
    for key, name in (("fifo", "fifo"), ("fifo_npz", "fifo.npz"), ("fifo_npy", "fifo.npy")):
        os.mkfifo(d / name)
        p[key] = str(d / name)
    os.symlink(d / "loop", d / "loop")
    p["loop"], p["long"] = str(d / "loop"), str(d / ("x" * 5000))
    noise = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    for ext in ("", ".npz", ".npy", ".png"):
        put("empty" + ext.replace(".", "_"), "empty" + (ext or ".glassnet"), b"")
        put("random" + ext.replace(".", "_"), "random" + (ext or ".bin"), noise)

    # model files
    put("truncated", "truncated.glassnet", good[: len(good) // 2])
    members = _model_members(run / "model.glassnet")
    bomb = d / "bomb.glassnet"                      # a listed member of 64 MiB zeros in 64 KB
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in _with_manifest({**members, "extra.bin": b""}).items():
            if name != "extra.bin":
                zf.writestr(name, data)
        _zeros_deflated_member(zf, "extra.bin", 64 * 2**20)
    p["bomb_model"] = str(bomb)
    inner = io.BytesIO()                            # weights.npz holding a deflated 64 MiB array besides its own
    with zipfile.ZipFile(io.BytesIO(members["weights.npz"])) as old, \
            zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info))
        with new.open("junk.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header_only((8 * 2**20,), "<f8", payload=0))
            for _ in range(64):
                fh.write(bytes(2**20))
    _zip(d / "nested_bomb.glassnet", _with_manifest({**members, "weights.npz": inner.getvalue()}))
    p["nested_bomb_model"] = str(d / "nested_bomb.glassnet")
    deep = b"[" * 200_000 + b"]" * 200_000
    _zip(d / "deep_config.glassnet", _with_manifest({**members, "config.json": deep}))
    p["deep_config_model"] = str(d / "deep_config.glassnet")
    _zip(d / "deep_manifest.glassnet", {**members, "manifest.json": deep})
    p["deep_manifest_model"] = str(d / "deep_manifest.glassnet")
    config = members["config.json"].decode()
    assert '"units": 3' in config
    _zip(d / "huge_units.glassnet", _with_manifest({**members, "config.json":
                                                    config.replace('"units": 3', '"units": 1000000000000').encode()}))
    p["huge_units_model"] = str(d / "huge_units.glassnet")
    put("model_as_npz", "model.npz", good)
    gn.Sequential([gn.layers.Input((8, 8, 1)), gn.layers.Conv2D(2, 3)]).save(d / "conv.glassnet")
    gn.Sequential([gn.layers.Dense(3, activation="softmax")]).save(d / "unbuilt.glassnet")
    p["conv_model"], p["unbuilt_model"] = str(d / "conv.glassnet"), str(d / "unbuilt.glassnet")

    # arrays and datasets
    put("huge_npy", "huge.npy", _npy_header_only((10**12, 784)))
    put("huge_v3_npy", "huge_v3.npy", _npy_header_only((10**12, 784), version=3))
    put("huge_dtype_npy", "huge_dtype.npy", _npy_header_only((2, 4), "<U100000000"))
    put("negative_npy", "negative.npy", _npy_header_only((-5, 4)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("x_train.npy", _npy_header_only((10**12, 784)))
        for key in ("y_train", "x_test", "y_test"):
            zf.writestr(f"{key}.npy", _npy_bytes(x if key[0] == "x" else y))
    put("huge_npz", "huge.npz", buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("x_test.npy", _npy_header_only((10**12, 784), version=3))
        for key in ("y_test", "x_train", "y_train"):
            zf.writestr(f"{key}.npy", _npy_bytes(x if key[0] == "x" else y))
    put("huge_v3_npz", "huge_v3.npz", buf.getvalue())
    buf = io.BytesIO()
    np.savez(buf, x_train=x, x_test=x)
    put("unlabelled_npz", "unlabelled.npz", buf.getvalue())
    buf = io.BytesIO()
    wide = rng.random((20, 5)).astype(np.float32)
    np.savez(buf, x_train=wide, y_train=y, x_test=wide, y_test=y)
    put("wide_npz", "wide.npz", buf.getvalue())
    put("wide_npy", "wide.npy", _npy_bytes(wide))
    put("empty_batch_npy", "empty_batch.npy", _npy_bytes(np.zeros((0, 4), np.float32)))
    for key, arrays in {"nan": dict(x_train=np.full_like(x, np.nan), y_train=y),
                        "huge_labels": dict(x_train=x, y_train=y * 10**15),
                        "uint64_labels": dict(x_train=x, y_train=y.astype(np.uint64) + 2**63)}.items():
        buf = io.BytesIO()
        np.savez(buf, x_test=x, y_test=y, **arrays)
        put(f"{key}_npz", f"{key.replace('labels', 'y')}.npz", buf.getvalue())
    put("object_npy", "object.npy", _npy_header_only((2, 4), "|O", payload=16))
    put("string_npy", "strings.npy", _npy_bytes(np.array(["abcd"] * 8).reshape(2, 4)))
    put("data_as_npy", "data.npy", (d / "tiny.npz").read_bytes())
    bad_run = d / "bad_metrics_run"
    bad_run.mkdir()
    (bad_run / "model.glassnet").write_bytes(good)
    (bad_run / "metrics.json").write_text('{"options": ')
    p["bad_metrics_run"] = str(bad_run)
    for key in ("deep_metrics_run", "fifo_metrics_run", "gone_dataset_run"):
        (d / key).mkdir()
        (d / key / "model.glassnet").write_bytes(good)
        p[key] = str(d / key)
    (d / "deep_metrics_run" / "metrics.json").write_text('{"options": ' + "[" * 100_000 + "]" * 100_000 + "}")
    os.mkfifo(d / "fifo_metrics_run" / "metrics.json")
    (d / "gone_dataset_run" / "metrics.json").write_text(json.dumps({"options": {"dataset": p["missing_npz"]}}))

    # images
    put("bomb_png", "bomb.png", _png_declaring(30000, 30000))          # 900 million pixels in 150 bytes
    small = io.BytesIO()
    from PIL import Image
    Image.new("L", (16, 16), 255).save(small, format="PNG")
    put("truncated_png", "truncated.png", small.getvalue()[:40])

    # run folders for plot
    for key, text in {"lists": '{"loss": [[1, 2], [3, 4]]}', "dicts": '{"loss": [{"a": 1}]}',
                      "strings": '{"loss": ["0.5", "x"]}', "list": "[1, 2]",
                      "deep": "[" * 200_000 + "]" * 200_000}.items():
        folder = d / f"run_history_{key}"
        folder.mkdir()
        (folder / "model.glassnet").write_bytes(good)
        (folder / "history.json").write_text(text)
        p[f"run_history_{key}"] = str(folder)
    folder = d / "run_history_random"
    folder.mkdir()
    (folder / "model.glassnet").write_bytes(good)
    (folder / "history.json").write_bytes(noise)
    p["run_history_random"] = str(folder)
    folder = d / "run_fifo_history"                 # history.json a FIFO: never opened; the model is refused
    folder.mkdir()
    os.mkfifo(folder / "history.json")
    (folder / "model.glassnet").write_bytes(good[:100])
    p["run_fifo_history"] = str(folder)
    folder = d / "run_truncated_model"
    folder.mkdir()
    (folder / "model.glassnet").write_bytes(good[: len(good) // 2])
    p["run_truncated_model"] = str(folder)

    # --config files
    for key, text in {"epochs_string": 'epochs = "ten"', "epochs_float": "epochs = 2.5",
                      "epochs_huge": f"epochs = {HUGE}", "lr_nan": "lr = nan", "lr_inf": "lr = inf",
                      "hidden_huge": f"hidden = [4, {HUGE}]", "hidden_floats": "hidden = [1.5, 2.0]",
                      "hidden_table": "hidden = {width = 4}", "quiet_string": 'quiet = "yes"',
                      "dataset_number": "dataset = 3", "seed_date": "seed = 2024-01-01",
                      "unknown": "colour = 'red'"}.items():
        put(f"toml_{key}", f"{key}.toml", (text + "\n").encode())
    put("big_toml", "big.toml", b"# " + b"x" * (2 * 2**20) + b"\n")
    put("deep_toml", "deep.toml", b"epochs = " + b"[" * 100_000 + b"]" * 100_000 + b"\n")
    return p
