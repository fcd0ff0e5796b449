"""Reader for the IDX format of the MNIST files (gzip-compressed or raw).

    magic: 0x00 0x00 <type code> <number of dimensions>, then one big-endian
    uint32 per dimension, then the data in C order.

Every check names the file and what is wrong: a bad magic number, an unknown
type code, a truncated body or trailing bytes raise ValueError.
"""
from __future__ import annotations

import gzip
import os

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read one IDX file (.gz or raw) into an ndarray."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: cannot read IDX file ({err})") from None
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (magic bytes {data[:4].hex()}, expected 0000 + type + ndim)")
    type_code, ndim = data[2], data[3]
    if type_code not in _TYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{type_code:02x}")
    if ndim == 0:
        raise ValueError(f"{path}: IDX file declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, expected at least {header})")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = len(data) - header
    if body != expected:
        what = "truncated" if body < expected else "has trailing bytes"
        raise ValueError(f"{path}: IDX body {what}: {body} bytes for shape {shape}, expected {expected}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
