"""Hostile IDX and .npz dataset files (issue 13): refused cleanly, naming the file, in bounded memory."""
import gzip
import os

import numpy as np
import pytest

from glassnet.datasets import idx
from glassnet.datasets._loader import load_npz

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_read_idx_refuses_dev_zero():
    with pytest.raises(ValueError, match=r"^/dev/zero: it is a character device, not a regular file"):
        idx.read_idx("/dev/zero")


@needs_fifo
def test_fifos_are_refused_without_opening_them(tmp_path):
    fifo = tmp_path / "train-images-idx3-ubyte.gz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=rf"^{fifo}: it is a FIFO \(named pipe\), not a regular file"):
        idx.read_idx(fifo)
    npz = tmp_path / "mnist.npz"
    os.mkfifo(npz)
    with pytest.raises(ValueError, match=rf"^{npz}: it is a FIFO"):
        load_npz(npz)


def test_a_damaged_npz_dataset_is_a_value_error(tmp_path):
    path = tmp_path / "mnist.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), y_train=np.arange(4, dtype=np.uint8),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.arange(2, dtype=np.uint8))
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    data[at + 6] = 255                          # one byte: "version needed to extract"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"^{path}: not a readable .npz archive \(zip file version 25.5\)"):
        load_npz(path)


def _count_reads(monkeypatch, cls):
    """Sum of the bytes cls.read returns (decompressed bytes, for gzip.GzipFile)."""
    counted = {"bytes": 0}
    read = cls.read

    def counting(self, *args):
        data = read(self, *args)
        counted["bytes"] += len(data)
        return data
    monkeypatch.setattr(cls, "read", counting)
    return counted


def test_a_gzip_bomb_is_read_only_as_far_as_its_header_declares(tmp_path, monkeypatch):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    header = bytes([0, 0, 0x08, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (10, 28, 28))   # 7,840 bytes
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(header)
        zeros = bytes(2**20)
        for _ in range(64):                                 # 64 MiB of values, 64 KB on disk
            fh.write(zeros)
    assert path.stat().st_size < 2**20
    counted = _count_reads(monkeypatch, gzip.GzipFile)
    with pytest.raises(ValueError, match=rf"^{path}: IDX body has trailing bytes: 7841 or more bytes for shape "
                                         rf"\(10, 28, 28\) of uint8, expected 7840"):
        idx.read_idx(path)
    assert counted["bytes"] <= 7841 + len(header)


def test_a_raw_file_of_the_wrong_size_is_refused_without_reading_its_body(tmp_path, monkeypatch):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + bytes(2**20))
    with pytest.raises(ValueError, match=rf"^{path}: IDX body has trailing bytes: {2**20} bytes for shape \(5,\)"):
        idx.read_idx(path)


def test_a_good_gzip_file_still_reads(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big") + bytes([1, 2, 3]))
    assert idx.read_idx(path).tolist() == [1, 2, 3]


def _absurd_npy(shape=(10**12, 784)):
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|u1", "fortran_order": False, "shape": shape})
    return buf.getvalue() + bytes(16)


def test_an_npy_header_declaring_more_than_its_bytes_is_refused_before_allocating(tmp_path):
    import zipfile
    path = tmp_path / "mnist.npz"
    good = {k: np.zeros((2, 28, 28) if k.startswith("x") else (2,), np.uint8)
            for k in ("x_train", "y_train", "x_test", "y_test")}
    np.savez(path, **good)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["x_train.npy"] = _absurd_npy()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    with pytest.raises(ValueError, match=rf"^{path}\[x_train\]: its header declares shape \(1000000000000, 784\) "
                                         rf"of uint8 \(784000000000000 bytes\) but it holds 16 bytes"):
        load_npz(path)


def test_the_command_lines_arrays_are_checked_the_same_way(tmp_path):
    from glassnet import runs
    from glassnet.cli import predict
    npy = tmp_path / "digits.npy"
    npy.write_bytes(_absurd_npy())
    with pytest.raises(runs.CommandError, match=rf"^{npy}: its header declares shape \(1000000000000, 784\)"):
        predict.read_array(str(npy), (784,))
    npz = tmp_path / "data.npz"
    import zipfile
    with zipfile.ZipFile(npz, "w") as zf:
        zf.writestr("x_train.npy", _absurd_npy())
    with pytest.raises(runs.CommandError, match=rf"^{npz}\[x_train\]: its header declares"):
        runs.read_npz(str(npz))
