"""glassnet.datasets.idx: the IDX reader on the shipped t10k split, corrupt files and bad gzip
streams, other IDX types, and the image / label pair checks.

Label files are parsed here with struct + gzip; broken files are built with struct."""
import collections
import gzip
import struct

import numpy as np
import pytest

import glassnet as gn
from dataset_helpers import DATA_DIR, MNIST_T10K_HISTOGRAM, idx_bytes, parse_labels, write, write_dataset


# --------------------------------------------------------------------------- the shipped t10k split

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
