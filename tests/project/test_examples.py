"""The study notes' example scripts (examples/), the Korean README and the glossary.

Each example runs in-process (runpy, then main([...])) in --quick mode, and what it prints and returns
is checked against the numbers the notes print.  Note 002's full 5001-epoch trajectory runs once
(about two seconds).  README.ko.md's code blocks run, and every glassnet name in docs/glossary.md
resolves.
"""
import ast
import importlib
import inspect
import pathlib
import re
import runpy
import subprocess
import sys
import warnings

import numpy as np
import pytest

import glassnet as gn

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# examples reseed glassnet's, NumPy's and Python's generators: restore them afterwards
pytestmark = pytest.mark.usefixtures("isolated_random_state")

NOTE_SCRIPTS = ["note004_forward_pass.py", "note000_001_three_layer_network.py",
                "note001_activations_and_losses.py", "note002_backprop_by_hand.py",
                "note003_two_layer_mnist_by_hand.py", "note003_keras_mnist.py"]

# note 002: the error printed at epochs 0, 100, ..., 5000
NOTE_002_ERRORS = """
6.697 4.299 3.007 2.037 1.415 1.020 0.754 0.570 0.444 0.356 0.293 0.247 0.212 0.185 0.163 0.146 0.131
0.119 0.109 0.101 0.093 0.087 0.081 0.076 0.072 0.068 0.064 0.061 0.058 0.055 0.053 0.050 0.048 0.046
0.045 0.043 0.041 0.040 0.039 0.037 0.036 0.035 0.034 0.033 0.032 0.031 0.030 0.030 0.029 0.028 0.027
""".split()
NOTE_002_FINAL = [
    [[-1.9544732139957548, 2.704321541499767, 1.427507893789529],
     [1.134364357068215, -1.6866805418327002, -0.3324719515881516]],
    [[4.903406947389829, -2.108155861429033, -1.2721372756183076],
     [-4.566502112347264, 2.615993561526247, 0.8280139001392679]],
]


def run_example(name, *args):
    """Run examples/<name> in this process: load it without running, then call main(args)."""
    module = runpy.run_path(str(EXAMPLES / name), run_name="example")
    with np.printoptions(precision=8, suppress=False, linewidth=75, threshold=1000, floatmode="maxprec",
                         sign="-", legacy=False), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = module["main"](list(args))
    # a learner running the notes' examples should see no warning from glassnet
    ours = [w for w in caught if type(w.message).__module__.split(".")[0] == "glassnet"]
    assert not ours, [str(w.message) for w in ours]
    return result


def assert_png_drawn(path, min_colours=3):
    """The file is a real PNG with a drawing on it (not one flat colour)."""
    from PIL import Image

    path = pathlib.Path(path)
    assert path.is_file() and path.stat().st_size > 1000, path
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("L"))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert len(np.unique(pixels)) >= min_colours
    assert (pixels < 128).mean() > 0.001          # dark strokes: axes, ticks, curves


# ---------------------------------------------------------------------------- every script
@pytest.mark.parametrize("name", NOTE_SCRIPTS + ["keras_mnist.py"])
def test_example_has_a_korean_docstring_a_quick_flag_and_main(name):
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    assert doc and re.search(r"[\uac00-\ud7a3]", doc), f"{name}: the docstring should carry the note's Korean title"
    assert '"--quick"' in source
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    assert [a.arg for a in main.args.args] == ["argv"] and main.args.defaults
    assert 'if __name__ == "__main__":' in source
    assert "import matplotlib.pyplot" not in source and "import pyplot" not in source and ".show(" not in source


