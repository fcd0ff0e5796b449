"""The playground's web server: one page, six JSON routes, a real glassnet model behind them.

    glassnet playground                       # the command (glassnet.cli.playground) calls serve()
    server = make_server(port=0)              # tests: a free port; server.url; serve_forever in a thread

Why the standard library (http.server.ThreadingHTTPServer, json) and not a web framework: six small
routes on one machine need no dependency, and the playground then works offline from a plain install.

    GET  /                  index.html, with this server's random token in <meta name="glassnet-token">
    GET  /static/<name>     only the files of playground/static/, listed once at start (no paths)
    GET  /api/options       the settings table (settings.options())
    POST /api/session       {"settings": {...}} -> {"session", "settings", "query", "points", "state"}
    POST /api/step          {"session", "steps"} -> {"state", "elapsed_ms"}
    POST /api/numbers       {"session", "kind", "layer", "unit" | "source", "target", "sample", "lang"}
    POST /api/export        {"session"} -> {"code", "filename": "playground.py"}
    POST /api/save          {"session"} -> the .glassnet file's bytes (a download)
    an error                {"error": "message naming what was expected and what arrived"}, its status

Safety.  Any web page the user opens can reach a server on 127.0.0.1: by script (cross-site requests) or
by re-pointing its domain at 127.0.0.1 (DNS rebinding).  So the Host header must name this server, an
Origin header must be its own, a POST needs the token (only our page knows it) and `Content-Type:
application/json` (no cross-site form sends it), and no header these rules read may come twice.  A body
is at most 64 KiB (a larger Content-Length is refused unread), a GET's body is never read (its connection
is closed), a whole request must arrive within 10 s of its first byte (a 408 otherwise: reading.py), an idle
connection is closed after 10 s, at most 16 sessions live (the least recently used is dropped), a session
serves one request at a time, and a failure is one answer and one log line, never the server's end.
"""
from __future__ import annotations

import collections
import contextlib
import hmac
import http.server
import ipaddress
import json
import math
import os
import re
import secrets
import socket
import socketserver
import sys
import tempfile
import threading
import time
import webbrowser
from pathlib import Path
from urllib.parse import urlsplit

from .export import export_script
from .reading import MAX_BODY, TIMEOUT, DeadlineReader, RequestError, RequestTimeout, read_json
from .reading import short as _short
from .session import Session
from .settings import Settings, options

__all__ = ["make_server", "serve", "PlaygroundServer", "MAX_BODY", "MAX_SESSIONS", "TIMEOUT", "STATIC_DIR"]

MAX_SESSIONS = 16             # sessions kept; the least recently used is dropped
MAX_CONNECTIONS = 64          # connections served at once; more are closed at once
LOCK_WAIT = 30.0              # seconds a request waits for its session's lock before a 429
STATIC_DIR = Path(__file__).resolve().parent / "static"
TOKEN_HEADER = "X-Glassnet-Token"
_STATIC_NAME = re.compile(r"[A-Za-z0-9_-]+\.(html|js|css|svg|png)")
_TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
          "css": "text/css; charset=utf-8", "svg": "image/svg+xml", "png": "image/png"}
_JSON = ("Content-Type", "application/json")
_TOKEN_META = re.compile(rb'<meta name="glassnet-token" content="[^"]*">')
#: headers of every answer: never cached, never sniffed as another type, never shown in another site's frame
_ALWAYS = (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
           ("Content-Security-Policy", "frame-ancestors 'none'"))
#: the keys each POST route reads; any other key is an error naming these
_ROUTE_KEYS = {"/api/session": ("settings",), "/api/step": ("session", "steps"),
               "/api/numbers": ("session", "kind", "layer", "unit", "source", "target", "sample", "lang"),
               "/api/export": ("session",), "/api/save": ("session",)}


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.x.x.x, ::1, localhost)."""
    try:
        return host.lower() == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host) -> str:
    """The host to listen on: an IP address or 'localhost' (a ValueError otherwise).  Names are not
    looked up: the Host check then knows exactly which names the server answers to."""
    try:
        return "localhost" if host.lower() == "localhost" else str(ipaddress.ip_address(host.strip("[]")))
    except (ValueError, AttributeError):
        raise ValueError(f"host: an IP address such as 127.0.0.1 or 0.0.0.0, or localhost, got {host!r}") from None


_AUTHORITY = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?")


def _split_host(value):
    """('name', port) of a Host header or an origin's host part ('[::1]:8765' -> ('::1', 8765)), or None."""
    match = _AUTHORITY.fullmatch(value.strip().lower()) if value else None
    return None if match is None else (match[1].strip("[]"), int(match[2] or 80))


