"""glassnet.datasets: the IDX reader, mnist / fashion_mnist loaders (search order, download,
verification), mnist_mini, the toy sets and the data helpers.

References are independent of the code under test: label files are parsed here with
struct + gzip, digests computed with hashlib, truth tables with Python's bit operators,
geometry from the closed forms; downloads are served by a local http.server on 127.0.0.1.
"""
import collections
import functools
import gzip
import hashlib
import http.server
import math
import pathlib
import re
import socket
import struct
import threading

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets import fashion_mnist, mnist, toy

DATA_DIR = pathlib.Path(gn.datasets.__file__).parent / "data"
FASHION_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
SEED_002 = pathlib.Path("/work/shared/seeds/002_da351929dd048291.txt")
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# The official MNIST test split's class counts (LeCun et al.), a reference independent of any parsing.
MNIST_T10K_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --------------------------------------------------------------------------- helpers

def idx_bytes(array, type_code=0x08):
    """An IDX file's bytes, built with struct (not with glassnet)."""
    array = np.asarray(array)
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data, compress=True):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)
    return path


def make_split(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8)


def write_dataset(directory, n_train, n_test=3, seed=0, compress=True):
    """Write the four IDX files of a tiny dataset; return its arrays ((x, y), (x, y))."""
    train, test = make_split(n_train, seed), make_split(n_test, seed + 1)
    for (x, y), prefix in ((train, "train"), (test, "t10k")):
        write(pathlib.Path(directory) / f"{prefix}-images-idx3-ubyte", idx_bytes(x), compress)
        write(pathlib.Path(directory) / f"{prefix}-labels-idx1-ubyte", idx_bytes(y), compress)
    return train, test


def parse_labels(path):
    """Labels of an IDX1 file, parsed with struct alone."""
    data = pathlib.Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    magic, count = struct.unpack(">II", data[:8])
    assert magic == 2049 and len(data) == 8 + count
    return list(data[8:])