def test_example_runs_as_a_script_from_another_folder(tmp_path):
    run = subprocess.run([sys.executable, str(EXAMPLES / "note004_forward_pass.py"), "--quick"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "[1.8 1.7 1.1]" in run.stdout and "[0.85814894 0.84553473 0.75026011]" in run.stdout


# ---------------------------------------------------------------------------- 004
def test_note004_forward_pass(capsys):
    result = run_example("note004_forward_pass.py", "--quick")
    out = capsys.readouterr().out
    np.testing.assert_allclose(result["forward"], [1.8, 1.7, 1.1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(result["sigmoid"], [0.85814894, 0.84553473, 0.75026011], rtol=0, atol=5e-9)
    assert out.count("[1.8 1.7 1.1]") >= 2
    assert out.count("[0.85814894 0.84553473 0.75026011]") == 2
    e = np.exp([1.8, 1.7, 1.1])
    np.testing.assert_allclose(result["softmax"], e / e.sum(), rtol=1e-14)
    p = result["softmax"]
    assert result["mse"] == pytest.approx(np.mean((p - [0, 1, 0]) ** 2), rel=1e-14)
    assert result["cross_entropy"] == pytest.approx(-np.log(p[1] + 1e-7), rel=1e-14)


# ---------------------------------------------------------------------------- 000 / 001
def test_note000_001_three_layer_network(capsys):
    result = run_example("note000_001_three_layer_network.py", "--quick")
    out = capsys.readouterr().out
    np.testing.assert_array_equal(result["product"], [[9.0, 12.0, 15.0]])
    assert "[[ 9. 12. 15.]]" in out
    for key in ("y", "y_steps", "y_relu"):
        np.testing.assert_allclose(result[key], [0.31682708, 0.69627909], rtol=0, atol=5e-9)
    assert out.count("[0.31682708 0.69627909]") >= 3
    assert "z1 = [0.57444252 0.66818777 0.75026011]" in out
    # the untrained TwoLayerNet guesses every class with probability ~0.1
    assert result["initial_loss"] == pytest.approx(np.log(10), abs=0.05)
    # numerical gradient (with the notes' 1e-7 inside the log) against backpropagation
    assert set(result["gradient_differences"]) == {"W1", "b1", "W2", "b2"}
    assert max(result["gradient_differences"].values()) < 1e-6
    assert result["gradient_check_passed"] and max(result["gradient_check"].values()) < 1e-6
    assert "W1:    500 entries" in out          # quick mode: ten rows of W1


# ---------------------------------------------------------------------------- 001
def test_note001_activations_and_losses(capsys):
    result = run_example("note001_activations_and_losses.py", "--quick")
    out = capsys.readouterr().out
    assert set(result["derivative_errors"]) == {"step", "linear", "sigmoid", "tanh", "relu", "leaky_relu",
                                                "elu", "swish"}
    assert max(result["derivative_errors"].values()) < 1e-6
    for name in ("softmax", "leaky_relu'", "swish'"):
        assert name in out
    np.testing.assert_allclose(result["softmax"], [0.01821127, 0.24519181, 0.73659691], atol=5e-9)
    # three linear layers are one matrix; a sigmoid stack is not any affine map
    assert result["linear_gap"] < 1e-12
    linear_residual, sigmoid_residual = result["affine_residuals"]
    assert linear_residual < 1e-12 and sigmoid_residual > 1e-3
    # XOR: only the non-linear hidden layer solves it
    assert result["xor_accuracy"]["tanh"]["accuracy"] == 1.0
    assert result["xor_accuracy"]["linear"]["loss"] > 0.69
    # the textbook numbers: 0.5 * SSE, MSE, cross-entropy for a right and a wrong guess
    right, wrong = result["losses"].values()
    np.testing.assert_allclose(right, [0.0975, 0.0195, 0.5108256], atol=5e-7)
    np.testing.assert_allclose(wrong, [0.5975, 0.1195, 2.3025846], atol=5e-7)
    # accuracy is flat in the weights: its numerical gradient is exactly 0, the loss's is not
    np.testing.assert_array_equal(result["accuracy_gradient"], 0.0)
    assert np.all(np.abs(result["loss_gradient"]) > 1e-3)


# ---------------------------------------------------------------------------- 002
def test_note002_quick_prints_the_notes_first_lines(capsys):
    result = run_example("note002_backprop_by_hand.py", "--quick")
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(">epoch=")]
    assert lines == [f">epoch={100 * i}, lrate=0.020, error={e}" for i, e in enumerate(NOTE_002_ERRORS[:4])]
    # the first worked example, to the note's last digit
    assert result["outputs"] == pytest.approx([0.6629970129852887, 0.7253160725279748], rel=1e-14)
    assert result["hidden_output"] == pytest.approx(0.7105668883115941, rel=1e-14)
    assert result["output_deltas"] == pytest.approx([-0.14813473120687762, 0.05472601157879688], rel=1e-13)
    assert result["hidden_deltas"] == pytest.approx([-0.002711797799238243], rel=1e-12)
    assert not result["forward_changes_weights"]
    assert "[[0.13436424411240122, 0.8474337369372327, 0.763774618976614]]" in out
    assert "0.6629970129852887" in out and "-0.14813473120687762" in out


def test_note002_full_run_matches_the_whole_printed_trajectory(capsys):
    result = run_example("note002_backprop_by_hand.py")
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(">epoch=")]
    assert lines == [f">epoch={100 * i}, lrate=0.020, error={e}" for i, e in enumerate(NOTE_002_ERRORS)]
    for mine, theirs in zip(result["final_weights"], NOTE_002_FINAL):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=0)
    table = [line for line in out.splitlines() if line.startswith("실제값=")]
    assert table == ["실제값=0, 예측값=0"] * 5 + ["실제값=1, 예측값=1"] * 5
    assert result["predictions"] == result["labels"]


# ---------------------------------------------------------------------------- 003
def test_note003_by_hand_trains_and_draws_both_figures(tmp_path, capsys):
    result = run_example("note003_two_layer_mnist_by_hand.py", "--quick", "--output", str(tmp_path))
    out = capsys.readouterr().out
    assert "W1 (784, 50)" in out and "b2 (10,)" in out
    assert len(result["train_acc"]) == len(result["test_acc"]) == 10        # once per epoch
    assert len(result["loss"]) == 800                                        # once per iteration
    assert out.count("train acc, test acc |") == 10
    assert result["train_acc"][0] < 0.3                                     # untrained: ~chance
    assert result["final_test_acc"] > 0.75 and result["final_train_acc"] > 0.75
    assert np.mean(result["loss"][-50:]) < np.mean(result["loss"][:50])
    assert sorted(pathlib.Path(p).name for p in result["figures"]) == ["mnist_accuracy.png", "mnist_loss.png"]
    for path in result["figures"]:
        assert pathlib.Path(path).parent == tmp_path
        assert_png_drawn(path)


def test_note003_keras_mnist(tmp_path, capsys):
    result = run_example("note003_keras_mnist.py", "--quick", "--output", str(tmp_path))
    out = capsys.readouterr().out
    assert "Total params: 39,760" in out and "dense_1 (Dense)" in out
    assert "Epoch 1/1" in out
    assert re.search(r"^63/63 - .*accuracy: 0\.\d+ - loss: ", out, flags=re.M)     # evaluate(verbose=2)
    assert "test_loss: " in out and "test_accuracy: " in out
    assert result["params"] == 39_760
    assert result["test_accuracy"] > 0.8 and np.isfinite(result["test_loss"])
    assert_png_drawn(result["figure"])


def test_keras_mnist_quick(capsys):
    loss, accuracy = run_example("keras_mnist.py", "--quick")
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "test_accuracy: " in out
    assert accuracy > 0.8 and np.isfinite(loss)


# ---------------------------------------------------------------------------- the ConvNets (issue 12)
CONVNET_SCRIPTS = ["convnet_by_hand.py", "keras_convnet.py"]


@pytest.mark.parametrize("name", CONVNET_SCRIPTS)
def test_convnet_example_has_a_quick_flag_and_main(name):
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree) and '"--quick"' in source and 'if __name__ == "__main__":' in source
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    assert [a.arg for a in main.args.args] == ["argv"] and main.args.defaults
    assert "import matplotlib.pyplot" not in source and ".show(" not in source


