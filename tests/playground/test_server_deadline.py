"""The whole-request deadline: a client that trickles its request (a byte every fifth of a second, never
silent long enough for a plain socket timeout) gets a 408 and a closed connection once the request is not
complete `timeout` seconds after its first byte, whichever part it trickles: the request line, the headers
or the body.  Meanwhile other clients are served, and a flood of 70 such clients (more than the 64
connections the server serves at once) keeps nobody out for longer than the deadline.

The server runs with timeout=1 s; every bound is checked against the clock of the test's own client."""
import json
import threading
import time

import pytest

from playground.server_helpers import Running, Trickler, new_session, read_all, request, trickle
from playground.server_helpers import static  # noqa: F401  (fixture)

T = 1.0                    # the server's timeout in these tests, seconds
EVERY = 0.2                # a trickler's pause between two bytes: far below T, so no read ever waits T


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    """Sessions seed glassnet's global generator; restore it after each test."""


def _parts(run):
    """(head sent at once, tail trickled) of a POST whose request line, headers or body is trickled."""
    line = b"POST /api/step HTTP/1.1\r\n"
    body = b'{"session": "' + b"s" * 200 + b'", "steps": 1}'
    headers = (f"Host: 127.0.0.1:{run.port}\r\nX-Glassnet-Token: {run.server.token}\r\nContent-Type: "
               f"application/json\r\nX-Padding: {'p' * 100}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return {"request line": (b"", line + headers + body), "headers": (line, headers + body),
            "body": (line + headers, body)}


def _error(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:300]
    assert b"Connection: close" in head and b"Content-Type: application/json" in head, head
    return json.loads(body)["error"]


@pytest.mark.parametrize("part", ["request line", "headers", "body"])
def test_a_trickled_request_gets_a_408_at_its_deadline_while_others_are_served(static, part):
    run = Running(static_dir=static, timeout=T)
    try:
        slow = Trickler(run.port, *_parts(run)[part])
        driver = threading.Thread(target=trickle, args=([slow], EVERY, 3 * T + 1))
        driver.start()
        time.sleep(0.3 * T)
        assert request(run, "GET", "/api/options")[0] == 200          # served meanwhile
        assert new_session(run)
        assert slow.ended is None                                     # ... while the slow one still sends
        driver.join()
        assert slow.seconds is not None, f"a trickled {part} still held its connection after {3 * T + 1:g} s"
        assert 0.8 * T < slow.seconds < 3 * T, slow.seconds
        message = _error(slow.answer)
        assert message.startswith(part + ":") and "within 1 s of the request's first byte" in message, message
        lines = [line for line in run.log.getvalue().splitlines() if "timed out" in line]
        assert len(lines) == 1 and part in lines[0] and "within 1 s" in lines[0] and "408" in lines[0], lines
        assert new_session(run)                                       # and the server goes on
    finally:
        run.stop()


def test_seventy_trickling_clients_keep_nobody_out_past_the_deadline(static):
    """70 clients trickle their headers: 64 take every connection the server serves at once (6 are closed at
    once), so a normal client is refused, until their deadline ends them all; then it is served."""
    run = Running(static_dir=static, timeout=T)
    try:
        idle = threading.active_count()
        head, tail = _parts(run)["headers"]
        slow = []
        for _ in range(70):
            slow.append(Trickler(run.port, head, tail))
            time.sleep(0.003)                          # the listen queue is short: let the server accept each
        driver = threading.Thread(target=trickle, args=(slow, EVERY, 3 * T + 1))
        started = time.monotonic()
        driver.start()
        time.sleep(0.3 * T)
        with pytest.raises(ConnectionError):          # every slot is taken: the flood is real
            request(run, "GET", "/api/options")
        served = None
        while served is None and time.monotonic() - started < 3 * T:
            try:
                if request(run, "GET", "/api/options")[0] == 200:
                    served = time.monotonic() - started
            except ConnectionError:
                time.sleep(0.05)
        driver.join()
        assert served is not None, f"70 trickling clients kept a normal one out for {3 * T:g} s"
        assert all(t.seconds is not None and t.seconds < 3 * T for t in slow), [t.seconds for t in slow]
        timed_out = [t for t in slow if t.answer]
        assert 64 - 2 <= len(timed_out) <= 64, len(timed_out)       # the 6 (or so) refused ones got no answer
        assert all("headers:" in _error(t.answer) for t in timed_out)
        deadline = time.monotonic() + 5                               # and no handler thread is left behind
        while threading.active_count() > idle and time.monotonic() < deadline:
            time.sleep(0.02)
        assert threading.active_count() <= idle, [t.name for t in threading.enumerate()]
    finally:
        run.stop()


def test_the_deadline_starts_at_a_requests_first_byte_not_when_the_connection_went_idle(static):
    """On a kept-alive connection, a pause shorter than the timeout, then a request sent in three pieces over
    0.6 s: answered (its own second starts at its first byte).  A connection that sends nothing is closed
    after the timeout, without an answer."""
    run = Running(static_dir=static, timeout=T)
    try:
        get = f"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1:{run.port}\r\n\r\n".encode()
        with Trickler(run.port, b"", b"").sock as sock:
            sock.sendall(get)
            assert read_answer(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.7 * T)
            for i in range(3):
                sock.sendall(get[i * len(get) // 3:(i + 1) * len(get) // 3])
                if i < 2:
                    time.sleep(0.3 * T)
            assert read_answer(sock).startswith(b"HTTP/1.1 200 ")
            started = time.monotonic()
            assert read_all(sock) == b""                                # idle: closed, no answer
            assert 0.8 * T < time.monotonic() - started < 3 * T
    finally:
        run.stop()


def read_answer(sock):
    """One whole answer (head and Content-Length bytes of body) from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data[:300]
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, body[:300]
        body += chunk
    assert len(body) == length
    return head + b"\r\n\r\n" + body
