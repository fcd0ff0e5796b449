"""The Korean pages (docs/ko/): one source of truth for code, output that is really printed, links that resolve.

The rule (written at the top of docs/ko/index.md's source): a Korean page holds no code of its own.
Every code block is a `{literalinclude}` of the code's one source, an example script (`:pyobject:`,
`:start-at:`/`:start-after:`, `:end-at:`/`:end-before:`) or a command block of an English page, so the
languages differ in prose only.  These tests check that

- no Korean page has a fenced code block of its own (```python, ```bash, ...): only ```text blocks of
  output, each announced by `<!-- output-of: SCRIPT ARGS -->`;
- every include resolves as Sphinx resolves it (the file, the function, the start and end lines; a
  dedent strips only blanks), and the build would fail on the same selection (`python -m sphinx -W`);
  an include of a Markdown page selects exactly one of its fenced blocks, and the Korean quick start
  shows every command block of the English one, in order;
- every included script runs (in a temporary folder, with the arguments its output block names) and
  prints, in order, the lines the Korean page shows;
- relative links resolve to files and headings (tests/project/test_docs.py's own check, called on these
  pages), every Korean page is linked from docs/ko/index.md and listed in its toctree, and each term of
  the glossary reading guide is in the glossary table it links to.

tests/project/test_docs.py globs docs/*.md only, so these pages are checked here, not twice.
"""
import ast
import pathlib
import re
import runpy
import shlex

import pytest

import project.test_docs as english
from project.test_docs import DOCS, ROOT, python_blocks

KO = DOCS / "ko"
KO_PAGES = sorted(p.name for p in KO.glob("*.md"))
INCLUDE = re.compile(r"^```\{literalinclude\}[ \t]+(?P<path>\S+)[ \t]*\n(?P<options>(?:[ \t]*:[\w-]+:.*\n)*)```[ \t]*$",
                     flags=re.M)
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", flags=re.M | re.S)
OUTPUT = re.compile(r"<!--\s*output-of:\s*(?P<run>[^>]*?)\s*-->[ \t]*\n```text[ \t]*\n(?P<text>.*?)^```", flags=re.M | re.S)
SELECTORS = {"pyobject", "start-at", "start-after", "end-at", "end-before", "dedent"}
SHOWN_OPTIONS = {"language", "caption", "emphasize-lines", "linenos"}


def _option_value(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]                    # myst strips the quotes that keep '#' from starting a comment
    return value


def includes(page):
    """[(source path, {option: value})] of a Korean page's literalincludes, in order."""
    text = (KO / page).read_text(encoding="utf-8")
    found = []
    for m in INCLUDE.finditer(text):
        options = {}
        for line in m.group("options").splitlines():
            key, value = re.match(r"[ \t]*:([\w-]+):(.*)", line).groups()
            options[key] = _option_value(value)
        found.append(((KO / m.group("path")).resolve(), options))
    return found