def test_convnet_by_hand_trains_the_textbook_network(tmp_path, capsys):
    result = run_example("convnet_by_hand.py", "--quick", "--output", str(tmp_path))
    out = capsys.readouterr().out
    assert "Conv2D        W (5, 5, 1, 30), b (30,)" in out and "Dense         W (4320, 100), b (100,)" in out
    assert "parameters: 433,890" in out                   # 780 + 432,100 + 1,010
    assert re.search(r"^epoch 1/1  loss \d\.\d{4}  train acc 0\.\d{4}  test acc 0\.\d{4}", out, flags=re.M)
    assert result["test_accuracy"] > 0.3                  # one epoch on 1,000 digits; chance is 0.1
    assert f"test accuracy: {result['test_accuracy']:.4f}" in out
    assert pathlib.Path(result["figure"]).parent == tmp_path
    assert_png_drawn(result["figure"])


def test_keras_convnet_quick(capsys):
    result = run_example("keras_convnet.py", "--quick")
    out = capsys.readouterr().out
    assert "x_train shape: (1000, 28, 28, 1)" in out and "Epoch 1/1" in out
    assert "(None, 5, 5, 64)" in out and "Total params: 34,826" in out
    assert result["params"] == 34_826 and "val_accuracy" in result["history"]
    assert result["test_accuracy"] > 0.25 and np.isfinite(result["test_loss"])      # chance is 0.1


# ---------------------------------------------------------------------------- README.ko.md
def _readme(name):
    return (ROOT / name).read_text(encoding="utf-8")


def test_korean_readme_has_the_same_two_commands():
    first_bash = re.compile(r"```bash\n(.*?)```", flags=re.S)
    assert first_bash.search(_readme("README.ko.md")).group(1) == first_bash.search(_readme("README.md")).group(1)


