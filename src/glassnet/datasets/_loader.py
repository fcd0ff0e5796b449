"""The one implementation behind `mnist.load_data` and `fashion_mnist.load_data`.

Both datasets come as the same four IDX files (train/t10k images and labels),
so finding, downloading, verifying and reading them is shared here.  The
dataset modules hold what differs (name, mirrors, SHA-256 digests, system
directories) as module-level variables and pass them in on every call, so a
test can point them elsewhere with monkeypatch.

Where `load_data()` looks, in order (the first complete set of files wins):

1. ``path=`` when given: a directory holding the four files, or a ``.npz``
   archive with the keys x_train, y_train, x_test, y_test (Keras's mnist.npz);
   nothing else is searched then.
2. ``$GLASSNET_DATA``: its subfolder named after the dataset (``mnist/``,
   ``fashion-mnist/``), then the directory itself.
3. The user cache: ``$XDG_CACHE_HOME/glassnet/<name>/`` (default
   ``~/.cache/glassnet/<name>/``); downloads go here.
4. Keras's cache (``$KERAS_HOME/datasets``, default ``~/.keras/datasets``),
   so data a Keras installation already fetched is reused.
5. The system dataset directories (Debian's ``dataset-fashion-mnist``
   installs to ``/usr/share/datasets/fashion-mnist``).
6. The official mirrors, one after another, unless ``$GLASSNET_OFFLINE`` is
   set: each file is streamed to a temporary file in the cache directory,
   checked against its SHA-256 digest and only then renamed into place
   (``os.replace``); a file with the wrong digest is deleted.

Local files are not checked against the digests (Debian, for one, repacks the
gzip files); the IDX reader checks their structure instead.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request

import numpy as np

from .._npy import read_npz
from .idx import check_pair, read_idx_pair

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
TIMEOUT = 30            # seconds without data before a mirror is given up
_CHUNK = 1 << 16


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are nowhere to be found and cannot be downloaded.

    The message lists every place that was searched and how to provide the files.
    """


class ChecksumError(ValueError):
    """A downloaded file's SHA-256 digest differs from the known one (nothing was kept)."""


# --------------------------------------------------------------------------- places

def cache_root() -> str:
    """Where glassnet keeps downloaded data: $XDG_CACHE_HOME/glassnet or ~/.cache/glassnet."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "glassnet")


def cache_dir(name: str) -> str:
    """The cache directory of one dataset, e.g. ~/.cache/glassnet/mnist."""
    return os.path.join(cache_root(), name)


def keras_datasets_dir() -> str:
    """Keras's download directory: $KERAS_HOME/datasets or ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


