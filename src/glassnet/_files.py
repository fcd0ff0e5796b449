"""Files glassnet reads must be regular files: a device (/dev/zero), a FIFO or a socket is refused
before it is opened, since reading one may never end (or never start)."""
from __future__ import annotations

import os
import stat

_KINDS = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def not_regular(path) -> str | None:
    """None for a regular file (symbolic links followed), else what `path` is, for a message such as
    f"{path}: {problem}". A missing path raises FileNotFoundError; os.stat never opens, so a FIFO
    cannot block here."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"it is {kind}, not a regular file; glassnet reads regular files only"


def check_regular(path, error=ValueError):
    """Raise error(f"{path}: ...") unless `path` is a regular file."""
    problem = not_regular(path)
    if problem is not None:
        raise error(f"{os.fspath(path)}: {problem}")


def npy_too_big(fh, available) -> str | None:
    """What is wrong with the .npy at the start of `fh` (of `available` bytes in all) if its header
    declares more values than those bytes can hold (shape (10**12, 784) in a small file), else None;
    read before np.load, which would allocate what the header declares. A header it cannot parse gives
    None: np.load then names the fault."""
    import math

    import numpy as np
    try:
        version = np.lib.format.read_magic(fh)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in read:
            return None
        shape, _, dtype = read[version](fh)
        start = fh.tell()
    except Exception:                # noqa: BLE001 -- np.load names a damaged header
        return None
    nbytes = math.prod(shape) * dtype.itemsize
    if dtype.hasobject or nbytes <= available - start:
        return None
    return (f"its header declares shape {tuple(shape)} of {dtype} ({nbytes} bytes) but it holds "
            f"{max(available - start, 0)} bytes: it is truncated or hostile")


def check_arrays_fit(path, error=ValueError):
    """Before np.load(path): refuse an .npy, or an .npz member, whose header declares more values than
    its bytes hold (error(f"{path}: ...") or f"{path}[name]: ..."); anything else passes to np.load."""
    import zipfile
    path = os.fspath(path)
    with open(path, "rb") as fh:
        if fh.read(6) == b"\x93NUMPY":
            fh.seek(0)
            problem = npy_too_big(fh, os.fstat(fh.fileno()).st_size)
            if problem:
                raise error(f"{path}: {problem}")
            return
    try:
        zf = zipfile.ZipFile(path)
    except Exception:                # noqa: BLE001 -- not a zip: np.load names the fault
        return
    with zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            try:
                with zf.open(info) as member:
                    problem = npy_too_big(member, info.file_size)
            except Exception:        # noqa: BLE001 -- a damaged member: np.load names the fault
                continue
            if problem:
                raise error(f"{path}[{info.filename[:-4]}]: {problem}")
