"""`glassnet playground` in a real browser (issue 16, part 7): headless Chromium drives the page.

The real server (glassnet.playground.server.make_server, on a free port, in a thread of this process)
serves the real page; Playwright's Python client drives Debian's Chromium through executable_path, as
test_browser.py does, and under the same rule: skipped unless GLASSNET_DOCS_BUILD=1 (the site and browser
step of .ci/run sets it), and with GLASSNET_BROWSER_REQUIRED=1 a missing Chromium or Playwright fails.

The page's numbers are checked against references computed here, independently of the server's
Session: `reference()` follows the brief's recipe with plain glassnet calls (set_random_seed, make_2d,
the split, a float64 Sequential, train_on_batch in the seeded batch order, model.trace for the last
step).  A neuron's and an edge's numbers on the page (each row's exact value in data-value) must equal
that trace's z, a, dL/dz, dL/db, the weight's dL/dW and update, bit for bit; the losses the page shows
must be that model's losses; the exported script and the saved file must hold that model's weights.

The page's two languages and the numbers panel while playing are tested in test_playground_korean.py,
with this file's server, browser, reference and page driver.

Run alone: GLASSNET_DOCS_BUILD=1 PYTHONPATH=src python -m pytest -q -p no:cacheprovider \
    tests/project/test_playground_browser.py
`python tests/project/test_playground_browser.py` writes docs/_static/playground.png (the docs' screenshot).
"""
import importlib.util
import io
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

STATIC = ROOT / "src" / "glassnet" / "playground" / "static"
in_browser = pytest.mark.skipif(os.environ.get("GLASSNET_DOCS_BUILD") != "1",
                                reason="the browser checks run with GLASSNET_DOCS_BUILD=1 (CI's site step sets it)")


def _site_browser_rules():
    """test_browser.py's Chromium finder, skip-or-fail rule and browser fixture (one rule for every browser test)."""
    spec = importlib.util.spec_from_file_location("glassnet_docs_test_browser",
                                                  pathlib.Path(__file__).with_name("test_browser.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.chromium_binary, module.missing, module.browser


chromium_binary, missing, browser = _site_browser_rules()

FEATURES = {"x": lambda p: p[:, 0], "y": lambda p: p[:, 1], "x2": lambda p: p[:, 0] ** 2,
            "y2": lambda p: p[:, 1] ** 2, "xy": lambda p: p[:, 0] * p[:, 1],
            "sinx": lambda p: np.sin(p[:, 0]), "siny": lambda p: np.sin(p[:, 1])}


def reference(settings, steps):
    """The brief's recipe in plain glassnet (classification, sgd, no regularization: the settings these
    tests use): the model after `steps` steps, the trace of the last one, and the data split."""
    import glassnet as gn
    s = settings
    assert s["optimizer"] == "sgd" and s["regularization"] == "none" and s["dataset"] != "plane", s
    gn.set_random_seed(s["seed"])
    points, y = gn.datasets.toy.make_2d(s["dataset"], s["n_samples"], noise=s["noise"], seed=s["seed"])
    y = y.astype(np.int64)
    x = np.column_stack([FEATURES[name](points) for name in s["features"]]).astype(np.float64)
    n_train = min(max(round(s["n_samples"] * s["train_fraction"]), 1), s["n_samples"] - 1)
    x_train, y_train, x_test, y_test = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    dense = [gn.layers.Dense(units, activation=s["activation"], kernel_initializer=s["initializer"],
                             dtype="float64") for units in s["hidden"]]
    output = (gn.layers.Dense(2, activation="softmax", kernel_initializer=s["initializer"], dtype="float64")
              if s["loss"] == "sparse_categorical_crossentropy" else
              gn.layers.Dense(1, activation="sigmoid", kernel_initializer=s["initializer"], dtype="float64"))
    model = gn.Sequential(dense + [output])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=s["learning_rate"]), loss=s["loss"])
    model.build((None, x.shape[1]))
    order_rng, b = np.random.default_rng(s["seed"]), s["batch_size"]
    per_pass, trace = math.ceil(n_train / b), None
    for step in range(steps):
        k = step % per_pass
        if k == 0:
            order = order_rng.permutation(n_train)
        idx = order[k * b:(k + 1) * b]
        if step == steps - 1:
            trace = model.trace(x_train[idx], y_train[idx])
        else:
            model.train_on_batch(x_train[idx], y_train[idx])
    return model, trace, (x_train, y_train, x_test, y_test)


