"""Helpers shared by tests/datasets: tiny IDX datasets built with struct + gzip (not with glassnet),
a label parser independent of the code under test, and the constants of the shipped files."""
import gzip
import pathlib
import struct

import numpy as np

import glassnet as gn

DATA_DIR = pathlib.Path(gn.datasets.__file__).parent / "data"
FASHION_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# The official MNIST test split's class counts (LeCun et al.), a reference independent of any parsing.
MNIST_T10K_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


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
