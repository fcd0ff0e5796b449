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
