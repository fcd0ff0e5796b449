"""What every part of the model file format shares: its names and version, the error it raises,
path handling, and how a class named in a file is found (the registry, or custom_objects)."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
from pathlib import Path

import numpy as np

from .. import _files, _registry

FORMAT = "glassnet-model"
#: Version of the file layout this glassnet writes; it reads every version up to this one.
FORMAT_VERSION = 1
SUFFIX = ".glassnet"
WEIGHTS_SUFFIX = ".weights.npz"

MANIFEST = "manifest.json"
CONFIG = "config.json"
WEIGHTS = "weights.npz"
OPTIMIZER = "optimizer.npz"

# Limits on what a file may make glassnet read (docs/model-format.md, "Limits"). Each is read at the time
# of the check, so a program may raise it: glassnet.saving.format.JSON_LIMIT = 64 * 2**20.
#: Bytes of one JSON member (manifest.json, config.json, a .keras file's config.json); a model of a
#: thousand layers writes well under 1 MiB.
JSON_LIMIT = 4 * 2**20
#: Values (objects, lists, and the items in them) of one JSON member, counted before it is parsed: a Python
#: object costs up to ~150 bytes, so a member costs at most ~15 MiB; a thousand-layer model has ~40,000.
JSON_ITEMS = 100_000
#: Nesting depth of brackets in one JSON member; a Sequential nested 8 deep (keras_nested.MAX_NESTING)
#: writes a config.json about 30 deep.
JSON_DEPTH = 100
#: Members of a .glassnet or .keras archive (a .glassnet file has 3 or 4), checked before any other.
MAX_MEMBERS = 64


class ModelFileError(ValueError):
    """A model or weights file that cannot be loaded; the message names the file and what is wrong."""

    def __init__(self, path, problem):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"cannot load {self.path!r}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem)


def json_depth(data: bytes) -> int:
    """The deepest nesting of [ and { in the JSON text `data`, brackets inside strings not counted, found
    without recursion and in bounded memory (65,536 brackets at a time)."""
    return json_counts(data)[0]


def json_counts(data: bytes) -> tuple[int, int]:
    """(deepest nesting of [ and {, number of values: brackets, commas and colons) of the JSON text
    `data`, counted outside strings, without recursion and in bounded memory."""
    text = _without_strings(data)
    items = sum(text.count(c) for c in (b",", b":", b"[", b"{"))
    return _depth(text), items


def _without_strings(data: bytes) -> bytes:
    """`data` with its JSON strings (escapes included) taken out, built span by span: re.sub would hold
    every piece as an object, ~50 MiB for 3 MB of short strings."""
    view, out, last = memoryview(data), bytearray(), 0
    for match in _STRING.finditer(data):
        out += view[last:match.start()]
        last = match.end()
    out += view[last:]
    return bytes(out)


def _depth(text):
    brackets = np.frombuffer(text.translate(None, _NOT_BRACKETS), np.uint8)
    deepest = level = 0
    for start in range(0, len(brackets), 2**16):         # small chunks: a few hundred KB of scratch
        chunk = brackets[start:start + 2**16]
        steps = np.where((chunk == ord("[")) | (chunk == ord("{")), 1, -1).astype(np.int64)
        levels = level + np.cumsum(steps)
        deepest, level = max(deepest, int(levels.max())), int(levels[-1])
    return deepest


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)        # a JSON string, escapes included
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def parse_json(path, member, data: bytes):
    """The JSON object in `data` (the member `member` of `path`), its size and depth checked first
    against JSON_LIMIT and JSON_DEPTH; anything else is a ModelFileError naming the file and member."""
    if len(data) > JSON_LIMIT:
        raise ModelFileError(path, f"{member} holds {len(data)} bytes, more than the limit of {JSON_LIMIT} "
                                   f"(glassnet.saving.format.JSON_LIMIT): it is damaged or hostile")
    depth, items = json_counts(data)
    if depth > JSON_DEPTH:
        raise ModelFileError(path, f"{member} nests brackets {depth} deep, more than the limit of {JSON_DEPTH} "
                                   f"(glassnet.saving.format.JSON_DEPTH): it is damaged or hostile")
    if items > JSON_ITEMS:
        raise ModelFileError(path, f"{member} holds about {items} values, more than the limit of {JSON_ITEMS} "
                                   f"(glassnet.saving.format.JSON_ITEMS; raise it for a model that large)")
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ModelFileError(path, f"{member} is not valid JSON ({err})") from err
    if not isinstance(value, dict):
        raise ModelFileError(path, f"{member} must hold a JSON object, got {type(value).__name__}")
    return value


def as_path(filepath, what="filepath") -> Path:
    if isinstance(filepath, Path):
        return filepath
    if isinstance(filepath, str) or isinstance(filepath, os.PathLike):
        path = os.fspath(filepath)
        if isinstance(path, str) and path:
            return Path(path)
    raise TypeError(f"{what} must be a non-empty str or os.PathLike, got {filepath!r}")


def existing(filepath, suffix) -> Path:
    """The file to read: `filepath`, or `filepath` + `suffix` when that has no suffix and only that exists."""
    path = as_path(filepath)
    if not path.exists() and not path.suffix and path.with_name(path.name + suffix).exists():
        path = path.with_name(path.name + suffix)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    problem = _files.not_regular(path)          # /dev/zero, a FIFO: refused before anything opens them
    if problem is not None and not path.is_dir():
        raise ModelFileError(path, problem)
    return path


def check_overwrite(path, overwrite):
    """With overwrite=False, refuse at once a path that exists (before anything is computed). This early
    check is only a courtesy: what makes overwrite=False exclusive is archive.atomic_write, which publishes
    the file with os.link (it fails if the path appeared in the meantime)."""
    if not overwrite and os.path.lexists(path):
        error = FileExistsError(f"cannot write {str(path)!r}: it exists and overwrite=False")
        error.errno, error.path = errno.EEXIST, str(path)
        raise error


def short(names, limit=6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def check_model(model):
    """A model a file can describe: an instance of a registered model class (Sequential, Functional)."""
    if not isinstance(model, tuple(_registry.classes("model").values())):
        raise TypeError(f"expected a glassnet Sequential model, got {type(model).__name__}")


def find_class(path, custom_objects, kind, name, what):
    """The class `name` of `kind` ("layer", "loss", ...) that config.json names: the user's own from
    custom_objects first, then glassnet's registry; anything else is a ModelFileError."""
    if name in custom_objects:
        return custom_objects[name]
    found = _registry.lookup(kind, name) if isinstance(name, str) else None
    if found is not None:
        return found
    known = ", ".join(sorted(_registry.classes(kind)))
    raise ModelFileError(path, f"{CONFIG} uses the {what} {name!r}, which glassnet does not have "
                               f"(known: {known}); pass custom_objects={{{name!r}: ...}}")


@contextlib.contextmanager
def building(path):
    """Around the code that builds a model from a file's config: whatever a malformed config makes
    the layers or models raise becomes one ModelFileError naming the file (a ModelFileError passes)."""
    try:
        yield
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as err:
        raise ModelFileError(path, f"{CONFIG} does not describe a model glassnet can build: "
                                   f"{type(err).__name__}: {err}") from err
