"""NumPy .npy and .npz files read without pickle and in bounded memory: every array's header (shape, dtype)
is read and checked before its values, a header declaring more values than the file's bytes can hold is
refused before anything is allocated, and only the bytes a header declares are ever read (a member that
inflates further is refused, not inflated). The datasets, the command line and the model files
(saving/arrays.py) all read arrays through here.

    arrays = read_npz(path, ("x_train", "y_train"), ValueError)      # {name: array}; other members unread
    array = read_npy(path, ValueError)

Errors are error(f"{path}: ...") or error(f"{path}[name]: ..."), naming the fault and, for a limit, how to
raise it. An array costs at most its declared bytes once (twice while a Fortran-ordered or big-endian one
is turned into C order and native bytes), and at most backend.MAX_ARRAY_SIZE numbers.
"""
from __future__ import annotations

import math
import os
import zipfile

import numpy as np

from . import backend
from ._files import not_regular

#: Bytes of one .npy header (NumPy pads headers to 64 bytes and writes them well under this).
MAX_HEADER = 2**16
#: Dimensions of one array.
MAX_NDIM = 32
#: Members of one .npz archive (a dataset has 4, a model's weights two or four per layer).
MAX_MEMBERS = 4096
_CHUNK = 2**20
_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class Refused(ValueError):
    """What is wrong with one array (the reader adds the file and the array's name)."""


def read_header(fh, max_header=MAX_HEADER):
    """(shape, fortran_order, dtype) of the .npy at `fh`'s position, checked: a version this reader knows,
    a header under `max_header` bytes, plain numbers (no Python objects, no records), at most MAX_NDIM
    dimensions of sizes >= 0. Raises Refused."""
    try:
        version = np.lib.format.read_magic(fh)
    except (ValueError, EOFError, OSError) as err:
        raise Refused(f"not a NumPy .npy array ({err})") from None
    if version not in _READERS:
        raise Refused(f"it is a .npy file of format version {version[0]}.{version[1]}, which glassnet does not "
                      f"read (it reads 1.0 and 2.0, what np.save writes for arrays of numbers)")
    try:
        shape, fortran, dtype = _READERS[version](fh, max_header_size=max_header)
    except (ValueError, EOFError, OSError, SyntaxError, TypeError) as err:
        raise Refused(f"its .npy header is damaged or longer than {max_header} bytes "
                      f"({' '.join(str(err).split())[:200]})") from None
    if dtype.hasobject:
        raise Refused(f"it holds Python objects (dtype {dtype}), which cannot be read without unpickling; "
                      f"object arrays are not accepted")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biufc":
        raise Refused(f"it holds values of dtype {dtype}; glassnet reads arrays of plain numbers only")
    if len(shape) > MAX_NDIM or any(d < 0 for d in shape):
        raise Refused(f"its header declares the shape {tuple(shape)[:MAX_NDIM + 1]}, which no array has")
    return tuple(shape), bool(fortran), dtype


def check_size(shape, dtype):
    """Refuse (Refused) an array of more than backend.MAX_ARRAY_SIZE numbers, before it is allocated."""
    size = math.prod(shape)
    if size > backend.MAX_ARRAY_SIZE:
        raise Refused(f"its header declares shape {shape} of {dtype} ({size:,} numbers), more than "
                      f"glassnet.backend.MAX_ARRAY_SIZE = {backend.MAX_ARRAY_SIZE:,}; set it higher if the "
                      f"machine has the memory")


def check_holds(shape, dtype, available):
    """Refuse (Refused) a header declaring more bytes of values than the `available` bytes after it."""
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > available:
        raise Refused(f"its header declares shape {shape} of {dtype} ({nbytes} bytes) but it holds "
                      f"{max(available, 0)} bytes: it is truncated or hostile")


def read_values(fh, shape, fortran, dtype, available=None):
    """The values the header (shape, fortran, dtype) declares, read from `fh` as a native-order, C-ordered,
    writable array. `available`: how many bytes `fh` holds after the header when known (a plain file, a
    stored zip member): fewer than declared is refused before anything is allocated. Otherwise the
    bytes are read a MiB at a time, so a stream that ends early costs what it held; one that goes on
    after the declared values is refused after reading one byte more."""
    nbytes = math.prod(shape) * dtype.itemsize
    if available is not None:
        check_holds(shape, dtype, available)
        data = np.empty(nbytes, np.uint8)
        got = 0
        view = memoryview(data)
        while got < nbytes:
            n = fh.readinto(view[got:got + _CHUNK])
            if not n:
                break
            got += n
        extra = len(fh.read(1)) if got == nbytes else 0
        view.release()
    else:
        buffer = bytearray()
        while len(buffer) < nbytes:
            chunk = fh.read(min(_CHUNK, nbytes - len(buffer)))
            if not chunk:
                break
            buffer += chunk
        got = len(buffer)
        extra = len(fh.read(1)) if got == nbytes else 0
        data = np.frombuffer(buffer, np.uint8) if nbytes else np.empty(0, np.uint8)
    if got < nbytes:
        raise Refused(f"it is truncated: its header declares {nbytes} bytes of values, it holds {got}")
    if extra:
        raise Refused(f"it has bytes after the {nbytes} its header declares: it is damaged or hostile")
    array = data.view(dtype).reshape(shape, order="F" if fortran else "C")
    if fortran and array.ndim > 1:
        array = np.ascontiguousarray(array)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array


