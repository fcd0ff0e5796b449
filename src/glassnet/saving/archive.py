"""The zip archive of a `.glassnet` file: written deterministically and atomically, read with
every member's size and SHA-256 checked against manifest.json, and bounded (no huge JSON)."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import format as _format
from .format import CONFIG, FORMAT, FORMAT_VERSION, MANIFEST, OPTIMIZER, WEIGHTS, ModelFileError, short
from .temporary import remove_stale_temporaries, temporary_name
from .._version import __version__

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)         # fixed timestamps: the same model always gives the same bytes
_MAGIC = [(b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a Keras .h5 file?)"),
          (b"\x1f\x8b", "a gzip file"), (b"\x93NUMPY", "a NumPy .npy file"), (b"%PDF", "a PDF document"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"\x80", "a Python pickle")]


# ======================================================================
# Writing
# ======================================================================

def zip_info(name, compress) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def json_bytes(config, what) -> bytes:
    return json.dumps(_jsonable(config, "config", what), indent=2, allow_nan=False).encode("utf-8")


def _jsonable(value, where, what):
    """`value` as plain JSON types (NumPy scalars become numbers, tuples lists), or a clear ValueError."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot save {what}: {where} is {value!r}; a model file holds finite numbers only")
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"cannot save {what}: {where} has a key {key!r} that is not a str")
            out[key] = _jsonable(item, f"{where}.{key}", what)
        return out
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, f"{where}[{i}]", what) for i, item in enumerate(value)]
    kind = "a function" if callable(value) else f"a {type(value).__name__}"
    raise ValueError(f"cannot save {what}: {where} is {kind} ({value!r:.80}), which a model file cannot store "
                     f"(it holds JSON and arrays only, never pickled Python objects); use numbers, names or "
                     f"glassnet objects there, or save the weights alone with model.save_weights")


def write_archive(fileobj, members):
    """Write each (name, make_bytes) member, then manifest.json with every member's SHA-256 and size."""
    listed = {}
    with zipfile.ZipFile(fileobj, "w", allowZip64=True) as zf:
        for name, make in members:
            data = make()
            compress = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
            zf.writestr(zip_info(name, compress), data)
            listed[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "glassnet_version": __version__,
                    "members": listed}
        zf.writestr(zip_info(MANIFEST, zipfile.ZIP_DEFLATED), json.dumps(manifest, indent=2).encode("utf-8"))


