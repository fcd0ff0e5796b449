"""The README's and the docs' examples run, as CI tests; so does the main-job example script.

Every ```python block of README.md and of each docs/*.md page runs: a page's blocks in order, in one
namespace (as one script), in a temporary working folder, so an example may write files without
touching the repository.  A block preceded by `<!-- skip-test: reason -->` (a network, files that
are not shipped) is only compiled.  Where a page prints a number the text promises, the test checks
it; the summary table shown in docs/models.md must be the one `summary()` prints.
"""
import pathlib
import re
import runpy
import textwrap
import warnings

import numpy as np
import pytest

import glassnet as gn

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README_LIMIT = 4 * 1024          # bytes: the README is short and points to the manual (issue 15, part 6)

# pages whose blocks are run by another test, or are not programs (compiled here, not run)
NOT_RUN_HERE = {
    "explain.md": "tests/explain/test_explain.py runs its blocks against the printout the page shows",
    "design.md": "the design notes' blocks are sketches of the interface (a class outline, a list of calls)",
}
# text a page's examples must print (the numbers its comments promise)
PRINTED = {
    "README.md": ["test accuracy 0.9"],
    "models.md": ["Dense expects 784 features per sample, got 783", "test accuracy 0.9", "graph accuracy ",
                  "['input_layer', 'smooth', 'sharp', 'concatenate', 'dense', 'add', 'dense_1']",
                  "[]\n[(5, 8), (5, 4), (5, 2)]\n[False, False, False, False, True, True]\n2 4\n"
                  "['functional', 'functional_1', 'functional_2']"],
    "layers.md": ["[6. 8.]", "[0.09, 0.081, 0.0729", "[-5.517]"],
    "training.md": ["[ 0.8 -1.6]", "[-6.335 -1.8  ]", "['loss', 'recall', 'val_loss', 'val_recall']"],
    "functions.md": ["[0.09003057 0.24472847 0.66524096]", "True\n0.3875"],
    "metrics.md": ["precision 0.750", "weighted mae 0.375", "recall at 0.3, 0.5, 0.7: [1.         0.66666667",
                   "  200 thresholds: 0.92086, exact 0.92087", "['largest_error', 'loss', 'mae']"],
    "explain.md": [],
    "convnets.md": ["[(5, 5, 1, 30), (4320, 100), (100, 10)]", "34826 (None, 10)", "(None, 28, 28, 1)"],
}
BLOCK = re.compile(r"(?:<!--\s*skip-test:(?P<reason>[^>]*?)-->[ \t]*\n[ \t]*)?```python[ \t]*\n(?P<code>.*?)```",
                   flags=re.S)


def python_blocks(path):
    """[(code, skip_reason or None)] of a Markdown page, in order (indented blocks dedented)."""
    text = path.read_text(encoding="utf-8")
    return [(textwrap.dedent(m.group("code")), (m.group("reason") or "").strip() or None)
            for m in BLOCK.finditer(text)]


def run_page(path, capsys):
    """Run a page's blocks in order in one namespace; return what they printed."""
    namespace = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gn.doctor.TrainingWarning)     # docs/doctor.md trains sick networks
        _run_blocks(path, namespace)
    return capsys.readouterr().out


def _run_blocks(path, namespace):
    for i, (code, skip) in enumerate(python_blocks(path)):
        compiled = compile(code, f"{path.relative_to(ROOT)} block {i}", "exec")
        if skip is not None:
            continue
        try:
            exec(compiled, namespace)
        except Exception as err:  # pragma: no cover - the message names the block
            pytest.fail(f"{path.relative_to(ROOT)} python block {i} failed: {err!r}\n{code}")


DOC_PAGES = sorted(p.name for p in DOCS.glob("*.md"))
RUN_PAGES = [name for name in DOC_PAGES if name not in NOT_RUN_HERE]


@pytest.fixture
def in_a_temporary_folder(tmp_path, monkeypatch, isolated_random_state):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    gn.doctor.enable()                    # docs/doctor.md switches the doctor off and on again


def test_readme_examples_run(in_a_temporary_folder, capsys):
    out = run_page(ROOT / "README.md", capsys)
    for text in PRINTED["README.md"]:
        assert text in out, text