def assert_same(loaded, expected):
    (xa, ya), (xb, yb) = loaded
    (ea, fa), (eb, fb) = expected
    for got, want in ((xa, ea), (ya, fa), (xb, eb), (yb, fb)):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """HOME, XDG_CACHE_HOME, KERAS_HOME, the system directories and the mirrors all point into tmp_path."""
    for var in ("GLASSNET_DATA", "GLASSNET_OFFLINE", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for module in (mnist, fashion_mnist):
        monkeypatch.setattr(module, "SYSTEM_DIRS", [str(tmp_path / "system" / module.SPEC["name"])])
        monkeypatch.setattr(module, "MIRRORS", [])
    return tmp_path


# --------------------------------------------------------------------------- shipped files

def test_shipped_files_match_the_official_digests():
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        digest = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
        assert digest == mnist.SHA256[name]


def test_read_idx_on_the_shipped_t10k_split():
    x = gn.datasets.read_idx(DATA_DIR / "t10k-images-idx3-ubyte.gz")
    y = gn.datasets.read_idx(DATA_DIR / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    reference = parse_labels(DATA_DIR / "t10k-labels-idx1-ubyte.gz")
    assert y.tolist() == reference
    counts = collections.Counter(reference)
    assert [counts[k] for k in range(10)] == MNIST_T10K_HISTOGRAM
    assert np.bincount(y, minlength=10).tolist() == MNIST_T10K_HISTOGRAM
    first = gzip.decompress((DATA_DIR / "t10k-images-idx3-ubyte.gz").read_bytes())[16:16 + 784]
    assert x[0].tobytes() == first


def test_mnist_mini_still_splits_the_bundled_test_set():
    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    labels = np.array(parse_labels(DATA_DIR / "t10k-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(y_test, labels[4::5])
    assert (np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10)).tolist() == \
        MNIST_T10K_HISTOGRAM


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


# --------------------------------------------------------------------------- corrupt IDX files

GOOD_LABELS = idx_bytes(np.arange(10, dtype=np.uint8) % 10)

CORRUPT = {
    "bad magic": (b"\x08\x03" + GOOD_LABELS[2:], "not an IDX file"),
    "unknown type": (GOOD_LABELS[:2] + b"\x07" + GOOD_LABELS[3:], "unknown IDX type code 0x07"),
    "zero dims": (b"\x00\x00\x08\x00", "0 dimensions"),
    "short header": (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    "truncated body": (GOOD_LABELS[:-3], "truncated"),
    "trailing bytes": (GOOD_LABELS + b"\x00", "trailing bytes"),
    "huge dims": (b"\x00\x00\x08\x03" + struct.pack(">III", 2**32 - 1, 2**32 - 1, 2**32 - 1), "truncated"),
    "too short": (b"\x00\x00", "too short"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
@pytest.mark.parametrize("compress", [True, False], ids=["gz", "raw"])
def test_corrupt_idx_files_raise_valueerror_naming_the_file(tmp_path, case, compress):
    data, message = CORRUPT[case]
    path = write(tmp_path / "labels-idx1-ubyte", data, compress)
    with pytest.raises(ValueError) as info:
        gn.datasets.read_idx(path)
    assert str(path) in str(info.value) and message in str(info.value)


@pytest.mark.parametrize("damage", ["garbage after the gzip header", "cut short", "bad crc"])
def test_bad_gzip_stream(tmp_path, damage):
    good = gzip.compress(GOOD_LABELS * 50, mtime=0)
    data = {"garbage after the gzip header": good[:10] + b"\xff" * 40,
            "cut short": good[:len(good) // 2],
            "bad crc": good[:-8] + bytes([good[-8] ^ 0xFF]) + good[-7:]}[damage]
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        gn.datasets.read_idx(path)
    assert str(path) in str(info.value) and "gzip" in str(info.value)


def test_missing_idx_file_is_a_filenotfounderror(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        gn.datasets.read_idx(tmp_path / "nothing.gz")
    assert "nothing.gz" in str(info.value)


def test_other_idx_types_and_big_endian_values(tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 1e300]])
    path = write(tmp_path / "f8", idx_bytes(values, 0x0E), compress=False)
    got = gn.datasets.read_idx(path)
    assert got.dtype == np.float64 and got.dtype.isnative
    np.testing.assert_array_equal(got, values)
    ints = np.array([-1, 70000, 2**31 - 1], dtype=np.int32)
    np.testing.assert_array_equal(gn.datasets.read_idx(write(tmp_path / "i4", idx_bytes(ints, 0x0C))), ints)


def test_image_and_label_count_mismatch_names_both_files(tmp_path):
    write_dataset(tmp_path, n_train=5)
    labels = write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError) as info:
        gn.datasets.mnist.load_data(path=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in message and str(labels) in message
    assert "5 images" in message and "4 labels" in message


@pytest.mark.parametrize("which, array, message", [
    ("train-images-idx3-ubyte", np.zeros((5, 784), np.uint8), "expected (n, 28, 28)"),
    ("train-images-idx3-ubyte", np.zeros((5, 27, 28), np.uint8), "expected (n, 28, 28)"),
    ("train-labels-idx1-ubyte", np.zeros((5, 1), np.uint8), "must be a vector"),
    ("train-labels-idx1-ubyte", np.full(5, 10, np.uint8), "outside the class range 0..9"),
    ("t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.int32), "unsigned bytes"),
])
def test_wrong_dims_or_types_name_the_file(tmp_path, which, array, message):
    write_dataset(tmp_path, n_train=5, n_test=3)
    type_code = 0x0C if array.dtype == np.int32 else 0x08
    path = write(tmp_path / which, idx_bytes(array, type_code))
    with pytest.raises(ValueError) as info:
        gn.datasets.mnist.load_data(path=tmp_path)
    assert str(path) in str(info.value) and message in str(info.value)


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


# --------------------------------------------------------------------------- downloads from a local server

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """A bounded HTTP server on 127.0.0.1 serving tmp_path/www; shut down after the test."""
    root = tmp_path / "www"
    root.mkdir()
    handler = type("Handler", (_QuietHandler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root, handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def served_dataset(root, folder, seed=0):
    expected = write_dataset(root / folder, n_train=6, n_test=2, seed=seed)
    digests = {n + ".gz": hashlib.sha256((root / folder / (n + ".gz")).read_bytes()).hexdigest() for n in NAMES}
    return expected, digests


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cache_files(isolated, name="mnist"):
    directory = isolated / "xdg" / "glassnet" / name
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_verifies_and_moves_into_the_cache(isolated, server, monkeypatch, capsys):
    url, root, requests = server
    expected, digests = served_dataset(root, "a")
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/a/"])
    monkeypatch.setattr(mnist, "SHA256", digests)
    assert_same(gn.datasets.mnist.load_data(), expected)
    assert cache_files(isolated) == sorted(n + ".gz" for n in NAMES)           # no temporary files left
    for n in NAMES:
        assert (isolated / "xdg" / "glassnet" / "mnist" / (n + ".gz")).read_bytes() == \
            (root / "a" / (n + ".gz")).read_bytes()
    assert "Downloading data from " + url + "/a/train-images-idx3-ubyte.gz" in capsys.readouterr().err
    requests.clear()
    assert_same(gn.datasets.mnist.load_data(), expected)                       # now from the cache
    assert requests == []


def test_download_fetches_only_the_missing_files(isolated, server, monkeypatch):
    url, root, requests = server
    expected, digests = served_dataset(root, "a")
    cache = isolated / "xdg" / "glassnet" / "fashion-mnist"
    cache.mkdir(parents=True)
    for n in NAMES[:2]:
        (cache / (n + ".gz")).write_bytes((root / "a" / (n + ".gz")).read_bytes())
    monkeypatch.setattr(fashion_mnist, "MIRRORS", [url + "/a"])
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    assert_same(gn.datasets.fashion_mnist.load_data(), expected)
    assert requests == ["/a/" + n + ".gz" for n in NAMES[2:]]


def test_sha256_mismatch_raises_and_keeps_nothing(isolated, server, monkeypatch):
    url, root, _ = server
    _, digests = served_dataset(root, "a")
    actual = digests["train-images-idx3-ubyte.gz"]
    wrong = dict(digests, **{"train-images-idx3-ubyte.gz": "0" * 64})
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/a/"])
    monkeypatch.setattr(mnist, "SHA256", wrong)
    with pytest.raises(ValueError) as info:
        gn.datasets.mnist.load_data()
    message = str(info.value)
    assert url + "/a/train-images-idx3-ubyte.gz" in message and "0" * 64 in message and actual in message
    assert cache_files(isolated) == []


def test_a_mirror_with_a_bad_file_falls_back_to_the_next(isolated, server, monkeypatch):
    url, root, _ = server
    expected, digests = served_dataset(root, "good", seed=0)
    served_dataset(root, "bad", seed=5)                 # same names, other bytes
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/bad/", url + "/good/"])
    monkeypatch.setattr(mnist, "SHA256", digests)
    assert_same(gn.datasets.mnist.load_data(), expected)
    assert cache_files(isolated) == sorted(n + ".gz" for n in NAMES)


def test_a_404_mirror_falls_back_to_the_second(isolated, server, monkeypatch):
    url, root, requests = server
    expected, digests = served_dataset(root, "a")
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/missing/", url + "/a/"])
    monkeypatch.setattr(mnist, "SHA256", digests)
    assert_same(gn.datasets.mnist.load_data(), expected)
    assert requests[:2] == ["/missing/train-images-idx3-ubyte.gz", "/a/train-images-idx3-ubyte.gz"]
    assert cache_files(isolated) == sorted(n + ".gz" for n in NAMES)


def test_nothing_reachable_lists_the_places_and_urls(isolated, server, monkeypatch):
    url, root, _ = server
    _, digests = served_dataset(root, "a")
    dead = f"http://127.0.0.1:{closed_port()}/mnist/"
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/missing/", dead])
    monkeypatch.setattr(mnist, "SHA256", digests)
    with pytest.raises(gn.datasets.DatasetNotFoundError) as info:
        gn.datasets.mnist.load_data()
    message = str(info.value)
    assert url + "/missing/train-images-idx3-ubyte.gz" in message and "404" in message
    assert dead + "train-images-idx3-ubyte.gz" in message
    for place in (isolated / "xdg" / "glassnet" / "mnist", isolated / "system" / "mnist"):
        assert str(place) in message
    assert "GLASSNET_DATA" in message and "path=" in message
    assert not (isolated / "xdg" / "glassnet").exists()         # a failed download leaves no directories


# --------------------------------------------------------------------------- toy sets

NOTE_002 = [[2.7810836, 2.550537003, 0], [1.465489372, 2.362125076, 0], [3.396561688, 4.400293529, 0],
            [1.38807019, 1.850220317, 0], [3.06407232, 3.005305973, 0], [7.627531214, 2.759262235, 1],
            [5.332441248, 2.088626775, 1], [6.922596716, 1.77106367, 1], [8.675418651, -0.242068655, 1],
            [7.673756466, 3.508563011, 1]]


def test_backprop_demo_is_the_notes_dataset():
    x, y = gn.datasets.backprop_demo()
    assert x.shape == (10, 2) and x.dtype == np.float64 and y.shape == (10,) and y.dtype.kind == "i"
    assert x.tolist() == [row[:2] for row in NOTE_002] and y.tolist() == [row[2] for row in NOTE_002]
    if SEED_002.exists():                     # the note itself, where the study notes are at hand
        text = SEED_002.read_text(encoding="utf-8")
        rows = re.findall(r"\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*([01])\s*\]", text.split("dataset = [", 1)[1])
        assert [[float(a), float(b), int(c)] for a, b, c in rows] == NOTE_002


def test_logic_gates_match_pythons_bit_operators():
    ops = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "nand": lambda a, b: 1 - (a & b),
           "xor": lambda a, b: a ^ b}
    for name, op in ops.items():
        x, y = gn.datasets.logic_gate(name.upper() if name == "xor" else name)
        assert x.shape == (4, 2) and x.dtype == np.float64 and y.shape == (4,)
        assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
        assert y.tolist() == [op(int(a), int(b)) for a, b in x]
    with pytest.raises(ValueError, match="'xor'"):
        gn.datasets.logic_gate("xnor")


@pytest.mark.parametrize("n", [100, 101, 2])
def test_moons_shapes_balance_and_geometry(n):
    x, y = gn.datasets.make_moons(n, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float64 and y.shape == (n,)
    assert np.bincount(y).tolist() == [n // 2, n - n // 2]
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)            # the unit circle
    assert (upper[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)  # centred at (1, 0.5)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    if n >= 4:   # endpoints of each half circle are included: t = 0 and t = pi
        assert {tuple(np.round(p, 12)) for p in upper} >= {(1.0, 0.0), (-1.0, 0.0)}
        assert {tuple(np.round(p, 12)) for p in lower} >= {(0.0, 0.5), (2.0, 0.5)}


def test_moons_without_shuffle_follow_the_closed_form():
    x, y = gn.datasets.make_moons(6, shuffle=False)
    t = np.linspace(0, np.pi, 3)
    expected = np.r_[np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)]]
    np.testing.assert_allclose(x, expected, atol=1e-15)
    assert y.tolist() == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize("factor", [0.3, 0.8])
def test_circles_inner_radius_is_factor_times_outer(factor):
    x, y = gn.datasets.make_circles(200, factor=factor, seed=1)
    assert x.shape == (200, 2) and x.dtype == np.float64 and np.bincount(y).tolist() == [100, 100]
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], factor)
    angles = np.sort(np.mod(np.arctan2(x[y == 0, 1], x[y == 0, 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 100, atol=1e-12)       # evenly spaced


def test_noise_is_gaussian_with_the_given_std():
    x0, _ = gn.datasets.make_circles(4000, factor=0.5, seed=3, shuffle=False)
    x1, _ = gn.datasets.make_circles(4000, factor=0.5, seed=3, shuffle=False, noise=0.1)
    residual = (x1 - x0).ravel()
    assert abs(residual.mean()) < 0.01 and abs(residual.std() - 0.1) < 0.005


@pytest.mark.parametrize("n_classes, n", [(2, 200), (3, 300), (3, 301)])
def test_spirals_shapes_balance_and_rotation(n_classes, n):
    x, y = gn.datasets.make_spirals(n, n_classes=n_classes, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float64 and y.shape == (n,)
    counts = np.bincount(y)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1 and counts.sum() == n
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius.min() >= 0.1 - 1e-12 and radius.max() <= 1 + 1e-12
    xs, ys = gn.datasets.make_spirals(n_classes * 50, n_classes=n_classes, shuffle=False)
    angle = 2 * np.pi / n_classes
    rotate = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])   # row vectors
    for k in range(1, n_classes):
        np.testing.assert_allclose(xs[ys == 0] @ np.linalg.matrix_power(rotate, k), xs[ys == k], atol=1e-12)


@pytest.mark.parametrize("make", [gn.datasets.make_moons, gn.datasets.make_circles, gn.datasets.make_spirals])
def test_generators_are_deterministic_by_seed(make, isolated_random_state):
    a = make(50, noise=0.1, seed=7)
    b = make(50, noise=0.1, seed=7)
    c = make(50, noise=0.1, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    gn.set_random_seed(3)
    d = make(50, noise=0.1)
    gn.set_random_seed(3)
    e = make(50, noise=0.1)
    np.testing.assert_array_equal(d[0], e[0])


@pytest.mark.parametrize("call, message", [
    (lambda: toy.make_moons(0), "n_samples must be a positive integer"),
    (lambda: toy.make_moons(-5), "n_samples must be a positive integer"),
    (lambda: toy.make_moons(10.5), "n_samples must be a positive integer"),
    (lambda: toy.make_moons(True), "n_samples must be a positive integer"),
    (lambda: toy.make_moons(1), "at least 2"),
    (lambda: toy.make_moons(10, noise=-0.1), "noise must be a finite number >= 0"),
    (lambda: toy.make_circles(10, noise=float("nan")), "noise must be a finite number >= 0"),
    (lambda: toy.make_circles(10, factor=0), "strictly between 0 and 1"),
    (lambda: toy.make_circles(10, factor=1), "strictly between 0 and 1"),
    (lambda: toy.make_circles(10, factor=1.5), "strictly between 0 and 1"),
    (lambda: toy.make_spirals(10, n_classes=1), "n_classes must be an integer >= 2"),
    (lambda: toy.make_spirals(2, n_classes=3), "at least 3"),
    (lambda: toy.make_spirals(10, turns=0), "turns must be a positive number"),
])
def test_toy_argument_checks(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# --------------------------------------------------------------------------- helpers

def test_to_categorical_matches_np_eye():
    y = np.array([3, 0, 2, 2, 1])
    np.testing.assert_array_equal(gn.datasets.to_categorical(y), np.eye(4)[y])
    out = gn.datasets.to_categorical(y.reshape(-1, 1), num_classes=6)
    assert out.shape == (5, 6) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(6)[y])
    grid = np.array([[0, 1], [2, 0]])
    np.testing.assert_array_equal(gn.datasets.to_categorical(grid, 3, dtype="int64"), np.eye(3, dtype=int)[grid])
    np.testing.assert_array_equal(gn.datasets.to_categorical([1.0, 0.0]), [[0, 1], [1, 0]])


@pytest.mark.parametrize("y, num_classes, message", [
    ([0, 3], 3, "label 3 is outside the class range 0..2"),
    ([0, -1], None, ">= 0"),
    ([0.5, 1], None, "whole class indices"),
    ([], None, "empty"),
    ([1, 2], 0, "num_classes must be a positive integer"),
])
def test_to_categorical_checks(y, num_classes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gn.datasets.to_categorical(y, num_classes)


def test_split_sizes_and_disjoint_cover():
    x = np.arange(50).reshape(25, 2)
    y = np.arange(25)
    x_tr, x_val, y_tr, y_val = gn.datasets.train_test_split(x, y, test_size=0.2, seed=0)
    assert len(x_val) == math.ceil(0.2 * 25) == 5 and len(x_tr) == 20
    assert sorted(np.r_[y_tr, y_val].tolist()) == list(range(25))
    np.testing.assert_array_equal(x_tr[:, 0] // 2, y_tr)                  # rows stay with their labels
    again = gn.datasets.train_test_split(x, y, test_size=0.2, seed=0)
    np.testing.assert_array_equal(again[3], y_val)
    _, _, _, y_last = gn.datasets.train_test_split(x, y, test_size=3, shuffle=False)
    assert y_last.tolist() == [22, 23, 24]                                 # Keras's validation_split: the tail


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    x = np.arange(100)
    _, _, y_tr, y_val = gn.datasets.train_test_split(x, y, test_size=0.2, stratify=True, seed=1)
    assert np.bincount(y_val).tolist() == [12, 6, 2] and np.bincount(y_tr).tolist() == [48, 24, 8]
    _, _, y_tr, y_val = gn.datasets.train_test_split(x, y, test_size=0.25, stratify=True, seed=1)
    assert np.bincount(y_val).tolist() == [15, 8, 2] or np.bincount(y_val).tolist() == [15, 7, 3]
    assert len(y_val) == 25
    _, x_val, _, y_val = gn.datasets.train_test_split(x, y, test_size=0.1, stratify=y, shuffle=False)
    assert x_val.tolist() == list(range(54, 60)) + list(range(87, 90)) + [99]
    onehot = np.eye(3)[y]
    _, _, _, t = gn.datasets.train_test_split(x, onehot, test_size=0.2, stratify=True, seed=0)
    assert t.sum(axis=0).tolist() == [12, 6, 2]


@pytest.mark.parametrize("kwargs, message", [
    (dict(x=np.zeros(5), y=np.zeros(4)), "same number of samples, got 5 and 4"),
    (dict(x=np.zeros(5), y=np.zeros(5), test_size=1.0), "strictly between 0 and 1"),
    (dict(x=np.zeros(5), y=np.zeros(5), test_size=5), "both need at least one"),
    (dict(x=np.zeros(5), y=np.array([0, 0, 0, 0, 1]), stratify=True), "class 1 has 1"),
    (dict(x=np.zeros(1), y=np.zeros(1)), "at least 2 samples"),
])
def test_split_checks(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gn.datasets.train_test_split(**kwargs)


def test_normalize_scales_pixels_to_unit_range():
    x = np.array([[0, 51, 255], [128, 1, 254]], dtype=np.uint8)
    z = gn.datasets.normalize(x)
    assert z.dtype == np.float32 and z.min() == 0 and z.max() == 1
    np.testing.assert_array_equal(z, x.astype(np.float32) / np.float32(255))
    np.testing.assert_allclose(gn.datasets.normalize(x * 1.0, max_value=255, dtype="float64"), x / 255.0, rtol=1e-15)
    (x_train, _), _ = gn.datasets.mnist_mini.load_data()
    z = gn.datasets.normalize(x_train)
    assert 0 <= z.min() and z.max() <= 1 and z.max() == 1
    with pytest.raises(ValueError, match="max_value"):
        gn.datasets.normalize(x * 1.0)
    with pytest.raises(ValueError, match=re.escape("[0, 255]")):
        gn.datasets.normalize(np.array([-1.0, 3.0]), max_value=255)


def test_standardize_returns_and_reuses_the_statistics():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[3.0, -2.0, 7.0], scale=[2.0, 0.5, 1.0], size=(500, 3))
    x[:, 2] = 7.0                                                    # a constant feature
    z, mean, std = gn.datasets.standardize(x)
    assert z.dtype == np.float64 and mean.shape == (3,) and std.shape == (3,)
    np.testing.assert_allclose(z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1, rtol=1e-12)
    assert np.all(z[:, 2] == 0) and std[2] == 1                       # divided by 1, not by 0
    np.testing.assert_allclose(mean[:2], x[:, :2].mean(axis=0))
    np.testing.assert_allclose(std[:2], x[:, :2].std(axis=0))
    z2, m2, s2 = gn.datasets.standardize(x[:10], mean, std)
    np.testing.assert_array_equal(z2, z[:10])
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    zp, m, s = gn.datasets.standardize(pixels, axis=None)
    assert zp.dtype == np.float32 and m.shape == () and abs(float(m) - 5.5) < 1e-6
    with pytest.raises(ValueError, match="both mean and std"):
        gn.datasets.standardize(x, mean=mean)
    with pytest.raises(ValueError, match="std must be positive"):
        gn.datasets.standardize(x, mean, np.zeros(3))
    with pytest.raises(ValueError, match="do not fit"):
        gn.datasets.standardize(x, np.zeros(4), np.ones(4))