def _printable(text, limit=200):
    """Text for a log line: control characters escaped (a request cannot forge log lines), at most `limit`."""
    text = str(text)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit]) + "..." * (len(text) > limit)


def _json_bytes(value) -> bytes:
    """JSON for the page.  JavaScript's JSON.parse knows no NaN or Infinity: a diverged loss becomes null."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False, separators=(",", ":")).encode()


def _finite(value):
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


class PlaygroundServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer with the playground's state: token, sessions, static files, limits, log."""
    daemon_threads = True

    def __init__(self, host, port, *, static_dir=None, log="stderr", timeout=TIMEOUT,
                 max_sessions=MAX_SESSIONS, max_connections=MAX_CONNECTIONS):
        self.host = check_host(host)
        bind = "127.0.0.1" if self.host == "localhost" else self.host
        self.address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        self.token = secrets.token_urlsafe(24)
        self.sessions = collections.OrderedDict()       # id -> Session, the least recently used first
        self.max_sessions, self._sessions_lock = max_sessions, threading.Lock()
        self.static_files = self._list_static(Path(static_dir) if static_dir is not None else STATIC_DIR)
        self.log, self.request_timeout = sys.stderr if log == "stderr" else log, timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__((bind, port), PlaygroundHandler)
        self.port = self.server_address[1]
        self.wildcard = ipaddress.ip_address(bind).is_unspecified
        shown = "127.0.0.1" if self.wildcard and self.address_family == socket.AF_INET else \
            "::1" if self.wildcard else bind
        self.url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{self.port}/"
        self.names = {"127.0.0.1", "localhost", "::1", self.host, bind}     # what a Host header may name

    def server_bind(self):
        # HTTPServer.server_bind looks the host's name up (socket.getfqdn), which can hang without a network
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @staticmethod
    def _list_static(folder):
        """{name: path} of the page's files: plain names with a known suffix, regular files, read once."""
        if not folder.is_dir():
            return {}
        return {p.name: p for p in sorted(folder.iterdir()) if _STATIC_NAME.fullmatch(p.name) and p.is_file()}

    def process_request(self, request, client_address):
        if self._slots.acquire(blocking=False):          # too many connections: close this one at once
            super().process_request(request, client_address)
        else:
            self.shutdown_request(request)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address):
        # an exception outside a handler's own try (a reset connection): one line, never a traceback dump
        kind, error = sys.exc_info()[:2]
        self.write_log(f"{client_address[0]} connection error: {kind.__name__}: {error}")

    def write_log(self, line):
        if self.log is not None:
            with contextlib.suppress(OSError, ValueError):     # a closed stream: the request still goes on
                print(f"glassnet playground: {line}", file=self.log, flush=True)

    def add_session(self, session) -> str:
        """Keep `session` under a new random id; beyond max_sessions the least recently used is dropped
        (a request still using it keeps its own reference)."""
        key = secrets.token_urlsafe(12)
        with self._sessions_lock:
            self.sessions[key] = session
            while len(self.sessions) > self.max_sessions:
                self.sessions.popitem(last=False)
        return key

    def session(self, key):
        """The session of `key`, now the most recently used; 404 if there is none (or no longer)."""
        if not isinstance(key, str):
            raise RequestError(400, f"session: the id string that POST /api/session returned, got {_short(key)}")
        with self._sessions_lock:
            if key in self.sessions:
                self.sessions.move_to_end(key)
                return self.sessions[key]
        raise RequestError(404, f"session: no session {_short(key)} (at most {self.max_sessions} are kept, the least "
                                f"recently used is dropped); start a new one with POST /api/session")

    def host_allowed(self, host_header):
        """True if the Host header names this server: loopback or the bound address, and its port."""
        parsed = _split_host(host_header) if host_header else None
        if parsed is None or parsed[1] != self.port:
            return False
        if parsed[0] in self.names:
            return True
        try:                        # on every address: any IP literal (never a name, which DNS rebinding can
            return self.wildcard and bool(ipaddress.ip_address(parsed[0]))      # point at us)
        except ValueError:
            return False


