"""The documentation site in a real browser (issue 15, part 5): headless Chromium opens the built pages.

Skipped unless GLASSNET_DOCS_BUILD=1 (CI sets it), a Chromium binary is installed (Debian's `chromium`
package, or the path in GLASSNET_CHROMIUM) and Playwright's Python client is importable (the docs extra);
with GLASSNET_BROWSER_REQUIRED=1 a missing browser or Playwright fails the tests instead of skipping them.
Playwright drives the system's Chromium through `executable_path`: its own browser download is not needed.

The pages are those of docs/_build/html; when the folder has no index.html the site is built first, with
test_site.py's build_site (the same command, warnings as errors).  They are served over http on 127.0.0.1
(http.server in a thread, on a free port): Sphinx's search loads its index with a script tag, and the
pages must work as a web server delivers them, not only as files.

For the landing page, one gallery page and one API page the browser checks that the title (the <h1>)
renders, that the page's figures are there and loaded (naturalWidth > 0: a missing or broken PNG has 0),
and that nothing was logged as a console error or thrown as a page error (a 404 for an image, a stylesheet
or a script is logged as a console error by Chromium).  Last, the site's search page, given ?q=softmax,
runs Sphinx's JavaScript search until it reports that it finished, and must list at least one result.
"""
import functools
import http.server
import importlib.util
import os
import pathlib
import shutil
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML = ROOT / "docs" / "_build" / "html"

pytestmark = pytest.mark.skipif(os.environ.get("GLASSNET_DOCS_BUILD") != "1",
                                reason="the docs site builds only with GLASSNET_DOCS_BUILD=1 (CI sets it)")

# the pages opened, with how the text of their <h1> starts, and how many figures they show at least
PAGES = {
    "index.html": ("glassnet", 1),
    "auto_examples/01_functions/note001_activations_and_losses.html": ("Study note 001", 1),
    "api/activations.html": ("glassnet.activations", 1),
}


def chromium_binary():
    for candidate in (os.environ.get("GLASSNET_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def build_site():
    """test_site.py's build (one command for both files), imported from the file next to this one."""
    spec = importlib.util.spec_from_file_location("glassnet_docs_test_site",
                                                  pathlib.Path(__file__).with_name("test_site.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_site()


@pytest.fixture(scope="module")
def site_url():
    """docs/_build/html (built if absent) served over http on 127.0.0.1; yields the base URL."""
    if not (HTML / "index.html").is_file():
        build_site()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):       # no line per request in the test output
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def missing(reason):
    """Skip, or fail when GLASSNET_BROWSER_REQUIRED=1 (CI, where a skipped browser check would hide a gap)."""
    if os.environ.get("GLASSNET_BROWSER_REQUIRED") == "1":
        pytest.fail(reason + " (GLASSNET_BROWSER_REQUIRED=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        missing("no Chromium binary (apt-get install chromium, or set GLASSNET_CHROMIUM)")
    try:
        from playwright import sync_api
    except ImportError:
        missing("no Playwright: pip install playwright (the docs extra)")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        chromium = playwright.chromium.launch(executable_path=binary, headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, url):
    """The page at url, loaded (images included), and the list its console errors and page errors go to."""
    page = browser.new_page()
    errors = []
    page.on("console", lambda message: errors.append(f"console: {message.text} ({message.location})")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url} {request.failure}"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, (url, response and response.status)
    return page, errors


@pytest.mark.parametrize("path", sorted(PAGES))
def test_page_renders_its_title_and_figure_without_console_errors(browser, site_url, path):
    title, figures = PAGES[path]
    page, errors = open_page(browser, site_url + path)
    try:
        heading = page.locator("article h1").first
        heading.wait_for(state="visible")
        assert heading.inner_text().strip().startswith(title), (path, heading.inner_text())
        # the figures of the page's text (not the theme's icons): present, downloaded, decoded
        images = page.eval_on_selector_all(
            "article img",
            "images => images.map(i => ({src: i.currentSrc || i.src, complete: i.complete,"
            " width: i.naturalWidth, height: i.naturalHeight}))")
        assert len(images) >= figures, (path, images)
        for image in images:
            assert image["complete"] and image["width"] > 0 and image["height"] > 0, (path, image)
        assert page.locator("article img").first.is_visible()
        page.wait_for_load_state("networkidle")        # late scripts (the theme's, MathJax) have run too
        assert errors == [], (path, errors)
    finally:
        page.close()


def test_search_finds_softmax(browser, site_url):
    page, errors = open_page(browser, site_url + "search.html?q=softmax")
    try:
        # Sphinx's searchtools.js retitles the results "Search Results" once it has gone through the index
        page.wait_for_function(
            "() => { const h = document.querySelector('#search-results h2');"
            " return h !== null && h.textContent.startsWith('Search Results'); }", timeout=60_000)
        results = page.locator("#search-results ul.search > li")
        assert results.count() >= 1, page.locator("#search-results").inner_text()
        assert "softmax" in results.all_inner_texts()[0].lower() or \
            "softmax" in page.locator("#search-results").inner_text().lower()
        assert errors == [], errors
    finally:
        page.close()
