"""The import order: every glassnet module imports only from its own level or below.

The levels (docs/design.md, "Import order"):

    0  backend and validation        backend, _checks, _kernels, _conv_kernels, _registry, _version
    1  functions and data            activations, ops, convolution, loss_gradient, losses, initializers, regularizers,
                                     metrics, datasets
    2  layers, optimizers, callbacks
    3  models                        models, perceptron
    4  files and learning tools      saving, explain, doctor, gradcheck, runs
    5  figures (and Keras's utils)   plot, utils, wrappers (the scikit-learn estimators), playground
    6  the command line              cli, search (hyper-parameter search: uses the command's checks and train), __main__
    7  the public surface            glassnet/__init__.py

The test reads every source file with `ast` (nothing is imported), so it sees imports inside functions
too. An import that goes up a level fails, unless it is one of the deliberate lazy exceptions listed
in LAZY_UP below, each with its reason, and it sits inside a function. A second test checks that the
imports made when a module loads form no loop. Run this file as a script to print the levels and the
edges between them.
"""
from __future__ import annotations

import ast
import pathlib
import re
import sys
from collections import defaultdict

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "glassnet"

LEVELS = {
    "backend": 0, "_checks": 0, "_files": 0, "_npy": 0, "_kernels": 0, "_conv_kernels": 0, "_registry": 0, "_version": 0,
    "activations": 1, "ops": 1, "convolution": 1, "loss_gradient": 1, "losses": 1, "initializers": 1, "regularizers": 1,
    "metrics": 1, "datasets": 1,
    "layers": 2, "optimizers": 2, "callbacks": 2,
    "models": 3, "perceptron": 3,
    "saving": 4, "explain": 4, "doctor": 4, "gradcheck": 4, "runs": 4,
    "plot": 5, "utils": 5, "wrappers": 5, "playground": 5,
    "cli": 6, "search": 6, "__main__": 6,
    "__init__": 7,
}
NAMES = {0: "backend and validation", 1: "functions and data", 2: "layers, optimizers, callbacks",
         3: "models", 4: "files and learning tools", 5: "figures, Keras's utils, scikit-learn estimators, the playground", 6: "the command line",
         7: "the public surface"}

# (importing component, imported component): why it is imported inside a function, upwards.
LAZY_UP = {
    ("callbacks", "plot"): "History.plot() draws the curves; figures sit above training, and matplotlib "
                           "is an optional extra, loaded only when a figure is asked for",
    ("callbacks", "saving"): "BackupAndRestore writes and reads its backup as a .glassnet model file; the "
                             "file format builds on the models, so it is loaded when fit runs",
    ("models", "saving"): "Model.save/save_weights/load_weights/export (ONNX) and models.load_model are "
                          "Keras's API on the model; the file formats build on the models, so they are "
                          "loaded on call",
    ("models", "explain"): "Model.trace() is Keras-style sugar for glassnet.explain.trace, which is built "
                           "on the models' step",
    ("models", "doctor"): "fit(doctor=True) adds the training doctor, a callback that reads the model and "
                          "so sits above it",
}


def component(module: str) -> str:
    """'glassnet.models.trainer' -> 'models'; 'glassnet' -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _target(module: str, is_package: bool, node) -> list[str]:
    """The glassnet modules an import statement names (as dotted names), resolved from `module`."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "glassnet"]
    if node.level == 0:
        if (node.module or "").split(".")[0] != "glassnet":
            return []
        base = node.module
    else:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    if base == "glassnet":        # from glassnet import x: x is a component, or a name of the public surface
        return [f"glassnet.{a.name}" if a.name in LEVELS else "glassnet" for a in node.names]
    return [base]


def imports():
    """Yield (module, imported module, line, inside a function) for every glassnet import in src/."""
    for path in sorted(SRC.rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        nested = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                nested.update(id(n) for n in ast.walk(fn) if n is not fn)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _target(module, path.name == "__init__.py", node):
                    yield module, target, node.lineno, id(node) in nested


def test_every_module_has_a_level():
    unknown = sorted({component(module_name(p)) for p in SRC.rglob("*.py")} - set(LEVELS))
    assert not unknown, f"modules without a level (add them to LEVELS and docs/design.md): {unknown}"


def test_imports_go_down_only():
    wrong = []
    for module, target, line, lazy in imports():
        src, dst = component(module), component(target)
        if LEVELS[dst] <= LEVELS[src]:
            continue
        if lazy and (src, dst) in LAZY_UP:
            continue
        where = "inside a function, not a listed exception" if lazy else "at module level"
        wrong.append(f"{module}:{line} imports {target} (level {LEVELS[src]} -> {LEVELS[dst]}, {where})")
    assert not wrong, "imports that go up:\n" + "\n".join(wrong)


def test_every_listed_exception_is_still_used():
    used = {(component(m), component(t)) for m, t, _, lazy in imports()
            if lazy and LEVELS[component(t)] > LEVELS[component(m)]}
    assert set(LAZY_UP) <= used, f"listed but unused (remove them): {sorted(set(LAZY_UP) - used)}"


def test_modules_load_without_an_import_loop():
    graph = defaultdict(set)
    for module, target, _, lazy in imports():
        if not lazy and target != module:
            graph[module].add(target)
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            # a package's __init__ importing its own submodules is how packages are made, not a loop
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == "open":
                loop = stack[stack.index(nxt):] + [nxt]
                if not all(m.startswith(nxt + ".") or m == nxt for m in loop[1:-1]):
                    pytest.fail("import loop: " + " -> ".join(loop))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_design_md_states_the_same_levels():
    """docs/design.md's level table lists exactly the modules of each level that this test uses."""
    text = (SRC.parents[1] / "docs" / "design.md").read_text(encoding="utf-8")
    table = {}
    for level, modules in re.findall(r"^\| (\d) \| [^|]+ \| ([^|]+) \|$", text, flags=re.M):
        for name in re.split(r",\s*", modules.strip()):
            name = name.strip("`")
            table["__init__" if name == "glassnet/__init__.py" else name] = int(level)
    assert table == LEVELS


def test_the_check_can_fail(tmp_path, monkeypatch):
    """An upward module-level import in a scratch tree is reported (the checker is not vacuous)."""
    scratch = tmp_path / "glassnet"
    (scratch / "layers").mkdir(parents=True)
    (scratch / "__init__.py").write_text("")
    (scratch / "layers" / "__init__.py").write_text("from ..models import Sequential\n")
    (scratch / "models.py").write_text("from .layers import Layer\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", scratch)
    with pytest.raises(AssertionError, match=r"glassnet.layers:1 imports glassnet.models \(level 2 -> 3"):
        test_imports_go_down_only()


def report() -> str:
    """The levels, their modules, and the components each imports (lazy upward exceptions marked)."""
    edges = defaultdict(set)
    for module, target, _, lazy in imports():
        src, dst = component(module), component(target)
        if src != dst:
            edges[src].add(dst + (" (lazy)" if lazy and LEVELS[dst] > LEVELS[src] else ""))
    lines = []
    for level in sorted(NAMES):
        lines.append(f"{level} {NAMES[level]}")
        for name in sorted(c for c, lv in LEVELS.items() if lv == level):
            lines.append(f"    {name:13} -> {', '.join(sorted(edges[name])) or '-'}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
