"""The `.npz` members (weights.npz, optimizer.npz) and save_weights files: written with the arrays
in order and fixed timestamps, read without pickle and checked name by name."""
from __future__ import annotations

import io
import math
import zipfile

import numpy as np

from .. import _npy
from .archive import duplicates, zip_info
from .format import CONFIG, ModelFileError, short


def write_npz(fileobj, named_arrays):
    """An .npz (what np.savez writes) with the arrays in the given order and fixed timestamps."""
    with zipfile.ZipFile(fileobj, "w", allowZip64=True) as zf:
        for name, array in named_arrays:
            with zf.open(zip_info(name + ".npy", zipfile.ZIP_STORED), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(array, order="C"), allow_pickle=False)   # 0-d stays 0-d


def npz_bytes(named_arrays) -> bytes:
    buffer = io.BytesIO()
    write_npz(buffer, named_arrays)
    return buffer.getvalue()


#: Bytes an .npz may spend on one array besides its values: the .npy header (NumPy pads it to 64 bytes,
#: at most 65535 in version 1.0) and the zip's local and central records with the name twice.
ARRAY_OVERHEAD = 2**16


def npz_limit(expected) -> int:
    """The most bytes an .npz holding exactly the arrays `expected` [(name, shape, dtype)] may declare."""
    return 2**10 + sum(math.prod(shape) * np.dtype(dtype).itemsize + ARRAY_OVERHEAD + 2 * len(name)
                       for name, shape, dtype in expected)


def npz_arrays(path, member, source, plan) -> dict:
    """{name: array} of the .npz `source` (bytes, or the path of a file), read without pickle and bounded:
    plan(names) gets the archive's array names before anything is decompressed and returns
    {name: check}, check(shape, dtype) raising a ModelFileError for an array the reader does not want;
    each array's .npy header is checked so before its values are read, and only the bytes its header
    declares are read. So an archive costs at most the memory of the arrays `plan` asks for."""
    fileobj = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        zf = zipfile.ZipFile(fileobj)
    except Exception as err:             # noqa: BLE001 -- BadZipFile, NotImplementedError, OSError, ...
        head = source[:6] if isinstance(source, (bytes, bytearray)) else b""
        if head == b"\x93NUMPY":
            raise ModelFileError(path, f"{member} is a single .npy array, not an .npz archive of named "
                                       f"arrays") from err
        raise ModelFileError(path, f"{member} is not a NumPy .npz archive ({err})") from err
    with zf:
        infos = zf.infolist()
        if len(infos) > _npy.MAX_MEMBERS:
            raise ModelFileError(path, f"{member} has {len(infos)} members, more than glassnet._npy.MAX_MEMBERS = "
                                       f"{_npy.MAX_MEMBERS}: it is damaged or hostile")
        keys = [info.filename[:-4] if info.filename.endswith(".npy") else info.filename for info in infos]
        dup = duplicates(keys)
        if dup:
            raise ModelFileError(path, f"{member} holds the arrays {short(dup)} twice: it was tampered with")
        checks = plan(keys)
        arrays = {}
        for key, info in zip(keys, infos):
            arrays[key] = _read_npy(path, member, zf, info, key, checks[key])
    return arrays


def _read_npy(path, member, zf, info, key, check):
    """One .npy member (glassnet._npy.read_member): header read and checked (check(shape, dtype), no
    object arrays), then exactly the bytes it declares."""
    try:
        return _npy.read_member(zf, info, check, max_header=ARRAY_OVERHEAD, slack=ARRAY_OVERHEAD,
                                own=(ModelFileError,))
    except _npy.Refused as err:
        raise ModelFileError(path, f"{member}: array {key!r}: {err}") from None


def expected_weights(path, config):
    """[(name, shape, dtype)] of the weights config.json lists."""
    try:
        return [(str(w["name"]), tuple(int(d) for d in w["shape"]), np.dtype(w["dtype"]))
                for w in config["weights"]]
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} has a malformed weights list ({err})") from err


def read_arrays(path, member, data, expected) -> list[np.ndarray]:
    """The arrays of `member`, in the order of `expected` [(name, shape, dtype)], all checked: names first,
    then each array's shape and dtype from its header, before its values are read."""
    wanted = {name: (shape, dtype) for name, shape, dtype in expected}

    def plan(found):
        missing = [n for n in wanted if n not in found]
        extra = [n for n in found if n not in wanted]
        if missing or extra:
            parts = ([f"lacks {short(missing)}"] if missing else []) + ([f"has unexpected {short(extra)}"]
                                                                        if extra else [])
            raise ModelFileError(path, f"{member} {' and '.join(parts)}")
        return {name: _exactly(path, member, name, *wanted[name]) for name in found}

    arrays = npz_arrays(path, member, data, plan)
    return [arrays[name] for name, _, _ in expected]


def _exactly(path, member, name, shape, dtype):
    def check(found_shape, found_dtype):
        if found_shape != shape:
            raise ModelFileError(path, f"{member}: {name} has shape {found_shape}, the model needs {shape}")
        if found_dtype != dtype:
            raise ModelFileError(path, f"{member}: {name} has dtype {found_dtype}, the model needs {dtype}")
    return check