class PlaygroundHandler(http.server.BaseHTTPRequestHandler):
    """One connection: reads requests, checks them, answers with JSON (or a page file)."""
    protocol_version = "HTTP/1.1"          # keep-alive: the page's many small requests reuse a connection
    default_request_version = "HTTP/1.0"   # a malformed request's answer still has a status line (no HTTP/0.9)
    disable_nagle_algorithm = True         # headers and body go out at once (no 40 ms delayed-ACK stall)
    server_version = "glassnet-playground"
    # the socket's timeout (StreamRequestHandler.setup sets it): bounds each write of an answer; reads go
    # through reading.DeadlineReader, which gives a whole request `timeout` seconds from its first byte
    timeout = property(lambda self: self.server.request_timeout)

    def setup(self):
        super().setup()
        self.rfile.close()                           # reading.py's reader instead: a deadline per request
        self.rfile = DeadlineReader(self.connection, self.server.request_timeout)

    def handle(self):
        with contextlib.suppress(ConnectionError):   # the client left (reset, broken pipe): nothing to answer
            super().handle()

    def handle_one_request(self):
        self._part = "request line"                  # what is being read: request line, headers, body
        self.rfile.start_request()
        try:
            super().handle_one_request()
        except RequestTimeout as late:               # too slow: one log line, a 408 if it can still be sent
            self.close_connection = True
            if self._part == "request line":         # nothing of this request is known
                self.command, self.requestline, self.request_version = "", "", self.default_request_version
            text = (f"{self._part}: expected {late.expected} within {late.timeout:g} s of the request's first "
                    f"byte; the client sent too slowly or stopped")
            self.server.write_log(f"{self.client_address[0]} timed out, 408: {text}")
            with contextlib.suppress(OSError):
                self._send(408, _json_bytes({"error": text}), [_JSON])

    def parse_request(self):
        self._part = "headers"                       # the request line is in; parse_request reads the headers
        return super().parse_request()

    def do_GET(self):
        self._handle(self._get)

    def do_POST(self):
        self._handle(self._post)

    def __getattr__(self, name):
        # any other method (PUT, DELETE, HEAD, OPTIONS, BREW, ...): 405 naming the two allowed
        if not name.startswith("do_"):
            raise AttributeError(name)

        def refuse(path):
            raise RequestError(405, f"method: GET or POST, got {_short(self.command)}", [("Allow", "GET, POST")])
        return lambda: self._handle(refuse)

    def send_error(self, code, message=None, explain=None):
        # http.server's own refusals (a malformed request line, too-long headers): JSON like ours
        self.close_connection = True
        self.server.write_log(f"{self.client_address[0]} refused a malformed request: {code} {_printable(message)}")
        self._send(code, _json_bytes({"error": f"a malformed request: {message or code}"}), [_JSON])

    def log_message(self, format, *args):
        self.server.write_log(f"{self.client_address[0]} " + _printable(format % args))

    # ------------------------------------------------------------------ the checks and the dispatch
    def _handle(self, route):
        started = time.perf_counter()
        try:
            path = self._check_request()
            status, body, headers = route(path)
            if not isinstance(body, bytes):
                body, headers = _json_bytes(body), [_JSON, *headers]
        except RequestError as err:
            status, body, headers = err.status, _json_bytes({"error": str(err)}), [_JSON, *err.headers]
        except RequestTimeout:                      # the body came too slowly: handle_one_request answers
            raise
        except Exception as err:                    # a bug or an unexpected failure: one answer, one log line
            self.server.write_log(f"error in {self.command} {_printable(self.path)}: {type(err).__name__}: "
                                  f"{_printable(err)}")
            text = f"the server failed on this request ({type(err).__name__}: {err}); it keeps running"
            status, body, headers = 500, _json_bytes({"error": text}), [_JSON]
        ms = (time.perf_counter() - started) * 1000           # logged before sending: a client that has its
        self.server.write_log(f"{self.client_address[0]} {_printable(self.command, 20)} {_printable(self.path)} "
                              f"{status} {ms:.1f} ms")        # answer finds the line already written
        unread = self.command != "POST" and ("Content-Length" in self.headers or "Transfer-Encoding" in self.headers)
        self.close_connection |= status >= 400 or unread    # a body maybe unread: never parse it as a request
        try:
            self._send(status, body, headers)
        except OSError:                                # the client left, or took no answer within the timeout
            self.close_connection = True               # (a half-sent answer: the connection cannot go on)

    def log_request(self, code="-", size="-"):     # _handle writes one line per request, with its time
        pass

    def _check_request(self):
        """The rules every request meets; returns the path (no query)."""
        for name in ("Host", "Content-Length", "Transfer-Encoding", "Content-Type", "Origin", TOKEN_HEADER):
            if len(self.headers.get_all(name, ())) > 1:      # two Hosts: which counts? neither (RFC 9112: 400)
                raise RequestError(400, f"{name} header: at most once, got it {len(self.headers.get_all(name))} times")
        host = self.headers.get("Host")
        if not self.server.host_allowed(host):
            raise RequestError(403, f"Host header: expected this server's address (127.0.0.1:{self.server.port} or "
                                    f"localhost:{self.server.port}), got {_short(host)}")
        origin = self.headers.get("Origin")
        if origin is not None:
            parts = urlsplit(origin.strip())
            if parts.scheme != "http" or _split_host(parts.netloc) != _split_host(host) or parts.path:
                raise RequestError(403, f"Origin header: expected this page's own origin http://{host.strip()}, got "
                                        f"{_short(origin)}")
        if not self.path.startswith("/"):
            raise RequestError(400, f"request target: a path starting with '/', got {_short(self.path)}")
        return self.path.split("?", 1)[0]

    def _get(self, path):
        if path == "/" or path == "/index.html":
            page = self._static_bytes("index.html")
            meta = f'<meta name="glassnet-token" content="{self.server.token}">'.encode()
            page = _TOKEN_META.sub(meta, page, count=1)
            return 200, page, [("Content-Type", _TYPES["html"])]
        if path.startswith("/static/"):
            name = path[len("/static/"):]
            return 200, self._static_bytes(name), [("Content-Type", _TYPES[name.rpartition(".")[2]])]
        if path == "/api/options":
            return 200, options(), []
        if path in _ROUTE_KEYS:
            raise RequestError(405, f"method: {path} takes POST, got GET")
        raise RequestError(404, f"path: one of /, /static/<file>, /api/options, or POST /api/session, /api/step, "
                                f"/api/numbers, /api/export, /api/save, got {_short(path)}")

    def _static_bytes(self, name):
        path = self.server.static_files.get(name)
        if path is None:
            raise RequestError(404, f"static file: one of {', '.join(self.server.static_files) or '(none)'}, "
                                    f"got {_short(name)}")
        return path.read_bytes()

    def _post(self, path):
        if path not in _ROUTE_KEYS:
            if path == "/api/options":
                raise RequestError(405, "method: /api/options takes GET, got POST")
            raise RequestError(404, f"path: POST one of {', '.join(_ROUTE_KEYS)}, got {_short(path)}")
        token = self.headers.get(TOKEN_HEADER)
        if token is None or not hmac.compare_digest(token.encode("utf-8", "replace"),
                                                    self.server.token.encode()):
            got = "none" if token is None else "a different token"
            raise RequestError(403, f"{TOKEN_HEADER} header: expected the token of the page this server sent "
                                    f"(its <meta name=\"glassnet-token\">), got {got}")
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise RequestError(415, f"Content-Type: expected application/json, got "
                                    f"{_short(self.headers.get('Content-Type') or 'none')}")
        body = self._read_json(path)
        return getattr(self, "_route_" + path[len("/api/"):])(body)

    def _read_json(self, path):
        self._part = "body"
        return read_json(self.rfile, self.headers, _ROUTE_KEYS[path], path)

    # ------------------------------------------------------------------ the routes
    def _route_session(self, body):
        settings = self._call(Settings.from_dict, body.get("settings", {}))    # its limits, its messages
        session = self._call(Session, settings)
        key = self.server.add_session(session)
        with self._locked(session):
            return 200, {"session": key, "settings": settings.to_dict(), "query": settings.to_query(),
                         "points": session.points(), "state": session.state()}, []

    def _route_step(self, body):
        session = self.server.session(body.get("session"))
        with self._locked(session):
            started = time.perf_counter()
            self._call(session.train, body.get("steps", 1))
            state = session.state()
            elapsed = (time.perf_counter() - started) * 1000
        return 200, {"state": state, "elapsed_ms": elapsed}, []

    def _route_numbers(self, body):
        session = self.server.session(body.get("session"))
        if "kind" not in body or "layer" not in body:
            raise RequestError(400, f"body of /api/numbers: expected kind and layer, got {', '.join(body)}")
        args = {k: v for k, v in body.items() if k != "session"}
        with self._locked(session):
            return 200, self._call(session.numbers, **args), []

    def _route_export(self, body):
        session = self.server.session(body.get("session"))
        with self._locked(session):
            settings, steps = session.settings, session.step
        return 200, {"code": export_script(settings, steps), "filename": "playground.py"}, []

    def _route_save(self, body):
        session = self.server.session(body.get("session"))
        with tempfile.TemporaryDirectory(prefix="glassnet-playground-") as folder:
            path = os.path.join(folder, "playground.glassnet")
            with self._locked(session):
                session.model.save(path)
            data = Path(path).read_bytes()
        return 200, data, [("Content-Type", "application/octet-stream"),
                           ("Content-Disposition", 'attachment; filename="playground.glassnet"')]

    @staticmethod
    @contextlib.contextmanager
    def _locked(session):
        """Hold the session's lock (one request trains a session at a time), waited for at most
        LOCK_WAIT seconds: then 429, the session is busy."""
        if not session.lock.acquire(timeout=LOCK_WAIT):
            raise RequestError(429, f"session: busy with another request for more than {LOCK_WAIT:g} s; try again")
        try:
            yield session
        finally:
            session.lock.release()

    @staticmethod
    def _call(function, *args, **kwargs):
        """function(...), its ValueError or TypeError (a bad value in the request) a 400 with its message."""
        try:
            return function(*args, **kwargs)
        except (ValueError, TypeError) as err:
            raise RequestError(400, str(err)) from None

    # ------------------------------------------------------------------ answering
    def _send(self, status, data, headers):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        for name, value in (("Content-Length", str(len(data))), *_ALWAYS):
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def make_server(host="127.0.0.1", port=8765, **options) -> PlaygroundServer:
    """The playground's server, bound and listening but not yet serving (call serve_forever).

    port 0 takes a free port; `server.url` is the page's address, `server.token` the page's token,
    `server.sessions` the live sessions.  Keyword options (for tests): static_dir, log (a text stream
    for the one-line request log; default sys.stderr, None: quiet), timeout, max_sessions, max_connections.
    Raises ValueError for a host that is not an IP address or localhost, OSError if the port is taken.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port: an integer from 0 to 65535, got {port!r}")
    return PlaygroundServer(host, port, **options)


def serve(host="127.0.0.1", port=8765, open_browser=True, ready=None, out=None, err=None) -> None:
    """Run the playground until Ctrl-C: print its address, open the browser (unless open_browser=False),
    call ready(server) once it listens (tests stop it with server.shutdown() from another thread)."""
    out, err = sys.stdout if out is None else out, sys.stderr if err is None else err
    server = make_server(host, port, log=err)
    try:
        if not is_loopback(server.host):
            print(f"glassnet playground: warning: listening on {server.host}, not on loopback: anyone on the "
                  f"network who can reach this machine can open the page and train models on it", file=err,
                  flush=True)
        if "index.html" not in server.static_files:
            print(f"glassnet playground: warning: no page to serve ({STATIC_DIR} has no index.html)", file=err)
        print(f"glassnet playground: {server.url} (Ctrl-C stops it)", file=out, flush=True)
        if ready is not None:
            ready(server)
        if open_browser:
            try:
                webbrowser.open(server.url)
            except Exception as exc:        # no browser here (a server, a container): the address is printed
                print(f"glassnet playground: could not open a browser ({exc}); open {server.url}", file=err)
        server.serve_forever()
    except KeyboardInterrupt:
        print("glassnet playground: stopped", file=out, flush=True)
    finally:
        server.server_close()
