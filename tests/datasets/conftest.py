"""Fixtures for tests/datasets."""
import pytest

from glassnet.datasets import fashion_mnist, mnist


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """HOME, XDG_CACHE_HOME, KERAS_HOME, the system directories and the mirrors all point into tmp_path."""
    for var in ("GLASSNET_DATA", "GLASSNET_OFFLINE", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for module in (mnist, fashion_mnist):
        monkeypatch.setattr(module, "SYSTEM_DIRS", [str(tmp_path / "system" / module.SPEC["name"])])
        monkeypatch.setattr(module, "MIRRORS", [])
    return tmp_path
