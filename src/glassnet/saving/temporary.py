"""Temporary files of atomic writes (archive.atomic_write): named ".{name}.{pid}-{host}.{token}.tmp", so
that a later save into the same folder can prove that the process that made one is dead (killed in the
middle of a save) and remove it. Nothing that might belong to a live process is ever removed."""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
from pathlib import Path


def _host_tag() -> str:
    """Six hex digits naming this host's process table: its host name and, on Linux, its PID namespace
    (two containers of one name sharing a folder still get different tags)."""
    where = socket.gethostname()
    with contextlib.suppress(OSError, AttributeError):
        where += os.readlink("/proc/self/ns/pid")
    return hashlib.sha256(where.encode("utf-8", "replace")).hexdigest()[:6]


_HOST = _host_tag()


def temporary_name(name: str) -> str:
    """The name of a new temporary file for the target `name`, made by this process on this host (a long
    name is shortened, so the temporary name stays within a file system's 255 bytes wherever `name` does)."""
    if len(name.encode("utf-8", "surrogateescape")) > 200:
        name = name[:50]
    return f".{name}.{os.getpid()}-{_HOST}.{secrets.token_hex(4)}.tmp"


def pid_is_dead(pid: int) -> bool:
    """True only when no process `pid` exists on this host (os.kill(pid, 0) says so). A live process, one
    of another user (PermissionError), a zombie not yet reaped, or anything unclear counts as alive."""
    if os.name != "posix" or pid <= 0 or pid == os.getpid():   # ours: perhaps another thread's save
        return False                                 # (on Windows os.kill(pid, 0) would end the process)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, ValueError, OverflowError):     # PermissionError: alive, another user's
        return False
    return False


def remove_stale_temporaries(path: Path) -> list:
    """Remove the temporary files that saves into the folder of `path` (to any target there, so that
    ModelCheckpoint's epoch-numbered files are covered too) left on this host when their process died
    (killed in the middle of a save); return the names removed. Anything of another shape, of another
    host, or of a process that may be alive is left alone. Never raises: cleaning is best effort."""
    folder = Path(path).parent
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMPORARY.fullmatch(name)
        if match and pid_is_dead(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(folder / name)
                removed.append(name)
    return removed


_TEMPORARY = re.compile(r"\..+\.(\d{1,10})-" + _HOST + r"\.[0-9a-f]{8}\.tmp", re.DOTALL)
