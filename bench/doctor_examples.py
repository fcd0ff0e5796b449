"""The training doctor on the project's own healthy runs: the docs' examples, the Keras-style scripts
in tests/models/scripts and the example programs.  Every finding there is a false alarm.

    python -m bench.doctor_examples          # one line per source: its fits and what the doctor found

The docs pages run as tests/project/test_docs.py runs them (a page's python blocks in order, in a
temporary folder); docs/doctor.md is left out, since it trains sick networks on purpose.  The
findings are collected from every Doctor that a fit ran (whatever it printed), so the same script
measures older doctors as well.
"""
from __future__ import annotations

import contextlib
import io
import os
import pathlib
import runpy
import sys
import tempfile
import warnings

import numpy as np

import glassnet as gn

ROOT = pathlib.Path(__file__).resolve().parents[1]
SKIPPED_PAGES = {"doctor.md": "trains sick networks on purpose", "explain.md": "not a program (run elsewhere)",
                 "design.md": "sketches, not programs"}


def _python_blocks(path):
    sys.path.insert(0, str(ROOT / "tests" / "project"))
    try:
        from test_docs import python_blocks
    finally:
        sys.path.pop(0)
    return [code for code, skip in python_blocks(path) if skip is None]


def sources():
    """(name, a function that runs it) for every healthy source."""
    out = []
    for page in [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")):
        if page.name in SKIPPED_PAGES:
            continue

        def run_page(page=page):
            namespace = {"__name__": "__main__"}
            for code in _python_blocks(page):
                exec(compile(code, str(page), "exec"), namespace)
        out.append((str(page.relative_to(ROOT)), run_page))
    for script in sorted((ROOT / "tests" / "models" / "scripts").glob("*.py")):
        out.append((str(script.relative_to(ROOT)), lambda script=script: runpy.run_path(str(script),
                                                                                        run_name="__main__")))
    for name, argv in (("keras_mnist.py", ["--epochs", "5", "--seed", "0"]), ("note003_keras_mnist.py", ["--quick"])):
        path = ROOT / "examples" / name
        out.append((f"examples/{name}", lambda path=path, argv=argv: runpy.run_path(str(path))["main"](argv)))
    return out


def measure(run):
    """Run one source; return (the number of fits the doctor watched, the causes it found)."""
    seen = []
    original = gn.doctor.Doctor.on_train_end

    def record(self, logs=None):
        seen.append([f.cause for f in self.findings])
        return original(self, logs)

    gn.doctor.Doctor.on_train_end = record
    cwd = os.getcwd()
    try:
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(), np.errstate(all="ignore"), \
                contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            os.chdir(folder)
            os.environ["GLASSNET_SCRIPT_DIR"] = folder
            gn.set_random_seed(0)
            run()
    finally:
        os.chdir(cwd)
        os.environ.pop("GLASSNET_SCRIPT_DIR", None)
        gn.doctor.Doctor.on_train_end = original
        gn.doctor.enable()
    return len(seen), [cause for causes in seen for cause in causes]


def main(argv=None):
    fits = alarms = 0
    for name, run in sources():
        try:
            n, causes = measure(run)
        except Exception as err:      # a page that needs an extra (h5py, matplotlib) that is missing
            print(f"{name:45} skipped: {type(err).__name__}: {err}")
            continue
        fits += n
        alarms += len(causes)
        print(f"{name:45} fits {n:3d}  found: {', '.join(causes) or '-'}", flush=True)
    print(f"fits watched: {fits}; findings (all false alarms): {alarms}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
