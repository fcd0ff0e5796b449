"""What the attack catalogue (tests/attacks/) builds its hostile files with, and how it runs each one.

Files are made by hand, byte by byte where the attack needs it: a zip writer that lies about sizes,
methods, flags and names as asked (raw_zip), .npy headers of any content (npy), decompression bombs
made a MiB at a time (bomb: the deflate stream of many zeros, never held inflated).

run(call, path, legit) calls the reader under tracemalloc (NumPy's allocations are traced too) and
returns (the exception, peak bytes); refused() asserts it is a clean glassnet error naming the file and
that the peak stayed under twice what the file legitimately describes plus 32 MiB.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import struct
import tracemalloc
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MiB = 2**20
SLACK = 32 * MiB
CLEAN = (ValueError, TypeError, FileNotFoundError)


@dataclass
class Entry:
    """One member of raw_zip: `data` as stored (already compressed for method 8), sizes and checks as
    given (None: the true ones)."""
    name: str
    data: bytes
    method: int = 0
    usize: int | None = None
    crc: int | None = None
    flags: int = 0
    version: int = 20
    raw_size: int | None = None        # the inflated size, for a compressed entry (usize defaults to it)
    local_name: str | None = None      # the name in the local header, if it should differ
    extra: bytes = b""                 # the central record's extra field (a zip64 record, ...)


def stored(name, data, **kw) -> Entry:
    return Entry(name, data, 0, **kw)


def deflated(name, data, **kw) -> Entry:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = c.compress(data) + c.flush()
    kw.setdefault("crc", zlib.crc32(data))
    return Entry(name, packed, 8, raw_size=len(data), **kw)


@lru_cache(maxsize=None)
def bomb(size, fill=b"\0") -> tuple[bytes, int, str]:
    """(raw deflate stream of `size` bytes of `fill`, their CRC-32, their SHA-256), made a MiB at a time."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = fill * MiB
    crc, sha, parts, left = 0, hashlib.sha256(), [], size
    while left > 0:
        piece = chunk[:min(left, MiB)]
        parts.append(c.compress(piece))
        crc = zlib.crc32(piece, crc)
        sha.update(piece)
        left -= len(piece)
    parts.append(c.flush())
    return b"".join(parts), crc, sha.hexdigest()


def bomb_entry(name, size, prefix=b"", **kw) -> Entry:
    """A deflated member inflating to `prefix` then zeros, `size` bytes in all (honest sizes and CRC)."""
    if prefix:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        parts, crc, left = [c.compress(prefix)], zlib.crc32(prefix), size - len(prefix)
        zeros = bytes(MiB)
        while left > 0:
            piece = zeros[:min(left, MiB)]
            parts.append(c.compress(piece))
            crc = zlib.crc32(piece, crc)
            left -= len(piece)
        parts.append(c.flush())
        kw.setdefault("crc", crc)
        return Entry(name, b"".join(parts), 8, raw_size=size, **kw)
    data, crc, _ = bomb(size)
    kw.setdefault("crc", crc)
    return Entry(name, data, 8, raw_size=size, **kw)


def raw_zip(entries, comment=b"") -> bytes:
    """A zip archive written by hand: each Entry's fields go into its local and central records as given."""
    out, central = bytearray(), bytearray()
    for e in entries:
        name = e.name.encode("utf-8")
        local = (e.local_name if e.local_name is not None else e.name).encode("utf-8")
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        real = e.raw_size if e.raw_size is not None else len(e.data)
        usize = real if e.usize is None else e.usize
        flags = e.flags | (0x800 if not name.isascii() else 0)
        offset = len(out)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", e.version, flags, e.method, 0, 0x21,
                           crc & 0xFFFFFFFF, len(e.data), usize & 0xFFFFFFFF, len(local), 0) + local + e.data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, e.version, flags, e.method, 0, 0x21,
                               crc & 0xFFFFFFFF, len(e.data), usize & 0xFFFFFFFF, len(name), len(e.extra), 0, 0,
                               0, 0o644 << 16, offset) + name + e.extra
    start = len(out)
    out += central
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start,
                       len(comment)) + comment
    return bytes(out)


def zip64(entry, size=None, truncated=False) -> Entry:
    """`entry` with its uncompressed size moved into a zip64 extra field (`size`, or a cut-off field)."""
    entry.usize = 0xFFFFFFFF
    entry.extra = struct.pack("<HH", 1, 8) + (struct.pack("<I", 7) if truncated else struct.pack("<Q", size))
    return entry


def entries_of(path_or_bytes) -> list[Entry]:
    """The members of a zip as Entries (stored as they are), to be changed and written again."""
    import io
    import zipfile
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with zipfile.ZipFile(source) as zf:
        return [stored(i.filename, zf.read(i)) for i in zf.infolist()]


def npy(header, data=b"", version=(1, 0), magic=b"\x93NUMPY") -> bytes:
    """A .npy file with `header` (a dict, or text as it is) and `data` after it."""
    text = header if isinstance(header, str) else repr(header)
    text = text.encode("latin1") if isinstance(text, str) else text
    fmt = "<H" if version == (1, 0) else "<I"
    base = len(magic) + 2 + struct.calcsize(fmt)
    pad = -(base + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    return magic + bytes(version) + struct.pack(fmt, len(text)) + text + data


def npy_of(array) -> bytes:
    import io
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def manifest(members: dict, sizes: dict | None = None, shas: dict | None = None) -> bytes:
    """A .glassnet manifest.json listing `members` {name: bytes} (sizes and digests overridable)."""
    listed = {n: {"sha256": (shas or {}).get(n) or hashlib.sha256(d).hexdigest(),
                  "size": (sizes or {}).get(n, len(d))} for n, d in members.items()}
    return json.dumps({"format": "glassnet-model", "format_version": 1, "glassnet_version": "0",
                       "members": listed}).encode()


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout("the reader did not return within 10 s")


def run(call, legit=0):
    """(exception or None, peak traced bytes) of call(); a 10 s alarm stops a reader that hangs."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    tracemalloc.start()
    error = None
    try:
        call()
    except Exception as err:       # noqa: BLE001 -- the catalogue inspects whatever came out
        error = err
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return error, peak


def refused(call, path, legit=0, errors=CLEAN, needle=None):
    """Assert call() raises a clean error (one of `errors`, not a Timeout) naming `path`, within
    2 * legit + 32 MiB of traced memory; returns the message."""
    error, peak = run(call, legit)
    assert error is not None, f"{path}: accepted, expected a clean refusal"
    assert isinstance(error, errors) and not isinstance(error, Timeout), \
        f"{type(error).__name__}: {error}"[:2000]
    message = str(error)
    assert os.fspath(path) in message, f"the message does not name {path}: {message}"[:2000]
    if needle is not None:
        assert needle in message, f"{needle!r} not in {message!r}"[:2000]
    assert peak < 2 * legit + SLACK, f"peak {peak / MiB:.1f} MiB for a file describing {legit / MiB:.1f} MiB"
    return message