@pytest.mark.parametrize("page", RUN_PAGES)
def test_docs_examples_run(page, in_a_temporary_folder, capsys):
    out = run_page(DOCS / page, capsys)
    for text in PRINTED.get(page, []):
        assert text in out, (page, text)


def test_every_block_is_valid_python_and_every_skip_has_a_reason():
    pages = [ROOT / "README.md"] + [DOCS / name for name in DOC_PAGES]
    blocks = 0
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert len(re.findall(r"^[ \t]*```python", text, flags=re.M)) == len(python_blocks(path)), path
        for i, (code, skip) in enumerate(python_blocks(path)):
            compile(code, f"{path.name} block {i}", "exec")
            blocks += 1
        for reason in re.findall(r"<!--\s*skip-test:([^>]*?)-->", re.sub(r"`[^`\n]*`", "", text)):
            assert len(reason.strip()) > 10, (path.name, reason)
    assert blocks >= 30
    skipped = sum(skip is not None for path in pages for _, skip in python_blocks(path))
    assert skipped <= 3, "skip-test is for blocks that need a network or files that are not shipped"


def test_pages_not_run_here_are_run_elsewhere():
    assert "docs/explain.md" in (ROOT / "tests" / "explain" / "test_explain.py").read_text(encoding="utf-8")
    assert set(NOT_RUN_HERE) <= set(DOC_PAGES)


# ---------------------------------------------------------------------------- the README
def test_readme_is_short_and_has_the_promised_parts():
    """What the README promises: what glassnet is, the two commands, one first model, the way to the manual."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= README_LIMIT
    code = "\n".join(code for code, _ in python_blocks(ROOT / "README.md"))
    assert "gn.Sequential" in code and ".fit(" in code
    # in this order: what it is, the two commands, a first model, the manual (the site's build command)
    order = [text.index("```bash"), text.index("gn.Sequential"), text.index("## The manual"),
             text.index("python -m sphinx -b html docs docs/_build/html")]
    assert order == sorted(order)
    # everything else is the manual's: the README links to its pages, and each of them is a page the site builds
    manual = text[text.index("## The manual"):]
    linked = set(re.findall(r"\]\(docs/([\w-]+)\.md", manual))
    assert len(linked) >= 20 and {"quickstart", "layers", "models", "cli"} <= linked
    assert all((DOCS / f"{name}.md").is_file() for name in linked)
    assert "docs/ko/index.md" in manual and "README.ko.md" in manual


def test_the_manual_front_page_maps_every_page():
    """docs/index.md (the site's landing page) has the feature table the README no longer carries."""
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    table = text[text.index("| feature"):]
    assert len(set(re.findall(r"\]\(([\w-]+)\.md", table))) >= 20


def _anchors(path):
    """The anchors GitHub makes of a page's headings: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.*)$", text, flags=re.M)}


@pytest.mark.parametrize("page", ["README.md", "README.ko.md"] + [f"docs/{name}" for name in DOC_PAGES])
def test_relative_links_point_at_files_and_headings_that_exist(page):
    path = ROOT / page
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
        if re.match(r"[a-z]+:", target):
            continue                       # http(s):, mailto:
        linked = (path.parent / target) if target else path
        assert linked.exists(), (page, target)
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), (page, target, anchor)


# ---------------------------------------------------------------------------- what the docs show
def test_the_summary_shown_in_the_docs_is_the_real_one():
    text = (DOCS / "models.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(Model: .*?)```", text, flags=re.S).group(1).rstrip("\n")
    model = gn.Sequential([gn.layers.Dense(50, activation="sigmoid", input_shape=(784,)),
                           gn.layers.Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == shown


def test_main_job_example_trains_the_notes_network(capsys, isolated_random_state):
    module = runpy.run_path(str(ROOT / "examples" / "keras_mnist.py"))
    loss, accuracy = module["main"](["--epochs", "10", "--seed", "0"])
    out = capsys.readouterr().out
    assert "Epoch 10/10" in out and "Total params: 39,760" in out
    assert accuracy >= 0.90 and np.isfinite(loss)
