"""Hostile model files (issue 13): each is refused with a ModelFileError naming the file, in bounded time
and memory, checked by small limits patched in rather than by timing."""
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
