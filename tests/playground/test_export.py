"""export_script: the exported script runs on its own and ends with the playground's weights, bit for bit.

The decisive tests run the script as a learner would (a fresh `python playground.py out.glassnet`, no
playground module imported), load the file it saves and compare its weights with a `Session` trained the
same number of steps in chunks; one more compares a linear model's training with plain NumPy written here.
"""
import ast
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.playground import data
from glassnet.playground.export import export_script
from glassnet.playground.session import Session
from glassnet.playground.settings import Settings

SRC = Path(__file__).resolve().parents[2] / "src"
ALL_FEATURES = ["x", "y", "x2", "y2", "xy", "sinx", "siny"]
LOSS_LINE = re.compile(r"^after (\d+) steps: train loss (\S+), test loss (\S+)$")


def run_script(code, tmp_path, out="model.glassnet"):
    """Run `code` as a fresh Python process in tmp_path with only glassnet's sources on the path."""
    script = tmp_path / "playground.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run([sys.executable, str(script), out], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, tmp_path / out


def run_in_process(code, tmp_path, monkeypatch, out=None):
    """Run `code` as __main__ in this process, in tmp_path (cheaper than a new process); the saved file's path."""
    script = tmp_path / "playground.py"
    script.write_text(code, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)] + ([out] if out else []))
    runpy.run_path(str(script), run_name="__main__")
    return tmp_path / (out or "playground.glassnet")


def imported_modules(code):
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names


# ---------------------------------------------------------------------------- the decisive comparison

# (id, settings, steps, the chunks the Session trains in). Every optimizer, l1 and l2, plane with mse,
# sparse_categorical_crossentropy, no hidden layer, the features sinx and xy, batches that wrap around.
CASES = [
    ("sgd-l2-circles", {"regularization": "l2", "regularization_rate": 0.01}, 17, [5, 12]),
    ("momentum-l1-sinx-xy-wrap", {"dataset": "moons", "optimizer": "momentum", "regularization": "l1",
                                  "features": ["x", "y", "xy", "sinx"], "batch_size": 7, "n_samples": 60,
                                  "noise": 0.2}, 11, [1, 3, 7]),
    ("rmsprop-plane-mse", {"dataset": "plane", "loss": "mean_squared_error", "optimizer": "rmsprop",
                           "hidden": [3], "activation": "relu", "learning_rate": 0.01, "seed": 7}, 20, [13, 7]),
    ("adagrad-sparse-cce", {"dataset": "xor", "loss": "sparse_categorical_crossentropy", "optimizer": "adagrad",
                            "hidden": [5, 3, 2], "initializer": "he_normal", "features": ["x2", "y2", "siny"],
                            "seed": 12345}, 9, [9]),
    ("adam-no-hidden-wrap", {"dataset": "gaussians", "optimizer": "adam", "hidden": [], "batch_size": 13,
                             "n_samples": 100, "train_fraction": 0.3, "initializer": "random_normal"}, 8, [2, 6]),
    ("untrained-spirals", {"dataset": "spirals", "hidden": [8, 8], "activation": "swish",
                           "initializer": "glorot_normal", "regularization": "l2"}, 0, []),
]


