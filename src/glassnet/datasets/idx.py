"""Reader for the IDX format of the MNIST files (gzip-compressed or raw).

    magic: 0x00 0x00 <type code> <number of dimensions>, then one big-endian
    uint32 per dimension, then the data in C order.

Every check names the file and what is wrong: a bad gzip stream, a bad magic
number, an unknown type code, zero dimensions, a truncated header or body and
trailing bytes all raise ValueError.  `read_idx_pair` reads an images file and
its labels file and also checks that they agree (same number of items, the
expected image shape and label range), naming both files when they do not.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

from .. import backend
from .._files import check_regular

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_TYPE_NAMES = {code: np.dtype(t).name for code, t in _TYPES.items()}


_CHUNK = 2**20


def _read_bytes(path: str) -> tuple[bytes, bytes | None, int]:
    """(header, body, body size) of the file, gunzipped when it starts with the gzip magic number (body
    None when its size alone is wrong): the header first, then no more than the bytes it declares plus
    one (to tell trailing bytes), so a small .gz that inflates to gigabytes costs only what its header
    describes."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such IDX file")
    check_regular(path)
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as fh:
            header = fh.read(4)
            if len(header) == 4 and header[:2] == b"\0\0":
                header += fh.read(4 * header[3])
            expected = _declared_body(header)
            if expected is None:                         # read_idx names what is wrong with the header
                return header, b"", 0
            if not gzipped:                              # the size on disk tells it without reading
                body_size = os.fstat(fh.fileno()).st_size - len(header)
                if body_size != expected:
                    return header, None, body_size
            cap = backend.MAX_ARRAY_SIZE * np.dtype(_TYPES[header[2]]).itemsize
            body = _read_at_most(fh, min(expected, cap) + 1)
            if len(body) > cap:                          # a stream that really holds more than the limit
                _check_size(path, header)
            return header, body, len(body)
    except (OSError, EOFError, zlib.error) as err:
        what = "corrupt or truncated gzip stream" if gzipped else "cannot read the file"
        raise ValueError(f"{path}: {what} ({err})") from None


def _declared_body(header):
    """The bytes of values a complete IDX header declares, or None if the header is not complete/valid."""
    if len(header) < 4 or header[:2] != b"\0\0" or header[2] not in _TYPES or header[3] == 0 \
            or len(header) < 4 + 4 * header[3]:
        return None
    shape = np.frombuffer(header, ">u4", count=header[3], offset=4)
    return math.prod(int(d) for d in shape) * np.dtype(_TYPES[header[2]]).itemsize


def _check_size(path, header):
    """Refuse a header declaring more than backend.MAX_ARRAY_SIZE values, before any of them is read."""
    shape = tuple(int(d) for d in np.frombuffer(header, ">u4", count=header[3], offset=4))
    count = math.prod(shape)
    if count > backend.MAX_ARRAY_SIZE:
        raise ValueError(f"{path}: its IDX header declares shape {shape} ({count:,} values), more than "
                         f"glassnet.backend.MAX_ARRAY_SIZE = {backend.MAX_ARRAY_SIZE:,}; set it higher if the "
                         f"machine has the memory")


def _read_at_most(fh, limit) -> bytes:
    parts, left = [], limit
    while left > 0:
        part = fh.read(min(left, _CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def read_idx(path) -> np.ndarray:
    """Read one IDX file (.gz or raw) into an ndarray of native byte order.

    Raises FileNotFoundError when the file does not exist and ValueError, naming
    the file and the fault, when it is not a complete, well-formed IDX file.
    """
    path = os.fspath(path)
    data, body_data, body = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an IDX header ({len(data)} bytes, expected at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (magic bytes {data[:4].hex()}, expected 0000 + type + ndim)")
    type_code, ndim = data[2], data[3]
    if type_code not in _TYPES:
        known = ", ".join(f"0x{c:02x} ({n})" for c, n in _TYPE_NAMES.items())
        raise ValueError(f"{path}: unknown IDX type code 0x{type_code:02x} (known: {known})")
    if ndim == 0:
        raise ValueError(f"{path}: IDX file declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, expected at least {header} "
                         f"for {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPES[type_code])
    expected = math.prod(shape) * dtype.itemsize            # Python ints: no overflow on absurd headers
    if body != expected:
        what = "truncated" if body < expected else "has trailing bytes"
        more = "" if body_data is None or body < expected else " or more"     # read no further than that
        raise ValueError(f"{path}: IDX body {what}: {body}{more} bytes for shape {shape} of {dtype.name}, "
                         f"expected {expected}")
    return np.frombuffer(body_data, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx_pair(images_path, labels_path, image_shape=(28, 28), num_classes=10):
    """Read an images file and its labels file and check that they belong together.

    Returns (images, labels): uint8 arrays of shape (n,) + image_shape and (n,).
    ValueError names the file at fault: images that are not uint8 or not of
    `image_shape`, labels that are not a uint8 vector or fall outside
    [0, num_classes); and both files when their counts differ.
    """
    images_path, labels_path = os.fspath(images_path), os.fspath(labels_path)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    return check_pair(images, labels, images_path, labels_path, image_shape, num_classes)


def check_pair(images, labels, images_name, labels_name, image_shape=(28, 28), num_classes=10):
    """Check an (images, labels) pair read from `images_name` and `labels_name`; return them.

    Both must be uint8 (an image file holds bytes), images of shape
    (n,) + image_shape, labels of shape (n,) with values below num_classes.
    """
    if images.dtype != np.uint8:
        raise ValueError(f"{images_name}: images must be unsigned bytes (uint8, IDX type 0x08), "
                         f"got {images.dtype.name}")
    if image_shape is not None and (images.ndim != 1 + len(image_shape) or images.shape[1:] != tuple(image_shape)):
        expected = "(n, " + ", ".join(map(str, image_shape)) + ")"
        raise ValueError(f"{images_name}: images have shape {images.shape}, expected {expected}")
    if labels.dtype != np.uint8:
        raise ValueError(f"{labels_name}: labels must be unsigned bytes (uint8, IDX type 0x08), "
                         f"got {labels.dtype.name}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_name}: labels must be a vector (1 dimension), got shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"images and labels do not match: {images_name} holds {len(images)} images but "
                         f"{labels_name} holds {len(labels)} labels")
    if num_classes is not None and labels.size and int(labels.max()) >= num_classes:
        raise ValueError(f"{labels_name}: label {int(labels.max())} is outside the class range "
                         f"0..{num_classes - 1}")
    return images, labels
