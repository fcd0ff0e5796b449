"""Sphinx configuration of glassnet's documentation site.

Build it from the repository root (docs/contributing.md, "Building the docs site"):

    python -m sphinx -W -b html docs docs/_build/html

The Markdown pages of docs/ are read by myst-parser, the API pages come from the docstrings (autodoc and
autosummary), and the gallery is sphinx-gallery over examples/ (see gallery.py next to this file).
"""
import os
import pathlib
import re
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))      # the glassnet of this checkout, even when another one is installed
sys.path.insert(0, str(DOCS))              # gallery.py

import glassnet  # noqa: E402

project = "glassnet"
author = "the glassnet authors"
copyright = "glassnet authors, MIT licence"
release = glassnet.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_gallery", "_gallery_figures", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb", "auto_examples/**/*.ipynb",
                    "auto_examples/**/*.py", "auto_examples/*.py", "auto_examples/**/*.zip"]
templates_path = ["_templates"]

# No warning is suppressed (no suppress_warnings): the build runs with -W.  What would have warned was fixed
# at its source instead: the READMEs' links (read_source below), the docstrings' plain-text markup
# (docstring_as_text), names imported from NumPy and scikit-learn (skip_foreign), PyDataset documented twice
# (api/utils.rst leaves it to api/datasets.rst).

# ---------------------------------------------------------------------------- Markdown (myst-parser)
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
# the pages link to each other's headings (page.md#some-heading): GitHub's anchors, made by myst for h1-h4
myst_heading_anchors = 4

# ---------------------------------------------------------------------------- API pages (autodoc)
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"                 # signatures as written; the docstrings say what each argument is
autosummary_generate = False               # the API pages are written by hand in docs/api/: one per package
add_module_names = False

# ---------------------------------------------------------------------------- the gallery (sphinx-gallery)
import gallery  # noqa: E402

gallery.stage()
sphinx_gallery_conf = {
    "examples_dirs": ["_gallery"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r".*\.py$",                  # run every script, not only plot_*.py
    "within_subsection_order": "FileNameSortKey",
    "reset_argv": "gallery.reset_argv",               # --quick, and --output into docs/_gallery_figures/
    "image_scrapers": ("gallery.figure_scraper",),
    "first_notebook_cell": gallery.NOTEBOOK_FIRST_CELL,     # the command line: --output, and --quick in CI
    "last_notebook_cell": gallery.NOTEBOOK_LAST_CELL,       # shows the figures
    "abort_on_example_error": True,                   # a failing example fails the build
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "write_computation_times": False,
}

# ---------------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"glassnet {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_show_sourcelink = False
# a sigmoid for the browser's tab; without an icon the browser asks for /favicon.ico, a 404 in the console
html_favicon = "_static/favicon.svg"
# the theme's light/dark switch starts from the reader's system setting; without a default the theme's
# script logs "Got invalid theme mode" as a console error on every page (tests/project/test_browser.py)
html_context = {"default_mode": "auto"}


# ---------------------------------------------------------------------------- hooks
# The READMEs live at the repository root, outside docs/: docs/readme.md and docs/readme-ko.md are stubs that
# are replaced, as Sphinx reads them, by README.md and README.ko.md, with their links rewritten to the site's
# pages.  The docs' own links to ../README.md and ../README.ko.md are pointed at those pages the same way.
READMES = {"readme": "README.md", "readme-ko": "README.ko.md"}
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def _readme_link(target):
    path, _, anchor = target.partition("#")
    anchor = "#" + anchor if anchor else ""
    for page, readme in READMES.items():
        if path == readme:
            return page + ".md" + anchor
    if path.startswith("docs/"):
        return path[len("docs/"):] + anchor
    return "../" + path + anchor                # examples/..., bench/..., src/...: files of the repository


def _docs_link(target):
    path, _, anchor = target.partition("#")
    for page, readme in READMES.items():
        if path == "../" + readme:
            return page + ".md" + ("#" + anchor if anchor else "")
    return target


def read_source(app, docname, source):
    if docname in READMES:
        text = (ROOT / READMES[docname]).read_text(encoding="utf-8")
        source[0] = LINK.sub(lambda m: "](" + _readme_link(m.group(1)) + ")", text)
    elif "/" not in docname:
        source[0] = LINK.sub(lambda m: "](" + _docs_link(m.group(1)) + ")", source[0])


# The docstrings are written as plain text for help() and IDEs (backquoted names, |x|, *args, indented
# examples), not as reStructuredText: each is shown as it is, a preformatted block, rather than misparsed.
def docstring_as_text(app, what, name, obj, options, lines):
    if lines:
        lines[:] = ["::", ""] + ["    " + line for line in lines] + [""]


# Names a package imports from NumPy or scikit-learn (argmax, set_*_request) are theirs to document.
def skip_foreign(app, what, name, obj, skip, options):
    module = getattr(obj, "__module__", None) or ""
    if module and not module.startswith("glassnet") and callable(obj):
        return True
    return skip


def setup(app):
    app.connect("source-read", read_source)
    app.connect("autodoc-process-docstring", docstring_as_text)
    app.connect("autodoc-skip-member", skip_foreign)