def atomic_write(path: Path, write, overwrite=True):
    """Call write(fileobj) on a temporary file next to `path`, fsync it, then publish it as `path`.

    overwrite=True renames it over `path` (os.replace); overwrite=False links it to `path` (os.link), which
    fails if `path` exists, so of several processes saving to one new path exactly one wins and the others
    get FileExistsError. Where the file system has no hard links, `path` is first reserved with O_EXCL
    (an empty file, for an instant), then the temporary file is renamed over it.

    On any error the temporary file is removed and a file already at `path` is left as it was; an OSError
    names `path` and keeps its errno. Temporary files that dead processes left in the folder are removed
    first (temporary.remove_stale_temporaries).
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise _named(FileNotFoundError, errno.ENOENT, path, f"the folder {str(directory)!r} does not exist"
                     if not directory.exists() else f"{str(directory)!r} is not a folder")
    if path.is_dir():
        raise _named(IsADirectoryError, errno.EISDIR, path, "it is a folder")
    remove_stale_temporaries(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = directory / temporary_name(path.name)
        try:
            fd = os.open(tmp, flags, 0o666)          # the umask applies, as for any new file
            break
        except FileExistsError:                      # pragma: no cover - a 32-bit name collision
            continue
        except OSError as err:
            raise _named_from(err, path, f"creating the temporary file {tmp.name!r} in {str(directory)!r}") \
                from err
    fileobj = os.fdopen(fd, "wb")
    try:
        try:
            with fileobj:
                write(fileobj)
                fileobj.flush()
                os.fsync(fileobj.fileno())
            if overwrite:
                os.replace(tmp, path)
        except OSError as err:
            raise _named_from(err, path) from err
        if not overwrite:
            _publish_exclusively(tmp, path)          # its errors name `path` already
    except BaseException:
        with contextlib.suppress(OSError):
            fileobj.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(directory)


#: errno values of os.link meaning "this file system (or this platform) has no hard links here"
_NO_LINKS = {getattr(errno, name) for name in ("EPERM", "ENOTSUP", "EOPNOTSUPP", "EXDEV", "EMLINK", "ENOSYS")
             if hasattr(errno, name)}


def _publish_exclusively(tmp: Path, path: Path):
    """Make the finished temporary file `tmp` appear as `path` unless `path` exists: os.link is atomic and
    fails if `path` exists. Without hard links, `path` is reserved with O_CREAT | O_EXCL (an empty file
    until the rename that follows), which is exclusive too."""
    try:
        if not hasattr(os, "link"):                  # pragma: no cover - a platform without hard links
            raise OSError(errno.ENOSYS, "no os.link")
        os.link(tmp, path)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as err:
        if err.errno not in _NO_LINKS:
            raise _named_from(err, path) from err
        _reserve_then_replace(tmp, path)
        return
    with contextlib.suppress(OSError):               # the target now holds the data: the temporary name goes
        os.unlink(tmp)


def _reserve_then_replace(tmp: Path, path: Path):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as err:
        raise _named_from(err, path) from err
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(path)                          # the empty reservation is ours: take it back
        if isinstance(err, OSError):
            raise _named_from(err, path) from err
        raise


def _exists(path: Path) -> FileExistsError:
    return _named(FileExistsError, errno.EEXIST, path, "it exists and overwrite=False (another save published "
                                                        "it first, or it was there already)")


def _fsync_folder(directory: Path):
    """Make the rename or link itself durable (POSIX; elsewhere nothing to do)."""
    if hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _named(kind, code, path, problem):
    """kind (an OSError class) whose message is "cannot write 'path': problem", with .errno and .path set
    (.filename and .strerror are left None: with them str(error) would not be that message alone)."""
    error = kind(f"cannot write {str(path)!r}: {problem}")
    error.errno, error.path = code, str(path)
    return error


def _named_from(err: OSError, path: Path, doing=None):
    """`err` (an OSError from writing `path`) as an error of the same class naming `path` and the cause,
    its errno kept: "cannot write 'dir/m.glassnet': No space left on device (ENOSPC); ..."."""
    code = getattr(err, "errno", None)
    cause = err.strerror or str(err) or type(err).__name__
    if code in errno.errorcode:
        cause += f" ({errno.errorcode[code]})"
    if doing:
        cause += f" while {doing}"
    return _named(type(err), code, path, f"{cause}; a file already there is left as it was")


# ======================================================================
# Reading
# ======================================================================

@contextlib.contextmanager
def open_zip(path, max_members=None):
    """The zip archive at `path`, open; more than `max_members` members (if given) is refused before
    anything else is looked at."""
    try:
        zf = zipfile.ZipFile(path)
    except NotImplementedError as err:           # a damaged "version needed to extract", an unknown method
        raise ModelFileError(path, f"its zip directory asks for a feature glassnet does not read ({err}): "
                                   f"the file is damaged or was not written by glassnet") from err
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, zlib.error) as err:
        raise ModelFileError(path, _not_a_zip(path)) from err
    with zf:
        count = len(zf.infolist())
        if max_members is not None and count > max_members:
            raise ModelFileError(path, f"the archive has {count} members, more than the limit of {max_members} "
                                       f"(glassnet.saving.format.MAX_MEMBERS): it is damaged or hostile")
        yield zf


def duplicates(names) -> list:
    """The names that occur more than once in `names`, sorted (linear in their number)."""
    seen, twice = set(), set()
    for name in names:
        (twice if name in seen else seen).add(name)
    return sorted(twice)


def _not_a_zip(path) -> str:
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        return "the file is empty"
    if head.startswith(b"PK\x03\x04"):
        return "it starts like a zip archive but its end is missing: the file is truncated or damaged"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return f"it is {kind}, not a glassnet model file"
    try:
        head.decode("utf-8")
        kind = "a text file"
    except UnicodeDecodeError:
        kind = "not a zip archive"
    return f"it is {kind}, not a glassnet model file (a zip archive)"


def read_archive(path, skip=()):
    """(config, {member: bytes}) after checking the manifest, the version and every member's SHA-256;
    the members named in `skip` (optimizer.npz for a model loaded uncompiled) are checked but not read."""
    with open_zip(path, _format.MAX_MEMBERS) as zf:
        infos = zf.infolist()
        names = [info.filename for info in infos]
        dup = duplicates(names)
        if dup:
            raise ModelFileError(path, f"the archive holds members twice ({', '.join(dup)}): it was tampered with")
        if MANIFEST not in names:
            raise ModelFileError(path, _foreign_zip(names, _first_member(path)))
        manifest = _json_member(path, zf, MANIFEST)
        _check_format(path, manifest, MANIFEST)
        listed = manifest.get("members")
        if not isinstance(listed, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("sha256"), str) and len(v["sha256"]) == 64
                and isinstance(v.get("size"), int) and not isinstance(v.get("size"), bool) for v in listed.values()):
            raise ModelFileError(path, f"{MANIFEST} does not list its members with a SHA-256 and a size each")
        for required in (CONFIG, WEIGHTS):
            if required not in listed:
                raise ModelFileError(path, f"{MANIFEST} does not list the member {required}")
        for name in names:
            if name != MANIFEST and name not in listed:
                raise ModelFileError(path, f"the archive holds a member {MANIFEST} does not list: {name!r}")
        unknown = [name for name in listed if name not in _KNOWN]
        if unknown:
            raise ModelFileError(path, f"{MANIFEST} lists members glassnet does not read ({short(unknown)}): "
                                       f"the file was modified or damaged")
        for name, entry in listed.items():         # every declared size checked before anything is read
            if name not in names:
                raise ModelFileError(path, f"the member {name} is missing (listed in {MANIFEST})")
            size = zf.getinfo(name).file_size
            if size != entry["size"]:
                raise ModelFileError(path, f"{name} has {size} bytes, {MANIFEST} says {entry['size']}: "
                                           f"the file was modified or damaged")
        _check_json_size(path, zf.getinfo(CONFIG))
        members = {CONFIG: _checked_member(path, zf, CONFIG, listed)}
        config = _format.parse_json(path, CONFIG, members[CONFIG])
        _check_format(path, config, CONFIG)
        if config["format_version"] != manifest["format_version"]:
            raise ModelFileError(path, f"{CONFIG} says format version {config['format_version']}, "
                                       f"{MANIFEST} says {manifest['format_version']}")
        for name, limit in _npz_limits(path, config).items():     # the arrays config.json lists, no more
            if name in listed and name not in skip:
                size = zf.getinfo(name).file_size
                if size > limit:
                    raise ModelFileError(path, f"{name} declares {size} bytes, more than the {limit} that the "
                                               f"arrays {CONFIG} lists can take: it is damaged or hostile")
                members[name] = _checked_member(path, zf, name, listed)
    return config, members


_KNOWN = (CONFIG, WEIGHTS, OPTIMIZER)


def _checked_member(path, zf, name, listed) -> bytes:
    data = _read_member(path, zf, name)
    if hashlib.sha256(data).hexdigest() != listed[name]["sha256"].lower():
        raise ModelFileError(path, f"{name} was modified or damaged: its SHA-256 does not match "
                                   f"the one in {MANIFEST}")
    return data


def _npz_limits(path, config) -> dict:
    """{member: the most bytes it may hold} for weights.npz and optimizer.npz, from the arrays config.json
    lists for them (an optimizer state config.json cannot describe is allowed four times the weights)."""
    from . import arrays                            # arrays imports this module
    weights = arrays.npz_limit(arrays.expected_weights(path, config))
    try:
        state = config.get("optimizer_state") or {"variables": []}
        slots = [(f"{i}/{s}", tuple(int(d) for d in v["shape"]), np.dtype(v["dtype"]))
                 for i, v in enumerate(state["variables"]) for s in v["slots"]]
        optimizer = arrays.npz_limit(slots)
    except Exception:                               # noqa: BLE001 -- compile_settings names the fault
        optimizer = 4 * weights
    return {WEIGHTS: weights, OPTIMIZER: optimizer}


def _first_member(path):
    """The name in the zip's first local header (the file's first bytes), or None: a glassnet model file
    starts with config.json whatever its end holds."""
    try:
        with open(path, "rb") as f:
            head = f.read(30 + 64)
    except (OSError, TypeError):
        return None
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return None
    length = int.from_bytes(head[26:28], "little")
    return head[30:30 + length].decode("utf-8", "replace") if 0 < length <= 64 else None


def _foreign_zip(names, first=None) -> str:
    if first is not None and first not in names and first in (CONFIG, MANIFEST, WEIGHTS, OPTIMIZER):
        # the zip directory found belongs to an archive inside the file (weights.npz, stored as it is):
        # the model file's own end, with its directory, was cut off
        return (f"it starts as a glassnet model file (its first member is {first}) but its end is missing: "
                f"the file is truncated or damaged (the zip directory found is that of an archive inside it, "
                f"holding {short(names)})")
    if names and all(n.endswith(".npy") for n in names):
        return ("it is a NumPy .npz archive, not a glassnet model file; "
                "to read weights saved with save_weights use model.load_weights")
    if "metadata.json" in names and "model.weights.h5" in names:
        return "it is a Keras .keras file, not a glassnet model file"
    return f"it is a zip archive but not a glassnet model file: it has no {MANIFEST} (members: {short(names)})"


def _read_member(path, zf, name) -> bytes:
    try:
        return zf.read(name)
    except RuntimeError as err:                  # zipfile: "File ... is encrypted, password required"
        raise ModelFileError(path, f"the member {name} cannot be read ({err}): glassnet reads unencrypted "
                                   f"archives only; the file is damaged or was not written by glassnet") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as err:
        raise ModelFileError(path, f"the member {name} cannot be read ({err}): the file is damaged") from err


def _json_member(path, zf, name):
    _check_json_size(path, zf.getinfo(name))
    return _format.parse_json(path, name, _read_member(path, zf, name))


def _check_json_size(path, info):
    """A JSON member declaring more than JSON_LIMIT bytes is refused before it is decompressed."""
    if info.file_size > _format.JSON_LIMIT:
        raise ModelFileError(path, f"{info.filename} declares {info.file_size} bytes, more than the limit of "
                                   f"{_format.JSON_LIMIT} (glassnet.saving.format.JSON_LIMIT): it is damaged "
                                   f"or hostile")


def _check_format(path, doc, name):
    if doc.get("format") != FORMAT:
        raise ModelFileError(path, f"it is not a glassnet model file: {name} names the format "
                                   f"{doc.get('format')!r}, expected {FORMAT!r}")
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(path, f"{name} has no valid format_version (got {version!r})")
    if version > FORMAT_VERSION:
        raise ModelFileError(path, f"it was written in model format version {version} (by glassnet "
                                   f"{doc.get('glassnet_version', '?')}); this glassnet ({__version__}) reads "
                                   f"versions up to {FORMAT_VERSION}: upgrade glassnet to load it")