@pytest.mark.parametrize("settings, steps, chunks", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_script_gives_the_sessions_weights_bit_for_bit(tmp_path, isolated_random_state, settings, steps,
                                                           chunks):
    settings = Settings.from_dict(settings)
    out, saved = run_script(export_script(settings, steps), tmp_path)
    session = Session(settings)
    for chunk in chunks:
        session.train(chunk)
    assert session.step == steps
    theirs, ours = gn.models.load_model(saved).get_weights(), session.weights()
    assert [w.shape for w in theirs] == [w.shape for w in ours]
    assert all(w.dtype == np.float64 for w in theirs)
    for a, b in zip(theirs, ours):
        assert np.array_equal(a, b)
    (line,) = [line for line in out.splitlines() if LOSS_LINE.match(line)]
    printed_steps, train_loss, test_loss = LOSS_LINE.match(line).groups()
    assert int(printed_steps) == steps
    if steps:
        step, session_train, session_test = session.history[-1]
        assert step == steps
    else:                                       # untrained: no history yet, the session's loss of its model
        session_train = session.loss(session.x_train, session.y_train)
        session_test = session.loss(session.x_test, session.y_test)
    assert float(train_loss) == pytest.approx(session_train, rel=1e-5, abs=1e-12)   # printed with 6 digits
    assert float(test_loss) == pytest.approx(session_test, rel=1e-5, abs=1e-12)
    assert f"saved {saved.name}" in out


# The choices the subprocess cases leave out: every other activation and initializer, the absolute error,
# the squared error on classes. The same script run in this process (runpy, as __main__), which is cheaper.
IN_PROCESS = [
    ("he_uniform-leaky_relu-mae", {"initializer": "he_uniform", "activation": "leaky_relu",
                                   "loss": "mean_absolute_error"}),
    ("zeros-elu-mse-adam", {"initializer": "zeros", "activation": "elu", "loss": "mean_squared_error",
                            "optimizer": "adam"}),
    ("step-plane-mae", {"activation": "step", "dataset": "plane", "loss": "mean_absolute_error"}),
    ("softmax-hidden", {"activation": "softmax", "hidden": [3], "optimizer": "rmsprop"}),
    ("linear-sigmoid", {"activation": "linear", "hidden": [2, 16, 1], "features": ["siny", "y2"]}),
    ("sigmoid-one-sample-batches", {"activation": "sigmoid", "batch_size": 1, "n_samples": 20,
                                    "train_fraction": 0.1}),
]


@pytest.mark.parametrize("settings", [c[1] for c in IN_PROCESS], ids=[c[0] for c in IN_PROCESS])
def test_every_other_choice_gives_the_sessions_weights(tmp_path, monkeypatch, isolated_random_state, capsys,
                                                      settings):
    settings = Settings.from_dict(settings)
    saved = run_in_process(export_script(settings, 7), tmp_path, monkeypatch)
    assert "saved playground.glassnet" in capsys.readouterr().out
    session = Session(settings)
    session.train(4)
    session.train(3)
    theirs, ours = gn.load_model(saved).get_weights(), session.weights()
    assert len(theirs) == len(ours) == 2 * (len(settings.hidden) + 1)
    for a, b in zip(theirs, ours):
        assert np.array_equal(a, b)


def random_settings(rng):
    """Settings drawn from the table's choices (moderate learning rates, so nothing overflows)."""
    from glassnet.playground import settings as table
    dataset = str(rng.choice(table.DATASETS))
    losses = table.REGRESSION_LOSSES if dataset == "plane" else table.CLASSIFICATION_LOSSES
    features = [name for name in table.FEATURE_NAMES if rng.random() < 0.4] or ["x"]
    return Settings.from_dict({
        "dataset": dataset, "loss": str(rng.choice(losses)), "features": features,
        "noise": float(rng.uniform(0, 1)), "n_samples": int(rng.integers(20, 120)),
        "train_fraction": float(rng.uniform(0.1, 0.9)),
        "hidden": [int(u) for u in rng.integers(1, 7, size=rng.integers(0, 4))],
        "activation": str(rng.choice(table.ACTIVATIONS)), "optimizer": str(rng.choice(table.OPTIMIZERS)),
        "learning_rate": float(10 ** rng.uniform(-4, -1)), "batch_size": int(rng.integers(1, 40)),
        "initializer": str(rng.choice(table.INITIALIZERS)),
        "regularization": str(rng.choice(table.REGULARIZATIONS)),
        "regularization_rate": float(rng.uniform(0, 0.05)), "seed": int(rng.integers(0, 2 ** 31 - 1))})


def test_random_settings_give_the_sessions_weights(tmp_path, monkeypatch, isolated_random_state, capsys):
    """Ten settings drawn at random (a fixed seed), each trained a random number of steps in random chunks."""
    rng = np.random.default_rng(16)
    for trial in range(10):
        settings = random_settings(rng)
        chunks = [int(c) for c in rng.integers(1, 30, size=rng.integers(1, 4))]
        saved = run_in_process(export_script(settings, sum(chunks)), tmp_path, monkeypatch, f"{trial}.glassnet")
        session = Session(settings)
        for chunk in chunks:
            session.train(chunk)
        theirs, ours = gn.load_model(saved).get_weights(), session.weights()
        assert len(theirs) == len(ours)
        for a, b in zip(theirs, ours):
            assert np.array_equal(a, b, equal_nan=True), settings
    capsys.readouterr()


def test_a_linear_regression_script_trains_as_plain_numpy_sgd(tmp_path, monkeypatch, isolated_random_state):
    """No hidden layer, a linear output, mean squared error and plain SGD: the step is
    w -= lr * 2/m * X^T (Xw + b - y) on each batch, written here in NumPy, batches in the recipe's order
    (a permutation per pass from default_rng(seed), the last batch short), from the script's own
    initial weights (the same script with steps=0)."""
    settings = Settings.from_dict({"dataset": "plane", "loss": "mean_squared_error", "hidden": [],
                                   "features": ["x", "y", "xy"], "n_samples": 50, "train_fraction": 0.5,
                                   "batch_size": 10, "learning_rate": 0.01, "seed": 3})
    steps, n_train, batch = 7, 25, 10                        # 3 batches per pass (10, 10, 5): wraps once
    first = run_in_process(export_script(settings, 0), tmp_path, monkeypatch, "first.glassnet")
    last = run_in_process(export_script(settings, steps), tmp_path, monkeypatch, "last.glassnet")
    w, b = gn.models.load_model(first).get_weights()
    points, y = gn.datasets.toy.make_2d("plane", 50, noise=settings.noise, seed=3)
    x = np.stack([points[:, 0], points[:, 1], points[:, 0] * points[:, 1]], axis=1)[:n_train]
    y = y[:n_train].reshape(-1, 1)
    rng = np.random.default_rng(3)
    for step in range(steps):
        if step % 3 == 0:
            order = rng.permutation(n_train)
        idx = order[(step % 3) * batch:(step % 3 + 1) * batch]
        error = x[idx] @ w + b - y[idx]
        w = w - 0.01 * 2 / len(idx) * x[idx].T @ error
        b = b - 0.01 * 2 / len(idx) * error.sum(axis=0)
    w_script, b_script = gn.models.load_model(last).get_weights()
    np.testing.assert_allclose(w_script, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b_script, b, rtol=1e-12, atol=1e-14)
    assert not np.allclose(w_script, gn.models.load_model(first).get_weights()[0])   # it did train


# ---------------------------------------------------------------------------- the script's text

SOME_SETTINGS = [
    {},
    {"dataset": "plane", "hidden": [], "features": ALL_FEATURES, "regularization": "l1"},
    {"loss": "sparse_categorical_crossentropy", "optimizer": "adam", "initializer": "random_normal"},
]


@pytest.mark.parametrize("settings", SOME_SETTINGS, ids=["default", "plane-all-features", "softmax-adam"])
def test_the_script_imports_only_numpy_glassnet_and_sys(settings):
    code = export_script(Settings.from_dict(settings), 3)
    assert imported_modules(code) == {"sys", "numpy", "glassnet"}
    assert "playground" not in " ".join(imported_modules(code))
    assert "import glassnet as gn" in code and "import numpy as np" in code


@pytest.mark.parametrize("settings", SOME_SETTINGS, ids=["default", "plane-all-features", "softmax-adam"])
def test_the_docstrings_address_reopens_the_same_settings(settings):
    settings = Settings.from_dict(settings)
    code = export_script(settings, 0)
    (query,) = [line.strip() for line in code.splitlines() if line.strip().startswith("#dataset=")]
    assert Settings.from_query(query) == settings


def test_a_script_with_every_feature_compiles_and_computes_the_features_table():
    """The script's feature columns are data.FEATURES' expressions, in the settings' order."""
    code = export_script(Settings.from_dict({"features": ALL_FEATURES}), 10)
    compile(code, "playground.py", "exec")
    (stack,) = [node for node in ast.walk(ast.parse(code))
                if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "features"]
    columns = [ast.unparse(element) for element in stack.value.args[0].elts]
    assert columns == [ast.unparse(ast.parse(data.FEATURES[name].expression, mode="eval").body)
                       for name in ALL_FEATURES]
    p = np.random.default_rng(0).uniform(-6, 6, size=(50, 2))
    by_script = eval(ast.unparse(stack.value), {"np": np, "p": p})
    assert by_script.shape == (50, 7) and by_script.dtype == np.float64
    assert np.array_equal(by_script[:, 4], p[:, 0] * p[:, 1])            # xy, computed here
    assert np.array_equal(by_script[:, 5], np.sin(p[:, 0]))               # sin x
    assert np.array_equal(by_script[:, 2], p[:, 0] ** 2)                  # x squared


def script_constants(code):
    """The module-level `name = literal` assignments of a script."""
    values = {}
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return values


@pytest.mark.parametrize("n_samples, fraction, expected", [(400, 0.5, 200), (20, 0.9, 18), (20, 0.1, 2),
                                                          (21, 0.5, 10), (23, 0.5, 12), (2000, 0.33, 660)])
def test_the_split_sizes_are_the_sessions(n_samples, fraction, expected, isolated_random_state):
    """n_train = round(n * fraction) (Python's round: halves to even), as hand-worked here and as the
    Session splits."""
    settings = Settings.from_dict({"n_samples": n_samples, "train_fraction": fraction})
    assert script_constants(export_script(settings, 1))["n_train"] == expected
    session = Session(settings)
    assert len(session.x_train) == expected and len(session.x_test) == n_samples - expected


def test_the_scripts_numbers_are_the_settings():
    settings = Settings.from_dict({"seed": 2 ** 31 - 1, "batch_size": 256, "learning_rate": 1e-05,
                                   "noise": 0.35, "optimizer": "momentum", "regularization": "l2",
                                   "regularization_rate": 0.0003})
    code = export_script(settings, 1000)
    constants = script_constants(code)
    assert (constants["seed"], constants["steps"], constants["batch_size"], constants["n_train"]) == \
        (2 ** 31 - 1, 1000, 256, 200)
    assert "gn.optimizers.SGD(learning_rate=1e-05, momentum=0.9)" in code
    assert "gn.regularizers.L2(0.0003)" in code
    assert 'make_2d("circles", 400, noise=0.35, seed=seed)' in code


def test_the_dict_form_gives_the_same_script():
    settings = {"dataset": "moons", "hidden": [3, 3], "optimizer": "rmsprop"}
    assert export_script(settings, 4) == export_script(Settings.from_dict(settings), 4)


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match=r"steps .*integer >= 0, got -1"):
        export_script(Settings.from_dict({}), -1)
    with pytest.raises(ValueError, match=r"steps .*got True"):
        export_script(Settings.from_dict({}), True)
    with pytest.raises(ValueError, match=r"steps .*got 2\.5"):
        export_script(Settings.from_dict({}), 2.5)
    with pytest.raises(TypeError, match=r"Settings or a dict.*got list"):
        export_script([("dataset", "moons")], 1)
    with pytest.raises(ValueError, match="hidden"):
        export_script({"hidden": [4] * 300}, 1)