@pytest.fixture(scope="module")
def server_url():
    """The real playground server on 127.0.0.1, a free port, in a thread; yields the page's address."""
    from glassnet.playground.server import make_server
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Playground:
    """One browser tab on the playground, with the console errors and page errors it logged."""

    def __init__(self, browser, url, wait=True, locale="en-US", init_script=None):
        self.page = browser.new_page(viewport={"width": 1360, "height": 900}, accept_downloads=True,
                                     locale=locale)
        if init_script:
            self.page.add_init_script(init_script)
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.step_answers = []              # every answer of /api/step, in the order they arrived
        self.page.on("response", lambda r: self.step_answers.append(r) if r.url.endswith("/api/step") else None)
        self.sent = []                      # (route, JSON body) of every POST the page sent, in order
        self.page.on("request", lambda r: self.sent.append((r.url.rsplit("/", 1)[-1], r.post_data_json))
                     if r.method == "POST" else None)
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.ok, (url, response and response.status)
        if wait:
            self.wait_ready()

    def wait_ready(self):
        """Until the page has a session and has drawn it."""
        self.page.wait_for_function("window.glassnet && window.glassnet.session && window.glassnet.state",
                                    timeout=15000)

    def js(self, expression):
        return self.page.evaluate(expression)

    def step(self, times=1):
        """Click "step" `times` times, each time waiting for the page to show the new step."""
        for _ in range(times):
            before = self.js("glassnet.step")
            self.page.click("#step")
            self.page.wait_for_function(f"glassnet.step === {before + 1} && glassnet.lastUpdateMs !== null")

    def play_until(self, condition):
        """Click "play" until the JS `condition` holds, then "pause"; wait for the last request's answer."""
        self.page.click("#play")
        self.page.wait_for_function(condition, timeout=20000)
        self.page.click("#pause")
        self.page.wait_for_function("!glassnet.playing")
        self.page.evaluate("glassnet.idle()")

    def texts(self, selector):
        return self.page.eval_on_selector_all(selector, "els => els.map(e => e.textContent.trim())")

    def value(self, selector):
        return float(self.page.get_attribute(selector, "data-value"))

    def numbers(self):
        """The exact values (data-value) of the numbers panel's rows, and its text."""
        self.page.wait_for_selector("#numbers tr.number-row")
        self.page.wait_for_function("!document.querySelector('#numbers').hasAttribute('data-loading')")
        values = [float(v) for v in self.page.eval_on_selector_all(
            "#numbers tr.number-row[data-value]", "rows => rows.map(r => r.getAttribute('data-value'))")]
        return values, self.page.inner_text("#numbers")

    def close(self, allowed=()):
        errors = [e for e in self.errors if not any(a in e for a in allowed)]
        self.page.close()
        assert errors == [], errors


def exactly_among(expected, values, what):
    """Each expected number (a NumPy float64) must be one of the page's values, bit for bit."""
    for name, v in expected.items():
        assert float(v) in values, f"{what}: {name} = {float(v)!r} is not on the page: {values}"


@in_browser
def test_pick_moons_train_and_see_the_loss_fall(browser, server_url):
    tab = Playground(browser, server_url)
    page = tab.page
    with page.expect_response("**/api/session") as answer:
        page.select_option("#setting-dataset", "moons")
    created = answer.value.json()
    page.wait_for_function("glassnet.settings.dataset === 'moons' && location.hash.includes('dataset=moons')")
    assert created["settings"]["dataset"] == "moons" and created["state"]["step"] == 0
    first = {part: tab.value(f"#{part}-loss") for part in ("train", "test")}
    assert first == created["state"]["loss"]
    tab.step(3)
    tab.play_until("glassnet.step >= 300")
    server_state = tab.step_answers[-1].json()["state"]
    steps = tab.js("glassnet.step")
    assert steps == server_state["step"] and tab.value("#step-count") == steps
    shown = {part: tab.value(f"#{part}-loss") for part in ("train", "test")}
    assert shown == server_state["loss"]                        # the page shows the server's numbers
    assert shown["train"] < 0.6 * first["train"] and shown["test"] < 0.6 * first["test"], (first, shown)
    history = server_state["history"]
    assert history[-1] == [steps, shown["train"], shown["test"]]
    model, _, (x_train, y_train, x_test, y_test) = reference(tab.js("glassnet.settings"), steps)
    for part, (x, y) in (("train", (x_train, y_train)), ("test", (x_test, y_test))):
        expected = model.evaluate(x, y, batch_size=len(x), verbose=0)
        assert shown[part] == pytest.approx(expected, rel=1e-9), part
    assert tab.js("glassnet.stepsPerSecond") > 0 and tab.js("glassnet.lastUpdateMs") > 0
    tab.close()