def test_korean_readme_examples_run(capsys):
    """README.ko.md is short too (issue 15, part 6): its first model is the README's, with Korean comments."""
    blocks = re.findall(r"```python\n(.*?)```", _readme("README.ko.md"), flags=re.S)
    assert len(blocks) == 1
    namespace = {}
    try:
        exec(compile(blocks[0], "README.ko.md block 0", "exec"), namespace)
    except Exception as err:  # pragma: no cover - the message names the block
        pytest.fail(f"README.ko.md python block failed: {err!r}\n{blocks[0]}")
    out = capsys.readouterr().out
    for printed in ("Total params: 39,760", "test accuracy 0.9"):
        assert printed in out
    strip = lambda code: [line.split("#")[0].rstrip() for line in code.splitlines() if line.split("#")[0].strip()]
    english = re.search(r"```python\n(.*?)```", _readme("README.md"), flags=re.S).group(1)
    assert strip(blocks[0]) == strip(english.replace("x_train, x_test = x_train.reshape(-1, 784) / 255.0, "
                                                     "x_test.reshape(-1, 784) / 255.0",
                                                     "x_train = x_train.reshape(-1, 784) / 255.0\n"
                                                     "x_test = x_test.reshape(-1, 784) / 255.0"))


def test_korean_readme_links_and_scripts_exist():
    text = _readme("README.ko.md")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        assert (ROOT / target).exists(), target
    for script in re.findall(r"examples/[\w.]+\.py", text):
        assert (ROOT / script).is_file(), script
    for script in NOTE_SCRIPTS:
        assert f"examples/{script}" in text
    for needle in ("docs/glossary.md", "docs/ko/index.md", "python -m sphinx -b html docs docs/_build/html"):
        assert needle in text
    assert len(text.encode("utf-8")) <= 7 * 1024


# ---------------------------------------------------------------------------- docs/glossary.md
GLOSSARY = ROOT / "docs" / "glossary.md"
REQUIRED_TERMS = {
    "신경망": "neural network", "퍼셉트론": "perceptron", "다층 퍼셉트론": "multi-layer perceptron",
    "입력층": "input layer", "은닉층": "hidden layer", "출력층": "output layer", "가중치": "weight",
    "편향": "bias", "활성화 함수": "activation function", "계단 함수": "step function", "시그모이드": "sigmoid",
    "소프트맥스": "softmax", "렐루": "ReLU", "손실 함수": "loss function", "평균 제곱 오차": "mean squared error",
    "교차 엔트로피": "cross-entropy", "순전파": "forward propagation", "오차역전파": "backpropagation",
    "기울기": "gradient", "수치 미분": "numerical differentiation", "경사하강법": "gradient descent",
    "학습률": "learning rate", "미니배치": "mini-batch", "에폭": "epoch", "가중치 초기화": "weight initialisation",
    "과적합": "overfitting", "정확도": "accuracy",
}


def _glossary_rows():
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("| ---") and not line.startswith("| 한국어"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert len(cells) == 5, line
            rows.append(cells)
    return rows


def test_glossary_covers_the_notes_terms():
    rows = _glossary_rows()
    assert len(rows) >= 60
    for korean, english in REQUIRED_TERMS.items():
        assert any(korean in row[0] and english.lower() in row[1].lower() for row in rows), (korean, english)


def _keyword_names():
    names = set()
    for fn in (gn.layers.Dense.__init__, gn.Sequential.fit, gn.Sequential.compile, gn.optimizers.SGD.__init__,
               gn.optimizers.Optimizer.__init__):
        names.update(inspect.signature(fn).parameters)
    return names


def test_every_glassnet_name_in_the_glossary_exists():
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))])
    layer = model.layers[0]
    keywords = _keyword_names()
    checked = 0
    for row in _glossary_rows():
        for code in re.findall(r"`([^`]+)`", row[3]):
            if code.startswith("gn."):
                eval(code, {"gn": gn})                     # a name, or a constructor call that must work
            elif code.startswith("glassnet."):
                module, _, attr = code.rpartition(".")
                assert hasattr(importlib.import_module(module), attr), code
            elif re.fullmatch(r"\w+=(\S.*)?", code):
                assert code.split("=")[0] in keywords, code    # an argument of Dense, fit, compile or an optimizer
            elif code in ('"mse"', "y_true", "units"):
                pass
            else:
                for owner, attr in re.findall(r"\b(model|layer)\.(\w+)", code):
                    assert hasattr(model if owner == "model" else layer, attr), code
                eval(code.replace('"W"', '"W"'), {"gn": gn, "model": model, "layer": layer})
            checked += 1
    assert checked >= 80
