"""glassnet.datasets.mnist and fashion_mnist: the shipped files, the Debian directories, path=
(directories and npz) and the search order (GLASSNET_DATA, the caches, the system directories).

Digests are computed with hashlib, label files parsed with struct + gzip."""
import collections
import hashlib
import pathlib
import re

import numpy as np
import pytest

import glassnet as gn
from dataset_helpers import (DATA_DIR, FASHION_DIR, MNIST_T10K_HISTOGRAM, NAMES, assert_same, idx_bytes,
                             make_split, parse_labels, write, write_dataset)
from glassnet.datasets import fashion_mnist, mnist


# --------------------------------------------------------------------------- shipped files

def test_shipped_files_match_the_official_digests():
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        digest = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
        assert digest == mnist.SHA256[name]


def test_mnist_loads_a_path_directory_of_the_shipped_files(tmp_path):
    for prefix in ("train", "t10k"):       # the test split twice: real files, official names
        for kind in ("images-idx3", "labels-idx1"):
            (tmp_path / f"{prefix}-{kind}-ubyte.gz").write_bytes((DATA_DIR / f"t10k-{kind}-ubyte.gz").read_bytes())
    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist.load_data(path=tmp_path)
    assert x_train.shape == x_test.shape == (10000, 28, 28) and y_train.shape == (10000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_test, minlength=10).tolist() == MNIST_T10K_HISTOGRAM


@pytest.mark.skipif(not (FASHION_DIR / "train-labels-idx1-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_the_debian_directory(isolated, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", [str(FASHION_DIR)])
    (x_train, y_train), (x_test, y_test) = gn.datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    train_counts = collections.Counter(parse_labels(FASHION_DIR / "train-labels-idx1-ubyte.gz"))
    test_counts = collections.Counter(parse_labels(FASHION_DIR / "t10k-labels-idx1-ubyte.gz"))
    assert [train_counts[k] for k in range(10)] == [6000] * 10
    assert [test_counts[k] for k in range(10)] == [1000] * 10
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10
    assert fashion_mnist.CLASS_NAMES[y_train[0]] == "Ankle boot"     # the first training image


def test_default_system_directories():
    assert "/usr/share/datasets/fashion-mnist" in fashion_mnist.SYSTEM_DIRS
    assert "/usr/share/datasets/mnist" in mnist.SYSTEM_DIRS
    assert set(mnist.SHA256) == set(fashion_mnist.SHA256) == {n + ".gz" for n in NAMES}
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in [*mnist.SHA256.values(), *fashion_mnist.SHA256.values()])


# --------------------------------------------------------------------------- path=: directories and npz

@pytest.mark.parametrize("compress", [True, False], ids=["gz", "raw"])
def test_load_data_from_a_directory(tmp_path, compress):
    expected = write_dataset(tmp_path, n_train=6, n_test=4, compress=compress)
    assert_same(gn.datasets.mnist.load_data(path=tmp_path), expected)
    assert_same(gn.datasets.fashion_mnist.load_data(path=str(tmp_path)), expected)


def test_load_data_from_an_npz(tmp_path):
    (xa, ya), (xb, yb) = make_split(5, 0), make_split(2, 1)
    np.savez(tmp_path / "mnist.npz", x_train=xa, y_train=ya, x_test=xb, y_test=yb)
    assert_same(gn.datasets.mnist.load_data(path=tmp_path / "mnist.npz"), ((xa, ya), (xb, yb)))
    assert_same(gn.datasets.mnist.load_data(path=tmp_path), ((xa, ya), (xb, yb)))    # a directory with mnist.npz


def test_npz_with_int64_labels_is_accepted_as_uint8(tmp_path):
    (xa, ya), (xb, yb) = make_split(5, 0), make_split(2, 1)
    np.savez(tmp_path / "d.npz", x_train=xa, y_train=ya.astype(np.int64), x_test=xb, y_test=yb.astype(np.int64))
    (_, y_train), (_, y_test) = gn.datasets.mnist.load_data(path=tmp_path / "d.npz")
    assert y_train.dtype == y_test.dtype == np.uint8 and y_train.tolist() == ya.tolist()


def test_bad_npz_files_name_the_file(tmp_path):
    x, y = make_split(3, 0)
    cases = {
        "missing.npz": lambda p: np.savez(p, x_train=x, y_train=y, x_test=x),
        "pickled.npz": lambda p: np.savez(p, x_train=np.array([None, 1], dtype=object), y_train=y, x_test=x, y_test=y),
        "notzip.npz": lambda p: pathlib.Path(p).write_bytes(b"PK\x03\x04 this is not a zip archive"),
        "mismatch.npz": lambda p: np.savez(p, x_train=x, y_train=y[:2], x_test=x, y_test=y),
        "shape.npz": lambda p: np.savez(p, x_train=x.reshape(3, -1), y_train=y, x_test=x, y_test=y),
        "labels.npz": lambda p: np.savez(p, x_train=x, y_train=y.astype(np.int64) + 10, x_test=x, y_test=y),
        "floats.npz": lambda p: np.savez(p, x_train=x / 255, y_train=y, x_test=x, y_test=y),
    }
    messages = {"missing.npz": "y_test", "pickled.npz": "x_train", "notzip.npz": "npz",
                "mismatch.npz": "do not match", "shape.npz": "expected (n, 28, 28)", "labels.npz": "0..9",
                "floats.npz": "uint8"}
    for name, make in cases.items():
        path = tmp_path / name
        make(path)
        with pytest.raises(ValueError) as info:
            gn.datasets.mnist.load_data(path=path)
        assert str(path) in str(info.value), name
        assert messages[name] in str(info.value), (name, str(info.value))