@in_browser
def test_neuron_and_edge_numbers_equal_a_trace_computed_here(browser, server_url):
    tab = Playground(browser, server_url + "#dataset=xor&hidden=3&activation=tanh&learning_rate=0.1&seed=5")
    page = tab.page
    settings = tab.js("glassnet.settings")
    assert settings["dataset"] == "xor" and settings["hidden"] == [3] and settings["seed"] == 5
    page.click('#network .neuron[data-layer="1"][data-unit="1"]')
    page.wait_for_selector("#numbers .panel-note")              # before the first step: a note, no request
    assert "no step yet" in page.inner_text("#numbers").lower()
    tab.step(3)
    _, trace, _ = reference(settings, 3)
    hidden, out = trace.layers[0], trace.layers[1]
    values, text = tab.numbers()                                # the panel refreshes after each step
    exactly_among({"z": hidden.z[0, 1], "a": hidden.a[0, 1], "dL/dz": hidden.dL_dz[0, 1],
                   "dL/db": hidden.db[1], "b before": hidden.b[1], "b after": hidden.b_after[1],
                   "b change": hidden.b_after[1] - hidden.b[1],
                   "x0 W01": hidden.x[0, 0] * hidden.W[0, 1], "x1 W11": hidden.x[0, 1] * hidden.W[1, 1]},
                  values, "hidden neuron 1")
    # hidden unit 0 -> the output: a curved edge (a level one has an empty box, which Playwright calls hidden)
    page.click('#network .edge[data-layer="2"][data-source="0"][data-target="0"]')
    page.wait_for_function("document.querySelector('#numbers').getAttribute('data-kind') === 'edge'")
    values, _ = tab.numbers()
    exactly_among({"W before": out.W[0, 0], "dL/dW": out.dW[0, 0], "W after": out.W_after[0, 0],
                   "change": out.W_after[0, 0] - out.W[0, 0], "x_0 of sample 0": out.x[0, 0],
                   "contribution": out.x[0, 0] * out.W[0, 0]}, values, "edge 0 -> 0 of the output layer")
    assert tab.js("glassnet.lastNumbersMs") > 0
    english = values
    page.click('#language [data-lang="ko"]')
    page.wait_for_function("document.querySelector('#numbers').getAttribute('data-lang') === 'ko'")
    values, text = tab.numbers()
    assert re.search("[\uac00-\ud7a3]", text), text             # Hangul labels
    assert values == english                                    # the same numbers, other words
    tab.close()


@in_browser
def test_export_and_save_give_the_weights_of_the_page(browser, server_url, tmp_path):
    import glassnet as gn
    tab = Playground(browser, server_url + "#dataset=circles&hidden=4&batch_size=16&seed=3")
    page = tab.page
    tab.step(2)
    tab.play_until("glassnet.step >= 40")
    steps = tab.js("glassnet.step")
    page.click("#export")
    page.wait_for_selector("#export-dialog[open]")
    code = page.inner_text("#export-code")
    with page.expect_download() as download:
        page.click("#export-download")
    script = tmp_path / "playground.py"
    download.value.save_as(script)
    assert script.read_text(encoding="utf-8") == code and "Sequential" in code
    page.click("#export-close")
    with page.expect_download() as download:
        page.click("#save")
    assert download.value.suggested_filename == "playground.glassnet"
    saved = tmp_path / "saved.glassnet"
    download.value.save_as(saved)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "exported.glassnet")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    exported = gn.models.load_model(tmp_path / "exported.glassnet").get_weights()
    page_weights = gn.models.load_model(saved).get_weights()
    model, _, _ = reference(tab.js("glassnet.settings"), steps)
    for mine, theirs, script_w in zip(model.get_weights(), page_weights, exported):
        assert np.array_equal(theirs, mine) and np.array_equal(script_w, mine)
    assert len(exported) == len(page_weights) == len(model.get_weights()) == 4
    tab.close()


def distinct_colours(png_bytes):
    from PIL import Image
    image = np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB")).reshape(-1, 3)
    return len(np.unique(image, axis=0))


BOUNDARY_PIXELS = """() => {
  const c = document.getElementById('boundary'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set(); let orange = 0, blue = 0;
  for (let i = 0; i < d.length; i += 4) {
    seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    if (d[i] > d[i + 2] + 60) orange++; else if (d[i + 2] > d[i] + 60) blue++;
  }
  return {distinct: seen.size, orange, blue, total: d.length / 4};
}"""


