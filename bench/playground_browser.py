"""`glassnet playground` measured in a real browser: steps per second while playing, and click-to-update times.

    python -m bench.playground_browser [--seconds 5] [--clicks 20] [--json out.json]

The real server (glassnet.playground.server.make_server) runs in a thread of this process on a free
port; Debian's Chromium, driven headless by Playwright (as the browser tests do), opens the page with the
default settings and measures what the page itself records (static/app.js, window.glassnet):

- steps/s while playing: "play" for `--seconds`, then the steps done divided by the time (and the page's
  own rolling figure, over its last 3 seconds).  Each /api/step request does as many steps as fit in about
  100 ms, so the picture still updates ~10 times a second;
- click on "step" -> the redrawn page: performance.now() at the click to the animation frame after the
  new state was drawn (glassnet.lastUpdateMs), median and spread of `--clicks` clicks;
- click on a neuron -> its numbers on screen (glassnet.lastNumbersMs), the same way.

For scale, the same steps without a browser: Session.train on its own (the server's work per step), and
Session.state (the JSON of one picture).  Times on this shared 2-core machine drift by 30% or more
between runs: read the numbers as orders of magnitude, and compare within one run.
"""
from __future__ import annotations

import argparse
import datetime
import io
import json
import pathlib
import statistics
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def chromium_binary():
    import shutil
    for candidate in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(candidate):
            return shutil.which(candidate)
    raise SystemExit("bench.playground_browser: no Chromium binary (apt-get install chromium)")


def spread(values):
    """Median, and the 10th and 90th percentiles, in ms."""
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]    # noqa: E731
    return {"median": statistics.median(values), "p10": pick(0.1), "p90": pick(0.9), "n": len(values)}


def without_browser(seconds):
    """Session.train alone (steps/s), and one Session.state (ms): the server's share of the work."""
    from glassnet.playground.session import Session
    from glassnet.playground.settings import Settings
    session = Session(Settings.from_dict({}))
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.train(100)
        done += 100
    steps_per_second = done / (time.perf_counter() - start)
    states = []
    for _ in range(20):
        t = time.perf_counter()
        session.state()
        states.append((time.perf_counter() - t) * 1000)
    return {"train_steps_per_second": steps_per_second, "state_ms": spread(states)}


def open_page(playwright, url):
    """Debian's Chromium, headless, on the playground's page once its first session is drawn."""
    browser = playwright.chromium.launch(executable_path=chromium_binary(), headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.goto(url, wait_until="load")
    page.wait_for_function("window.glassnet && window.glassnet.session && window.glassnet.state")
    return browser, page


def in_browser(url, seconds, clicks):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser, page = open_page(playwright, url)
        step_ms = []
        for _ in range(clicks):
            before = page.evaluate("glassnet.step")
            page.click("#step")
            page.wait_for_function(f"glassnet.step === {before + 1} && glassnet.lastUpdateMs !== null")
            page.wait_for_timeout(20)                     # the frame after the step has been measured
            step_ms.append(page.evaluate("glassnet.lastUpdateMs"))
        numbers_ms = []
        for i in range(clicks):
            page.evaluate("glassnet.app.lastNumbersMs = null")
            page.click(f'#network .neuron[data-layer="1"][data-unit="{i % 4}"]')
            page.wait_for_function("glassnet.lastNumbersMs !== null")
            numbers_ms.append(page.evaluate("glassnet.lastNumbersMs"))
        first = page.evaluate("glassnet.step")
        page.click("#play")
        start = time.perf_counter()
        page.wait_for_timeout(seconds * 1000)
        page.click("#pause")
        page.wait_for_function("!glassnet.playing")
        page.evaluate("glassnet.idle()")
        elapsed = time.perf_counter() - start
        played = page.evaluate("glassnet.step") - first
        result = {
            "play_steps_per_second": played / elapsed,
            "page_steps_per_second": page.evaluate("glassnet.stepsPerSecond"),
            "steps_per_request": page.evaluate("glassnet.stepsPerRequest"),
            "step_click_to_update_ms": spread(step_ms),
            "neuron_click_to_numbers_ms": spread(numbers_ms),
        }
        browser.close()
        return result


def updates_per_second(url, seconds):
    """Pictures drawn per second while playing (the page counts its renders)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser, page = open_page(playwright, url)
        page.click("#play")
        page.wait_for_timeout(1000)                      # let the steps per request settle
        first, start = page.evaluate("glassnet.updates"), time.perf_counter()
        page.wait_for_timeout(seconds * 1000)
        count, elapsed = page.evaluate("glassnet.updates") - first, time.perf_counter() - start
        page.click("#pause")
        page.wait_for_function("!glassnet.playing")
        page.evaluate("glassnet.idle()")                 # no request left half-answered at close
        browser.close()
        return count / elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to play (default 5)")
    parser.add_argument("--clicks", type=int, default=20, help="clicks per median (default 20)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from bench.machine import cpu_model, usable_cores
    from glassnet.playground.server import make_server
    try:                                                 # no log line per request in the output
        server = make_server("127.0.0.1", 0, log=io.StringIO())
    except TypeError:
        server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        results = in_browser(url, args.seconds, args.clicks)
        results["updates_per_second"] = updates_per_second(url, args.seconds)
    finally:
        server.shutdown()
        server.server_close()
    results["server_alone"] = without_browser(min(args.seconds, 3.0))
    results["machine"] = {"cpu": cpu_model(), "cores": usable_cores(),
                          "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    results["settings"] = "defaults (circles, features x y, hidden 4,2, tanh, sgd 0.03, batch 10)"
    print(json.dumps(results, indent=2))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(ROOT))
    main()
