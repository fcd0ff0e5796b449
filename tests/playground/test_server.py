"""The playground's HTTP server, tested over real sockets (tests/playground/server_helpers.py): the page and
its files, the routes, a whole session (create, step, numbers, export, save) whose saved file loads back
equal to a session trained independently in one call, the script export sends writing the same weights,
the session store, starting the server, and the benchmark.  The safety rules are test_server_limits.py's."""
import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

import glassnet as gn
from glassnet.playground import Session, Settings, options, server as server_module
from glassnet.playground.server import make_server, serve

from playground.server_helpers import SMALL, PAGE, Running, error_of, new_session, post, request
from playground.server_helpers import running, static  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    """Sessions seed glassnet's global generator; restore it after each test."""


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
                                  "/static/%2e%2e%2f%2e%2e%2fsettings.py", "/static/APP.JS", "/static/app.js%00",
                                  "/static/..%5c..%5cserver.py", "/static/app.js%2f"])
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


def test_a_save_during_a_step_sees_the_weights_before_or_after_it(running, tmp_path):
    """/api/save waits for the session's lock: the file holds the weights of step 0 or step 600, never
    those of a step in between."""
    key = new_session(running)
    stepped = threading.Thread(target=post, args=(running, "/api/step", {"session": key, "steps": 600}))
    stepped.start()
    status, data = post(running, "/api/save", {"session": key})
    stepped.join(30)
    assert status == 200
    (tmp_path / "m.glassnet").write_bytes(data)
    saved = gn.load_model(str(tmp_path / "m.glassnet")).get_weights()
    reference = Session(Settings.from_dict(SMALL))
    before = reference.weights()
    reference.train(600)
    assert any(all(np.array_equal(a, b) for a, b in zip(saved, ref)) for ref in (before, reference.weights()))


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