def _offline() -> bool:
    return os.environ.get("GLASSNET_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def _candidates(spec):
    """(label, directory) pairs in search order, for everything but `path=` and the download."""
    out = []
    root = os.environ.get("GLASSNET_DATA", "")
    if root:
        for sub in spec["subdirs"]:
            out.append(("$GLASSNET_DATA", os.path.join(root, sub)))
        out.append(("$GLASSNET_DATA", root))
    else:
        out.append(("$GLASSNET_DATA", None))
    out.append(("user cache", cache_dir(spec["name"])))
    keras = keras_datasets_dir()
    out.append(("Keras cache", os.path.join(keras, spec["keras_subdir"]) if spec["keras_subdir"] else keras))
    for directory in spec["system_dirs"]:
        out.append(("system", os.fspath(directory)))
    return out


def _find_files(directory):
    """{base name: path} of the IDX files present in `directory` (gzip preferred over raw)."""
    found = {}
    for base in FILES:
        for candidate in (base + ".gz", base):
            full = os.path.join(directory, candidate)
            if os.path.isfile(full):
                found[base] = full
                break
    return found


def _find_npz(directory, spec):
    for name in spec["npz_names"]:
        full = os.path.join(directory, name)
        if os.path.isfile(full):
            return full
    return None


def _look(directory, spec):
    """('idx', files) or ('npz', path) when `directory` holds the dataset, else (None, why not)."""
    if not os.path.isdir(directory):
        return None, "no such directory" if not os.path.exists(directory) else "not a directory"
    files = _find_files(directory)
    if len(files) == len(FILES):
        return "idx", files
    npz = _find_npz(directory, spec)
    if npz:
        return "npz", npz
    if files:
        missing = [b for b in FILES if b not in files]
        return None, f"only {len(files)} of the 4 files (missing {', '.join(m + '[.gz]' for m in missing)})"
    return None, "no dataset files"


# --------------------------------------------------------------------------- reading

def _read_idx_set(files, spec):
    train = read_idx_pair(files[FILES[0]], files[FILES[1]])
    test = read_idx_pair(files[FILES[2]], files[FILES[3]])
    return train, test


def _as_uint8(array, name, limit):
    """An integer array whose values fit in [0, limit) as uint8; anything else is an error naming `name`."""
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected unsigned bytes (uint8), got {array.dtype.name}")
    if array.size and (int(array.min()) < 0 or int(array.max()) >= limit):
        raise ValueError(f"{name}: values must lie in 0..{limit - 1}, got {int(array.min())}..{int(array.max())}")
    return array.astype(np.uint8)


def load_npz(path):
    """((x_train, y_train), (x_test, y_test)) from a Keras-style .npz archive: never unpickles, and each
    array's header is checked before its values are read (glassnet._npy: bounded reads)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    arrays = read_npz(path, NPZ_KEYS, ValueError)
    out = []
    for xk, yk in (("x_train", "y_train"), ("x_test", "y_test")):
        x = _as_uint8(arrays[xk], f"{path}[{xk}]", 256)
        y = _as_uint8(arrays[yk], f"{path}[{yk}]", 10)
        out.append(check_pair(x, y, f"{path}[{xk}]", f"{path}[{yk}]"))
    return tuple(out)


def _load_found(kind, found, spec):
    return _read_idx_set(found, spec) if kind == "idx" else load_npz(found)


# --------------------------------------------------------------------------- downloading

def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url, directory, filename, sha256, timeout=None):
    """Fetch `url` into directory/filename, atomically and only if its SHA-256 is `sha256`.

    The bytes go to a temporary file in `directory` (hashed on the way, with a
    tqdm progress bar), which is renamed to `filename` with os.replace once the
    digest matches.  On a mismatch the temporary file is deleted and
    ChecksumError (a ValueError) names the URL and both digests; network
    errors propagate as OSError.  Nothing is left behind on any failure.
    """
    from tqdm.auto import tqdm

    print(f"Downloading data from {url}", file=sys.stderr)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{filename}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "glassnet"})
            with urllib.request.urlopen(request, timeout=timeout or TIMEOUT) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=filename,
                          leave=False, mininterval=0.25, file=sys.stderr) as bar:
                    while True:
                        chunk = response.read(_CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
                if total is not None and bar.n != total:
                    raise OSError(f"connection closed after {bar.n} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != sha256:
            raise ChecksumError(f"{url}: SHA-256 mismatch: expected {sha256}, got {got}; "
                                f"the download was deleted")
        os.replace(tmp, os.path.join(directory, filename))
        tmp = None
    except http.client.HTTPException as err:          # IncompleteRead and friends are not OSErrors
        raise OSError(f"{type(err).__name__}: {err}") from None
    finally:
        if tmp is not None:
            try:
                os.remove(tmp)
            except OSError:
                pass
    return os.path.join(directory, filename)


def _download_all(spec, mirrors, digests, places):
    """Download the missing files into the cache; return the file map, or None with `places` extended."""
    directory = cache_dir(spec["name"])
    made = [d for d in (cache_root(), directory) if not os.path.isdir(d)]
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as err:
        places.append(f"download: cannot create the cache directory {directory} ({err})")
        return None
    try:
        files = _fetch_missing(directory, mirrors, digests, places)
    except BaseException:
        _remove_empty(made)
        raise
    if files is None:
        _remove_empty(made)
    return files


def _remove_empty(directories):
    """Remove the directories this call created, innermost first, if a failed download left them empty."""
    for directory in reversed(directories):
        try:
            os.rmdir(directory)
        except OSError:
            pass


def _fetch_missing(directory, mirrors, digests, places):
    files = _find_files(directory)
    mismatches = []
    for base in FILES:
        if base in files:
            continue
        filename = base + ".gz"
        sha256 = digests.get(filename)
        if not sha256:
            raise ValueError(f"no SHA-256 digest is known for {filename}; refusing to download it unverified")
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + filename
            try:
                files[base] = download_file(url, directory, filename, sha256)
                break
            except ChecksumError as err:
                mismatches.append(str(err))
                places.append(f"{url}: SHA-256 mismatch")
            except (OSError, ValueError) as err:       # HTTPError, URLError, timeouts, bad URLs
                reason = err.reason if isinstance(err, urllib.error.URLError) and not \
                    isinstance(err, urllib.error.HTTPError) else err
                places.append(f"{url}: {reason}")
        else:
            if mismatches:
                raise ChecksumError("; ".join(mismatches))
            return None                              # this file is unreachable: the others would be too
    return files


# --------------------------------------------------------------------------- the entry point

def _not_found(spec, places, path=None):
    title, name = spec["title"], spec["name"]
    names = ", ".join(f + ".gz" for f in FILES)
    lines = [f"{title} was not found." if path is None else f"{title} was not found at path={path!r}.",
             "Looked in:"]
    lines += [f"  - {p}" for p in places]
    npz = f" or a Keras {spec['npz_names'][0]}" if spec["npz_names"] else ""
    lines += [
        "Provide the four files (gzip or raw: " + names + ") in one of these ways:",
        f"  - pass path= a directory holding them{npz}: {spec['module']}.load_data(path=...);",
        f"  - set GLASSNET_DATA to a directory holding them, or holding a {spec['subdirs'][0]}/ folder with them;",
        f"  - copy them to {cache_dir(name)}{os.sep};",
        "  - or go online: load_data() then downloads them and checks their SHA-256 digests"
        + (" (unset GLASSNET_OFFLINE first)." if _offline() else "."),
    ]
    return DatasetNotFoundError("\n".join(lines))


def load(spec, path=None, mirrors=(), sha256=None, system_dirs=()):
    """((x_train, y_train), (x_test, y_test)) of the dataset described by `spec`; see the module docstring."""
    spec = dict(spec, system_dirs=list(system_dirs))
    if path is not None:
        path = os.fspath(path)
        if os.path.isdir(path):
            kind, found = _look(path, spec)
            if kind:
                return _load_found(kind, found, spec)
            raise _not_found(spec, [f"{path}: {found}"], path)
        if os.path.isfile(path):
            return load_npz(path)
        raise _not_found(spec, [f"{path}: no such file or directory"], path)

    places = []
    for label, directory in _candidates(spec):
        if directory is None:
            places.append(f"{label}: not set")
            continue
        kind, found = _look(directory, spec)
        if kind:
            return _load_found(kind, found, spec)
        places.append(f"{directory} ({label}): {found}")

    if _offline():
        places.append("download: skipped, GLASSNET_OFFLINE is set")
    elif not mirrors:
        places.append("download: no mirrors configured")
    else:
        files = _download_all(spec, list(mirrors), dict(sha256 or {}), places)
        if files is not None:
            return _read_idx_set(files, spec)
    raise _not_found(spec, places)


def loader(module_name):
    """The `load_data(path=None)` of a dataset module (mnist, fashion_mnist): it passes the module's
    SPEC, MIRRORS, SHA256 and SYSTEM_DIRS to `load` on every call, so a test can monkeypatch them."""
    module = sys.modules[module_name]

    def load_data(path=None):
        return load(module.SPEC, path, mirrors=module.MIRRORS, sha256=module.SHA256,
                    system_dirs=module.SYSTEM_DIRS)

    npz = ", ".join(module.SPEC["npz_names"])
    load_data.__module__ = module_name
    load_data.__qualname__ = "load_data"
    load_data.__doc__ = f"""((x_train, y_train), (x_test, y_test)) of {module.SPEC["title"]}: 60,000 and 10,000
    uint8 images of shape (28, 28), uint8 labels.

    path: None (search, then download), a directory holding the four IDX files
    (train-images-idx3-ubyte, ..., t10k-labels-idx1-ubyte; each gzip-compressed (.gz)
    or raw), or an .npz archive with the keys x_train, y_train, x_test, y_test ({npz}).
    Raises DatasetNotFoundError (a FileNotFoundError) listing every place searched,
    and ValueError naming the file when one is corrupt.
    """
    return load_data
