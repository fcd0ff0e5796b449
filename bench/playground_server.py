"""How fast the playground answers over HTTP: `python -m bench.playground_server`.

    python -m bench.playground_server                        # the page's default settings, 1/10/100 steps
    python -m bench.playground_server --steps 1,10,100,1000 --rounds 9 --markdown
    python -m bench.playground_server --settings '{"dataset": "spirals", "hidden": [8, 8, 8]}'

The server runs in a process of its own (`make_server(port=0)`, as `glassnet playground` runs it), so
the client's Python does not share its interpreter lock; the client keeps one HTTP/1.1 connection open,
as the page's fetch calls do.  Measured, each as the median over --rounds calls (and its range):

1. steps/s through POST /api/step for a few step counts: the client's wall time per call (HTTP, JSON,
   the training steps and the state the page draws); `elapsed_ms`, the server's own time for the steps
   and the state; and the same `Session.train(n); state()` in this process without HTTP, so the cost of
   the server itself is the difference;
2. the latency of /api/step with steps=1 (what the "step" button waits for, before drawing), of
   /api/numbers (a click on a neuron), and of GET /api/options.

The machine is shared: read the ratios of one run, and the spread between rounds.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

if __package__ in (None, ""):        # python bench/playground_server.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(ROOT, "src", "glassnet")):
    sys.path.insert(0, os.path.join(ROOT, "src"))

from bench import machine  # noqa: E402
from glassnet.playground import Session, Settings  # noqa: E402

SERVER = ("from glassnet.playground.server import make_server; s = make_server('127.0.0.1', 0, log=None); "
          "print(s.port, s.token, flush=True); s.serve_forever()")


class Client:
    """One keep-alive connection to the server, with its token."""

    def __init__(self, port, token):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, path, body=None):
        """(seconds, decoded JSON answer) of one request."""
        headers = {"Host": f"127.0.0.1:{self.port}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.update({"Content-Type": "application/json", "X-Glassnet-Token": self.token})
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        answer = self.conn.getresponse()
        raw = answer.read()
        seconds = time.perf_counter() - started
        if answer.status != 200:
            raise SystemExit(f"{method} {path}: {answer.status} {raw[:300]!r}")
        return seconds, json.loads(raw)


def start_server():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True, env=env)
    port, token = process.stdout.readline().split()
    return process, int(port), token


def summary(values):
    """(median, low, high) of a list of numbers."""
    return statistics.median(values), min(values), max(values)


def measure_steps(client, settings, steps, rounds):
    """Per step count: the client's wall seconds, the server's elapsed seconds, in-process seconds."""
    rows = []
    for n in steps:
        key = client.call("POST", "/api/session", {"settings": settings})[1]["session"]
        local = Session(Settings.from_dict(settings))
        wall, server, inproc = [], [], []
        for _ in range(rounds):
            seconds, answer = client.call("POST", "/api/step", {"session": key, "steps": n})
            wall.append(seconds)
            server.append(answer["elapsed_ms"] / 1000)
            started = time.perf_counter()
            local.train(n)
            json.dumps(local.state())            # what the server also does before answering
            inproc.append(time.perf_counter() - started)
        rows.append((n, wall, server, inproc))
    return rows


def measure_latency(client, settings, calls):
    key = client.call("POST", "/api/session", {"settings": settings})[1]["session"]
    step = [client.call("POST", "/api/step", {"session": key, "steps": 1})[0] for _ in range(calls)]
    numbers = [client.call("POST", "/api/numbers", {"session": key, "kind": "neuron", "layer": 1, "unit": 0})[0]
               for _ in range(calls)]
    options = [client.call("GET", "/api/options")[0] for _ in range(calls)]
    return [("POST /api/step, steps=1", step), ("POST /api/numbers (a neuron)", numbers),
            ("GET /api/options", options)]


def p90(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="1,10,100", help="comma-separated steps per call (default: 1,10,100)")
    parser.add_argument("--rounds", type=int, default=7, help="calls per step count (default: 7)")
    parser.add_argument("--calls", type=int, default=50, help="calls per latency row (default: 50)")
    parser.add_argument("--settings", default="{}", help="the session's settings as JSON (default: the page's)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",")]
    settings = Settings.from_dict(json.loads(args.settings))
    load_before = machine.load_average()
    process, port, token = start_server()
    try:
        client = Client(port, token)
        client.call("POST", "/api/step", {"session": client.call("POST", "/api/session", {})[1]["session"],
                                          "steps": 10})                  # warm up: imports, first allocations
        rows = measure_steps(client, settings.to_dict(), steps, args.rounds)
        latency = measure_latency(client, settings.to_dict(), args.calls)
    finally:
        process.terminate()
        process.wait(10)
    load_after = machine.load_average()

    s = settings
    head = (f"glassnet playground server, POST /api/step: {s.dataset}, features {','.join(s.features)}, hidden "
            f"{list(s.hidden)} {s.activation}, {s.optimizer}, batch {s.batch_size}, {s.n_samples} points; "
            f"median of {args.rounds} calls [range]")
    if args.markdown:
        print(f"{head}\n\n| steps per call | wall ms | server ms | steps/s over HTTP | steps/s in-process | "
              f"HTTP / in-process |\n| --- | --- | --- | --- | --- | --- |")
    else:
        print(head)
        print(f"{'steps/call':>10} {'wall ms':>24} {'server ms':>10} {'steps/s HTTP':>13} {'in-process':>11} "
              f"{'HTTP/in-process':>16}")
    for n, wall, server, inproc in rows:
        w, lo, hi = summary(wall)
        sv, ip = statistics.median(server), statistics.median(inproc)
        cells = (f"{w * 1000:.2f} [{lo * 1000:.2f}-{hi * 1000:.2f}]", f"{sv * 1000:.2f}", f"{n / w:,.0f}",
                 f"{n / ip:,.0f}", f"{w / ip:.2f}x")
        if args.markdown:
            print(f"| {n} | " + " | ".join(cells) + " |")
        else:
            print(f"{n:>10} {cells[0]:>24} {cells[1]:>10} {cells[2]:>13} {cells[3]:>11} {cells[4]:>16}")
    print()
    if args.markdown:
        print(f"latency over {args.calls} calls\n\n| request | median ms | p90 ms | range ms |\n| --- | --- | --- | --- |")
    else:
        print(f"latency over {args.calls} calls{'':14} {'median ms':>10} {'p90 ms':>8} {'range ms':>16}")
    for label, values in latency:
        med, lo, hi = summary(values)
        if args.markdown:
            print(f"| {label} | {med * 1000:.2f} | {p90(values) * 1000:.2f} | {lo * 1000:.2f}-{hi * 1000:.2f} |")
        else:
            print(f"{label:42} {med * 1000:10.2f} {p90(values) * 1000:8.2f} {lo * 1000:7.2f}-{hi * 1000:.2f}")

    def load(avg):
        return "/".join(f"{v:.1f}" for v in avg) if avg else "unknown"
    print(f"\nmachine: {machine.cpu_model()}, {machine.usable_cores()} cores; load average (1/5/15 min) "
          f"{load(load_before)} before, {load(load_after)} after")


if __name__ == "__main__":
    main()
