"""The README's examples run, in order, as CI tests; so does the main-job example script."""
import pathlib
import re
import runpy

import numpy as np
import pytest

import glassnet as gn

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _python_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_the_promised_examples():
    code = "\n".join(_python_blocks())
    for needle in ("gn.Sequential", ".forward(", ".backward(", "gn.gradient_check", "numerical_gradient"):
        assert needle in code


def test_readme_examples_run(capsys):
    namespace = {}
    for i, block in enumerate(_python_blocks()):
        try:
            exec(compile(block, f"README.md block {i}", "exec"), namespace)
        except Exception as err:  # pragma: no cover - the message names the block
            pytest.fail(f"README python block {i} failed: {err!r}\n{block}")
    out = capsys.readouterr().out
    assert "Dense expects 784 features per sample, got 783" in out
    assert "[6. 8.]" in out
    assert "[ 0.8 -1.6]" in out


def test_readme_summary_matches_the_real_table(capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(Model: .*?)```", text, flags=re.S).group(1).rstrip("\n")
    model = gn.Sequential([gn.layers.Dense(50, activation="sigmoid", input_shape=(784,)),
                           gn.layers.Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == shown


def test_main_job_example_trains_the_notes_network(capsys):
    module = runpy.run_path(str(ROOT / "examples" / "keras_mnist.py"))
    loss, accuracy = module["main"](["--epochs", "10", "--seed", "0"])
    out = capsys.readouterr().out
    assert "Epoch 10/10" in out and "Total params: 39,760" in out
    assert accuracy >= 0.90 and np.isfinite(loss)
