"""The playground's HTTP server, tested over real sockets: a server in a thread on a free port, requests
written with http.client so every header (Host, Origin, Content-Length) is the test's own choice.

Each safety rule is refused with its status and a message naming what was expected and what arrived;
one failing request never stops the server; a whole session (create, step, numbers, export, save) gives
a file whose weights load back equal to a session trained independently, in one call."""
import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import glassnet as gn
from glassnet.playground import Session, Settings, options, server as server_module
from glassnet.playground.server import MAX_BODY, make_server, serve

PAGE = '<!doctype html><html><head><meta name="glassnet-token" content=""></head><body>page</body></html>'
SMALL = {"dataset": "xor", "hidden": [3], "n_samples": 40, "batch_size": 4, "seed": 5}


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    """Sessions seed glassnet's global generator; restore it after each test."""


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


# ------------------------------------------------------------------------------------------------ the page

def test_the_page_carries_the_servers_token(running):
    status, headers, data = request(running, "GET", "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    token = running.server.token
    assert len(token) >= 32
    assert data.decode() == PAGE.replace('content=""', f'content="{token}"')
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"


def test_static_files_and_options(running, static):
    status, headers, data = request(running, "GET", "/static/app.js?v=2")           # a query is ignored
    assert (status, data) == (200, (static / "app.js").read_bytes())
    assert headers["Content-Type"].startswith("text/javascript")
    status, headers, data = request(running, "GET", "/api/options")
    assert status == 200 and json.loads(data) == json.loads(json.dumps(options()))


@pytest.mark.parametrize("path", ["/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fserver.py",
                                  "/static//etc/passwd", "/static/", "/static", "/../../etc/passwd",
                                  "/static/notes.txt", "/static/app.js/", "/static/./app.js", "/server.py",
                                  "/static/%2e%2e%2f%2e%2e%2fsettings.py", "/static/APP.JS"])
def test_no_path_leaves_the_static_list(running, path):
    status, message = error_of(running, "GET", path)
    assert status == 404
    assert "app.js" in message or "path: one of" in message          # names what exists
    assert "import" not in message


def test_absolute_form_target_is_refused(running):
    status, message = error_of(running, "GET", "http://evil.example/static/app.js")
    assert status == 400 and "starting with '/'" in message and "evil.example" in message


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"])
def test_only_get_and_post(running, method):
    status, message = error_of(running, method, "/api/step")
    assert status == 405 and "GET or POST" in message and method in message


def test_head_is_refused_without_a_body(running):
    status, headers, data = request(running, "HEAD", "/")
    assert status == 405 and headers["Allow"] == "GET, POST" and data == b""


def test_get_on_a_post_route_and_post_on_a_get_route(running):
    assert error_of(running, "GET", "/api/step")[0] == 405
    assert error_of(running, "POST", "/api/options", {})[0] == 405
    status, message = error_of(running, "POST", "/api/frobnicate", {})
    assert status == 404 and "/api/session" in message and "/api/frobnicate" in message


# ------------------------------------------------------------------------------------------------ the rules
# (case id, request keyword arguments, status, needles in the error message)
HOSTILE = [
    ("no-token", dict(token=None), 403, ["X-Glassnet-Token", "got none"]),
    ("wrong-token", dict(token="guessed"), 403, ["X-Glassnet-Token", "a different token"]),
    ("text-plain", dict(content_type="text/plain"), 415, ["expected application/json", "text/plain"]),
    ("form", dict(content_type="application/x-www-form-urlencoded"), 415, ["application/x-www-form-urlencoded"]),
    ("no-content-type", dict(content_type=None), 415, ["expected application/json", "none"]),
    ("host-evil", dict(host="evil.example:{port}"), 403, ["Host header", "127.0.0.1:{port}", "evil.example"]),
    ("host-rebound", dict(host="rebind.attacker.test:{port}"), 403, ["Host header", "rebind.attacker.test"]),
    ("host-other-port", dict(host="127.0.0.1:1"), 403, ["Host header", "'127.0.0.1:1'"]),
    ("host-no-port", dict(host="localhost"), 403, ["Host header", "'localhost'"]),
    ("host-missing", dict(host=None), 403, ["Host header", "got None"]),
    ("origin-evil", dict(headers=[("Origin", "http://evil.example")]), 403, ["Origin", "evil.example",
                                                                             "http://127.0.0.1:{port}"]),
    ("origin-null", dict(headers=[("Origin", "null")]), 403, ["Origin", "'null'"]),
    ("origin-https", dict(headers=[("Origin", "https://127.0.0.1:{port}")]), 403, ["Origin", "https://"]),
    ("origin-other-port", dict(headers=[("Origin", "http://127.0.0.1:1")]), 403, ["Origin", "127.0.0.1:1"]),
    ("too-big", dict(length=str(MAX_BODY + 1), body=b""), 413, ["65536 bytes", str(MAX_BODY + 1)]),
    ("huge-length", dict(length="9" * 30, body=b""), 413, ["at most 65536", "9" * 30]),
    ("length-negative", dict(length="-1", body=b""), 400, ["Content-Length", "'-1'"]),
    ("length-words", dict(length="ten", body=b""), 400, ["Content-Length", "'ten'"]),
    ("chunked", dict(headers=[("Transfer-Encoding", "chunked")], body=b"0\r\n\r\n"), 400,
     ["Transfer-Encoding", "chunked"]),
    ("not-json", dict(body=b"{'session': 1"), 400, ["expected a JSON object", "not JSON"]),
    ("not-utf8", dict(body=b'{"session": "\xff\xfe"}'), 400, ["not JSON"]),
    ("a-list", dict(body=[1, 2]), 400, ["expected a JSON object", "list"]),
    ("null", dict(body=b"null"), 400, ["expected a JSON object", "null"]),
    ("nan", dict(body=b'{"session": "x", "steps": NaN}'), 400, ["JSON numbers", "NaN"]),
    ("infinity", dict(body=b'{"session": "x", "steps": -Infinity}'), 400, ["JSON numbers", "-Infinity"]),
    ("deep", dict(body=b"[" * 60000), 400, ["JSON"]),
    ("huge-integer", dict(body=b'{"session": "x", "steps": ' + b"9" * 5000 + b"}"), 400, ["not JSON"]),
    ("unknown-key", dict(body={"session": "x", "steps": 1, "bogus": 2}), 400, ["session, steps", "'bogus'"]),
    ("unknown-session", dict(body={"session": "nope", "steps": 1}), 404, ["no session 'nope'", "/api/session"]),
    ("session-number", dict(body={"session": 7, "steps": 1}), 400, ["session: the id string", "got 7"]),
    ("session-missing", dict(body={"steps": 1}), 400, ["session: the id string", "got None"]),
]


def _fill(value, port):
    if isinstance(value, str):
        return value.format(port=port)
    if isinstance(value, list) and value and isinstance(value[0], tuple):      # headers
        return [tuple(_fill(v, port) for v in pair) for pair in value]
    return value


def read_all(sock):
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _send_hostile(run, kwargs):
    kwargs = {k: _fill(v, run.port) for k, v in kwargs.items()}
    body = kwargs.pop("body", {"session": "x", "steps": 1})
    return error_of(run, "POST", "/api/step", body, **kwargs)


@pytest.mark.parametrize("kwargs, status, needles", [pytest.param(*c[1:], id=c[0]) for c in HOSTILE])
def test_each_rule_refuses_with_its_message(running, kwargs, status, needles):
    got, message = _send_hostile(running, kwargs)
    assert got == status, message
    for needle in needles:
        assert needle.format(port=running.port) in message, message


def test_the_right_host_and_origin_pass(running):
    port = running.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        origin = "http://" + host.lower()
        assert request(running, "GET", "/api/options", host=host, headers=[("Origin", origin)])[0] == 200, host
    assert new_session(running)


def test_a_big_body_is_refused_before_it_is_read(running):
    """A client announcing 1 GB and sending nothing gets its 413 at once (the server never waits for it)."""
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        sock.sendall(f"POST /api/step HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\nX-Glassnet-Token: "
                     f"{running.server.token}\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n"
                     f"\r\n".encode())
        started = time.perf_counter()
        answer = read_all(sock)
        assert time.perf_counter() - started < 2
    assert answer.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in answer and b"1000000000" in answer


@pytest.mark.parametrize("steps", ["ten", 1e9, -1, 0, 1001, True, None, 2.5, [3], {"n": 3}])
def test_steps_of_the_wrong_type_or_size(running, steps):
    key = new_session(running)
    status, message = error_of(running, "POST", "/api/step", {"session": key, "steps": steps})
    assert status == 400
    assert message == f"steps: an integer from 1 to 1000, got {steps!r}"
    assert running.server.sessions[key].step == 0


@pytest.mark.parametrize("settings, needles", [
    ({"hidden": [4] * 300}, ["hidden: at most 8 layers, got 300"]),
    ({"batch_size": 100000}, ["batch_size: an integer from 1 to 256, got 100000"]),
    ({"hidden": [100000]}, ["hidden", "100000"]),
    ({"n_samples": 10 ** 9}, ["n_samples", "1000000000"]),
    ({"dataset": "mnist"}, ["dataset", "'mnist'"]),
    ({"layers": 3}, ["layers"]),
    ({"dataset": "plane", "loss": "binary_crossentropy"}, ["binary_crossentropy", "plane"]),
    ({"learning_rate": "fast"}, ["learning_rate", "'fast'"]),
])
def test_settings_errors_pass_through(running, settings, needles):
    with pytest.raises(ValueError) as direct:
        Settings.from_dict(settings)
    status, message = error_of(running, "POST", "/api/session", {"settings": settings})
    assert status == 400 and message == str(direct.value)
    for needle in needles:
        assert needle in message


def test_settings_must_be_an_object(running):
    status, message = error_of(running, "POST", "/api/session", {"settings": "dataset=xor"})
    assert status == 400 and "settings: a JSON object" in message and "got str" in message


@pytest.mark.parametrize("body, needles", [
    ({"kind": "neuron", "layer": 1, "unit": 0}, ["no step"]),
    ({"kind": "neuron"}, ["kind and layer"]),
])
def test_numbers_before_the_first_step(running, body, needles):
    key = new_session(running)
    status, message = error_of(running, "POST", "/api/numbers", {"session": key, **body})
    assert status == 400
    for needle in needles:
        assert needle in message.lower(), message


@pytest.mark.parametrize("body, needle", [
    ({"kind": "neuron", "layer": 99, "unit": 0}, "layer: an integer from 0 to 2, got 99"),
    ({"kind": "neuron", "layer": True, "unit": 0}, "got True"),
    ({"kind": "edge", "layer": 1, "source": 0, "target": 3}, "target: an integer from 0 to 2, got 3"),
    ({"kind": "weight", "layer": 1}, "kind: 'neuron' or 'edge', got 'weight'"),
    ({"kind": "neuron", "layer": 1, "unit": 0, "lang": "fr"}, "'fr'"),
    ({"kind": "neuron", "layer": 1, "unit": 0, "sample": 4}, "sample: an integer from 0 to 3, got 4"),
])
def test_numbers_of_what_does_not_exist(running, body, needle):
    key = new_session(running)
    assert post(running, "/api/step", {"session": key, "steps": 1})[0] == 200
    status, message = error_of(running, "POST", "/api/numbers", {"session": key, **body})
    assert status == 400 and needle in message, message


# ------------------------------------------------------------------------------------------------ robustness

def test_fifty_hostile_requests_then_a_normal_one(running):
    cases = [c[1] for c in HOSTILE] * 2
    for kwargs in cases[:50]:
        assert _send_hostile(running, kwargs)[0] >= 400
    key = new_session(running)
    status, answer = post(running, "/api/step", {"session": key, "steps": 3})
    assert status == 200 and answer["state"]["step"] == 3
    assert running.thread.is_alive()


def test_a_failure_inside_a_route_is_one_500_and_one_log_line(static, monkeypatch):
    run = Running(static_dir=static)
    try:
        key = new_session(run)

        def broken(self):
            raise ZeroDivisionError("a bug in state()")
        monkeypatch.setattr(Session, "state", broken)
        status, message = error_of(run, "POST", "/api/step", {"session": key, "steps": 2})
        assert status == 500 and "ZeroDivisionError: a bug in state()" in message and "keeps running" in message
        assert run.server.sessions[key].lock.acquire(blocking=False)    # the lock was released
        run.server.sessions[key].lock.release()
        monkeypatch.undo()
        status, answer = post(run, "/api/step", {"session": key, "steps": 1})
        assert status == 200 and answer["state"]["step"] == 3            # 2 steps ran before state() failed
        lines = run.log.getvalue().splitlines()
        errors = [line for line in lines if "ZeroDivisionError" in line]
        assert len(errors) == 1 and errors[0].startswith("glassnet playground: error in POST /api/step")
        assert "Traceback" not in run.log.getvalue()
        assert all(line.startswith("glassnet playground: ") for line in lines)
    finally:
        run.stop()


def test_a_session_busy_too_long_is_a_429(running, monkeypatch):
    key = new_session(running)
    monkeypatch.setattr(server_module, "LOCK_WAIT", 0.2)
    session = running.server.sessions[key]
    with session.lock:                                    # another request holds it
        status, message = error_of(running, "POST", "/api/step", {"session": key, "steps": 1})
    assert status == 429 and "busy with another request for more than 0.2 s" in message
    assert post(running, "/api/step", {"session": key, "steps": 1})[1]["state"]["step"] == 1


def test_a_slow_client_times_out_and_frees_its_thread(static):
    run = Running(static_dir=static, timeout=0.5)
    try:
        with socket.create_connection(("127.0.0.1", run.port), timeout=5) as sock:
            sock.sendall(f"POST /api/step HTTP/1.1\r\nHost: 127.0.0.1:{run.port}\r\nX-Glassnet-Token: "
                         f"{run.server.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                         f'{{"session": '.encode())
            started = time.perf_counter()
            answer = read_all(sock)
            waited = time.perf_counter() - started
        assert 0.3 < waited < 3
        assert answer.startswith(b"HTTP/1.1 408 ") and b"expected 100 bytes within 0.5 s" in answer
        with socket.create_connection(("127.0.0.1", run.port), timeout=5) as sock:     # half a request line
            sock.sendall(b"GET /api/opt")
            assert sock.recv(65536) == b""                                              # closed, no answer
        assert new_session(run)
    finally:
        run.stop()


@pytest.mark.parametrize("raw, status", [(b"GARBAGE\r\n\r\n", 400), (b"GET / HTTP/9.9\r\n\r\n", 505),
                                         (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
                                         (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431)])
def test_malformed_requests_get_a_json_answer(running, raw, status):
    """http.server's own refusals (no method, an unknown HTTP version, a 70 kB line, 200 headers) answer in
    JSON like every other error, and the server goes on."""
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        sock.sendall(raw)
        answer = read_all(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()) or head.startswith(f"HTTP/1.0 {status} ".encode()), head
    assert json.loads(body)["error"].startswith("a malformed request: ")
    assert request(running, "GET", "/api/options")[0] == 200


def test_too_many_connections_are_closed_not_queued(static):
    run = Running(static_dir=static, max_connections=2, timeout=5)
    try:
        idle = [socket.create_connection(("127.0.0.1", run.port), timeout=5) for _ in range(2)]
        time.sleep(0.2)
        with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
            request(run, "GET", "/api/options")
        for sock in idle:
            sock.close()
        time.sleep(0.2)
        assert request(run, "GET", "/api/options")[0] == 200
    finally:
        run.stop()


def test_at_most_sixteen_sessions_least_recently_used_dropped(static):
    run = Running(static_dir=static)
    try:
        keys = [new_session(run, {**SMALL, "seed": i}) for i in range(16)]
        assert post(run, "/api/step", {"session": keys[0], "steps": 1})[0] == 200     # keys[0] used: now newest
        newest = new_session(run)                                                    # drops keys[1]
        assert len(run.server.sessions) == 16
        status, message = error_of(run, "POST", "/api/step", {"session": keys[1], "steps": 1})
        assert status == 404 and f"no session {keys[1]!r}" in message and "at most 16" in message
        for key in [keys[0], *keys[2:], newest]:
            assert key in run.server.sessions
    finally:
        run.stop()


def test_concurrent_steps_on_one_session_take_turns(running):
    """Two clients step one session at once: each call holds its lock, so the result is 2 x 150 steps in
    sequence, which equals one train(300) of an independent session (the batch order lives in the session)."""
    key = new_session(running)
    results = []

    def step():
        results.append(post(running, "/api/step", {"session": key, "steps": 150}))
    threads = [threading.Thread(target=step) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r[1]["state"]["step"] for r in results) == [150, 300]
    reference = Session(Settings.from_dict(SMALL))
    reference.train(300)
    for got, want in zip(running.server.sessions[key].weights(), reference.weights()):
        assert np.array_equal(got, want)


# ------------------------------------------------------------------------------------------------ a session

def test_a_whole_session(running, tmp_path):
    settings = {"dataset": "moons", "hidden": [4, 3], "activation": "relu", "optimizer": "adam", "n_samples": 60,
                "batch_size": 8, "regularization": "l2", "seed": 11}
    status, created = post(running, "/api/session", {"settings": settings})
    assert status == 200
    assert set(created) == {"session", "settings", "query", "points", "state"}
    assert created["settings"] == Settings.from_dict(settings).to_dict()
    assert Settings.from_query(created["query"]) == Settings.from_dict(settings)
    assert len(created["points"]["train"]) + len(created["points"]["test"]) == 60
    assert created["state"]["step"] == 0
    key = created["session"]
    for steps in (7, 5):
        status, stepped = post(running, "/api/step", {"session": key, "steps": steps})
        assert status == 200 and stepped["elapsed_ms"] > 0
    state = stepped["state"]
    assert state["step"] == 12 and [p[0] for p in state["history"]] == [7, 12]

    reference = Session(Settings.from_dict(settings))            # the same training, in one call, in the test
    reference.train(12)
    want = reference.weights()
    sent = [a for layer in state["weights"] for a in (np.array(layer["W"]), np.array(layer["b"]))]
    assert len(sent) == len(want) and all(np.array_equal(s, w) for s, w in zip(sent, want))

    status, numbers = post(running, "/api/numbers", {"session": key, "kind": "edge", "layer": 2, "source": 1,
                                                     "target": 2, "lang": "ko"})
    assert status == 200 and numbers == json.loads(json.dumps(reference.numbers("edge", 2, source=1, target=2,
                                                                                lang="ko")))
    status, headers, data = request(running, "POST", "/api/save", {"session": key})
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"] == 'attachment; filename="playground.glassnet"'
    path = tmp_path / "playground.glassnet"
    path.write_bytes(data)
    loaded = gn.models.load_model(path)
    got = loaded.get_weights()
    assert len(got) == len(want) and all(np.array_equal(g, w) for g, w in zip(got, want))
    assert loaded.predict(reference.x_test, verbose=0).tolist() == \
        reference.model.predict(reference.x_test, verbose=0).tolist()


def test_export_and_save_agree(running, tmp_path):
    """The two "take it away" buttons of one session: the script /api/export sends, run on its own, writes
    the very weights of the file /api/save sends."""
    from glassnet.playground.export import export_script
    key = new_session(running)
    post(running, "/api/step", {"session": key, "steps": 9})
    status, answer = post(running, "/api/export", {"session": key})
    assert status == 200 and answer["filename"] == "playground.py"
    assert answer["code"] == export_script(Settings.from_dict(SMALL), 9)
    (tmp_path / "playground.py").write_text(answer["code"])
    (tmp_path / "page.glassnet").write_bytes(request(running, "POST", "/api/save", {"session": key})[2])
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")
    done = subprocess.run([sys.executable, "playground.py", "script.glassnet"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": src})
    assert done.returncode == 0, done.stderr[-2000:]
    script = gn.models.load_model(tmp_path / "script.glassnet").get_weights()
    page = gn.models.load_model(tmp_path / "page.glassnet").get_weights()
    assert len(script) == len(page) == 4 and all(np.array_equal(a, b) for a, b in zip(script, page))


def test_a_diverged_loss_is_sent_as_null_never_nan():
    data = server_module._json_bytes({"loss": {"train": float("nan"), "test": float("inf")}, "h": [[1, -float("inf")]],
                                      "ok": 0.5})
    assert json.loads(data, parse_constant=pytest.fail) == {"loss": {"train": None, "test": None},
                                                            "h": [[1, None]], "ok": 0.5}


# ------------------------------------------------------------------------------------------------ starting it

def test_host_rules_of_a_server_on_every_address(static):
    server = make_server("0.0.0.0", 0, static_dir=static, log=None)
    try:
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}/"
        assert server.host_allowed(f"192.168.1.20:{port}") and server.host_allowed(f"127.0.0.1:{port}")
        assert not server.host_allowed(f"attacker.example:{port}")         # a name could be rebound; an IP not
        assert not server.host_allowed(f"192.168.1.20:{port + 1}")
    finally:
        server.server_close()


@pytest.mark.parametrize("host, port, needle", [("example.com", 0, "host: an IP address"), ("", 0, "host"),
                                                ("127.0.0.1", 70000, "port: an integer from 0 to 65535, got 70000"),
                                                ("127.0.0.1", -1, "got -1"), ("127.0.0.1", "80", "got '80'")])
def test_make_server_checks_its_arguments(host, port, needle):
    with pytest.raises(ValueError, match=needle):
        make_server(host, port)


def test_a_port_in_use_is_an_os_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            make_server("127.0.0.1", taken.getsockname()[1])


def _serve_in_thread(monkeypatch, static, **kwargs):
    """Run serve() in a thread on the page files `static`; returns (server, out, err, opened urls, thread)
    once it listens."""
    opened, ready = [], threading.Event()
    holder = {}
    monkeypatch.setattr(server_module.webbrowser, "open", lambda url: opened.append(url))
    monkeypatch.setattr(server_module, "STATIC_DIR", static)
    out, err = io.StringIO(), io.StringIO()

    def on_ready(server):
        holder["server"] = server
        ready.set()
    thread = threading.Thread(target=serve, kwargs=dict(port=0, ready=on_ready, out=out, err=err, **kwargs),
                              daemon=True)
    thread.start()
    assert ready.wait(10)
    return holder["server"], out, err, opened, thread


def test_serve_prints_its_address_and_opens_the_browser(monkeypatch, static):
    server, out, err, opened, thread = _serve_in_thread(monkeypatch, static)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/api/options")
    assert conn.getresponse().status == 200
    conn.close()
    server.shutdown()
    thread.join(5)
    assert not thread.is_alive()
    assert out.getvalue().splitlines()[0] == f"glassnet playground: http://127.0.0.1:{server.port}/ (Ctrl-C stops it)"
    assert opened == [server.url]
    log = err.getvalue().splitlines()
    assert len(log) == 1 and "GET /api/options 200" in log[0] and "warning" not in err.getvalue()


def test_serve_warns_off_loopback_and_can_leave_the_browser_closed(monkeypatch, static):
    server, out, err, opened, thread = _serve_in_thread(monkeypatch, static, host="0.0.0.0", open_browser=False)
    server.shutdown()
    thread.join(5)
    assert opened == []
    assert "warning: listening on 0.0.0.0" in err.getvalue() and "anyone on the network" in err.getvalue()


def test_serve_warns_when_the_page_is_missing(monkeypatch, tmp_path):
    server, out, err, opened, thread = _serve_in_thread(monkeypatch, tmp_path, open_browser=False)
    server.shutdown()
    thread.join(5)
    assert err.getvalue() == f"glassnet playground: warning: no page to serve ({tmp_path} has no index.html)\n"


# ------------------------------------------------------------------------------------------------ the benchmark

def test_the_benchmark_runs_and_its_numbers_agree():
    """bench/playground_server.py in a tiny run: every row is there, and steps/s is steps over the median wall
    time of the same row (speed itself is never asserted)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-m", "bench.playground_server", "--steps", "1,4", "--rounds", "2",
                           "--calls", "3", "--settings", json.dumps(SMALL)], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert out.startswith("glassnet playground server, POST /api/step: xor, features x,y, hidden [3] tanh, sgd, "
                          "batch 4, 40 points; median of 2 calls [range]\n")
    rows = re.findall(r"^ +(\d+) +([\d.]+) \[([\d.]+)-([\d.]+)\] +([\d.]+) +([\d,]+) +([\d,]+) +([\d.]+)x$", out,
                      flags=re.M)
    assert [int(r[0]) for r in rows] == [1, 4]
    for n, wall, lo, hi, server, http_rate, local_rate, ratio in rows:
        assert float(lo) <= float(wall) <= float(hi)
        assert abs(int(http_rate.replace(",", "")) - int(n) / float(wall) * 1000) <= 0.01 * int(n) / float(wall) * 1000 + 1
    for label in ("POST /api/step, steps=1", "POST /api/numbers (a neuron)", "GET /api/options"):
        assert re.search(rf"^{re.escape(label)} +[\d.]+ +[\d.]+ +[\d.]+-[\d.]+$", out, flags=re.M), label
    assert re.search(r"^machine: .+, \d+ cores; load average", out, flags=re.M)


def test_an_answer_that_cannot_be_encoded_is_a_500_too(static, monkeypatch):
    """A route returning something JSON cannot hold (a bug) still gets its JSON 500, not a dropped connection."""
    run = Running(static_dir=static)
    try:
        monkeypatch.setattr(server_module, "options", lambda: {"bad": object()})
        status, message = error_of(run, "GET", "/api/options")
        assert status == 500 and "TypeError" in message and "not JSON serializable" in message
        monkeypatch.undo()
        assert request(run, "GET", "/api/options")[0] == 200
    finally:
        run.stop()