def _regular(path, error):
    problem = not_regular(path)           # FileNotFoundError for a missing path
    if problem is not None:
        raise error(f"{os.fspath(path)}: {problem}")


def read_npy(path, error=ValueError, check=check_size):
    """The array of the .npy file `path`, bounded as read_values says; check(shape, dtype) may refuse it
    (raising Refused) from its header. Anything wrong is error(f"{path}: ...")."""
    path = os.fspath(path)
    _regular(path, error)
    with open(path, "rb") as fh:
        try:
            if fh.read(2) == b"PK":
                raise Refused("it is an .npz archive (a zip of arrays), not a single .npy array")
            fh.seek(0)
            shape, fortran, dtype = read_header(fh)
            available = os.fstat(fh.fileno()).st_size - fh.tell()
            check_holds(shape, dtype, available)
            if check is not None:
                check(shape, dtype)
            return read_values(fh, shape, fortran, dtype, available)
        except Refused as err:
            raise error(f"{path}: {err}") from None
        except OSError as err:
            raise error(f"{path}: cannot be read ({err.strerror or err})") from None


def open_zip(path, error=ValueError, what=".npz archive"):
    """zipfile.ZipFile(path) (a path or a file object), any failure of it error(f"{path}: ...")."""
    try:
        zf = zipfile.ZipFile(path)
    except Exception as err:           # noqa: BLE001 -- BadZipFile, NotImplementedError, struct.error, OSError...
        raise error(f"{os.fspath(path) if not hasattr(path, 'read') else path}: not a readable {what} "
                    f"({' '.join(str(err).split())[:200]})") from None
    if len(zf.infolist()) > MAX_MEMBERS:
        count = len(zf.infolist())
        zf.close()
        raise error(f"{path}: it has {count} members, more than glassnet._npy.MAX_MEMBERS = {MAX_MEMBERS}: "
                    f"it is damaged or hostile")
    return zf


def npz_keys(zf):
    """{array name: ZipInfo} of an open .npz (a name ending in .npy loses it), or Refused naming the
    names the archive holds twice."""
    found, twice = {}, set()
    for info in zf.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in found:
            twice.add(key)
        found[key] = info
    if twice:
        raise Refused(f"it holds the arrays {', '.join(sorted(twice)[:6])} twice: it was tampered with")
    return found


def read_member(zf, info, check=check_size, max_header=MAX_HEADER, slack=MAX_HEADER, own=()):
    """One .npy member of an open zip: its header checked (and check(shape, dtype)), then its values,
    bounded. A member declaring more bytes than its values plus `slack` is refused unread. Exceptions
    of the classes `own` (raised by check) pass through as they are."""
    try:
        whole = _archive_size(zf)
        with zf.open(info) as fh:
            shape, fortran, dtype = read_header(fh, max_header)
            nbytes = math.prod(shape) * dtype.itemsize
            declared = info.file_size - fh.tell()          # the bytes the zip says follow the header
            check_holds(shape, dtype, declared)
            if check is not None:
                check(shape, dtype)
            if declared > nbytes + slack:
                raise Refused(f"it declares {info.file_size} bytes for {nbytes} bytes of values: "
                              f"it is damaged or hostile")
            stored = info.compress_type == zipfile.ZIP_STORED
            # a stored member holds at most what the archive does, whatever its record says
            return read_values(fh, shape, fortran, dtype, min(declared, whole) if stored else None)
    except (Refused, *own):
        raise
    except RuntimeError as err:        # zipfile: "File ... is encrypted, password required for extraction"
        raise Refused(f"cannot be read ({err}); glassnet reads unencrypted archives only") from None
    except Exception as err:           # noqa: BLE001 -- zlib.error, BadZipFile (CRC), NotImplementedError, EOFError
        raise Refused(f"is damaged ({type(err).__name__}: {' '.join(str(err).split())[:200]})") from None


def _archive_size(zf):
    fp = zf.fp
    at = fp.tell()
    end = fp.seek(0, 2)
    fp.seek(at)
    return end


def read_npz(path, keys, error=ValueError, check=check_size, what="keys"):
    """{key: array} for each of `keys` in the .npz `path`; other members are never read. A missing key,
    a member named twice, a damaged or absurd array: error(f"{path}: ...") or error(f"{path}[key]: ...")."""
    path = os.fspath(path)
    _regular(path, error)
    with open(path, "rb") as head:
        if head.read(6) == b"\x93NUMPY":
            raise error(f"{path}: holds a single array, expected an .npz archive with {', '.join(keys)}")
    with open_zip(path, error) as zf:
        try:
            found = npz_keys(zf)
        except Refused as err:
            raise error(f"{path}: {err}") from None
        arrays, missing = {}, []
        for key in keys:                    # the arrays there first: a hostile one is named before a gap
            if key not in found:
                missing.append(key)
                continue
            try:
                arrays[key] = read_member(zf, found[key], check)
            except Refused as err:
                raise error(f"{path}[{key}]: {err}") from None
        if missing:
            raise error(f"{path}: missing {', '.join(missing)}; an .npz dataset holds {', '.join(keys)} "
                        f"(found: {', '.join(list(found)[:10]) or 'nothing'})")
    return arrays
