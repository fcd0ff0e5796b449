"""glassnet.datasets._loader's downloads: verified, atomic moves into the cache, only the missing
files, and falling back from mirror to mirror; served by a local http.server on 127.0.0.1."""
import functools
import hashlib
import http.server
import socket
import threading

import pytest

import glassnet as gn
from dataset_helpers import NAMES, assert_same, write_dataset
from glassnet.datasets import fashion_mnist, mnist


# --------------------------------------------------------------------------- downloads from a local server

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """A bounded HTTP server on 127.0.0.1 serving tmp_path/www; shut down after the test."""
    root = tmp_path / "www"
    root.mkdir()
    handler = type("Handler", (_QuietHandler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root, handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def served_dataset(root, folder, seed=0):
    expected = write_dataset(root / folder, n_train=6, n_test=2, seed=seed)
    digests = {n + ".gz": hashlib.sha256((root / folder / (n + ".gz")).read_bytes()).hexdigest() for n in NAMES}
    return expected, digests


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cache_files(isolated, name="mnist"):
    directory = isolated / "xdg" / "glassnet" / name
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_verifies_and_moves_into_the_cache(isolated, server, monkeypatch, capsys):
    url, root, requests = server
    expected, digests = served_dataset(root, "a")
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/a/"])
    monkeypatch.setattr(mnist, "SHA256", digests)
    assert_same(gn.datasets.mnist.load_data(), expected)
    assert cache_files(isolated) == sorted(n + ".gz" for n in NAMES)           # no temporary files left
    for n in NAMES:
        assert (isolated / "xdg" / "glassnet" / "mnist" / (n + ".gz")).read_bytes() == \
            (root / "a" / (n + ".gz")).read_bytes()
    assert "Downloading data from " + url + "/a/train-images-idx3-ubyte.gz" in capsys.readouterr().err
    requests.clear()
    assert_same(gn.datasets.mnist.load_data(), expected)                       # now from the cache
    assert requests == []


def test_download_fetches_only_the_missing_files(isolated, server, monkeypatch):
    url, root, requests = server
    expected, digests = served_dataset(root, "a")
    cache = isolated / "xdg" / "glassnet" / "fashion-mnist"
    cache.mkdir(parents=True)
    for n in NAMES[:2]:
        (cache / (n + ".gz")).write_bytes((root / "a" / (n + ".gz")).read_bytes())
    monkeypatch.setattr(fashion_mnist, "MIRRORS", [url + "/a"])
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    assert_same(gn.datasets.fashion_mnist.load_data(), expected)
    assert requests == ["/a/" + n + ".gz" for n in NAMES[2:]]


def test_sha256_mismatch_raises_and_keeps_nothing(isolated, server, monkeypatch):
    url, root, _ = server
    _, digests = served_dataset(root, "a")
    actual = digests["train-images-idx3-ubyte.gz"]
    wrong = dict(digests, **{"train-images-idx3-ubyte.gz": "0" * 64})
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/a/"])
    monkeypatch.setattr(mnist, "SHA256", wrong)
    with pytest.raises(ValueError) as info:
        gn.datasets.mnist.load_data()
    message = str(info.value)
    assert url + "/a/train-images-idx3-ubyte.gz" in message and "0" * 64 in message and actual in message
    assert cache_files(isolated) == []


def test_a_mirror_with_a_bad_file_falls_back_to_the_next(isolated, server, monkeypatch):
    url, root, _ = server
    expected, digests = served_dataset(root, "good", seed=0)
    served_dataset(root, "bad", seed=5)                 # same names, other bytes
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/bad/", url + "/good/"])
    monkeypatch.setattr(mnist, "SHA256", digests)
    assert_same(gn.datasets.mnist.load_data(), expected)
    assert cache_files(isolated) == sorted(n + ".gz" for n in NAMES)


def test_a_404_mirror_falls_back_to_the_second(isolated, server, monkeypatch):
    url, root, requests = server
    expected, digests = served_dataset(root, "a")
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/missing/", url + "/a/"])
    monkeypatch.setattr(mnist, "SHA256", digests)
    assert_same(gn.datasets.mnist.load_data(), expected)
    assert requests[:2] == ["/missing/train-images-idx3-ubyte.gz", "/a/train-images-idx3-ubyte.gz"]
    assert cache_files(isolated) == sorted(n + ".gz" for n in NAMES)


def test_nothing_reachable_lists_the_places_and_urls(isolated, server, monkeypatch):
    url, root, _ = server
    _, digests = served_dataset(root, "a")
    dead = f"http://127.0.0.1:{closed_port()}/mnist/"
    monkeypatch.setattr(mnist, "MIRRORS", [url + "/missing/", dead])
    monkeypatch.setattr(mnist, "SHA256", digests)
    with pytest.raises(gn.datasets.DatasetNotFoundError) as info:
        gn.datasets.mnist.load_data()
    message = str(info.value)
    assert url + "/missing/train-images-idx3-ubyte.gz" in message and "404" in message
    assert dead + "train-images-idx3-ubyte.gz" in message
    for place in (isolated / "xdg" / "glassnet" / "mnist", isolated / "system" / "mnist"):
        assert str(place) in message
    assert "GLASSNET_DATA" in message and "path=" in message
    assert not (isolated / "xdg" / "glassnet").exists()         # a failed download leaves no directories
