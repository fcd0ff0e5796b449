"""The `.npz` members (weights.npz, optimizer.npz) and save_weights files: written with the arrays
in order and fixed timestamps, read without pickle and checked name by name."""
from __future__ import annotations

import io
import zipfile

import numpy as np

from .archive import zip_info
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


def npz_arrays(path, member, data) -> dict:
    """{name: array} of an .npz held in `data`, read without pickle, in archive order."""
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as err:
        raise ModelFileError(path, f"{member} is not a NumPy .npz archive ({err})") from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        npz_kind = "a single .npy array" if isinstance(npz, np.ndarray) else type(npz).__name__
        raise ModelFileError(path, f"{member} is {npz_kind}, not an .npz archive of named arrays")
    arrays = {}
    with npz:
        for key in npz.files:
            try:
                array = npz[key]
            except ValueError as err:        # object arrays need pickle: refused
                raise ModelFileError(path, f"{member}: array {key!r} cannot be read without unpickling "
                                           f"({err})") from err
            except Exception as err:
                raise ModelFileError(path, f"{member}: array {key!r} is damaged ({err})") from err
            if not isinstance(array, np.ndarray):
                raise ModelFileError(path, f"{member}: {key!r} is not a .npy array")
            arrays[key] = array
    return arrays


def expected_weights(path, config):
    """[(name, shape, dtype)] of the weights config.json lists."""
    try:
        return [(str(w["name"]), tuple(int(d) for d in w["shape"]), np.dtype(w["dtype"]))
                for w in config["weights"]]
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} has a malformed weights list ({err})") from err


def read_arrays(path, member, data, expected) -> list[np.ndarray]:
    """The arrays of `member`, in the order of `expected` [(name, shape, dtype)], all checked."""
    arrays = npz_arrays(path, member, data)
    names = [name for name, _, _ in expected]
    missing = [n for n in names if n not in arrays]
    extra = [n for n in arrays if n not in names]
    if missing or extra:
        parts = ([f"lacks {short(missing)}"] if missing else []) + ([f"has unexpected {short(extra)}"]
                                                                    if extra else [])
        raise ModelFileError(path, f"{member} {' and '.join(parts)}")
    out = []
    for name, shape, dtype in expected:
        array = arrays[name]
        if array.shape != shape:
            raise ModelFileError(path, f"{member}: {name} has shape {array.shape}, the model needs {shape}")
        if array.dtype != dtype:
            raise ModelFileError(path, f"{member}: {name} has dtype {array.dtype}, the model needs {dtype}")
        out.append(array)
    return out