def select(source, options):
    """The lines Sphinx's literalinclude shows, with the same filters in the same order (pyobject, start,
    end, dedent); fails where Sphinx would fail or warn."""
    lines = source.read_text(encoding="utf-8").splitlines()
    if "pyobject" in options:
        nodes = {node.name: node for node in ast.parse("\n".join(lines)).body
                 if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        assert options["pyobject"] in nodes, (source.name, "no top-level object", options["pyobject"])
        node = nodes[options["pyobject"]]
        lines = lines[node.lineno - 1:node.end_lineno]
    for key, keep in (("start-at", True), ("start-after", False)):
        if key in options:
            hits = [i for i, line in enumerate(lines) if options[key] in line]
            assert hits, (source.name, key, options[key])
            lines = lines[hits[0] if keep else hits[0] + 1:]
    for key, keep in (("end-at", True), ("end-before", False)):
        if key in options:
            hits = [i for i, line in enumerate(lines) if options[key] in line]
            assert hits, (source.name, key, options[key])
            lines = lines[:hits[0] + 1 if keep else hits[0]]
    if "dedent" in options:
        n = int(options["dedent"])
        assert all(not line[:n].strip() for line in lines), (source.name, "dedent would strip code")
        lines = [line[n:] for line in lines]
    assert any(line.strip() for line in lines), (source.name, options, "selects nothing")
    return "\n".join(lines) + "\n"


def fenced_blocks(path):
    """[(info string, body)] of a Markdown page's fenced blocks."""
    return [(m.group("info").strip(), m.group("body")) for m in FENCE.finditer(path.read_text(encoding="utf-8"))]


def output_blocks(page):
    """[(script, [args], text)] of a page's output blocks."""
    text = (KO / page).read_text(encoding="utf-8")
    return [(*_split_run(m.group("run")), m.group("text")) for m in OUTPUT.finditer(text)]


def _split_run(run):
    script, *args = shlex.split(run)
    return script, args


ALL_INCLUDES = [(page, i, source, options) for page in KO_PAGES for i, (source, options) in enumerate(includes(page))]
in_a_temporary_folder = english.in_a_temporary_folder     # the same fixture: chdir to a temporary folder

RUNS = sorted({(script, tuple(args)) for page in KO_PAGES for script, args, _ in output_blocks(page)})


def test_the_korean_pages_exist():
    assert {"index.md", "quickstart.md", "glossary.md"} <= set(KO_PAGES)
    notes = [name for name in KO_PAGES if name.startswith("note")]
    assert len(notes) >= 5, notes
    assert len(ALL_INCLUDES) >= 20 and len(RUNS) >= 6


def test_test_docs_does_not_run_the_korean_pages_twice():
    assert all("/" not in name for name in english.DOC_PAGES)


@pytest.mark.parametrize("page", KO_PAGES)
def test_a_korean_page_holds_no_code_of_its_own(page):
    path = KO / page
    assert python_blocks(path) == [], f"{page}: include the code (```{{literalinclude}}), do not copy it"
    outputs = len(output_blocks(page))
    for info, body in fenced_blocks(path):
        if info.startswith("{"):
            assert info.split()[0] in ("{literalinclude}", "{toctree}"), (page, info)
        else:
            assert info == "text", f"{page}: a ```{info} block is code of its own; include it from its source"
            outputs -= 1
    assert outputs == 0, f"{page}: every ```text block is the output of a run, announced by <!-- output-of: ... -->"


@pytest.mark.parametrize("page, i, source, options", ALL_INCLUDES,
                         ids=[f"{page}-{i}" for page, i, _, _ in ALL_INCLUDES])
def test_every_include_selects_code_that_exists(page, i, source, options):
    assert source.is_file(), (page, source)
    assert set(options) <= SELECTORS | SHOWN_OPTIONS, (page, set(options) - SELECTORS - SHOWN_OPTIONS)
    assert "lines" not in options                       # line numbers drift silently: select by content
    shown = select(source, options)
    if source.suffix == ".py":
        assert source.parent == ROOT / "examples", (page, source)
        assert options.get("language") == "python"
        assert source.name in {script for script, _ in RUNS}, f"{page}: {source.name} is shown but never run here"
    else:
        assert source.suffix == ".md" and source.parent == DOCS, (page, source)
        blocks = [(info, body) for info, body in fenced_blocks(source) if not info.startswith("{")]
        assert (options.get("language"), shown) in blocks, \
            f"{page}: an include of {source.name} must select exactly one of its fenced blocks"


def test_the_korean_quick_start_shows_every_command_of_the_english_one():
    shown = [(options["language"], select(source, options)) for source, options in includes("quickstart.md")]
    assert shown == [(info, body) for info, body in fenced_blocks(DOCS / "quickstart.md")]
    english_blocks = [body for _, body in fenced_blocks(DOCS / "quickstart.md")]
    index = [select(source, options) for source, options in includes("index.md")]
    assert index == english_blocks[:1]                  # the landing page: the two commands


@pytest.mark.parametrize("script, args", RUNS, ids=[" ".join((s,) + a) for s, a in RUNS])
def test_the_output_on_the_korean_pages_is_what_the_script_prints(script, args, in_a_temporary_folder, capsys):
    module = runpy.run_path(str(ROOT / "examples" / script), run_name="example")
    module["main"](list(args))
    printed = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    shown = [text for page in KO_PAGES for s, a, text in output_blocks(page) if (s, tuple(a)) == (script, args)]
    for text in shown:
        position = 0
        for line in text.splitlines():
            assert line.rstrip() in printed[position:], f"{script} {' '.join(args)} does not print {line!r}"
            position = printed.index(line.rstrip(), position) + 1



@pytest.mark.parametrize("page", KO_PAGES)
def test_relative_links_resolve(page):
    english.test_relative_links_point_at_files_and_headings_that_exist(f"docs/ko/{page}")


def test_every_korean_page_is_linked_from_the_index_and_in_its_toctree():
    text = (KO / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w-]+\.md)(?:#[^)]*)?\)", text))
    toctree = re.search(r"```\{toctree\}\n(?:[ \t]*:[\w-]+:[^\n]*\n)*\n?(?P<entries>.*?)```", text, flags=re.S)
    entries = toctree.group("entries").split()
    others = set(KO_PAGES) - {"index.md"}
    assert others <= linked, others - linked
    assert sorted(f"{name}.md" for name in entries) == sorted(others)


def test_the_glossary_guide_links_each_term_to_the_table_that_holds_it():
    glossary = (DOCS / "glossary.md").read_text(encoding="utf-8")
    sections = {}
    for heading, body in re.findall(r"^## ([^\n]*)\n(.*?)(?=^## |\Z)", glossary, flags=re.M | re.S):
        anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        terms = set()
        for cell in re.findall(r"^\| ([^|]+) \|", body, flags=re.M):
            for term in cell.split(","):
                terms.add(re.sub(r"\s*\(.*?\)", "", term).strip())
        sections[anchor] = terms
    guide = (KO / "glossary.md").read_text(encoding="utf-8")
    links = re.findall(r"\[([^\]]+)\]\(\.\./glossary\.md#([^)]+)\)", guide)
    assert len(links) >= 40
    for term, anchor in links:
        assert anchor in sections, anchor
        if term not in sections[anchor]:          # a link to a whole table is named after the table
            assert anchor.startswith(term.replace(" ", "-")), (term, anchor)


GALLERY_LINK = re.compile(r"\{doc\}`[^`<]*<\s*/auto_examples/(?P<section>[\w-]+)/(?P<script>\w+)\s*>`")


@pytest.mark.parametrize("page", [name for name in KO_PAGES if name.startswith("note")])
def test_each_example_page_links_the_gallery_page_of_every_script_it_shows(page):
    """The language switch of an example: its English page is the gallery page made from the script
    (docs/gallery.py puts each script in a section folder); the site build (-W) checks the link too."""
    text = (KO / page).read_text(encoding="utf-8")
    linked = {(m.group("section"), m.group("script") + ".py") for m in GALLERY_LINK.finditer(text)}
    shown = {source.name for source, _ in includes(page) if source.suffix == ".py"}
    assert shown and {script for _, script in linked} == shown, (page, shown, linked)
    gallery = DOCS / "gallery.py"
    if not gallery.is_file():
        pytest.skip("docs/gallery.py (the site's gallery) is not in this checkout")
    sections = {(folder, script) for folder, _, _, scripts in runpy.run_path(str(gallery))["SECTIONS"]
                for script in scripts}
    assert linked <= sections, linked - sections
