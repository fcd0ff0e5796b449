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
