"""Hostile model files (issue 13): each is refused with a ModelFileError naming the file, in bounded time
and memory, checked by small limits patched in rather than by timing."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError, format as fmt

from saving.saving_helpers import _members, _mlp, _rewrite, _trained


def _deep(n):
    return ("[" * n + "]" * n).encode()


# ---------------------------------------------------------------- JSON size and depth

def test_json_depth_counts_brackets_outside_strings():
    assert fmt.json_depth(b'{"a": [1, {"b": "[[[[{{{"}], "c": "\\"[[["}') == 3
    assert fmt.json_depth(_deep(3_000_000)) == 3_000_000
    assert fmt.json_depth(b"{}") == 1 and fmt.json_depth(b"1") == 0


@pytest.mark.parametrize("member", ["manifest.json", "config.json"])
def test_deeply_nested_json_is_refused_by_name(tmp_path, member):
    _, path, _ = _trained(tmp_path)
    _rewrite(path, replace={member: _deep(200_000)}, rehash=member != "manifest.json")
    with pytest.raises(ModelFileError, match=rf"{member} nests brackets 200000 deep, more than the limit of "
                                             rf"{fmt.JSON_DEPTH}") as err:
        gn.load_model(path)
    assert str(path) in str(err.value)


def test_deepest_legitimate_config_is_well_within_the_depth_limit(tmp_path):
    model = gn.Sequential([gn.layers.Dense(3, input_shape=(4,)), gn.layers.Dropout(0.1)])
    for _ in range(7):                                          # 8 models deep, as keras_nested.MAX_NESTING
        model = gn.Sequential([model, gn.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    path = model.save(tmp_path / "deep.glassnet")
    depth = fmt.json_depth(_members(path)["config.json"])
    assert depth * 2 < fmt.JSON_DEPTH
    gn.load_model(path)


def test_json_limit_is_checked_before_decompressing(tmp_path, monkeypatch):
    _, path, _ = _trained(tmp_path)
    size = len(_members(path)["config.json"])
    monkeypatch.setattr(fmt, "JSON_LIMIT", size - 1)
    with pytest.raises(ModelFileError, match=rf"config.json declares {size} bytes, more than the limit of "
                                             rf"{size - 1} \(glassnet.saving.format.JSON_LIMIT\)"):
        gn.load_model(path)
    monkeypatch.setattr(fmt, "JSON_LIMIT", size)
    gn.load_model(path)


def test_deep_json_in_a_keras_file_is_refused(tmp_path):
    pytest.importorskip("h5py")
    from saving.saving_helpers import rewrite_keras_config
    model = _mlp()
    src = model.save(tmp_path / "m.keras")
    dst = tmp_path / "deep.keras"
    rewrite_keras_config(src, dst, lambda c: None)
    members = _members(dst)
    members["config.json"] = _deep(100_000)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match="config.json nests brackets 100000 deep") as err:
        gn.load_model(dst)
    assert str(dst) in str(err.value)


# ---------------------------------------------------------------- files that are not regular files

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")


@needs_fifo
def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "model.glassnet"
    os.mkfifo(fifo)                                     # opening it for reading would block forever
    with pytest.raises(ModelFileError, match=r"it is a FIFO \(named pipe\), not a regular file") as err:
        gn.load_model(fifo)
    assert str(fifo) in str(err.value)
    with pytest.raises(ModelFileError, match="FIFO"):
        gn.saving.read_config(fifo)
    model = _mlp()
    model.build((None, 6))
    weights_fifo = tmp_path / "w.weights.npz"
    os.mkfifo(weights_fifo)
    with pytest.raises(ModelFileError, match="FIFO"):
        model.load_weights(weights_fifo)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match=r"'/dev/zero': it is a character device, not a regular file"):
        gn.load_model("/dev/zero")
    model = _mlp()
    model.build((None, 6))
    with pytest.raises(ModelFileError, match="character device"):
        model.load_weights("/dev/zero")


def test_a_directory_still_fails_cleanly(tmp_path):
    with pytest.raises((ModelFileError, IsADirectoryError, PermissionError)):
        gn.load_model(tmp_path)


# ---------------------------------------------------------------- a damaged zip header

def _corrupt_version_needed(path):
    """Set "version needed to extract" of every central directory entry to 25.5 (zipfile refuses it
    with NotImplementedError)."""
    data = bytearray(path.read_bytes())
    start = 0
    while (at := data.find(b"PK\x01\x02", start)) >= 0:
        data[at + 6] = 255                          # one byte: "version needed to extract"
        start = at + 4
    path.write_bytes(bytes(data))


def test_a_damaged_version_needed_to_extract_is_a_model_file_error(tmp_path):
    _, path, _ = _trained(tmp_path)
    _corrupt_version_needed(path)
    with pytest.raises(ModelFileError, match=r"its zip directory asks for a feature glassnet does not read "
                                             r"\(zip file version 25.5\)") as err:
        gn.load_model(path)
    assert str(path) in str(err.value)
    model = _mlp()
    model.build((None, 6))
    with pytest.raises(ModelFileError, match="zip file version"):
        model.load_weights(path)


def test_a_damaged_weights_npz_is_a_model_file_error(tmp_path):
    model, _, _ = _trained(tmp_path)
    path = model.save_weights(tmp_path / "w.weights.npz")
    _corrupt_version_needed(path)
    with pytest.raises(ModelFileError, match="zip file version") as err:
        model.load_weights(path)
    assert str(path) in str(err.value)


# ---------------------------------------------------------------- many members

def test_too_many_members_are_refused_before_anything_else(tmp_path):
    path = tmp_path / "many.glassnet"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(2000):
            zf.writestr(f"m{i}", b"")
        zf.writestr("manifest.json", b"[" * 10**6)       # never read
    with pytest.raises(ModelFileError, match=rf"the archive has 2001 members, more than the limit of "
                                             rf"{fmt.MAX_MEMBERS} \(glassnet.saving.format.MAX_MEMBERS\)") as err:
        gn.load_model(path)
    assert str(path) in str(err.value)


def test_duplicate_members_are_found_in_linear_time():
    from glassnet.saving import archive
    names = [f"m{i}" for i in range(200_000)] + ["m7", "m3", "m7"]
    assert archive.duplicates(names) == ["m3", "m7"]      # a quadratic check would take minutes here


def test_duplicate_members_are_refused_by_name(tmp_path, monkeypatch):
    _, path, _ = _trained(tmp_path)
    members = _members(path)
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("config.json", members["config.json"])
    with pytest.raises(ModelFileError, match=r"holds members twice \(config.json\)"):
        gn.load_model(path)


# ---------------------------------------------------------------- decompression bounded by what config.json lists

def _stored_deflated(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _rehashed(members):
    import hashlib
    manifest = json.loads(members["manifest.json"])
    manifest["members"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                           for n, d in members.items() if n != "manifest.json"}
    members["manifest.json"] = json.dumps(manifest).encode()
    return members


def _spy_reads(monkeypatch):
    from glassnet.saving import archive
    read = []
    original = archive._read_member
    monkeypatch.setattr(archive, "_read_member", lambda path, zf, name: read.append(name) or original(path, zf, name))
    return read


def test_an_extra_listed_member_is_refused_before_it_is_read(tmp_path, monkeypatch):
    _, path, _ = _trained(tmp_path)
    members = _members(path)
    members["extra.bin"] = bytes(8 * 2**20)                  # 8 MiB of zeros, 8 KB deflated
    _stored_deflated(path, _rehashed(members))
    read = _spy_reads(monkeypatch)
    with pytest.raises(ModelFileError, match=r"manifest.json lists members glassnet does not read \(extra.bin\)"):
        gn.load_model(path)
    assert read == ["manifest.json"]


@pytest.mark.parametrize("inner", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_weights_npz_larger_than_config_lists_is_refused_before_it_is_read(tmp_path, monkeypatch, inner):
    """8 MiB of zeros as an extra array in weights.npz: stored, weights.npz declares more bytes than the
    arrays config.json lists can take and is never read; deflated inside weights.npz (a nested bomb),
    its name is refused before its values are decompressed."""
    model, path, _ = _trained(tmp_path)
    members = _members(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(members["weights.npz"])) as old, zipfile.ZipFile(buf, "w", inner) as out:
        for info in old.infolist():
            out.writestr(info.filename, old.read(info))
        out.writestr("junk.npy", _npy(np.zeros(2**20)))
    members["weights.npz"] = buf.getvalue()
    _stored_deflated(path, _rehashed(members))
    read = _spy_reads(monkeypatch)
    counted = _count_zip_reads(monkeypatch)
    if inner == zipfile.ZIP_STORED:
        with pytest.raises(ModelFileError, match=r"weights.npz declares \d+ bytes, more than the \d+ that the "
                                                 r"arrays config.json lists can take") as err:
            gn.load_model(path)
        assert "weights.npz" not in read
    else:
        with pytest.raises(ModelFileError, match="weights.npz has unexpected junk") as err:
            gn.load_model(path)
        assert counted["bytes"] < 2**20                   # the 8 MiB were never decompressed
    assert str(path) in str(err.value)


def _npy(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


def _count_zip_reads(monkeypatch):
    counted = {"bytes": 0}
    read = zipfile.ZipExtFile.read

    def counting(self, *args):
        data = read(self, *args)
        counted["bytes"] += len(data)
        return data
    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)
    return counted


def _npz_deflated(path, arrays):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, array)


def test_load_weights_checks_names_and_headers_before_reading_values(tmp_path, monkeypatch):
    model, _, _ = _trained(tmp_path)
    weights = dict(zip(gn.saving.weights.weight_names(model), model.get_weights()))
    counted = _count_zip_reads(monkeypatch)

    extra = tmp_path / "extra.npz"                                   # one array too many: 8 MiB of zeros
    _npz_deflated(extra, {**weights, "junk": np.zeros(2**20)})
    with pytest.raises(ModelFileError, match=rf"'{extra}': it holds {len(weights) + 1} arrays"):
        model.load_weights(extra)
    assert counted["bytes"] == 0

    big = tmp_path / "big.npz"                                       # a right name, an absurd shape
    name = next(iter(weights))
    _npz_deflated(big, {**weights, name: np.zeros((2**20, weights[name].shape[-1]), np.float32)})
    with pytest.raises(ModelFileError, match=rf"array '{name}' has shape \({2**20}, "):
        model.load_weights(big)
    assert counted["bytes"] < 2**16


def test_weights_npz_arrays_are_checked_from_their_headers(tmp_path, monkeypatch):
    from glassnet.saving import arrays
    model, path, _ = _trained(tmp_path)
    config = gn.saving.read_config(path)
    expected = arrays.expected_weights(path, config)
    name, shape, dtype = expected[0]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, s, d in expected:
            with zf.open(n + ".npy", "w") as fh:
                np.lib.format.write_array(fh, np.zeros((2**18,) + s[1:] if n == name else s, d))
    with pytest.raises(ModelFileError, match=rf"weights.npz: {name} has shape \({2**18}, .*the model needs"):
        arrays.read_arrays(path, "weights.npz", buf.getvalue(), expected)


def test_a_model_file_cut_short_says_so_not_that_it_is_an_npz(tmp_path):
    gn.set_random_seed(0)
    model = gn.Sequential([gn.Input((4,)), gn.layers.Dense(3)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)
    data = model.save(tmp_path / "model").read_bytes()
    cut = tmp_path / "cut.glassnet"
    npz_like = 0
    for percent in range(40, 100, 4):             # past the inner weights.npz's own directory
        cut.write_bytes(data[:len(data) * percent // 100])
        with pytest.raises(gn.ModelFileError) as err:
            gn.load_model(cut)
        assert "truncated or damaged" in str(err.value) and "load_weights" not in str(err.value)
        npz_like += "its first member is config.json" in str(err.value)
    assert npz_like                                # some cuts do end on the inner archive's directory
    # a real .npz of weights still gets the pointer to load_weights
    weights = tmp_path / "only.npz"
    np.savez(weights, **{f"{i}.npy": w for i, w in enumerate(model.get_weights())})
    with pytest.raises(gn.ModelFileError, match="NumPy .npz archive.*model.load_weights"):
        gn.load_model(weights)
