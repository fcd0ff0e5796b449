"""How the playground's server reads a request, and the limits on it: time and size.

    rfile = DeadlineReader(sock, timeout=10.0)   # the handler's rfile: readline(limit), read(size)
    rfile.start_request()                        # before each request: its deadline starts at its first byte
    body = read_json(rfile, headers, keys, "/api/step")     # a POST's JSON object, within MAX_BODY bytes

The deadline.  A plain socket timeout only fires when the client is *silent* that long: a client that
sends one byte every few seconds ("slow loris") never is, and would hold a handler thread for as long as
it likes; 64 of them would take every connection the server serves at once.  So reading one request
(request line, headers and body) must finish within `timeout` seconds of its first byte.  DeadlineReader
is the handler's rfile: before each request the handler calls start_request(); the first byte that
arrives then fixes the deadline, and every later receive waits at most the time that is left
(socket.settimeout(remaining)).  Once it is gone, the read raises RequestTimeout, and the handler answers
408 and closes the connection.  Before a request's first byte the connection is idle (kept alive between
two requests): that wait is the plain timeout, and when it ends the connection is closed without an
answer, as http.server does.

Why this and not a watchdog thread that shuts late sockets down: the reader needs no other thread, no
shared table of connections and no lock; the handler learns why a read ended (the deadline, not a
client that left) and can still answer 408 on the open socket; and nothing closes a socket under a
thread that is writing to it.  Why our own small buffer instead of socket.makefile's: after one request
the reader knows whether the next one's first bytes are already here (a pipelined request: its deadline
starts at once), which a BufferedReader does not say without blocking.

Writing is bounded too: after each receive the socket's timeout is the whole `timeout` again, and since
Python 3.5 sendall's timeout bounds the whole call, so a client that does not read its answer holds the
thread at most `timeout` per write.
"""
from __future__ import annotations

import json
import re
import socket
import time

__all__ = ["DeadlineReader", "RequestTimeout", "RequestError", "read_json", "MAX_BODY", "TIMEOUT"]

MAX_BODY = 64 * 1024          # bytes of a POST body
TIMEOUT = 10.0                # seconds: one whole request from its first byte; an idle kept-alive connection
_CHUNK = 64 * 1024            # bytes asked of the socket at once


class RequestError(Exception):
    """A request refused: its HTTP status and the message the page shows."""
    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.status, self.headers = status, list(headers)


class RequestTimeout(Exception):
    """A request not complete within `timeout` seconds of its first byte.  Not a TimeoutError (OSError):
    http.server would take it for an idle connection and close it without an answer."""
    def __init__(self, timeout):
        super().__init__(f"the request was not complete within {timeout:g} s of its first byte")
        self.timeout, self.expected = timeout, "the whole request"    # read_json: "<n> bytes"


def short(value, limit=60):
    """repr(value) for a message, cut to `limit` characters (a request cannot fill the page or the log)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


class DeadlineReader:
    """A connection's input with a deadline per request: readline(limit) and read(size) as on a file, each
    receive waiting at most the time left; RequestTimeout once none is left (see the module's text)."""

    def __init__(self, sock, timeout):
        self._sock, self.timeout = sock, timeout
        self._buffer = bytearray()
        self._deadline = None            # None: idle, waiting for a request's first byte
        self.closed = False

    def start_request(self):
        """A new request begins: its deadline is `timeout` from its first byte (now, if it is already here)."""
        self._deadline = time.monotonic() + self.timeout if self._buffer else None

    def _receive(self) -> bool:
        """Add the bytes that arrive next to the buffer; False at the end of the stream."""
        idle = self._deadline is None
        wait = self.timeout if idle else self._deadline - time.monotonic()
        if wait <= 0:
            raise RequestTimeout(self.timeout)
        try:
            self._sock.settimeout(wait)
            data = self._sock.recv(_CHUNK)
        except socket.timeout:
            if idle:
                raise                    # http.server closes an idle connection quietly
            raise RequestTimeout(self.timeout) from None
        finally:
            self._sock.settimeout(self.timeout)     # writes get the whole timeout
        if data and idle:
            self._deadline = time.monotonic() + self.timeout
        self._buffer += data
        return bool(data)

    def _take(self, n):
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def readline(self, limit=-1) -> bytes:
        """Bytes up to and including b"\\n", at most `limit` of them (all of a limit < 0), fewer at the end."""
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                n = end + 1
                break
            if 0 <= limit <= len(self._buffer):
                n = limit
                break
            searched = len(self._buffer)
            if not self._receive():
                n = len(self._buffer)
                break
        return self._take(n if limit < 0 else min(n, limit))

    def read(self, size) -> bytes:
        """`size` bytes (fewer at the end of the stream).  No read-to-the-end: every read is bounded."""
        if size < 0:
            raise ValueError(f"size: a number of bytes >= 0, got {size}")
        while len(self._buffer) < size and self._receive():
            pass
        return self._take(min(size, len(self._buffer)))

    def close(self):
        self.closed = True
        self._buffer.clear()


def _no_constants(name):
    raise ValueError(f"expected JSON numbers, got {name}")


def read_json(rfile, headers, keys, path) -> dict:
    """The JSON object in a POST's body: Content-Length (no chunks) of at most MAX_BODY bytes, read whole
    (RequestTimeout past the deadline), UTF-8 JSON without NaN or Infinity, only the route's `keys`.
    Anything else is a RequestError (400 or 413) saying what was expected and what arrived."""
    if headers.get("Transfer-Encoding") is not None:
        raise RequestError(400, f"Transfer-Encoding: expected none (a body with Content-Length), got "
                                f"{short(headers['Transfer-Encoding'])}")
    length = headers.get("Content-Length", "none")
    if not re.fullmatch("[0-9]+", length.strip()):           # ASCII: str.isdigit() takes "²", int() does not
        raise RequestError(400, f"Content-Length: expected a number of bytes from 0 to {MAX_BODY}, got "
                                f"{short(length)}")
    size = int(length) if len(length.strip()) < 10 else MAX_BODY + 1        # int() refuses 5000 digits
    if size > MAX_BODY:
        raise RequestError(413, f"body: at most {MAX_BODY} bytes ({MAX_BODY // 1024} KiB), got a "
                                f"Content-Length of {short(length.strip())[1:-1]}")
    try:
        raw = rfile.read(size)
    except RequestTimeout as late:
        late.expected = f"{size} bytes"
        raise
    if len(raw) < size:
        raise RequestError(400, f"body: expected {size} bytes (Content-Length), got {len(raw)}")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (ValueError, RecursionError) as err:   # not JSON, not UTF-8, NaN, 5000 digits, 60000 ['s
        raise RequestError(400, f"body: expected a JSON object, got text that is not JSON ({err})") from None
    if not isinstance(body, dict):
        got = "null" if body is None else type(body).__name__
        raise RequestError(400, f"body: expected a JSON object, got {got}")
    unknown = [k for k in body if k not in keys]
    if unknown:
        raise RequestError(400, f"body of {path}: the keys {', '.join(keys)}, got unknown "
                                f"{', '.join(short(k) for k in unknown[:5])}")
    return body
