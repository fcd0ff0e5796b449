"""The line budget (docs/design.md, the standing rules): no source file over 500 lines.

A file that grows past it holds more than one concept; split it by concept (as bench/peers.py became
peers, floors and peer_base).  Counted: the package, its page (JavaScript, CSS, HTML), the tests, the
benchmarks, the examples and the docs' Python.  Generated and third-party files are not in these folders.
"""
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIMIT = 500
FOLDERS = ("src", "tests", "bench", "examples", "docs")
SUFFIXES = {".py", ".js", ".css", ".html"}
SKIPPED = ("_build", "auto_examples", "_gallery", "__pycache__", ".egg-info")


def source_files():
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and not any(s in str(path) for s in SKIPPED):
                yield path


def test_the_budget_sees_the_files_it_is_about():
    names = {path.relative_to(ROOT).as_posix() for path in source_files()}
    assert {"src/glassnet/playground/server.py", "src/glassnet/playground/static/app.js",
            "src/glassnet/playground/static/index.html", "bench/peers.py", "tests/conftest.py",
            "docs/conf.py"} <= names
    assert len(names) > 300


@pytest.mark.parametrize("limit, lines, fails", [(3, "a\nb\nc\n", False), (3, "a\nb\nc\nd\n", True)])
def test_the_count_is_of_lines(limit, lines, fails, tmp_path):
    path = tmp_path / "f.py"
    path.write_text(lines)
    assert (count(path) > limit) == fails


def count(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def test_no_source_file_is_over_the_budget():
    over = {path.relative_to(ROOT).as_posix(): n for path in source_files() if (n := count(path)) > LIMIT}
    assert not over, f"files over {LIMIT} lines (split them by concept): {over}"
