"""`glassnet playground`: the options reach serve(), bad arguments are usage errors of the catalogue's shape
(tests/cli/test_catalogue.py holds the first few and every numeric --port case; the rest are here, checked
by its check_usage_error), a taken port is one error line naming host:port, and the real command
(python -m glassnet) serves, warns off loopback and stops cleanly on Ctrl-C."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys

import pytest

from glassnet import cli
from glassnet.cli import playground as playground_cli
from glassnet.playground import options
from glassnet.playground import server as server_module

from cli.test_catalogue import check_usage_error

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")
HAS_PAGE = (server_module.STATIC_DIR / "index.html").is_file()


@pytest.mark.parametrize("argv, want", [
    ([], ("127.0.0.1", 8765, True)),
    (["--no-browser"], ("127.0.0.1", 8765, False)),
    (["--port", "0", "--host", "LOCALHOST"], ("localhost", 0, True)),
    (["--port", "65535", "--host", "::1"], ("::1", 65535, True)),
    (["--host", "[::1]"], ("::1", 8765, True)),
    (["--host", "0.0.0.0", "--port", " 8080 "], ("0.0.0.0", 8080, True)),
])
def test_the_options_reach_serve(argv, want, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(server_module, "serve", lambda host, port, open_browser, out, err: calls.append(
        (host, port, open_browser)))
    assert cli.main(["playground", *argv]) == 0
    assert calls == [want]


BAD_ARGUMENTS = [
    (["--frobnicate"], ["unrecognized arguments: --frobnicate"]),
    (["model.glassnet"], ["unrecognized arguments: model.glassnet"]),
    (["--port"], ["--port", "expected one argument"]),
    (["--port", "1" + "0" * 40], ["--port", "0 to 65535"]),
    (["--port", "0x1F90"], ["--port", "'0x1F90'"]),
    (["--port", "-80"], ["--port", "'-80'"]),
    (["--host", "http://127.0.0.1:80/"], ["--host", "'http://127.0.0.1:80/'"]),
    (["--host", "127.0.0.1:8765"], ["--host", "'127.0.0.1:8765'"]),
    (["--host", "256.1.1.1"], ["--host", "'256.1.1.1'"]),
    (["--host", "localhost.evil.example"], ["--host", "'localhost.evil.example'"]),
    (["--no-browser=yes"], ["--no-browser"]),
]


@pytest.mark.parametrize("argv, needles", [pytest.param(*case, id=" ".join(case[0])) for case in BAD_ARGUMENTS])
def test_bad_arguments_are_usage_errors(argv, needles, monkeypatch, capsys):
    monkeypatch.setattr(server_module, "serve", lambda *a, **k: pytest.fail("a bad argument reached serve()"))
    status = cli.main(["playground", *argv])
    out, err = capsys.readouterr()
    check_usage_error(status, out, err, "playground", needles)


def test_port_type_bounds():
    assert playground_cli.port("0") == 0 and playground_cli.port("65535") == 65535
    assert playground_cli.port.limit == 65535


def test_a_taken_port_is_one_error_line_naming_it(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = cli.main(["playground", "--port", str(port), "--no-browser"])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert err == (f"glassnet: error: cannot listen on 127.0.0.1:{port}: the address is already in use (another "
                   f"playground? choose another --port, or --port 0 for any free one)\n")


def _start(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "glassnet", "playground", "--port", "0", "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_the_real_command_serves_and_stops_on_ctrl_c(host):
    process = _start("--host", host)
    try:
        first = process.stdout.readline()
        match = re.fullmatch(r"glassnet playground: http://127\.0\.0\.1:(\d+)/ \(Ctrl-C stops it\)\n", first)
        assert match, first
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        conn.request("GET", "/api/options")
        answer = conn.getresponse()
        assert answer.status == 200 and json.loads(answer.read()) == json.loads(json.dumps(options()))
        if HAS_PAGE:                                      # the package's page, with a token in it
            conn.request("GET", "/")
            page = conn.getresponse().read().decode()
            assert re.search(r'<meta name="glassnet-token" content="[A-Za-z0-9_-]{32}">', page), page[:500]
        conn.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out == "glassnet playground: stopped\n"
    assert "Traceback" not in err
    warnings = []
    if host == "0.0.0.0":
        warnings.append("glassnet playground: warning: listening on 0.0.0.0, not on loopback: anyone on the network "
                        "who can reach this machine can open the page and train models on it")
    if not HAS_PAGE:                                      # a checkout without playground/static yet
        warnings.append(f"glassnet playground: warning: no page to serve ({server_module.STATIC_DIR} has no "
                        f"index.html)")
    lines = err.splitlines()
    assert lines[:len(warnings)] == warnings
    requests = ["GET /api/options"] + (["GET /"] if HAS_PAGE else [])
    assert len(lines) == len(warnings) + len(requests), err
    for line, what in zip(lines[len(warnings):], requests):
        assert re.fullmatch(rf"glassnet playground: 127\.0\.0\.1 {what} 200 [\d.]+ ms", line), line