def take_screenshot(tab, path=None):
    """Train moons for a while, open a neuron's numbers, and take the page's picture (PNG bytes)."""
    page = tab.page
    page.select_option("#setting-dataset", "moons")
    page.wait_for_function("glassnet.settings.dataset === 'moons' && glassnet.step === 0")
    tab.step(1)
    tab.play_until("glassnet.step >= 400")
    page.click('#network .neuron[data-layer="1"][data-unit="0"]')
    tab.numbers()
    return page.screenshot(path=None if path is None else str(path), full_page=True)


@in_browser
def test_screenshot_is_not_blank_and_the_hash_restores_the_setup(browser, server_url):
    tab = Playground(browser, server_url)
    png = take_screenshot(tab)
    assert distinct_colours(png) > 300
    pixels = tab.js(BOUNDARY_PIXELS)
    assert pixels["distinct"] > 50, pixels                       # not one flat colour
    assert pixels["orange"] > 0.1 * pixels["total"] and pixels["blue"] > 0.1 * pixels["total"], pixels
    neurons = tab.page.eval_on_selector_all("#network .neuron image", "els => els.map(e => e.getAttribute('href'))")
    assert len(neurons) == 2 + 4 + 2 + 1 and all(h.startswith("data:image/png") for h in neurons)
    # a bad setting: the server's message is shown on the page, the old session keeps running
    tab.page.fill("#setting-batch_size", "100000")
    tab.page.press("#setting-batch_size", "Enter")
    tab.page.wait_for_selector("#message:not([hidden])")
    assert "batch_size" in tab.page.inner_text("#message-text")
    # the URL: change a control, the hash follows; a fresh tab on that URL has the same setup
    tab.page.fill("#setting-batch_size", "10")
    tab.page.select_option("#setting-activation", "relu")
    tab.page.fill("#setting-hidden", "3,2")
    tab.page.press("#setting-hidden", "Enter")
    tab.page.wait_for_function("glassnet.settings.activation === 'relu' && glassnet.settings.hidden.join() === '3,2'"
                               " && location.hash.includes('activation=relu')")
    url, settings = tab.page.url, tab.js("glassnet.settings")
    tab.close(allowed=("400",))                                 # the refused batch size was logged as a 400
    fresh = Playground(browser, url)
    assert fresh.js("glassnet.settings") == settings
    assert fresh.page.input_value("#setting-activation") == "relu"
    assert fresh.page.input_value("#setting-hidden") == "3,2"
    columns = fresh.page.eval_on_selector_all("#network .neuron", "els => els.map(e => e.dataset.layer)")
    assert [columns.count(str(layer)) for layer in range(4)] == [2, 3, 2, 1]
    # an address edited in place (a hashchange, no reload): the page follows it, the rest at the defaults
    before = fresh.js("glassnet.session")
    fresh.page.evaluate("location.hash = '#dataset=xor&hidden=2'")
    fresh.page.wait_for_function(f"glassnet.session !== {json.dumps(before)} && glassnet.settings.dataset === 'xor'")
    assert fresh.js("glassnet.settings.hidden") == [2] and fresh.js("glassnet.settings.activation") == "tanh"
    assert fresh.page.input_value("#setting-dataset") == "xor" and "activation=tanh" in fresh.page.url
    fresh.close()
    # a broken link: the server's message names the setting, shown at the top of the page
    broken = Playground(browser, server_url + "#dataset=moons&hidden=4,300", wait=False)
    broken.page.wait_for_selector("#message:not([hidden])")
    assert "hidden" in broken.page.inner_text("#message-text") and "300" in broken.page.inner_text("#message-text")
    assert broken.page.input_value("#setting-hidden") == "4,300"   # left as given, to be corrected
    broken.close(allowed=("400",))


if __name__ == "__main__":
    # python tests/project/test_playground_browser.py [path]: the screenshot of docs/playground.md
    from playwright.sync_api import sync_playwright
    sys.path.insert(0, str(ROOT / "src"))
    from glassnet.playground.server import make_server
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "_static" / "playground.png"
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_binary(), headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        tab = Playground(chromium, f"http://127.0.0.1:{server.server_address[1]}/")
        take_screenshot(tab, target)
        print(json.dumps({"screenshot": str(target), "steps": tab.js("glassnet.step")}))
        tab.close()
        chromium.close()
    server.shutdown()
