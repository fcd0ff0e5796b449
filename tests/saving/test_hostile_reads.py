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
