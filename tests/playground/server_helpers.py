"""What the server tests share (tests/playground/test_server.py, test_server_limits.py,
test_server_deadline.py): a server in a thread on a free port, requests written with http.client so every
header (Host, Origin, Content-Length) is the test's own choice, and slow clients that trickle a request."""
import http.client
import io
import json
import select
import socket
import threading
import time

import pytest

from glassnet.playground.server import make_server

PAGE = '<!doctype html><html><head><meta name="glassnet-token" content=""></head><body>page</body></html>'
SMALL = {"dataset": "xor", "hidden": [3], "n_samples": 40, "batch_size": 4, "seed": 5}


@pytest.fixture(scope="module")
def static(tmp_path_factory):
    """A stand-in for playground/static/: a placeholder page and one script (the real page is H4's)."""
    folder = tmp_path_factory.mktemp("static")
    (folder / "index.html").write_text(PAGE)
    (folder / "app.js").write_text("console.log('app');\n")
    (folder / "notes.txt").write_text("not a page file\n")          # an unknown suffix: never served
    return folder


class Running:
    """A server in a daemon thread; stop() shuts it down and closes its socket."""

    def __init__(self, **options):
        self.log = io.StringIO()
        options.setdefault("log", self.log)
        self.server = make_server("127.0.0.1", 0, **options)
        self.port = self.server.port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def running(static):
    run = Running(static_dir=static)
    yield run
    run.stop()


def request(run, method, path, body=None, *, token=True, content_type="application/json", host=True,
            headers=(), length=None):
    """(status, headers dict, body bytes) of one request on a new connection.  body: a dict (sent as JSON)
    or bytes; token/content_type/host: True for the right value, None to leave the header out, or a str."""
    conn = http.client.HTTPConnection("127.0.0.1", run.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is True:
            host = f"127.0.0.1:{run.port}"
        if host is not None:
            conn.putheader("Host", host)
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        if method == "POST":
            if token is True:
                token = run.server.token
            if token is not None:
                conn.putheader("X-Glassnet-Token", token)
            if content_type is not None:
                conn.putheader("Content-Type", content_type)
            conn.putheader("Content-Length", str(len(data or b"")) if length is None else length)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(data)
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        conn.close()


def post(run, path, body, **kwargs):
    status, headers, data = request(run, "POST", path, body, **kwargs)
    return status, json.loads(data) if headers.get("Content-Type") == "application/json" else data


def error_of(run, method, path, body=None, **kwargs):
    status, headers, data = request(run, method, path, body, **kwargs)
    assert headers["Content-Type"] == "application/json", (status, data)
    answer = json.loads(data)
    assert set(answer) == {"error"}, answer
    return status, answer["error"]


def new_session(run, settings=SMALL):
    status, answer = post(run, "/api/session", {"settings": settings})
    assert status == 200, answer
    return answer["session"]


def read_all(sock):
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class Trickler:
    """A slow client ("slow loris"): sends `head` at once, then `tail` one byte at a time, each time
    trickle() says so; records the server's answer and when the connection ended (`ended`, monotonic
    seconds; `started` = when its first byte went out)."""

    def __init__(self, port, head, tail):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.pieces = ([head] if head else []) + [tail[i:i + 1] for i in range(len(tail))]
        self.answer, self.started, self.ended, self.reset = b"", None, None, False

    def send_next(self):
        if self.started is None:
            self.started = time.monotonic()
        if self.pieces:
            try:
                self.sock.sendall(self.pieces.pop(0))
            except OSError:          # the server closed the connection: receive() sees the end
                self.pieces = []

    def receive(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionError:      # a reset: whatever arrived before it is kept
            data, self.reset = b"", True
        if data:
            self.answer += data
        else:
            self.ended = time.monotonic()

    @property
    def seconds(self):
        """From its first byte to the end of its connection (None: still open)."""
        return None if self.ended is None else self.ended - self.started


def trickle(tricklers, interval, limit):
    """Drive `tricklers`: every `interval` s each sends its next piece, until every connection has ended or
    `limit` seconds have passed; then closes them all."""
    stop = time.monotonic() + limit
    due = time.monotonic()
    while any(t.ended is None for t in tricklers) and time.monotonic() < stop:
        live = [t for t in tricklers if t.ended is None]
        if time.monotonic() >= due:
            for t in live:
                t.send_next()
            due += interval
        wait = max(0.0, min(due, stop) - time.monotonic())
        ready = set(select.select([t.sock for t in live], [], [], wait)[0])
        for t in live:
            if t.sock in ready:
                t.receive()
    for t in tricklers:
        t.sock.close()