def test_path_that_is_missing_or_incomplete(tmp_path):
    with pytest.raises(gn.datasets.DatasetNotFoundError) as info:
        gn.datasets.mnist.load_data(path=tmp_path / "nowhere")
    assert isinstance(info.value, FileNotFoundError) and str(tmp_path / "nowhere") in str(info.value)
    write(tmp_path / "partial" / "train-images-idx3-ubyte", idx_bytes(make_split(2, 0)[0]))
    write(tmp_path / "partial" / "train-labels-idx1-ubyte", idx_bytes(make_split(2, 0)[1]))
    with pytest.raises(FileNotFoundError) as info:
        gn.datasets.mnist.load_data(path=tmp_path / "partial")
    assert "only 2 of the 4 files" in str(info.value) and "t10k-images-idx3-ubyte" in str(info.value)


# --------------------------------------------------------------------------- the search order

def loaded_size():
    (x_train, _), _ = gn.datasets.mnist.load_data()
    return len(x_train)


def test_search_order_glassnet_data_then_cache_then_system(isolated, monkeypatch):
    write_dataset(isolated / "system" / "mnist", n_train=7)
    assert loaded_size() == 7
    write_dataset(isolated / "xdg" / "glassnet" / "mnist", n_train=5)
    assert loaded_size() == 5                                   # the cache wins over the system directory
    write_dataset(isolated / "gdata", n_train=3)
    monkeypatch.setenv("GLASSNET_DATA", str(isolated / "gdata"))
    assert loaded_size() == 3                                   # GLASSNET_DATA wins over the cache
    write_dataset(isolated / "gdata" / "mnist", n_train=2)
    assert loaded_size() == 2                                   # its mnist/ subfolder before its own files
    monkeypatch.delenv("GLASSNET_DATA")
    assert loaded_size() == 5


def test_glassnet_data_subfolder_per_dataset(isolated, monkeypatch):
    write_dataset(isolated / "gdata" / "mnist", n_train=2)
    write_dataset(isolated / "gdata" / "fashion-mnist", n_train=4)
    monkeypatch.setenv("GLASSNET_DATA", str(isolated / "gdata"))
    assert len(gn.datasets.mnist.load_data()[0][0]) == 2
    assert len(gn.datasets.fashion_mnist.load_data()[0][0]) == 4


def test_cache_defaults_to_home_without_xdg(isolated, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    write_dataset(isolated / "home" / ".cache" / "glassnet" / "mnist", n_train=6)
    assert loaded_size() == 6
    assert gn.datasets.cache_dir("mnist") == str(isolated / "home" / ".cache" / "glassnet" / "mnist")


def test_keras_cache_is_reused_after_the_user_cache(isolated):
    (xa, ya), (xb, yb) = make_split(4, 0), make_split(2, 1)
    (isolated / "keras" / "datasets").mkdir(parents=True)
    np.savez(isolated / "keras" / "datasets" / "mnist.npz", x_train=xa, y_train=ya, x_test=xb, y_test=yb)
    write_dataset(isolated / "system" / "mnist", n_train=7)
    assert loaded_size() == 4
    write_dataset(isolated / "xdg" / "glassnet" / "mnist", n_train=5)
    assert loaded_size() == 5
    write_dataset(isolated / "keras" / "datasets" / "fashion-mnist", n_train=8)
    assert len(gn.datasets.fashion_mnist.load_data()[0][0]) == 8


def test_nothing_found_lists_every_place_and_the_remedies(isolated, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(isolated / "gdata"))
    monkeypatch.setenv("GLASSNET_OFFLINE", "1")
    monkeypatch.setattr(mnist, "MIRRORS", ["http://127.0.0.1:9/never/"])   # not tried: offline
    with pytest.raises(gn.datasets.DatasetNotFoundError) as info:
        gn.datasets.mnist.load_data()
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    for place in (isolated / "gdata" / "mnist", isolated / "gdata", isolated / "xdg" / "glassnet" / "mnist",
                  isolated / "keras" / "datasets", isolated / "system" / "mnist"):
        assert str(place) in message
    assert "GLASSNET_OFFLINE" in message and "127.0.0.1:9" not in message
    assert "path=" in message and "GLASSNET_DATA" in message and "copy them to" in message
