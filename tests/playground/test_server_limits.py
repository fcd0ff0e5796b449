"""The playground server's rules, each refused over a real socket with its status and a message naming what
was expected and what arrived: token, Content-Type, body size, Host (DNS rebinding), Origin, JSON, unknown
sessions, wrong types, the settings' limits; and robustness: one failing request never stops the server,
a slow client times out, malformed requests get JSON, too many connections are closed."""
import http.client
import json
import socket
import threading
import time

import pytest

from glassnet.playground import Session, Settings, server as server_module
from glassnet.playground.server import MAX_BODY

from playground.server_helpers import Running, error_of, new_session, post, read_all, request
from playground.server_helpers import running, static  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    """Sessions seed glassnet's global generator; restore it after each test."""


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
    ("session-list", dict(body={"session": ["x"], "steps": 1}), 400, ["session: the id string", "got ['x']"]),
    ("session-huge", dict(body={"session": "s" * 60000, "steps": 1}), 404, ["no session 'sssss"]),
    # a digit outside ASCII: str.isdigit() says yes, int() says no (it was a 500)
    ("length-5000-digits", dict(length="9" * 5000, body=b""), 413, ["at most 65536", "got a Content-Length of 999"]),
    ("length-superscript", dict(length="\u00b2", body=b"{}"), 400, ["Content-Length", "'\u00b2'"]),
    # each header the rules read, given twice: which one counts?  Refused (RFC 9110/9112: a repeated Host or
    # Content-Length is a 400), so a rebinding Host or a smuggled body cannot hide behind a good first one
    ("host-twice", dict(headers=[("Host", "evil.example:{port}")]), 400, ["Host header", "once", "2 times"]),
    ("length-twice", dict(headers=[("Content-Length", "2")]), 400, ["Content-Length header", "once"]),
    ("token-twice", dict(headers=[("X-Glassnet-Token", "guessed")]), 400, ["X-Glassnet-Token header", "once"]),
    ("type-twice", dict(headers=[("Content-Type", "text/plain")]), 400, ["Content-Type header", "once"]),
    ("origin-twice", dict(headers=[("Origin", "http://127.0.0.1:{port}"), ("Origin", "http://evil.example")]), 400,
     ["Origin header", "once"]),
]


def _fill(value, port):
    if isinstance(value, str):
        return value.format(port=port)
    if isinstance(value, list) and value and isinstance(value[0], tuple):      # headers
        return [tuple(_fill(v, port) for v in pair) for pair in value]
    return value


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
            answer = read_all(sock)                            # a 408 too (test_server_deadline.py: every part)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"request line: expected the whole request" in answer
        with socket.create_connection(("127.0.0.1", run.port), timeout=5) as sock:     # nothing at all
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


def test_the_body_of_a_get_is_never_read_as_the_next_request(running):
    """A GET's body is not read: the server answers, then closes the connection, so the body (here a second,
    hidden request) is never parsed as one."""
    hidden = f"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n\r\n".encode()
    raw = (f"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\nContent-Length: {len(hidden)}\r\n"
           f"\r\n").encode() + hidden
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        sock.sendall(raw)
        answer = read_all(sock)
    assert answer.count(b"HTTP/1.1 ") == 1 and answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert b"Connection: close" in answer


def test_pipelined_requests_on_one_connection_are_answered_in_order(running):
    sid = new_session(running)
    body = json.dumps({"session": sid, "steps": 2}).encode()
    step = (f"POST /api/step HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\nX-Glassnet-Token: {running.server.token}"
            f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    last = f"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        sock.sendall(step + step + last)
        answer = read_all(sock)
    assert answer.count(b"HTTP/1.1 200 ") == 3, answer[:300]
    assert answer.index(b'"step":2,') < answer.index(b'"step":4,') < answer.index(b'"name":"dataset"')


def test_no_thread_outlives_its_connection(static):
    """Forty requests, good and refused, some kept alive: once their connections close, every handler thread
    has ended (the count comes back to what it was with the server idle)."""
    run = Running(static_dir=static)
    try:
        idle = threading.active_count()
        key = new_session(run)
        for i in range(20):
            post(run, "/api/step", {"session": key, "steps": 1})
            request(run, "POST", "/api/step", b"not json")
        with socket.create_connection(("127.0.0.1", run.port), timeout=5) as sock:       # a kept-alive one
            sock.sendall(f"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1:{run.port}\r\n\r\n".encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        deadline = time.monotonic() + 5
        while threading.active_count() > idle and time.monotonic() < deadline:
            time.sleep(0.02)
        assert threading.active_count() <= idle, [t.name for t in threading.enumerate()]
    finally:
        run.stop()


def test_too_many_connections_are_closed_not_queued(static):
    run = Running(static_dir=static, max_connections=2, timeout=5)
    try:
        idle = [socket.create_connection(("127.0.0.1", run.port), timeout=5) for _ in range(2)]
        with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):    # accepted third: no slot left
            request(run, "GET", "/api/options")
        for sock in idle:
            sock.close()
        deadline = time.monotonic() + 10                  # their threads see the end and free the slots
        while True:
            try:
                assert request(run, "GET", "/api/options")[0] == 200
                break
            except (ConnectionError, http.client.RemoteDisconnected):
                assert time.monotonic() < deadline, "the slots of closed connections were never freed"
                time.sleep(0.05)
    finally:
        run.stop()


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
